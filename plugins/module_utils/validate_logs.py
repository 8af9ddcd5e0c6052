# -*- coding: utf-8 -*-

# Copyright: Contributors to the trailops.cloudtrail project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Log file integrity validation: CloudTrail's digest files, their signatures,
the chain that links each digest to the one before, and the log files each
digest lists (the custom validation the CloudTrail user guide describes, which
``aws cloudtrail validate-logs`` implements).

Pure functions (names, times, digest parsing, the signing string, signature and
hash checks, chain links, the report) come first; the AWS calls, one wrapper
each, come last. Digests and log files are read one at a time and hashed as
they stream, so memory does not grow with the bucket.
"""

from __future__ import annotations

import datetime
import gzip
import hashlib
import json
import re
import zlib
from typing import Any
from typing import Callable
from typing import Iterable
from typing import Iterator
from typing import Optional

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    HAS_CRYPTOGRAPHY = True
except ImportError:
    HAS_CRYPTOGRAPHY = False

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

SIGNATURE_ALGORITHM = "SHA256withRSA"
HASH_ALGORITHM = "SHA-256"
# Clocks differ a little; an end time this far ahead of ours is still "now".
CLOCK_SKEW = datetime.timedelta(minutes=5)
READ_CHUNK = 256 * 1024
DIGEST_FIELDS = ("digestStartTime", "digestEndTime", "digestS3Bucket", "digestS3Object", "digestPublicKeyFingerprint", "logFiles")
DIGEST_NAME = re.compile(r"^(?P<account>\d{12})_CloudTrail-Digest_(?P<region>[a-z0-9-]+)_(?P<trail>.+)_(?P<home>[a-z0-9-]+)_(?P<end>\d{8}T\d{6}Z)\.json\.gz$")

# Failure kinds, in CloudTrail's words where it has them.
DIGEST_MISSING = "digest_missing"
DIGEST_UNREADABLE = "digest_unreadable"
DIGEST_MOVED = "digest_moved"
DIGEST_SIGNATURE_MISSING = "digest_signature_missing"
DIGEST_SIGNATURE_INVALID = "digest_signature_invalid"
DIGEST_PUBLIC_KEY_UNKNOWN = "digest_public_key_unknown"
DIGEST_MODIFIED = "digest_modified"
DIGEST_SIGNATURE_REPLACED = "digest_signature_replaced"
CHAIN_GAP = "chain_gap"
LOG_FILE_MODIFIED = "log_file_modified"
LOG_FILE_DELETED = "log_file_deleted"
LOG_FILE_UNREADABLE = "log_file_unreadable"


class ValidateLogsParameterError(Exception):
    """A parameter breaks a rule; raised before any API call."""


class DigestFormatError(Exception):
    """A digest file that is not gzip, not JSON, or not a digest."""


class LogFileFormatError(Exception):
    """A log file that is not gzip."""


# -- times ----------------------------------------------------------------


def parse_time(option: str, value: Any) -> datetime.datetime:
    """An aware UTC datetime from ISO 8601 (``Z`` or an offset; no offset means UTC)."""
    if isinstance(value, datetime.datetime):
        parsed = value
    else:
        text = str(value).strip()
        try:
            parsed = datetime.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
        except ValueError:
            raise ValidateLogsParameterError(f"{option}: not an ISO 8601 date and time (got {value!r}), e.g. 2024-05-01T00:00:00Z")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.astimezone(datetime.timezone.utc)


def time_range(start_value: Any, end_value: Any, now: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime]:
    """(start, end) checked: both in the past, start before end; ``end`` defaults to ``now``."""
    start = parse_time("start_time", start_value)
    end = parse_time("end_time", end_value) if end_value not in (None, "") else now
    if start > now + CLOCK_SKEW:
        raise ValidateLogsParameterError(f"start_time: {iso(start)} is in the future (now is {iso(now)}); no digest can exist yet")
    if end > now + CLOCK_SKEW:
        raise ValidateLogsParameterError(f"end_time: {iso(end)} is in the future (now is {iso(now)}); omit it to validate up to now")
    if start >= end:
        raise ValidateLogsParameterError(f"start_time: must be before end_time (got start_time {iso(start)}, end_time {iso(end)})")
    return start, end


def iso(value: Optional[datetime.datetime]) -> Optional[str]:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


# -- where CloudTrail puts things -------------------------------------------


def logs_root(s3_key_prefix: Optional[str]) -> str:
    """``[<prefix>/]AWSLogs/``; CloudTrail treats a trailing ``/`` of the prefix as absent."""
    prefix = (s3_key_prefix or "").strip("/")
    return f"{prefix}/AWSLogs/" if prefix else "AWSLogs/"


def account_root(s3_key_prefix: Optional[str], account_id: str, organization_id: Optional[str] = None) -> str:
    """``[<prefix>/]AWSLogs/[<org id>/]<account>/``: organization trails add the organization's folder."""
    middle = f"{organization_id}/" if organization_id else ""
    return f"{logs_root(s3_key_prefix)}{middle}{account_id}/"


def digest_folder(root: str, region: str) -> str:
    return f"{root}CloudTrail-Digest/{region}/"


def digest_key_info(key: str) -> Optional[dict[str, Any]]:
    """Account, region, trail, home region and end time from a digest's name; ``None`` for other names."""
    match = DIGEST_NAME.match(key.rsplit("/", 1)[-1])
    if not match:
        return None
    info: dict[str, Any] = match.groupdict()
    info["end"] = datetime.datetime.strptime(info["end"], "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    return info


def is_trail_digest(key: str, trail_name: str, home_region: str) -> bool:
    """Several trails may share a bucket and prefix: a digest names its trail and home region."""
    info = digest_key_info(key)
    return bool(info) and info["trail"] == trail_name and info["home"] == home_region


def listing_start_after(folder: str, start: datetime.datetime) -> str:
    """A StartAfter that skips the days before ``start`` (digest keys sort by their date folders)."""
    return f"{folder}{start:%Y/%m/%d}"


def past_listing_end(folder: str, key: str, end: datetime.datetime) -> bool:
    """Whether ``key`` lies in a date folder after ``end``'s day, so listing can stop."""
    day = key[len(folder):len(folder) + 10]
    return day > f"{end:%Y/%m/%d}"


# -- digests --------------------------------------------------------------


def load_digest(raw: bytes) -> tuple[dict[str, Any], bytes]:
    """(digest, uncompressed bytes) of a delivered digest file."""
    try:
        uncompressed = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as e:
        raise DigestFormatError(f"not a gzip file ({e})")
    try:
        digest = json.loads(uncompressed)
    except ValueError as e:
        raise DigestFormatError(f"not valid JSON ({e})")
    if not isinstance(digest, dict):
        raise DigestFormatError("not a JSON object")
    absent = [field for field in DIGEST_FIELDS if field not in digest]
    if absent:
        raise DigestFormatError(f"not a CloudTrail digest: {', '.join(absent)} missing")
    if not isinstance(digest["logFiles"], list):
        raise DigestFormatError("not a CloudTrail digest: logFiles is not a list")
    return digest, uncompressed


def signing_string(digest: dict[str, Any], uncompressed: bytes) -> bytes:
    """What CloudTrail signs, newline separated: the digest's end time, its ``bucket/key``,
    the hex SHA-256 of its uncompressed content, and the previous digest's signature
    (``null`` for the first digest of a chain)."""
    previous = digest.get("previousDigestSignature") or "null"
    location = f"{digest['digestS3Bucket']}/{digest['digestS3Object']}"
    return "\n".join([digest["digestEndTime"], location, hashlib.sha256(uncompressed).hexdigest(), previous]).encode("utf-8")


def verify_signature(public_key_der: bytes, signature_hex: str, data: bytes) -> bool:
    """SHA256withRSA (PKCS#1 v1.5) over ``data`` with a DER public key (PKCS#1 or SubjectPublicKeyInfo)."""
    try:
        signature = bytes.fromhex(signature_hex)
        key = serialization.load_der_public_key(public_key_der)
        key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def location_error(digest: dict[str, Any], bucket: str, key: str) -> Optional[str]:
    """Why the digest is not where it says it was delivered, or ``None``."""
    if digest.get("digestS3Bucket") != bucket or digest.get("digestS3Object") != key:
        return f"the digest says it was delivered to s3://{digest.get('digestS3Bucket')}/{digest.get('digestS3Object')}, not here"
    return None


def check_digest(
    digest: dict[str, Any],
    uncompressed: bytes,
    bucket: str,
    key: str,
    metadata: dict[str, str],
    public_keys: dict[str, bytes],
) -> Optional[tuple[str, str]]:
    """(failure kind, detail) of a parsed digest, or ``None`` when it is where it says and its signature holds."""
    moved = location_error(digest, bucket, key)
    if moved:
        return DIGEST_MOVED, moved
    signature = metadata.get("signature")
    if not signature:
        return DIGEST_SIGNATURE_MISSING, "the object has no signature metadata"
    algorithm = metadata.get("signature-algorithm") or digest.get("digestSignatureAlgorithm")
    if algorithm != SIGNATURE_ALGORITHM:
        return DIGEST_SIGNATURE_INVALID, f"unsupported signature algorithm {algorithm!r}"
    fingerprint = digest.get("digestPublicKeyFingerprint")
    if fingerprint not in public_keys:
        return DIGEST_PUBLIC_KEY_UNKNOWN, f"no public key with fingerprint {fingerprint!r} in ListPublicKeys for the time range"
    if not verify_signature(public_keys[fingerprint], signature, signing_string(digest, uncompressed)):
        return DIGEST_SIGNATURE_INVALID, "the signature does not match the digest: it was modified or signed with another key"
    return None


def check_link(digest: dict[str, Any], previous: Optional[dict[str, Any]], range_start: datetime.datetime) -> list[tuple[str, str, str]]:
    """Failures (kind, S3 key, detail) of the link from ``digest`` to the digest before it.

    ``previous`` is the digest listed just before (``key``, ``sha256``,
    ``signature``, ``end``), or ``None`` when ``digest`` is the first in range.
    """
    key = digest["digestS3Object"]
    linked = digest.get("previousDigestS3Object")
    if not linked:
        if previous is not None:
            return [(CHAIN_GAP, key, f"the chain restarts: no digest links to {previous['key']}; log file validation was off"
                     f" between {iso(previous['end'])} and {digest.get('digestStartTime')}")]
        return []
    if previous is None or linked != previous["key"]:
        info = digest_key_info(linked)
        linked_end = info["end"] if info else None
        if previous is None and linked_end is not None and linked_end < range_start:
            return []
        return [(DIGEST_MISSING, linked, f"{key} links to it, but it is not in the bucket: the digest was deleted")]
    failures = []
    if previous.get("sha256") and digest.get("previousDigestHashValue") != previous["sha256"]:
        failures.append((DIGEST_MODIFIED, previous["key"], f"its SHA-256 differs from the one recorded in {key}"))
    elif previous.get("signature") is not None and digest.get("previousDigestSignature") != previous["signature"]:
        failures.append((DIGEST_SIGNATURE_REPLACED, previous["key"], f"its signature differs from the one recorded in {key}"))
    return failures


# -- log files ------------------------------------------------------------


def gunzip_sha256(chunks: Iterable[bytes]) -> str:
    """Hex SHA-256 of the uncompressed content of a gzip stream, read chunk by chunk
    (concatenated gzip members included)."""
    digest = hashlib.sha256()
    decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
    seen = False
    try:
        for chunk in chunks:
            seen = seen or bool(chunk)
            while chunk:
                digest.update(decompressor.decompress(chunk))
                if decompressor.eof:
                    chunk = decompressor.unused_data
                    decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
                else:
                    chunk = b""
        digest.update(decompressor.flush())
    except zlib.error as e:
        raise LogFileFormatError(f"not a gzip file ({e})")
    if not seen:
        raise LogFileFormatError("empty file")
    return digest.hexdigest()


# -- the report -----------------------------------------------------------


class Report:
    """Counts and failures as the checks go; ``result()`` is what the module returns."""

    def __init__(self) -> None:
        self.digests = {"valid": 0, "invalid": 0, "missing": 0}
        self.log_files = {"valid": 0, "modified": 0, "deleted": 0, "unreadable": 0, "not_validated": 0}
        self.chain_gaps = 0
        self.failures: list[dict[str, str]] = []
        self.scopes: list[dict[str, str]] = []

    def fail(self, kind: str, s3_key: str, detail: str) -> None:
        self.failures.append({"kind": kind, "s3_key": s3_key, "detail": detail})
        if kind == DIGEST_MISSING:
            self.digests["missing"] += 1
        elif kind == CHAIN_GAP:
            self.chain_gaps += 1

    def summary(self, start: datetime.datetime, end: datetime.datetime) -> dict[str, Any]:
        return {
            "start_time": iso(start),
            "end_time": iso(end),
            "digests": dict(self.digests),
            "log_files": dict(self.log_files),
            "chain_gaps": self.chain_gaps,
            "scopes": list(self.scopes),
        }


def verdict(summary: dict[str, Any], failures: list[dict[str, str]]) -> str:
    """``invalid`` on any failure; ``not_validated`` when no digest was checked; else ``valid``."""
    if failures:
        return "invalid"
    if not summary["digests"]["valid"]:
        return "not_validated"
    return "valid"


# -- AWS calls ------------------------------------------------------------


class AnsibleValidateLogsError(AnsibleAWSError):
    pass


# One log file that cannot be read (archived by a lifecycle rule, a KMS key the
# reader may not use) is a finding about that file; the rest can still be checked.
UNREADABLE_LOG_FILE_CODES = ("AccessDenied", "InvalidObjectState", "KMS.DisabledException", "KMS.AccessDeniedException", "KMS.NotFoundException")


def error_code(error: AnsibleAWSError) -> Optional[str]:
    response = getattr(error.exception, "response", None) or {}
    return response.get("Error", {}).get("Code")


class LogObjectErrorHandler(AWSErrorHandler):
    """"No such key" is data: a deleted digest or log file is a finding, not an error."""

    _CUSTOM_EXCEPTION = AnsibleValidateLogsError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code(["NoSuchKey", "404"])


@LogObjectErrorHandler.common_error_handler("list objects in the log bucket")
def list_objects_page(s3, **params: Any) -> dict[str, Any]:
    """One ListObjectsV2 page (at most 1,000 keys)."""
    return s3.list_objects_v2(aws_retry=True, **params)


def list_pages(s3, **params: Any) -> Iterator[dict[str, Any]]:
    """ListObjectsV2 pages, fetched one at a time as the caller goes."""
    while True:
        page = list_objects_page(s3, **params)
        yield page
        if not page.get("IsTruncated"):
            return
        params["ContinuationToken"] = page["NextContinuationToken"]


def list_folders(s3, bucket: str, prefix: str) -> list[str]:
    """The 'sub-folders' (common prefixes) directly under ``prefix``."""
    folders = []
    for page in list_pages(s3, Bucket=bucket, Prefix=prefix, Delimiter="/"):
        folders.extend(entry["Prefix"] for entry in page.get("CommonPrefixes", []))
    return folders


def list_digest_keys(s3, bucket: str, folder: str, start: datetime.datetime, end: datetime.datetime) -> Iterator[str]:
    """Digest keys under ``folder`` from ``start``'s day to ``end``'s day, in key order."""
    for page in list_pages(s3, Bucket=bucket, Prefix=folder, StartAfter=listing_start_after(folder, start)):
        for entry in page.get("Contents", []):
            if past_listing_end(folder, entry["Key"], end):
                return
            yield entry["Key"]


@LogObjectErrorHandler.list_error_handler("read a digest file")
def get_digest_object(s3, bucket: str, key: str) -> Optional[tuple[bytes, dict[str, str]]]:
    """(gzipped content, metadata) of a digest (a few KB), or ``None`` when it is gone."""
    response = s3.get_object(aws_retry=True, Bucket=bucket, Key=key)
    return response["Body"].read(), {name.lower(): value for name, value in response.get("Metadata", {}).items()}


@LogObjectErrorHandler.list_error_handler("read a log file")
def log_file_sha256(s3, bucket: str, key: str) -> Optional[str]:
    """SHA-256 of a log file's uncompressed content, streamed; ``None`` when it is gone."""
    body = s3.get_object(aws_retry=True, Bucket=bucket, Key=key)["Body"]
    try:
        return gunzip_sha256(iter(lambda: body.read(READ_CHUNK), b""))
    finally:
        body.close()


@LogObjectErrorHandler.common_error_handler("list CloudTrail public keys")
def list_public_keys(cloudtrail, start: datetime.datetime, end: datetime.datetime) -> dict[str, bytes]:
    """Fingerprint -> DER public key, for the keys valid between ``start`` and ``end`` in the client's region."""
    keys: dict[str, bytes] = {}
    params: dict[str, Any] = {"StartTime": start, "EndTime": end}
    while True:
        response = cloudtrail.list_public_keys(aws_retry=True, **params)
        for key in response.get("PublicKeyList", []):
            keys[key["Fingerprint"]] = key["Value"]
        if not response.get("NextToken"):
            return keys
        params["NextToken"] = response["NextToken"]


# -- the walk -------------------------------------------------------------


def validate_scope(
    s3,
    report: Report,
    bucket: str,
    folder: str,
    trail_name: str,
    home_region: str,
    start: datetime.datetime,
    end: datetime.datetime,
    public_keys: Callable[[], dict[str, bytes]],
) -> None:
    """Validate the digests of one account and region in [start, end], oldest first,
    and the log files each valid digest lists. Holds one digest at a time."""
    previous: Optional[dict[str, Any]] = None
    for key in list_digest_keys(s3, bucket, folder, start, end):
        info = digest_key_info(key)
        if not info or info["trail"] != trail_name or info["home"] != home_region or not start <= info["end"] <= end:
            continue
        fetched = get_digest_object(s3, bucket, key)
        if fetched is None:
            report.fail(DIGEST_MISSING, key, "listed, then gone before it could be read")
            continue
        raw, metadata = fetched
        try:
            digest, uncompressed = load_digest(raw)
        except DigestFormatError as e:
            report.digests["invalid"] += 1
            report.fail(DIGEST_UNREADABLE, key, str(e))
            previous = {"key": key, "sha256": None, "signature": None, "end": info["end"]}
            continue
        for kind, failed_key, detail in check_link(dict(digest, digestS3Object=key), previous, start):
            report.fail(kind, failed_key, detail)
        problem = check_digest(digest, uncompressed, bucket, key, metadata, public_keys())
        previous = {"key": key, "sha256": hashlib.sha256(uncompressed).hexdigest(), "signature": metadata.get("signature"), "end": info["end"]}
        if problem:
            report.digests["invalid"] += 1
            report.fail(problem[0], key, problem[1])
            report.log_files["not_validated"] += len(digest["logFiles"])
            continue
        report.digests["valid"] += 1
        for log_file in digest["logFiles"]:
            validate_log_file(s3, report, log_file)


def validate_log_file(s3, report: Report, log_file: dict[str, Any]) -> None:
    bucket, key = log_file.get("s3Bucket"), log_file.get("s3Object")
    if not bucket or not key or log_file.get("hashAlgorithm", HASH_ALGORITHM) != HASH_ALGORITHM:
        report.log_files["not_validated"] += 1
        report.fail(LOG_FILE_UNREADABLE, str(key), f"the digest's entry cannot be checked: {json.dumps(log_file, sort_keys=True)}")
        return
    try:
        actual = log_file_sha256(s3, bucket, key)
    except LogFileFormatError as e:
        report.log_files["modified"] += 1
        report.fail(LOG_FILE_MODIFIED, key, f"{e}: it is no longer the file CloudTrail delivered")
        return
    except AnsibleValidateLogsError as e:
        code = error_code(e)
        if code not in UNREADABLE_LOG_FILE_CODES:
            raise
        report.log_files["unreadable"] += 1
        report.fail(LOG_FILE_UNREADABLE, key, f"cannot be read ({code}), so it cannot be checked")
        return
    if actual is None:
        report.log_files["deleted"] += 1
        report.fail(LOG_FILE_DELETED, key, "listed in a digest, but not in the bucket")
    elif actual != log_file.get("hashValue"):
        report.log_files["modified"] += 1
        report.fail(LOG_FILE_MODIFIED, key, "its SHA-256 differs from the one in the digest")
    else:
        report.log_files["valid"] += 1
