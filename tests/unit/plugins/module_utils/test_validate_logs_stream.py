"""validate_logs reads the log files of every digest as one stream, ahead across
digests, yet writes the report exactly as a one-at-a-time read would: each
digest's findings (failures, counts, log files not validated) land between the
log files of the digest before it and its own, whatever order the reads
complete in."""

from __future__ import annotations

import datetime
import gzip
import hashlib
import json
import random
import threading
import time

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric import rsa

from ansible_collections.trailops.cloudtrail.plugins.module_utils import validate_logs as vl
from ansible_collections.trailops.cloudtrail.plugins.module_utils.s3_objects import ObjectReader

UTC = datetime.timezone.utc
BUCKET = "logs"
ACCOUNT = "123456789012"
FOLDER = f"AWSLogs/{ACCOUNT}/CloudTrail-Digest/us-east-1/"
TRAIL = "my-trail"
PRIVATE = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PUBLIC_DER = PRIVATE.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
FINGERPRINT = "f" * 32
START = datetime.datetime(2024, 5, 10, 0, 30, tzinfo=UTC)
END = datetime.datetime(2024, 5, 10, 5, 0, tzinfo=UTC)
HOURS = (1, 2, 3, 4, 5)
FILES_PER_DIGEST = 3


def digest_key(hour: int) -> str:
    return f"{FOLDER}2024/05/10/{ACCOUNT}_CloudTrail-Digest_us-east-1_{TRAIL}_us-east-1_20240510T{hour:02d}0000Z.json.gz"


def log_key(hour: int, index: int) -> str:
    return f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2024/05/10/{ACCOUNT}_CloudTrail_us-east-1_20240510T{hour - 1:02d}{10 * index:02d}Z_x.json.gz"


def delivered() -> dict[str, tuple[bytes, dict[str, str]]]:
    """Five hourly digests, chained and signed, of three log files each: key -> (stored bytes, metadata)."""
    objects: dict[str, tuple[bytes, dict[str, str]]] = {}
    previous = None
    for hour in HOURS:
        log_files = []
        for index in range(1, FILES_PER_DIGEST + 1):
            content = json.dumps({"Records": [{"eventName": f"Hour{hour}File{index}"}]}).encode()
            objects[log_key(hour, index)] = (gzip.compress(content), {})
            sha256 = hashlib.sha256(content).hexdigest()
            log_files.append({"s3Bucket": BUCKET, "s3Object": log_key(hour, index), "hashValue": sha256, "hashAlgorithm": "SHA-256"})
        digest = {
            "awsAccountId": ACCOUNT,
            "digestStartTime": f"2024-05-10T{hour - 1:02d}:00:00Z",
            "digestEndTime": f"2024-05-10T{hour:02d}:00:00Z",
            "digestS3Bucket": BUCKET,
            "digestS3Object": digest_key(hour),
            "digestPublicKeyFingerprint": FINGERPRINT,
            "digestSignatureAlgorithm": "SHA256withRSA",
            "previousDigestS3Bucket": BUCKET if previous else None,
            "previousDigestS3Object": previous["key"] if previous else None,
            "previousDigestHashValue": previous["sha256"] if previous else None,
            "previousDigestHashAlgorithm": "SHA-256" if previous else None,
            "previousDigestSignature": previous["signature"] if previous else None,
            "logFiles": log_files,
        }
        body = json.dumps(digest).encode()
        signature = PRIVATE.sign(vl.signing_string(digest, body), padding.PKCS1v15(), hashes.SHA256()).hex()
        objects[digest_key(hour)] = (gzip.compress(body), {"signature": signature, "signature-algorithm": "SHA256withRSA"})
        previous = {"key": digest_key(hour), "sha256": hashlib.sha256(body).hexdigest(), "signature": signature}
    return objects


def tampered() -> dict[str, tuple[bytes, dict[str, str]]]:
    """Digest-level and log-file findings interleaved across the five hours."""
    objects = delivered()
    objects[log_key(1, 2)] = (gzip.compress(b'{"Records": ["changed"]}'), {})
    raw, metadata = objects[digest_key(2)]
    objects[digest_key(2)] = (raw, {name: value for name, value in metadata.items() if name != "signature"})
    del objects[log_key(3, 1)]
    raw, metadata = objects[digest_key(4)]
    digest = json.loads(gzip.decompress(raw))
    digest["logFiles"] = digest["logFiles"][:2]
    objects[digest_key(4)] = (gzip.compress(json.dumps(digest).encode()), metadata)
    objects[log_key(5, 3)] = (b"not gzip", {})
    return objects


# What a one-at-a-time read finds, in its order.
EXPECTED_FAILURES = [
    (vl.LOG_FILE_MODIFIED, log_key(1, 2)),
    (vl.DIGEST_SIGNATURE_MISSING, digest_key(2)),
    (vl.LOG_FILE_DELETED, log_key(3, 1)),
    (vl.DIGEST_SIGNATURE_INVALID, digest_key(4)),
    # Hour 5's link to hour 4 is checked before hour 5's own log files.
    (vl.DIGEST_MODIFIED, digest_key(4)),
    (vl.LOG_FILE_MODIFIED, log_key(5, 3)),
]


class FakeBody:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self, size: int = -1) -> bytes:
        size = len(self.data) if size < 0 else size
        chunk, self.data = self.data[:size], self.data[size:]
        return chunk

    def close(self) -> None:
        pass


class FakeS3:
    """ListObjectsV2 and GetObject over ``objects``. Reads of the early hours' log
    files are the slowest, so a pool completes later reads first; ``errors`` maps a
    key to the error code its GetObject answers."""

    def __init__(self, objects, errors=None, seed=0) -> None:
        self.objects = objects
        self.errors = errors or {}
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.reads: list[str] = []

    def list_objects_v2(self, aws_retry=False, Bucket=None, Prefix="", StartAfter="", **_params):
        keys = sorted(key for key in self.objects if key.startswith(Prefix) and key > StartAfter)
        return {"Contents": [{"Key": key} for key in keys], "IsTruncated": False}

    def get_object(self, aws_retry=False, Bucket=None, Key=None):
        with self.lock:
            self.reads.append(Key)
            jitter = self.random.random() / 1000
        if "/CloudTrail/" in Key and "T00" in Key:
            time.sleep(0.02 + jitter)
        else:
            time.sleep(jitter)
        if Key in self.errors or Key not in self.objects:
            code = self.errors.get(Key, "NoSuchKey")
            raise ClientError({"Error": {"Code": code, "Message": code}}, "GetObject")
        raw, metadata = self.objects[Key]
        return {"Body": FakeBody(raw), "Metadata": dict(metadata)}


def validate(s3, max_concurrency: int) -> vl.Report:
    report = vl.Report()
    keys = vl.PublicKeys(lambda low, high: {FINGERPRINT: PUBLIC_DER}, START, END)
    with ObjectReader(s3, max_concurrency) as reader:
        vl.validate_entries(s3, report, vl.scope_entries(s3, BUCKET, FOLDER, TRAIL, "us-east-1", START, END, keys, reader), reader)
    return report


def outcome(report: vl.Report) -> dict:
    return {"summary": report.summary(START, END), "failures": report.failures, "information": report.information}


@pytest.mark.parametrize("max_concurrency", [1, 2, 3, 8, 16])
def test_findings_across_digests_come_in_the_order_of_a_one_at_a_time_read(max_concurrency):
    report = validate(FakeS3(tampered(), seed=max_concurrency), max_concurrency)

    assert [(failure["kind"], failure["s3_key"]) for failure in report.failures] == EXPECTED_FAILURES
    summary = report.summary(START, END)
    assert summary["digests"] == {"valid": 3, "invalid": 2, "missing": 0}
    # Hour 2's three log files and hour 4's two (unsigned, invalid digests) vouch for nothing.
    assert summary["log_files"] == {"valid": 6, "modified": 2, "deleted": 1, "unreadable": 0, "not_validated": 5}


def test_a_pool_writes_the_same_report_as_one_reader():
    one = outcome(validate(FakeS3(tampered()), 1))
    for seed in range(3):
        assert outcome(validate(FakeS3(tampered(), seed=seed), 8)) == one


def test_every_object_is_read_once_and_no_log_file_of_an_invalid_digest():
    s3 = FakeS3(tampered())
    validate(s3, 8)
    invalid_hours = (2, 4)
    expected = {digest_key(hour) for hour in HOURS} | {log_key(hour, i) for hour in HOURS if hour not in invalid_hours for i in range(1, 4)}
    assert sorted(s3.reads) == sorted(expected)


def test_an_unreadable_digest_stops_the_run_after_what_comes_before_it():
    """A digest read ahead that cannot be read stops the run where a one-at-a-time
    read would: the findings before it are in the report, none after it."""
    reports = {}
    for max_concurrency in (1, 8):
        report = vl.Report()
        keys = vl.PublicKeys(lambda low, high: {FINGERPRINT: PUBLIC_DER}, START, END)
        s3 = FakeS3(tampered(), errors={digest_key(4): "InternalError"})
        with ObjectReader(s3, max_concurrency) as reader:
            with pytest.raises(vl.AnsibleValidateLogsError, match="Cannot read the digest file"):
                vl.validate_entries(s3, report, vl.scope_entries(s3, BUCKET, FOLDER, TRAIL, "us-east-1", START, END, keys, reader), reader)
        reports[max_concurrency] = outcome(report)
    assert reports[8] == reports[1]
    assert [(failure["kind"], failure["s3_key"]) for failure in reports[8]["failures"]] == EXPECTED_FAILURES[:3]
    assert reports[8]["summary"]["log_files"]["valid"] == 4


def test_steps_apply_in_their_place():
    report = vl.Report()
    steps = [
        vl.Step(vl.Report.digest_checked, False, True),
        vl.Step(vl.Report.fail, vl.DIGEST_MISSING, "a", "gone", True),
        vl.Step(vl.Report.not_validated, 4),
        vl.Step(vl.Report.scope, ACCOUNT, "us-east-1", FOLDER),
    ]
    for step in steps:
        step.apply(report)
    assert report.backfill_digests == {"valid": 0, "invalid": 1, "missing": 1}
    assert report.log_files["not_validated"] == 4
    assert report.scopes == [{"account_id": ACCOUNT, "region": "us-east-1", "folder": FOLDER}]
