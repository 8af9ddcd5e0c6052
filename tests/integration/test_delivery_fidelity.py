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


def records_of(aws, keys):
    return [record for key in keys for record in json.loads(read(aws, key)[1])["Records"]]


def test_calls_made_while_logging_is_stopped_are_not_delivered(aws):
    cloudtrail = make_trail(aws)
    cloudtrail.add_tags(ResourceId=cloudtrail.get_trail(Name="delivering")["Trail"]["TrailARN"], TagsList=[{"Key": "before", "Value": "stop"}])
    cloudtrail.stop_logging(Name="delivering")
    assert deliver(aws, at=AT) == {"log_files": [], "digests": []}
    cloudtrail.create_trail(Name="made-while-stopped", S3BucketName=BUCKET)
    cloudtrail.start_logging(Name="delivering")
    cloudtrail.delete_trail(Name="made-while-stopped")

    records = records_of(aws, deliver(aws, at=AT + datetime.timedelta(hours=1), trail="delivering")["log_files"])
    names = [record["eventName"] for record in records]
    assert "AddTags" in names and "StartLogging" in names and "DeleteTrail" in names
    # The trail's own CreateTrail (before it first started logging) is there; the one made while stopped is not.
    assert names.count("CreateTrail") == 1


@pytest.mark.parametrize("restart", ["logging stopped and started", "validation off and on"])
def test_the_chain_restarts_as_cloudtrail_documents(aws, restart):
    cloudtrail = make_trail(aws)
    (first,) = deliver(aws, at=AT)["digests"]
    if restart == "logging stopped and started":
        cloudtrail.stop_logging(Name="delivering")
        cloudtrail.start_logging(Name="delivering")
    else:
        # Off and on again between two deliveries: nothing was delivered while it was off, the chain breaks all the same.
        cloudtrail.update_trail(Name="delivering", EnableLogFileValidation=False)
        cloudtrail.update_trail(Name="delivering", EnableLogFileValidation=True)
    (restarted,) = deliver(aws, at=AT + datetime.timedelta(hours=1))["digests"]
    (after,) = deliver(aws, at=AT + datetime.timedelta(hours=2))["digests"]
    digest = json.loads(read(aws, restarted)[1])
    assert digest["previousDigestS3Object"] is None and digest["previousDigestSignature"] is None
    assert json.loads(read(aws, after)[1])["previousDigestS3Object"] == restarted
    assert first != restarted


def test_backfill_digests_list_late_log_files_outside_the_chain(aws):
    cloudtrail = make_trail(aws)
    (first,) = deliver(aws, at=AT)["digests"]
    seed_events(aws, [{"EventName": "LateCall", "EventTime": "2026-01-15T10:40:00Z"}])
    late = deliver(aws, at=AT + datetime.timedelta(minutes=30), backfill=True)
    (late_log,) = late["log_files"]
    (backfill,) = late["digests"]
    assert backfill.endswith("_20260115T110000Z_backfill.json.gz")
    _raw, body, metadata = read(aws, backfill)
    digest = json.loads(body)
    assert [entry["s3Object"] for entry in digest["logFiles"]] == [late_log]
    assert digest["previousDigestS3Object"] is None
    assert metadata["backfill-generation-timestamp"] == "2026-01-15T11:00:00Z" and metadata["signature-algorithm"] == "SHA256withRSA"
    (public_key,) = cloudtrail.list_public_keys(StartTime=AT, EndTime=AT + datetime.timedelta(hours=1))["PublicKeyList"]
    signed = "\n".join([digest["digestEndTime"], f"{BUCKET}/{backfill}", hashlib.sha256(body).hexdigest(), "null"])
    serialization.load_der_public_key(public_key["Value"]).verify(bytes.fromhex(metadata["signature"]), signed.encode(), padding.PKCS1v15(), hashes.SHA256())

    # The chain goes on from its last regular digest, and the late file is not listed twice.
    (regular,) = deliver(aws, at=AT + datetime.timedelta(hours=1))["digests"]
    next_digest = json.loads(read(aws, regular)[1])
    assert next_digest["previousDigestS3Object"] == first
    assert late_log not in [entry["s3Object"] for entry in next_digest["logFiles"]]


def test_key_rotation_signs_with_the_key_valid_at_delivery(aws):
    from tests.local_aws.fidelity.delivery import rotate_key

    cloudtrail = make_trail(aws)
    rotated = rotate_key(aws, "us-east-1", AT + datetime.timedelta(minutes=30))
    (before,) = deliver(aws, at=AT)["digests"]
    (after,) = deliver(aws, at=AT + datetime.timedelta(hours=1))["digests"]
    keys = cloudtrail.list_public_keys(StartTime=AT - datetime.timedelta(hours=1), EndTime=AT + datetime.timedelta(hours=2))["PublicKeyList"]
    assert len(keys) == 2 and keys[1]["Fingerprint"] == rotated
    assert keys[0]["ValidityEndTime"] == keys[1]["ValidityStartTime"] == AT + datetime.timedelta(minutes=30)
    by_fingerprint = {key["Fingerprint"]: key["Value"] for key in keys}
    for digest_key in (before, after):
        _raw, body, metadata = read(aws, digest_key)
        digest = json.loads(body)
        previous = digest["previousDigestSignature"] or "null"
        signed = "\n".join([digest["digestEndTime"], f"{BUCKET}/{digest_key}", hashlib.sha256(body).hexdigest(), previous])
        public_key = serialization.load_der_public_key(by_fingerprint[digest["digestPublicKeyFingerprint"]])
        public_key.verify(bytes.fromhex(metadata["signature"]), signed.encode(), padding.PKCS1v15(), hashes.SHA256())
    assert json.loads(read(aws, after)[1])["digestPublicKeyFingerprint"] == rotated
    # Only the rotated key is valid later on.
    later = cloudtrail.list_public_keys(StartTime=AT + datetime.timedelta(days=1), EndTime=AT + datetime.timedelta(days=2))["PublicKeyList"]
    assert [key["Fingerprint"] for key in later] == [rotated]


def test_list_public_keys_pages(aws):
    from tests.local_aws.fidelity.delivery import rotate_key, set_public_keys_page_size

    rotated = [rotate_key(aws, "eu-west-1", AT + datetime.timedelta(hours=hour)) for hour in (1, 2)]
    set_public_keys_page_size(aws, 1)
    cloudtrail = aws.client("cloudtrail", "eu-west-1")
    params = {"StartTime": AT, "EndTime": AT + datetime.timedelta(hours=3)}
    first = cloudtrail.list_public_keys(**params)
    assert len(first["PublicKeyList"]) == 1 and first["NextToken"]
    fingerprints = [key["Fingerprint"] for key in first["PublicKeyList"]]
    token = first["NextToken"]
    while token:
        page = cloudtrail.list_public_keys(NextToken=token, **params)
        fingerprints += [key["Fingerprint"] for key in page["PublicKeyList"]]
        token = page.get("NextToken")
    assert len(fingerprints) == 3 and fingerprints[1:] == rotated
    aws.reset()
    # Rotations and the page size are a test's own: a reset forgets them.
    assert len(cloudtrail.list_public_keys(**params)["PublicKeyList"]) == 1


def test_get_trail_status_reports_the_deliveries_made(aws):
    cloudtrail = make_trail(aws)
    status = cloudtrail.get_trail_status(Name="delivering")
    assert status["IsLogging"] and "LatestDeliveryTime" not in status and "LatestDigestDeliveryTime" not in status

    deliver(aws, at=AT)
    status = cloudtrail.get_trail_status(Name="delivering")
    assert status["LatestDeliveryTime"] == AT and status["LatestDigestDeliveryTime"] == AT
    assert status["LatestDeliveryAttemptTime"] == status["LatestDeliveryAttemptSucceeded"] == "2026-01-15T10:30:00Z"

    seed_events(aws, [{"EventName": "SeededCall", "EventTime": "2026-01-15T11:00:00Z"}])
    deliver(aws, at=AT + datetime.timedelta(hours=1), digest=False)
    status = cloudtrail.get_trail_status(Name="delivering")
    assert status["LatestDeliveryTime"] == AT + datetime.timedelta(hours=1)
    assert status["LatestDigestDeliveryTime"] == AT


def test_a_trail_created_again_starts_a_new_chain(aws):
    cloudtrail = make_trail(aws)
    deliver(aws, at=AT)
    cloudtrail.delete_trail(Name="delivering")
    cloudtrail.create_trail(Name="delivering", S3BucketName=BUCKET, EnableLogFileValidation=True)
    cloudtrail.start_logging(Name="delivering")
    (key,) = deliver(aws, at=AT + datetime.timedelta(hours=1))["digests"]
    assert json.loads(read(aws, key)[1])["previousDigestS3Object"] is None
