"""The local AWS delivers what CloudTrail delivers: log files of the recorded
events and, with log file validation on, signed and chained digests, read back
here with plain boto3 and checked against CloudTrail's documented formats."""

from __future__ import annotations

import datetime
import gzip
import hashlib
import json
import re

import botocore.exceptions
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding

from tests.integration.setup_helpers import make_log_bucket
from tests.local_aws.fidelity.delivery import deliver
from tests.local_aws.fidelity.lookup_events import seed_events

ACCOUNT = "123456789012"
BUCKET = "delivered-logs"
LOG_NAME = re.compile(
    r"^(?:(?P<prefix>.+)/)?AWSLogs/(?P<account>\d{12})/CloudTrail/(?P<region>[a-z0-9-]+)/(?P<date>\d{4}/\d{2}/\d{2})/"
    r"(?P=account)_CloudTrail_(?P=region)_(?P<stamp>\d{8}T\d{4}Z)_[A-Za-z0-9]{16}\.json\.gz$"
)
DIGEST_NAME = re.compile(
    r"^(?:(?P<prefix>.+)/)?AWSLogs/(?P<account>\d{12})/CloudTrail-Digest/(?P<region>[a-z0-9-]+)/(?P<date>\d{4}/\d{2}/\d{2})/"
    r"(?P=account)_CloudTrail-Digest_(?P=region)_(?P<trail>[^_]+)_(?P<home>[a-z0-9-]+)_(?P<stamp>\d{8}T\d{6}Z)\.json\.gz$"
)
AT = datetime.datetime(2026, 1, 15, 10, 30, 0, tzinfo=datetime.timezone.utc)


def make_trail(aws, name="delivering", *, validation=True, prefix=None, logging=True):
    make_log_bucket(aws, BUCKET, prefixes=(None, prefix))
    cloudtrail = aws.client("cloudtrail")
    params = {"Name": name, "S3BucketName": BUCKET, "EnableLogFileValidation": validation}
    if prefix:
        params["S3KeyPrefix"] = prefix
    cloudtrail.create_trail(**params)
    if logging:
        cloudtrail.start_logging(Name=name)
    return cloudtrail


def read(aws, key):
    got = aws.client("s3").get_object(Bucket=BUCKET, Key=key)
    raw = got["Body"].read()
    return raw, gzip.decompress(raw), got["Metadata"]


def test_log_files_hold_the_recorded_events_once(aws):
    make_trail(aws)
    seed_events(aws, [{"EventName": "SeededCall", "EventTime": "2026-01-15T10:00:00Z"}])
    first = deliver(aws, at=AT)
    (key,) = first["log_files"]
    match = LOG_NAME.match(key)
    assert match and match["account"] == ACCOUNT and match["region"] == "us-east-1"
    assert match["date"] == "2026/01/15" and match["stamp"] == "20260115T1030Z"
    records = json.loads(read(aws, key)[1])["Records"]
    names = [record["eventName"] for record in records]
    assert "SeededCall" in names and "CreateTrail" in names and "StartLogging" in names
    assert all(record["recipientAccountId"] == ACCOUNT for record in records)

    # Nothing new: no log file, but the hourly digest still comes.
    second = deliver(aws, at=AT + datetime.timedelta(hours=1))
    assert second["log_files"] == [] and len(second["digests"]) == 1
    third = deliver(aws, at=AT + datetime.timedelta(hours=2))
    assert all("SeededCall" not in json.loads(read(aws, k)[1]).get("Records", []) for k in third["log_files"])


def test_digest_format_signature_and_chain(aws):
    cloudtrail = make_trail(aws, prefix="audit")
    first = deliver(aws, at=AT)
    second = deliver(aws, at=AT + datetime.timedelta(hours=1))
    (first_key,), (second_key,) = first["digests"], second["digests"]
    match = DIGEST_NAME.match(second_key)
    assert match and match["prefix"] == "audit" and match["trail"] == "delivering" and match["home"] == "us-east-1"
    assert match["stamp"] == "20260115T113000Z"

    first_raw, first_body, first_meta = read(aws, first_key)
    _raw, body, metadata = read(aws, second_key)
    digest = json.loads(body)
    assert digest["digestS3Bucket"] == BUCKET and digest["digestS3Object"] == second_key
    assert (digest["digestStartTime"], digest["digestEndTime"]) == ("2026-01-15T10:30:00Z", "2026-01-15T11:30:00Z")
    assert digest["digestSignatureAlgorithm"] == "SHA256withRSA" == metadata["signature-algorithm"]
    assert digest["previousDigestS3Object"] == first_key
    assert digest["previousDigestHashValue"] == hashlib.sha256(first_body).hexdigest() != hashlib.sha256(first_raw).hexdigest()
    assert digest["previousDigestSignature"] == first_meta["signature"]
    assert json.loads(first_body)["previousDigestSignature"] is None

    (first_log,) = json.loads(first_body)["logFiles"]
    assert first_log["s3Object"] == first["log_files"][0] and first_log["hashAlgorithm"] == "SHA-256"
    assert first_log["hashValue"] == hashlib.sha256(read(aws, first_log["s3Object"])[1]).hexdigest()

    (public_key,) = cloudtrail.list_public_keys(StartTime=AT, EndTime=AT + datetime.timedelta(hours=1))["PublicKeyList"]
    assert public_key["Fingerprint"] == digest["digestPublicKeyFingerprint"]
    assert public_key["ValidityStartTime"] <= AT <= public_key["ValidityEndTime"]
    signed = "\n".join([digest["digestEndTime"], f"{BUCKET}/{second_key}", hashlib.sha256(body).hexdigest(), digest["previousDigestSignature"]])
    key = serialization.load_der_public_key(public_key["Value"])
    key.verify(bytes.fromhex(metadata["signature"]), signed.encode(), padding.PKCS1v15(), hashes.SHA256())


def test_no_digest_without_validation_and_a_new_chain_after(aws):
    cloudtrail = make_trail(aws, validation=False)
    off = deliver(aws, at=AT)
    assert off["log_files"] and off["digests"] == []
    cloudtrail.update_trail(Name="delivering", EnableLogFileValidation=True)
    (key,) = deliver(aws, at=AT + datetime.timedelta(hours=1))["digests"]
    digest = json.loads(read(aws, key)[1])
    assert digest["previousDigestS3Object"] is None
    # Log files delivered while validation was off are not vouched for.
    assert not {entry["s3Object"] for entry in digest["logFiles"]} & set(off["log_files"])


def test_a_trail_that_is_not_logging_delivers_nothing(aws):
    make_trail(aws, logging=False)
    assert deliver(aws, at=AT) == {"log_files": [], "digests": []}
    assert aws.client("s3").list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0


def test_flushes_in_one_second_get_distinct_digests(aws):
    make_trail(aws)
    keys = [deliver(aws, at=AT)["digests"][0] for _flush in range(3)]
    assert len(set(keys)) == 3


def test_list_public_keys_window_and_errors(aws):
    cloudtrail = aws.client("cloudtrail", "eu-west-1")
    (current,) = cloudtrail.list_public_keys()["PublicKeyList"]
    assert re.fullmatch(r"[0-9a-f]{32}", current["Fingerprint"])
    assert hashlib.md5(current["Value"]).hexdigest() == current["Fingerprint"]
    other_region = aws.client("cloudtrail", "us-east-1").list_public_keys()["PublicKeyList"][0]
    assert other_region["Fingerprint"] != current["Fingerprint"]
    old = datetime.datetime(2001, 1, 1, tzinfo=datetime.timezone.utc)
    assert cloudtrail.list_public_keys(StartTime=old, EndTime=old + datetime.timedelta(days=1))["PublicKeyList"] == []
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        cloudtrail.list_public_keys(StartTime=AT, EndTime=AT - datetime.timedelta(days=1))
    assert caught.value.response["Error"]["Code"] == "InvalidTimeRangeException"


def test_reset_forgets_the_chain_but_keeps_the_keys(aws):
    make_trail(aws)
    deliver(aws, at=AT)
    fingerprint = aws.client("cloudtrail").list_public_keys()["PublicKeyList"][0]["Fingerprint"]
    aws.reset()
    make_trail(aws)
    (key,) = deliver(aws, at=AT + datetime.timedelta(hours=1))["digests"]
    digest = json.loads(read(aws, key)[1])
    assert digest["previousDigestS3Object"] is None
    assert digest["digestPublicKeyFingerprint"] == fingerprint


def test_one_trail_at_a_time(aws):
    cloudtrail = make_trail(aws)
    cloudtrail.create_trail(Name="second-trail", S3BucketName=BUCKET)
    cloudtrail.start_logging(Name="second-trail")
    only = deliver(aws, at=AT, trail="second-trail")
    assert only["digests"] == [] and len(only["log_files"]) == 1
    both = deliver(aws, at=AT + datetime.timedelta(hours=1))
    assert len(both["digests"]) == 1 and "_delivering_" in both["digests"][0]
