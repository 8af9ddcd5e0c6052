"""Case tables for the pure functions of module_utils/validate_logs.py."""

from __future__ import annotations

import datetime
import gzip
import hashlib
import json

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric import rsa

from ansible_collections.trailops.cloudtrail.plugins.module_utils import validate_logs as vl
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parameters import ParameterError

UTC = datetime.timezone.utc
NOW = datetime.datetime(2024, 5, 10, 12, 0, 0, tzinfo=UTC)
BUCKET = "logs"
KEY = "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2024/05/10/123456789012_CloudTrail-Digest_us-east-1_my-trail_us-east-1_20240510T110000Z.json.gz"
PREVIOUS_KEY = KEY.replace("T110000Z", "T100000Z")
PRIVATE = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PUBLIC_DER = PRIVATE.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
FINGERPRINT = "f" * 32


def t(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2024-05-01T00:00:00Z", t("2024-05-01T00:00:00")),
        ("2024-05-01T02:00:00+02:00", t("2024-05-01T00:00:00")),
        ("2024-05-01T00:00:00", t("2024-05-01T00:00:00")),
        ("2024-05-01", t("2024-05-01T00:00:00")),
    ],
)
def test_parse_time(value, expected):
    assert vl.parse_time("start_time", value) == expected


@pytest.mark.parametrize(
    "start, end, message",
    [
        ("2024-05-11T00:00:00Z", None, "start_time: 2024-05-11T00:00:00Z is in the future"),
        ("2024-05-01T00:00:00Z", "2024-06-01T00:00:00Z", "end_time: 2024-06-01T00:00:00Z is in the future"),
        ("2024-05-02T00:00:00Z", "2024-05-01T00:00:00Z", "start_time: must be before end_time"),
        ("2024-05-01T00:00:00Z", "2024-05-01T00:00:00Z", "start_time: must be before end_time"),
        ("last week", None, "start_time: not an ISO 8601"),
        ("2024-05-01T00:00:00Z", "soon", "end_time: not an ISO 8601"),
    ],
)
def test_time_range_errors_name_the_option(start, end, message):
    with pytest.raises(ParameterError, match="^" + message):
        vl.time_range(start, end, NOW)


def test_time_range_defaults_end_to_now_and_allows_small_skew():
    assert vl.time_range("2024-05-01T00:00:00Z", None, NOW) == (t("2024-05-01T00:00:00"), NOW)
    assert vl.time_range("2024-05-01T00:00:00Z", "2024-05-10T12:03:00Z", NOW)[1] == t("2024-05-10T12:03:00")


@pytest.mark.parametrize(
    "prefix, org, expected",
    [
        (None, None, "AWSLogs/123456789012/"),
        ("", None, "AWSLogs/123456789012/"),
        ("audit", None, "audit/AWSLogs/123456789012/"),
        ("audit/ct/", None, "audit/ct/AWSLogs/123456789012/"),
        ("audit", "o-abc123", "audit/AWSLogs/o-abc123/123456789012/"),
    ],
)
def test_account_root(prefix, org, expected):
    assert vl.account_root(prefix, "123456789012", org) == expected


@pytest.mark.parametrize(
    "name, expected",
    [
        (
            KEY,
            {"account": "123456789012", "region": "us-east-1", "trail": "my-trail", "home": "us-east-1", "end": t("2024-05-10T11:00:00"), "backfill": False},
        ),
        (
            "x/111122223333_CloudTrail-Digest_eu-west-1_org_trail_us-east-1_20240101T000102Z.json.gz",
            {"account": "111122223333", "region": "eu-west-1", "trail": "org_trail", "home": "us-east-1", "end": t("2024-01-01T00:01:02"), "backfill": False},
        ),
        (
            KEY.replace(".json.gz", "_backfill.json.gz"),
            {"account": "123456789012", "region": "us-east-1", "trail": "my-trail", "home": "us-east-1", "end": t("2024-05-10T11:00:00"), "backfill": True},
        ),
        ("AWSLogs/123456789012/CloudTrail/us-east-1/2024/05/10/123456789012_CloudTrail_us-east-1_20240510T1100Z_abc.json.gz", None),
        ("notes.txt", None),
    ],
)
def test_digest_key_info(name, expected):
    assert vl.digest_key_info(name) == expected


@pytest.mark.parametrize(
    "key, expected",
    [
        ("f/2024/05/10/x", False),
        ("f/2024/05/11/x", False),
        ("f/2024/05/12/x", True),
        ("f/2025/01/01/x", True),
    ],
)
def test_past_listing_end(key, expected):
    assert vl.past_listing_end("f/", key, t("2024-05-11T23:59:59")) is expected


def test_listing_start_after_sorts_before_the_first_day():
    after = vl.listing_start_after("f/", t("2024-05-10T11:00:00"))
    assert "f/2024/05/09/z" < after < "f/2024/05/10/a"


def make_digest(previous=None, **changes):
    digest = {
        "awsAccountId": "123456789012",
        "digestStartTime": "2024-05-10T10:00:00Z",
        "digestEndTime": "2024-05-10T11:00:00Z",
        "digestS3Bucket": BUCKET,
        "digestS3Object": KEY,
        "digestPublicKeyFingerprint": FINGERPRINT,
        "digestSignatureAlgorithm": "SHA256withRSA",
        "previousDigestS3Bucket": BUCKET if previous else None,
        "previousDigestS3Object": previous["key"] if previous else None,
        "previousDigestHashValue": previous["sha256"] if previous else None,
        "previousDigestHashAlgorithm": "SHA-256" if previous else None,
        "previousDigestSignature": previous["signature"] if previous else None,
        "logFiles": [],
    }
    digest.update(changes)
    return digest


def signed(digest, key=PRIVATE):
    body = json.dumps(digest).encode()
    signature = key.sign(vl.signing_string(digest, body), padding.PKCS1v15(), hashes.SHA256()).hex()
    return body, {"signature": signature, "signature-algorithm": "SHA256withRSA"}


def test_signing_string_is_cloudtrails():
    previous = {"key": PREVIOUS_KEY, "sha256": "ab" * 32, "signature": "cd" * 256}
    digest = make_digest(previous)
    body = json.dumps(digest).encode()
    lines = vl.signing_string(digest, body).decode().split("\n")
    assert lines == ["2024-05-10T11:00:00Z", f"{BUCKET}/{KEY}", hashlib.sha256(body).hexdigest(), "cd" * 256]
    assert vl.signing_string(make_digest(), body).decode().endswith("\nnull")
    # An empty previous signature is signed as it is, as the AWS CLI verifies it (not as null).
    assert vl.signing_string(make_digest(previousDigestSignature=""), body).decode().endswith(hashlib.sha256(body).hexdigest() + "\n")


@pytest.mark.parametrize(
    "case, expected_kind",
    [
        ("intact", None),
        ("other key", vl.DIGEST_SIGNATURE_INVALID),
        ("content changed", vl.DIGEST_SIGNATURE_INVALID),
        ("no signature", vl.DIGEST_SIGNATURE_MISSING),
        ("garbled signature", vl.DIGEST_SIGNATURE_INVALID),
        ("unknown fingerprint", vl.DIGEST_PUBLIC_KEY_UNKNOWN),
        ("moved", vl.DIGEST_MOVED),
        ("other algorithm", vl.DIGEST_SIGNATURE_INVALID),
        ("no algorithm metadata", vl.DIGEST_SIGNATURE_MISSING),
        ("empty previous signature", None),
    ],
)
def test_check_digest(case, expected_kind):
    digest = make_digest()
    body, metadata = signed(digest, OTHER if case == "other key" else PRIVATE)
    key = KEY
    keys = {FINGERPRINT: PUBLIC_DER}
    if case == "content changed":
        body = body.replace(b'"logFiles": []', b'"logFiles": [ ]')
    elif case == "no signature":
        metadata = {}
    elif case == "garbled signature":
        metadata["signature"] = "not hex"
    elif case == "unknown fingerprint":
        keys = {"0" * 32: PUBLIC_DER}
    elif case == "moved":
        key = KEY.replace("2024/05/10", "2024/05/09")
    elif case == "other algorithm":
        metadata["signature-algorithm"] = "SHA1withRSA"
    elif case == "no algorithm metadata":
        # The body still names SHA256withRSA: only the object's metadata counts.
        del metadata["signature-algorithm"]
    elif case == "empty previous signature":
        digest = make_digest(previousDigestSignature="")
        body, metadata = signed(digest)
    problem = vl.check_digest(digest, body, BUCKET, key, metadata, keys)
    assert (problem[0] if problem else None) == expected_kind


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"plain", "not a gzip file"),
        (gzip.compress(b"{nope"), "not valid JSON"),
        (gzip.compress(b"[1, 2]"), "not a JSON object"),
        (gzip.compress(b'{"digestEndTime": "x"}'), "not a CloudTrail digest: digestStartTime"),
        (gzip.compress(json.dumps({k: v for k, v in make_digest().items() if k != "previousDigestSignature"}).encode()), "previousDigestSignature missing"),
    ],
)
def test_load_digest_names_what_it_is(raw, message):
    with pytest.raises(vl.DigestFormatError, match=message):
        vl.load_digest(raw)


def test_load_digest_returns_the_uncompressed_bytes():
    body = json.dumps(make_digest()).encode()
    assert vl.load_digest(gzip.compress(body)) == (make_digest(), body)


@pytest.mark.parametrize("metadata", [{}, {"backfill-generation-timestamp": "yesterday"}])
def test_a_backfill_digest_needs_its_generation_time(metadata):
    raw = gzip.compress(json.dumps(make_digest()).encode())
    with pytest.raises(vl.DigestFormatError, match="backfill-generation-timestamp"):
        vl.load_digest(raw, metadata, backfill=True)
    assert vl.load_digest(raw, {"backfill-generation-timestamp": "2024-05-10T13:00:00Z"}, backfill=True)[0] == make_digest()


PREVIOUS = {"key": PREVIOUS_KEY, "sha256": "ab" * 32, "signature": "cd" * 8}
SEEN = {PREVIOUS_KEY: {"sha256": "ab" * 32, "signature": "cd" * 8}}
RANGE_START = t("2024-05-10T09:00:00")
ELSEWHERE = PREVIOUS_KEY.replace("T100000Z", "T103000Z")


@pytest.mark.parametrize(
    "linked, seen, listed, previous_key, range_start, failures, information",
    [
        ("linked", SEEN, [PREVIOUS_KEY], PREVIOUS_KEY, RANGE_START, [], []),
        (None, {}, [], None, RANGE_START, [], []),
        # A new chain after another: information, not a failure.
        (None, SEEN, [PREVIOUS_KEY], PREVIOUS_KEY, RANGE_START, [], [(vl.CHAIN_GAP, KEY)]),
        # The digest linked to ended before the range: not read, not missing.
        ("linked", {}, [], None, t("2024-05-10T10:30:00"), [], []),
        ("linked", {}, [], None, RANGE_START, [(vl.DIGEST_MISSING, PREVIOUS_KEY)], []),
        # Another digest was read just before (one moved there): the link still names only the one that is gone.
        ("linked", {ELSEWHERE: PREVIOUS}, [ELSEWHERE], ELSEWHERE, RANGE_START, [(vl.DIGEST_MISSING, PREVIOUS_KEY)], []),
        # The linked digest is read after this one (its name was changed to sort later): it is checked on its own turn.
        ("linked", {}, [PREVIOUS_KEY], None, RANGE_START, [], []),
        # A digest moved away after the linked one does not implicate it.
        ("linked", dict(SEEN, **{ELSEWHERE: PREVIOUS}), [PREVIOUS_KEY, ELSEWHERE], ELSEWHERE, RANGE_START, [], []),
        ("linked", {PREVIOUS_KEY: dict(PREVIOUS, sha256="ef" * 32)}, [PREVIOUS_KEY], PREVIOUS_KEY, RANGE_START, [(vl.DIGEST_MODIFIED, PREVIOUS_KEY)], []),
        (
            "linked",
            {PREVIOUS_KEY: dict(PREVIOUS, signature="00")},
            [PREVIOUS_KEY],
            PREVIOUS_KEY,
            RANGE_START,
            [(vl.DIGEST_SIGNATURE_REPLACED, PREVIOUS_KEY)],
            [],
        ),
        ("linked", {PREVIOUS_KEY: None}, [PREVIOUS_KEY], PREVIOUS_KEY, RANGE_START, [], []),
    ],
)
def test_check_link(linked, seen, listed, previous_key, range_start, failures, information):
    digest = make_digest(PREVIOUS if linked else None)
    found, noted = vl.check_link(digest, KEY, seen, set(listed), previous_key, range_start)
    assert [(kind, key) for kind, key, _detail in found] == failures
    assert [(kind, key) for kind, key, _detail in noted] == information


def test_digest_keys_in_range_reach_an_hour_past_the_end_and_split_backfill():
    folder = "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2024/05/10/"
    name = "123456789012_CloudTrail-Digest_us-east-1_my-trail_us-east-1_{}.json.gz"
    keys = [folder + name.format(stamp) for stamp in ("20240510T085959Z", "20240510T100000Z", "20240510T125959Z", "20240510T130001Z")]
    backfill = folder + name.format("20240510T110000Z_backfill")
    other_trail = folder + name.replace("my-trail", "other").format("20240510T100000Z")
    standard, backfills = vl.digest_keys_in_range(keys + [backfill, other_trail], "my-trail", "us-east-1", RANGE_START, t("2024-05-10T12:00:00"))
    assert standard == keys[1:3] and backfills == [backfill]


def test_public_keys_are_asked_for_once_and_again_around_a_backfill():
    calls = []

    def fetch(low, high):
        calls.append((low, high))
        return {"old": b"1"} if len(calls) == 1 else {"later": b"2"}

    keys = vl.PublicKeys(fetch, RANGE_START, NOW)
    assert keys.find("old") == {"old": b"1"} and keys.find("old", NOW) == {"old": b"1"}
    assert calls == [(RANGE_START, NOW + datetime.timedelta(hours=2))]
    generated = NOW + datetime.timedelta(days=3)
    assert keys.find("later", generated) == {"later": b"2"}
    assert keys.find("unknown") == {} and keys.find("unknown", generated) == {}
    assert calls[1:] == [(generated - datetime.timedelta(hours=1), generated + datetime.timedelta(hours=1))]


@pytest.mark.parametrize("chunk_size", [1, 7, 1024, 1 << 20])
def test_gunzip_sha256_streams(chunk_size):
    content = json.dumps({"Records": [{"eventName": f"Call{n}"} for n in range(500)]}).encode()
    raw = gzip.compress(content)
    chunks = [raw[i:i + chunk_size] for i in range(0, len(raw), chunk_size)]
    assert vl.gunzip_sha256(chunks) == hashlib.sha256(content).hexdigest()


@pytest.mark.parametrize(
    "appended",
    [gzip.compress(b"cd"), gzip.compress(b""), b"junk", b"\0"],
    ids=["another member", "an empty member", "junk", "one byte"],
)
@pytest.mark.parametrize("chunk_size", [1, 1 << 20])
def test_gunzip_sha256_takes_exactly_one_member(appended, chunk_size):
    raw = gzip.compress(b"ab") + appended
    with pytest.raises(vl.LogFileFormatError, match="unexpected data after the end of the gzip stream"):
        vl.gunzip_sha256([raw[i:i + chunk_size] for i in range(0, len(raw), chunk_size)])


@pytest.mark.parametrize("raw, message", [(b"plain text", "not a gzip file"), (b"", "empty file"), (gzip.compress(b"abc" * 100)[:-12], "truncated")])
def test_gunzip_sha256_rejects_what_is_not_gzip(raw, message):
    with pytest.raises(vl.LogFileFormatError, match=message):
        vl.gunzip_sha256([raw])


@pytest.mark.parametrize(
    "valid, failures, expected",
    [
        (3, [], "valid"),
        (0, [], "not_validated"),
        (3, [{"kind": vl.LOG_FILE_DELETED}], "invalid"),
        (0, [{"kind": vl.DIGEST_MISSING}], "invalid"),
    ],
)
def test_verdict(valid, failures, expected):
    summary = {"digests": {"valid": valid, "invalid": 0, "missing": 0}}
    assert vl.verdict(summary, failures) == expected


def test_report_counts_missing_digests_and_keeps_gaps_apart():
    report = vl.Report()
    report.fail(vl.DIGEST_MISSING, "a", "gone")
    report.inform(vl.CHAIN_GAP, "b", "off")
    report.fail(vl.LOG_FILE_MODIFIED, "c", "changed")
    report.fail(vl.DIGEST_MISSING, "d", "gone", backfill=True)
    summary = report.summary(RANGE_START, NOW)
    assert summary["digests"]["missing"] == 1 and summary["backfill_digests"]["missing"] == 1 and summary["chain_gaps"] == 1
    assert [f["s3_key"] for f in report.failures] == ["a", "c", "d"]
    assert report.information == [{"kind": vl.CHAIN_GAP, "s3_key": "b", "detail": "off"}]
    assert vl.verdict(summary, []) == "not_validated"
    assert vl.verdict(dict(summary, backfill_digests={"valid": 1}), []) == "valid"


class FakeBody:
    def __init__(self, data):
        self.data = data

    def read(self, size=-1):
        size = len(self.data) if size < 0 else size
        chunk, self.data = self.data[:size], self.data[size:]
        return chunk

    def close(self):
        pass


class FakeS3:
    """get_object answers from ``objects``: bytes, or an error code to raise."""

    def __init__(self, objects):
        self.objects = objects

    def get_object(self, aws_retry=False, Bucket=None, Key=None):
        from botocore.exceptions import ClientError

        found = self.objects.get(Key, "NoSuchKey")
        if isinstance(found, str):
            raise ClientError({"Error": {"Code": found, "Message": found}}, "GetObject")
        return {"Body": FakeBody(found)}


CONTENT = b'{"Records": []}'


@pytest.mark.parametrize(
    "stored, counter, kind",
    [
        (gzip.compress(CONTENT), "valid", None),
        (gzip.compress(b'{"Records": [1]}'), "modified", vl.LOG_FILE_MODIFIED),
        (b"plain", "modified", vl.LOG_FILE_MODIFIED),
        ("NoSuchKey", "deleted", vl.LOG_FILE_DELETED),
        ("AccessDenied", "unreadable", vl.LOG_FILE_UNREADABLE),
        ("InvalidObjectState", "unreadable", vl.LOG_FILE_UNREADABLE),
    ],
)
def test_validate_log_file(stored, counter, kind):
    report = vl.Report()
    entry = {"s3Bucket": BUCKET, "s3Object": "log.json.gz", "hashValue": hashlib.sha256(CONTENT).hexdigest(), "hashAlgorithm": "SHA-256"}
    vl.validate_log_file(FakeS3({"log.json.gz": stored}), report, entry)
    assert report.log_files[counter] == 1 and sum(report.log_files.values()) == 1
    assert [f["kind"] for f in report.failures] == ([kind] if kind else [])


def test_validate_log_file_other_errors_stop_the_run():
    entry = {"s3Bucket": BUCKET, "s3Object": "log.json.gz", "hashValue": "0" * 64}
    with pytest.raises(vl.AnsibleValidateLogsError):
        vl.validate_log_file(FakeS3({"log.json.gz": "InternalError"}), vl.Report(), entry)


def test_an_unreadable_log_file_names_the_object_and_the_likely_cause():
    report = vl.Report()
    entry = {"s3Bucket": BUCKET, "s3Object": "log.json.gz", "hashValue": "0" * 64}
    vl.validate_log_file(FakeS3({"log.json.gz": "AccessDenied"}), report, entry)
    (failure,) = report.failures
    assert failure["detail"].startswith(f"s3://{BUCKET}/log.json.gz cannot be read")
    assert all(word in failure["detail"] for word in ("HTTPS", "s3:GetObject", "kms:Decrypt"))


@pytest.mark.parametrize(
    "code, cause",
    [
        ("AccessDenied", "aws:SecureTransport"),
        ("KMS.DisabledException", "kms:Decrypt"),
        ("InvalidObjectState", "restore it first"),
        ("InternalError", "S3 answered InternalError"),
    ],
)
def test_an_unreadable_digest_stops_the_run_naming_bucket_key_and_cause(code, cause):
    with pytest.raises(vl.AnsibleValidateLogsError) as caught:
        vl.read_digest(FakeS3({KEY: code}), BUCKET, KEY)
    assert caught.value.message.startswith(f"Cannot read the digest file s3://{BUCKET}/{KEY}: ")
    assert cause in caught.value.message
    assert vl.read_digest(FakeS3({}), BUCKET, KEY) is None
