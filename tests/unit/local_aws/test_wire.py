"""How the local AWS reads a request (``tests.local_aws.fidelity.wire``): who
signed it, for which region and service, and which call it was, in each
protocol. Fault rules, LookupEvents' event names and the answers kept for tests
all name calls this way; the recorded events and the kept answers read an error
answer's code the same way too."""

from __future__ import annotations

import datetime
import json

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from tests.local_aws.fidelity.wire import (
    CredentialScope,
    action_of,
    answer_error,
    as_time,
    credential_scope,
    s3_action,
    s3_bucket_call,
    signed_request,
)

SIGNED = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261129/eu-west-1/cloudtrail/aws4_request, SignedHeaders=host, Signature=abc"


@pytest.mark.parametrize(
    "headers, query, expected",
    [
        ({"Authorization": SIGNED}, {}, ("AKIDEXAMPLE", "eu-west-1", "cloudtrail")),
        ({}, {"X-Amz-Credential": ["AKIDEXAMPLE/20261129/us-east-1/s3/aws4_request"]}, ("AKIDEXAMPLE", "us-east-1", "s3")),
        # The control API is not signed: not an AWS call.
        ({}, {}, ("", "", "")),
        ({"Authorization": "AWS4-HMAC-SHA256 Credential=broken"}, {}, ("", "", "")),
        ({"Authorization": "AWS4-HMAC-SHA256 Credential=AKID/20261129/us-east-1"}, {}, ("", "", "")),
    ],
)
def test_credential_scope_names_the_key_region_and_service(headers, query, expected):
    scope = credential_scope(headers, query)
    assert scope == expected
    assert scope.service == expected[2]


def test_credential_scope_reads_the_header_without_a_query():
    assert credential_scope({"Authorization": SIGNED}) == CredentialScope("AKIDEXAMPLE", "eu-west-1", "cloudtrail")


@pytest.mark.parametrize(
    "service, method, path, query, target, form, expected",
    [
        ("cloudtrail", "POST", "/", {}, "CloudTrail_20131101.GetInsightSelectors", "", "GetInsightSelectors"),
        ("kms", "POST", "/", {}, "TrentService.DescribeKey", "", "DescribeKey"),
        ("sns", "POST", "/", {}, "", "Action=GetTopicAttributes&Version=2010-03-31", "GetTopicAttributes"),
        ("iam", "GET", "/", {"Action": ["GetRole"]}, "", "", "GetRole"),
        ("s3", "GET", "/logs", {"policy": [""]}, "", "", "GetBucketPolicy"),
        ("s3", "HEAD", "/logs", {}, "", "", "HeadBucket"),
        ("s3", "GET", "/logs", {"list-type": ["2"]}, "", "", "ListObjectsV2"),
        ("s3", "GET", "/logs/AWSLogs/x.json.gz", {}, "", "", "GetObject"),
        # A REST call with no action of its own keeps Call's naming.
        ("lambda", "GET", "/2015-03-31/functions", {}, "", "", "GET /2015-03-31/functions"),
    ],
)
def test_action_of_names_the_call(service, method, path, query, target, form, expected):
    assert action_of(service, method, path, query, target, form) == expected


@pytest.mark.parametrize(
    "method, path, query, expected",
    [
        ("GET", "/", {}, ("ListBuckets", {}, "")),
        ("PUT", "/logs", {}, ("CreateBucket", {"bucketName": "logs"}, "logs")),
        ("DELETE", "/logs", {"policy": [""]}, ("DeleteBucketPolicy", {"bucketName": "logs", "policy": ""}, "logs")),
        ("PUT", "/logs", {"publicAccessBlock": [""]}, ("PutPublicAccessBlock", {"bucketName": "logs", "publicAccessBlock": ""}, "logs")),
        # Object calls are data events, listings are not bucket calls: neither is a management event here.
        ("PUT", "/logs/AWSLogs/x.json.gz", {}, None),
        ("GET", "/logs", {"list-type": ["2"]}, None),
    ],
)
def test_s3_bucket_call_names_the_management_event(method, path, query, expected):
    assert s3_bucket_call(method, path, query) == expected


@pytest.mark.parametrize(
    "method, path, query, expected",
    [
        ("GET", "/logs", {"versions": [""]}, "ListObjectVersions"),
        ("GET", "/logs", {"uploads": [""]}, "ListMultipartUploads"),
        ("POST", "/logs", {"delete": [""]}, "DeleteObjects"),
        ("HEAD", "/logs/key", {}, "HeadObject"),
        ("GET", "/logs", {"acl": [""]}, "GetBucketAcl"),
    ],
)
def test_s3_action_names_listings_and_object_calls(method, path, query, expected):
    assert s3_action(method, path, query) == expected


@pytest.mark.parametrize(
    "value, expected",
    [
        (0, datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)),
        ("2026-11-29T12:00:00Z", datetime.datetime(2026, 11, 29, 12, tzinfo=datetime.timezone.utc)),
        ("2026-11-29T12:00:00", datetime.datetime(2026, 11, 29, 12, tzinfo=datetime.timezone.utc)),
        ("2026-11-29T13:00:00+01:00", datetime.datetime(2026, 11, 29, 12, tzinfo=datetime.timezone.utc)),
    ],
)
def test_as_time_reads_epoch_seconds_and_iso_8601(value, expected):
    assert as_time(value) == expected


def flask_like(method: str, path: str, headers: dict[str, str], body: bytes = b"", query: str = "") -> Request:
    environ = EnvironBuilder(method=method, path=path, query_string=query, headers=headers, data=body).get_environ()
    return Request(environ)


def test_signed_request_reads_a_query_protocol_call_and_puts_its_body_back():
    body = b"Action=GetTopicAttributes&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A1%3At&Version=2010-03-31"
    request = flask_like("POST", "/", {"Authorization": SIGNED.replace("cloudtrail", "sns")}, body)

    signed = signed_request(request)

    assert (signed.service, signed.region, signed.access_key) == ("sns", "eu-west-1", "AKIDEXAMPLE")
    assert (signed.action, signed.protocol, signed.body) == ("GetTopicAttributes", "query", body)
    # moto's own view reads the body after us.
    assert request.get_data() == body


def test_signed_request_names_s3_by_api_action_without_reading_the_object():
    request = flask_like("PUT", "/logs/AWSLogs/a%20b.json.gz", {"Authorization": SIGNED.replace("cloudtrail", "s3")}, b"object bytes")

    signed = signed_request(request)

    assert (signed.action, signed.protocol, signed.path, signed.body) == ("PutObject", "s3", "/logs/AWSLogs/a b.json.gz", b"")
    assert request.get_data() == b"object bytes"


def test_signed_request_reads_a_json_target_and_keeps_the_body():
    headers = {"Authorization": SIGNED, "X-Amz-Target": "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.CreateTrail"}
    request = flask_like("POST", "/", headers, b'{"Name": "t"}')

    signed = signed_request(request)

    assert (signed.action, signed.protocol, signed.body) == ("CreateTrail", "json", b'{"Name": "t"}')


def test_a_rest_call_without_an_action_is_named_by_method_and_path():
    request = flask_like("GET", "/2015-03-31/functions", {"Authorization": SIGNED.replace("cloudtrail", "lambda")})
    signed = signed_request(request)
    assert (signed.action, signed.protocol) == ("GET /2015-03-31/functions", "rest")


def test_an_unsigned_request_is_no_aws_call():
    assert signed_request(flask_like("POST", "/moto-api/reset", {})) is None


def test_each_view_wrapper_gets_the_same_reading_of_a_request():
    body = b"Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr"
    request = flask_like("POST", "/", {"Authorization": SIGNED.replace("cloudtrail", "sts")}, body)

    first = signed_request(request)
    # An inner view consumes the body; the outer wrappers' reading stands.
    request.environ["wsgi.input"].read()

    assert signed_request(request) is first
    assert first.action == "AssumeRole"


@pytest.mark.parametrize(
    "headers, body, expected",
    [
        ({}, json.dumps({"__type": "TrailNotFoundException", "message": "Unknown trail"}).encode(), ("TrailNotFoundException", "Unknown trail")),
        ({}, json.dumps({"__type": "com.amazonaws.kms#NotFoundException"}).encode(), ("NotFoundException", "")),
        ({}, json.dumps({"code": "InsightNotEnabledException", "Message": "off"}).encode(), ("InsightNotEnabledException", "off")),
        ({}, b'<?xml version="1.0"?>\n<Error><Code>NoSuchBucketPolicy</Code><Message>none</Message></Error>', ("NoSuchBucketPolicy", "none")),
        (
            {},
            b"<ErrorResponse><Error><Type>Sender</Type><Code>NotFound</Code><Message>Topic does not exist</Message></Error></ErrorResponse>",
            ("NotFound", "Topic does not exist"),
        ),
        ({"x-amzn-ErrorType": "ThrottlingException:http://internal.amazon.com/coral/"}, b"", ("ThrottlingException", "")),
        # HEAD answers and HTML pages carry no AWS error code.
        ({}, b"", ("", "")),
        ({}, b"<html><body><h1>502 Bad Gateway</h1></body></html>", ("", "")),
    ],
)
def test_answer_error_reads_the_code_and_message_of_each_protocol(headers, body, expected):
    assert answer_error(headers, body) == expected
