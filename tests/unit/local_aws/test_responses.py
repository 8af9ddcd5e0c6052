"""How the local AWS names the answers it keeps (``tests.local_aws.fidelity.responses``):
which AWS error code an answer carries, in each protocol. Which call a request
was is ``tests.local_aws.fidelity.wire``'s (``test_wire.py``)."""

from __future__ import annotations

import json

import pytest

from tests.local_aws.fidelity.responses import Answer, error_code


@pytest.mark.parametrize(
    "headers, body, expected",
    [
        ({}, json.dumps({"__type": "TrailNotFoundException", "message": "Unknown trail"}).encode(), "TrailNotFoundException"),
        ({}, json.dumps({"__type": "com.amazonaws.kms#NotFoundException"}).encode(), "NotFoundException"),
        ({}, json.dumps({"code": "InsightNotEnabledException"}).encode(), "InsightNotEnabledException"),
        ({}, b'<?xml version="1.0"?>\n<Error><Code>NoSuchBucketPolicy</Code><Message>none</Message></Error>', "NoSuchBucketPolicy"),
        (
            {},
            b"<ErrorResponse><Error><Type>Sender</Type><Code>NotFound</Code><Message>Topic does not exist</Message></Error></ErrorResponse>",
            "NotFound",
        ),
        ({"x-amzn-ErrorType": "ThrottlingException:http://internal.amazon.com/coral/"}, b"", "ThrottlingException"),
        # HEAD answers and HTML pages carry no AWS error code.
        ({}, b"", ""),
        ({}, b"<html><body><h1>502 Bad Gateway</h1></body></html>", ""),
    ],
)
def test_error_code_reads_each_protocol(headers, body, expected):
    assert error_code(headers, body) == expected


def test_an_answer_compares_as_a_plain_tuple():
    assert Answer("s3", "GetBucketPolicy", 404, "NoSuchBucketPolicy") == ("s3", "GetBucketPolicy", 404, "NoSuchBucketPolicy")
