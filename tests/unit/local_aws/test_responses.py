"""How the local AWS names the answers it keeps (``tests.local_aws.fidelity.responses``).
Which call a request was, and which AWS error code an answer carries, are
``tests.local_aws.fidelity.wire``'s (``test_wire.py``)."""

from __future__ import annotations

from tests.local_aws.fidelity.responses import Answer


def test_an_answer_compares_as_a_plain_tuple():
    assert Answer("s3", "GetBucketPolicy", 404, "NoSuchBucketPolicy") == ("s3", "GetBucketPolicy", 404, "NoSuchBucketPolicy")
