# -*- coding: utf-8 -*-

# Copyright: Contributors to the trailops.cloudtrail project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Log file integrity validation: CloudTrail's digest files, their signatures,
the chain that links each digest to the one before, and the log files each
digest lists (the custom validation the CloudTrail user guide describes, which
``aws cloudtrail validate-logs`` implements).

Pure functions (names, times, digest parsing, the signing string, signature and
hash checks, chain links, the report) come first; the AWS calls, one wrapper
each, come last. Digests and log files are read ahead by a bounded pool
(``s3_objects.ObjectReader``), the log files of every digest as one stream,
but checked in order, and hashed as they stream, so memory grows with the
pool, not with the bucket.
"""

from __future__ import annotations

import datetime
import gzip
import hashlib
import json
import re
import time
import zlib
from typing import Any
from typing import Callable
from typing import Collection
from typing import Dict
from typing import Iterable
from typing import Iterator
from typing import Optional
from typing import Union

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    HAS_CRYPTOGRAPHY = True
except ImportError:
    HAS_CRYPTOGRAPHY = False

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.amazon.aws.plugins.module_utils.arn import parse_aws_arn
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import client_for_region
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parameters import ParameterError
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parameters import check_account_id
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parameters import check_region
from ansible_collections.trailops.cloudtrail.plugins.module_utils.retries import transient_retry
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import get_trail
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import home_region_of
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import parse_trail_reference
from ansible_collections.trailops.cloudtrail.plugins.module_utils.s3_objects import DEFAULT_MAX_CONCURRENCY
from ansible_collections.trailops.cloudtrail.plugins.module_utils.s3_objects import ObjectReader
from ansible_collections.trailops.cloudtrail.plugins.module_utils.s3_objects import client_config
from ansible_collections.trailops.cloudtrail.plugins.module_utils.s3_objects import max_concurrency_error

SIGNATURE_ALGORITHM = "SHA256withRSA"
HASH_ALGORITHM = "SHA-256"
# Clocks differ a little; an end time this far ahead of ours is still "now".
CLOCK_SKEW = datetime.timedelta(minutes=5)
# Log files of the range's last hour are listed in the digest delivered after
# it, so digests are read up to this long after end_time (as the AWS CLI does).
SPILL_OVER = datetime.timedelta(hours=1)
# Public keys are asked for up to this long after end_time (the AWS CLI's margin),
# and this long either side of a backfill digest's generation time.
KEYS_AFTER_END = datetime.timedelta(hours=2)
BACKFILL_KEYS_MARGIN = datetime.timedelta(hours=1)
READ_CHUNK = 256 * 1024
# The fields the AWS CLI requires before it checks a digest (logFiles too: it reads them).
DIGEST_FIELDS = (
    "digestStartTime",
    "digestEndTime",
    "digestS3Bucket",
    "digestS3Object",
    "digestPublicKeyFingerprint",
    "previousDigestSignature",
    "logFiles",
)
DIGEST_NAME = re.compile(
    r"^(?P<account>\d{12})_CloudTrail-Digest_(?P<region>[a-z0-9-]+)_(?P<trail>.+)_(?P<home>[a-z0-9-]+)_(?P<end>\d{8}T\d{6}Z)(?P<backfill>_backfill)?\.json\.gz$"
)
BACKFILL_TIMESTAMP = "backfill-generation-timestamp"

# Failure kinds, in CloudTrail's words where it has them.
DIGEST_MISSING = "digest_missing"
DIGEST_UNREADABLE = "digest_unreadable"
DIGEST_MOVED = "digest_moved"
DIGEST_SIGNATURE_MISSING = "digest_signature_missing"
DIGEST_SIGNATURE_INVALID = "digest_signature_invalid"
DIGEST_PUBLIC_KEY_UNKNOWN = "digest_public_key_unknown"
DIGEST_MODIFIED = "digest_modified"
DIGEST_SIGNATURE_REPLACED = "digest_signature_replaced"
# Information, not a failure: the chain restarts (logging or validation was off in between).
CHAIN_GAP = "chain_gap"
LOG_FILE_MODIFIED = "log_file_modified"
LOG_FILE_DELETED = "log_file_deleted"
LOG_FILE_UNREADABLE = "log_file_unreadable"


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
            raise ParameterError(option, f"not an ISO 8601 date and time (got {value!r}), e.g. 2024-05-01T00:00:00Z")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.astimezone(datetime.timezone.utc)


def time_range(start_value: Any, end_value: Any, now: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime]:
    """(start, end) checked: both in the past, start before end; ``end`` defaults to ``now``."""
    start = parse_time("start_time", start_value)
    end = parse_time("end_time", end_value) if end_value not in (None, "") else now
    if start > now + CLOCK_SKEW:
        raise ParameterError("start_time", f"{iso(start)} is in the future (now is {iso(now)}); no digest can exist yet")
    if end > now + CLOCK_SKEW:
        raise ParameterError("end_time", f"{iso(end)} is in the future (now is {iso(now)}); omit it to validate up to now")
    if start >= end:
        raise ParameterError("start_time", f"must be before end_time (got start_time {iso(start)}, end_time {iso(end)})")
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
    info["backfill"] = bool(info["backfill"])
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


def load_digest(raw: bytes, metadata: Optional[dict[str, str]] = None, backfill: bool = False) -> tuple[dict[str, Any], bytes]:
    """(digest, uncompressed bytes) of a delivered digest file; a backfill digest
    must also carry its generation time in ``metadata``, or it is not one."""
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
    if backfill:
        backfill_generated(metadata or {})
    return digest, uncompressed


def backfill_generated(metadata: dict[str, str]) -> datetime.datetime:
    """When a backfill digest was generated (and signed), from its metadata."""
    try:
        return parse_time(BACKFILL_TIMESTAMP, metadata[BACKFILL_TIMESTAMP])
    except (KeyError, ParameterError):
        raise DigestFormatError(f"a backfill digest without a valid {BACKFILL_TIMESTAMP} metadata")


def signing_string(digest: dict[str, Any], uncompressed: bytes) -> bytes:
    """What CloudTrail signs, newline separated: the digest's end time, its ``bucket/key``,
    the hex SHA-256 of its uncompressed content, and the previous digest's signature
    (``null`` for the first digest of a chain, where it is JSON null; any string,
    ``""`` included, is signed as it is, as the AWS CLI verifies it)."""
    previous = digest.get("previousDigestSignature")
    previous = "null" if previous is None else str(previous)
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
    # The object's metadata, not the body, says how it was signed; the AWS CLI requires it too.
    algorithm = metadata.get("signature-algorithm")
    if not algorithm:
        return DIGEST_SIGNATURE_MISSING, "the object has no signature-algorithm metadata"
    if algorithm != SIGNATURE_ALGORITHM:
        return DIGEST_SIGNATURE_INVALID, f"unsupported signature algorithm {algorithm!r}"
    fingerprint = digest.get("digestPublicKeyFingerprint")
    if fingerprint not in public_keys:
        return DIGEST_PUBLIC_KEY_UNKNOWN, f"no public key with fingerprint {fingerprint!r} in ListPublicKeys for the time range"
    if not verify_signature(public_keys[fingerprint], signature, signing_string(digest, uncompressed)):
        return DIGEST_SIGNATURE_INVALID, "the signature does not match the digest: it was modified or signed with another key"
    return None


def check_link(
    digest: dict[str, Any],
    key: str,
    seen: dict[str, Optional[dict[str, Any]]],
    listed: Collection[str],
    previous_key: Optional[str],
    range_start: datetime.datetime,
) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """(failures, information), each (kind, S3 key, detail), of the link from the
    digest at ``key`` to the digest before it.

    ``seen`` holds the digests read so far by key (``sha256``, ``signature``; ``None``
    for one that could not be parsed), ``listed`` every digest key of the walk, and
    ``previous_key`` the one read just before, if any. A link is followed by key,
    not by listing order, so a digest moved elsewhere does not implicate the one
    before it.
    """
    linked = digest.get("previousDigestS3Object")
    if not linked:
        if previous_key is None:
            return [], []
        detail = (
            f"the chain restarts: no digest links to {previous_key}; logging was stopped or log file validation was off"
            f" before {digest.get('digestStartTime')}, so no digest covers that time"
        )
        return [], [(CHAIN_GAP, key, detail)]
    if linked not in seen:
        info = digest_key_info(linked)
        if linked in listed or (info is not None and info["end"] < range_start):
            # Checked on its own turn, or before the range: not ours to read.
            return [], []
        return [(DIGEST_MISSING, linked, f"{key} links to it, but it is not in the bucket: the digest was deleted or moved")], []
    previous = seen[linked]
    if previous is None:
        return [], []
    if digest.get("previousDigestHashValue") != previous["sha256"]:
        return [(DIGEST_MODIFIED, linked, f"its SHA-256 differs from the one recorded in {key}")], []
    if previous["signature"] is not None and digest.get("previousDigestSignature") != previous["signature"]:
        return [(DIGEST_SIGNATURE_REPLACED, linked, f"its signature differs from the one recorded in {key}")], []
    return [], []


# -- log files ------------------------------------------------------------


def gunzip_sha256(chunks: Iterable[bytes]) -> str:
    """Hex SHA-256 of the uncompressed content of a gzip stream, read chunk by chunk.

    CloudTrail writes exactly one gzip member: anything after it (another
    member, even an empty one, or junk) changed the delivered bytes, and the
    AWS CLI calls that invalid too.
    """
    digest = hashlib.sha256()
    decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
    seen = False
    try:
        for chunk in chunks:
            seen = seen or bool(chunk)
            if decompressor.eof:
                if chunk:
                    raise LogFileFormatError("unexpected data after the end of the gzip stream")
                continue
            digest.update(decompressor.decompress(chunk))
            if decompressor.unused_data:
                raise LogFileFormatError("unexpected data after the end of the gzip stream")
        digest.update(decompressor.flush())
    except zlib.error as e:
        raise LogFileFormatError(f"not a gzip file ({e})")
    if not seen:
        raise LogFileFormatError("empty file")
    if not decompressor.eof:
        raise LogFileFormatError("the gzip stream is truncated")
    return digest.hexdigest()


# -- the report -----------------------------------------------------------


class Report:
    """Counts and failures as the checks go; ``result()`` is what the module returns."""

    def __init__(self) -> None:
        self.digests = {"valid": 0, "invalid": 0, "missing": 0}
        self.backfill_digests = {"valid": 0, "invalid": 0, "missing": 0}
        self.log_files = {"valid": 0, "modified": 0, "deleted": 0, "unreadable": 0, "not_validated": 0}
        self.chain_gaps = 0
        self.failures: list[dict[str, str]] = []
        self.information: list[dict[str, str]] = []
        self.scopes: list[dict[str, str]] = []

    def counts(self, backfill: bool) -> dict[str, int]:
        return self.backfill_digests if backfill else self.digests

    def fail(self, kind: str, s3_key: str, detail: str, backfill: bool = False) -> None:
        self.failures.append({"kind": kind, "s3_key": s3_key, "detail": detail})
        if kind == DIGEST_MISSING:
            self.counts(backfill)["missing"] += 1

    def digest_checked(self, valid: bool, backfill: bool) -> None:
        self.counts(backfill)["valid" if valid else "invalid"] += 1

    def not_validated(self, log_files: int) -> None:
        """Log files listed in a digest that is itself invalid: nothing vouches for them."""
        self.log_files["not_validated"] += log_files

    def scope(self, account_id: str, region: str, folder: str) -> None:
        self.scopes.append({"account_id": account_id, "region": region, "folder": folder})

    def inform(self, kind: str, s3_key: str, detail: str) -> None:
        """What an auditor should know but is no failure: a chain restart."""
        self.information.append({"kind": kind, "s3_key": s3_key, "detail": detail})
        if kind == CHAIN_GAP:
            self.chain_gaps += 1

    def summary(self, start: datetime.datetime, end: datetime.datetime) -> dict[str, Any]:
        return {
            "start_time": iso(start),
            "end_time": iso(end),
            "digests": dict(self.digests),
            "backfill_digests": dict(self.backfill_digests),
            "log_files": dict(self.log_files),
            "chain_gaps": self.chain_gaps,
            "scopes": list(self.scopes),
        }


def verdict(summary: dict[str, Any], failures: list[dict[str, str]]) -> str:
    """``invalid`` on any failure; ``not_validated`` when no digest was checked; else ``valid``."""
    if failures:
        return "invalid"
    if not summary["digests"]["valid"] and not summary.get("backfill_digests", {}).get("valid"):
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


def likely_cause(code: Optional[str]) -> str:
    """Why S3 may refuse to hand over an object, in the words an operator can act on."""
    if code in ("AccessDenied", "403", "Forbidden"):
        return (
            "access denied: a bucket policy may deny the request (for example a statement that denies requests not made"
            " over HTTPS, aws:SecureTransport false: check the endpoint), or the caller lacks s3:GetObject on the object,"
            " or kms:Decrypt on the KMS key that encrypts it"
        )
    if code and code.startswith("KMS."):
        return f"the KMS key that encrypts it cannot be used ({code}): the caller needs kms:Decrypt, and the key must be enabled"
    if code == "InvalidObjectState":
        return "it is archived (a lifecycle rule moved it to an archive storage class): restore it first"
    return f"S3 answered {code or 'an error'}"


def unreadable(what: str, bucket: str, key: str, error: AnsibleAWSError) -> AnsibleValidateLogsError:
    """The same error, with the object and the likely cause named."""
    return AnsibleValidateLogsError(message=f"Cannot read {what} s3://{bucket}/{key}: {likely_cause(error_code(error))}", exception=error.exception)


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
        try:
            page = list_objects_page(s3, **params)
        except AnsibleValidateLogsError as e:
            raise unreadable("the objects under", params["Bucket"], params.get("Prefix", ""), e)
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


def read_digest(s3, bucket: str, key: str) -> Optional[tuple[bytes, dict[str, str]]]:
    """Every digest read goes through here: (gzipped content, metadata), ``None`` when
    it is gone; any other error names the object and its likely cause."""
    try:
        return get_digest_object(s3, bucket, key)
    except AnsibleValidateLogsError as e:
        raise unreadable("the digest file", bucket, key, e)


@LogObjectErrorHandler.list_error_handler("read a log file")
def log_file_sha256(s3, bucket: str, key: str) -> Optional[str]:
    """Every log file read goes through here: the SHA-256 of its uncompressed content,
    streamed (LogFileFormatError when it is not exactly one gzip member); ``None``
    when it is gone."""
    body = s3.get_object(aws_retry=True, Bucket=bucket, Key=key)["Body"]
    try:
        return gunzip_sha256(iter(lambda: body.read(READ_CHUNK), b""))
    finally:
        body.close()


@LogObjectErrorHandler.common_error_handler("list CloudTrail public keys")
def list_public_keys(cloudtrail, start: datetime.datetime, end: datetime.datetime) -> dict[str, bytes]:
    """Fingerprint -> DER public key, for the keys valid between ``start`` and ``end`` in the client's region.

    Follows NextToken: CloudTrail documents it as reserved for future use, and a
    missed page would make a digest's key look unknown.
    """
    keys: dict[str, bytes] = {}
    params: dict[str, Any] = {"StartTime": start, "EndTime": end}
    while True:
        response = cloudtrail.list_public_keys(aws_retry=True, **params)
        for key in response.get("PublicKeyList", []):
            keys[key["Fingerprint"]] = key["Value"]
        if not response.get("NextToken"):
            return keys
        params["NextToken"] = response["NextToken"]


class PublicKeys:
    """One region's public keys by fingerprint, asked for as needed: once for the
    range (up to two hours after its end, as the AWS CLI does), and again around a
    backfill digest's generation time when its key was not among them (a backfill
    digest is signed when it is generated, possibly long after the range)."""

    def __init__(self, fetch: Callable[[datetime.datetime, datetime.datetime], dict[str, bytes]], start: datetime.datetime, end: datetime.datetime):
        self._fetch = fetch
        self._range = (start, end + KEYS_AFTER_END)
        self._windows: list[tuple[datetime.datetime, datetime.datetime]] = []
        self._keys: dict[str, bytes] = {}

    def _load(self, window: tuple[datetime.datetime, datetime.datetime]) -> None:
        if any(low <= window[0] and window[1] <= high for low, high in self._windows):
            return
        self._keys.update(self._fetch(*window))
        self._windows.append(window)

    def find(self, fingerprint: Optional[str], around: Optional[datetime.datetime] = None) -> dict[str, bytes]:
        """``{fingerprint: DER}`` when the key is known, else ``{}``."""
        self._load(self._range)
        if fingerprint not in self._keys and around is not None:
            self._load((around - BACKFILL_KEYS_MARGIN, around + BACKFILL_KEYS_MARGIN))
        return {fingerprint: self._keys[fingerprint]} if fingerprint in self._keys else {}


# -- the walk -------------------------------------------------------------


def digest_keys_in_range(
    keys: Iterable[str], trail_name: str, home_region: str, start: datetime.datetime, end: datetime.datetime
) -> tuple[list[str], list[str]]:
    """(digests, backfill digests) of the trail whose end time (from the name) is
    in [start, end + one hour], in key order."""
    standard: list[str] = []
    backfill: list[str] = []
    for key in keys:
        info = digest_key_info(key)
        if info and info["trail"] == trail_name and info["home"] == home_region and start <= info["end"] <= end + SPILL_OVER:
            (backfill if info["backfill"] else standard).append(key)
    return standard, backfill


# -- the walk as one stream of reads ---------------------------------------
#
# Every log file of the trail, across digests, chains and scopes, goes through
# one ordered stream of reads (``ObjectReader.ordered``), so the pool always has
# reads in flight: with one stream per digest it drained at each digest's end,
# two latency rounds per digest with the pool mostly idle. The digests are
# checked (link, location, signature) as the stream draws them, that is ahead
# of the checks of the log files before them; so what a digest's check finds
# travels in the stream as a Step, and the loop that consumes the stream applies
# each in its place. The report is written in the order of a one-at-a-time read.


class Step:
    """A change to the report that the walk decided ahead, applied in its place in
    the stream: ``method(report, *args)``."""

    __slots__ = ("method", "args")

    def __init__(self, method: Callable[..., None], *args: Any) -> None:
        self.method = method
        self.args = args

    def apply(self, report: Report) -> None:
        self.method(report, *self.args)

    def __repr__(self) -> str:
        return f"Step({self.method.__name__}, {self.args!r})"


def _stop(_report: Report, error: Exception) -> None:
    raise error


# A log file entry of a valid digest (read in the pool), or a Step (not read).
Entry = Union[Step, Dict[str, Any]]


def chain_entries(
    bucket: str, keys: list[str], start: datetime.datetime, public_keys: PublicKeys, backfill: bool, reader: ObjectReader
) -> Iterator[Entry]:
    """The entries of one chain of digests, oldest first: each digest's findings
    as Steps, then, for a valid digest, the log files it lists. The digests
    themselves are read ahead by the reader (a window of them at a time)."""
    listed = set(keys)
    # What a later digest's link is checked against: a few short strings per digest.
    seen: dict[str, Optional[dict[str, Any]]] = {}
    previous_key: Optional[str] = None
    for key, read in reader.ordered(lambda client, key: read_digest(client, bucket, key), keys):
        fetched = read()
        if fetched is None:
            yield Step(Report.fail, DIGEST_MISSING, key, "listed, then gone before it could be read", backfill)
            continue
        raw, metadata = fetched
        try:
            digest, uncompressed = load_digest(raw, metadata, backfill)
        except DigestFormatError as e:
            yield Step(Report.digest_checked, False, backfill)
            yield Step(Report.fail, DIGEST_UNREADABLE, key, str(e), backfill)
            seen[key], previous_key = None, key
            continue
        failures, information = check_link(digest, key, seen, listed, previous_key, start)
        for kind, failed_key, detail in failures:
            yield Step(Report.fail, kind, failed_key, detail, backfill)
        if not backfill:
            # Backfill digests stand outside the chain: each starts its own.
            for kind, noted_key, detail in information:
                yield Step(Report.inform, kind, noted_key, detail)
        around = backfill_generated(metadata) if backfill else None
        problem = check_digest(digest, uncompressed, bucket, key, metadata, public_keys.find(digest.get("digestPublicKeyFingerprint"), around))
        seen[key], previous_key = {"sha256": hashlib.sha256(uncompressed).hexdigest(), "signature": metadata.get("signature")}, key
        if problem:
            yield Step(Report.digest_checked, False, backfill)
            yield Step(Report.fail, problem[0], key, problem[1], backfill)
            yield Step(Report.not_validated, len(digest["logFiles"]))
            continue
        yield Step(Report.digest_checked, True, backfill)
        yield from digest["logFiles"]


def scope_entries(
    s3,
    bucket: str,
    folder: str,
    trail_name: str,
    home_region: str,
    start: datetime.datetime,
    end: datetime.datetime,
    public_keys: PublicKeys,
    reader: ObjectReader,
) -> Iterator[Entry]:
    """The entries of one account and region: its digests ending in [start, end +
    one hour], first the chain of regular digests, then the backfill digests.
    Listed when the stream reaches the scope."""
    standard, backfill = digest_keys_in_range(list_digest_keys(s3, bucket, folder, start, end + SPILL_OVER), trail_name, home_region, start, end)
    yield from chain_entries(bucket, standard, start, public_keys, False, reader)
    yield from chain_entries(bucket, backfill, start, public_keys, True, reader)


def stopping_in_place(entries: Iterator[Entry]) -> Iterator[Entry]:
    """The entries, and an AWS error met while walking ahead (a digest or a listing
    that cannot be read) as a last Step: it stops the run where a one-at-a-time
    read would have met it, after the entries before it are applied."""
    try:
        yield from entries
    except AnsibleAWSError as error:
        yield Step(_stop, error)


def is_step(entry: Entry) -> bool:
    return isinstance(entry, Step)


def validate_entries(s3, report: Report, entries: Iterator[Entry], reader: ObjectReader) -> None:
    """Consume the stream: apply each Step, check each log file (read ahead in the pool), in order."""
    stream = stopping_in_place(entries)
    try:
        # The window counts Steps too, so memory stays bounded however many digests fail.
        for entry, hashed in reader.ordered(read_log_file, stream, window=2 * reader.max_concurrency, passes=is_step):
            if isinstance(entry, Step):
                entry.apply(report)
            else:
                validate_log_file(s3, report, entry, hashed)
    finally:
        # Leaving early (an error) cancels the digest reads the walk had started.
        stream.close()


def checkable(log_file: dict[str, Any]) -> bool:
    """Whether a digest's entry names a log file and a hash this module computes."""
    return bool(log_file.get("s3Bucket") and log_file.get("s3Object")) and log_file.get("hashAlgorithm", HASH_ALGORITHM) == HASH_ALGORITHM


def read_log_file(s3, log_file: dict[str, Any]) -> Optional[str]:
    """What ``validate_log_file`` checks, read in a reader's pool; an entry that cannot be checked is not read."""
    return log_file_sha256(s3, log_file["s3Bucket"], log_file["s3Object"]) if checkable(log_file) else None


def validate_log_file(s3, report: Report, log_file: dict[str, Any], hashed: Optional[Callable[[], Optional[str]]] = None) -> None:
    """Check one log file: ``hashed()`` gives its SHA-256 when it was read ahead, else it is read here."""
    bucket, key = log_file.get("s3Bucket"), log_file.get("s3Object")
    if not checkable(log_file):
        report.log_files["not_validated"] += 1
        report.fail(LOG_FILE_UNREADABLE, str(key), f"the digest's entry cannot be checked: {json.dumps(log_file, sort_keys=True)}")
        return
    try:
        actual = hashed() if hashed else log_file_sha256(s3, bucket, key)
    except LogFileFormatError as e:
        report.log_files["modified"] += 1
        report.fail(LOG_FILE_MODIFIED, key, f"{e}: it is no longer the file CloudTrail delivered")
        return
    except AnsibleValidateLogsError as e:
        code = error_code(e)
        if code not in UNREADABLE_LOG_FILE_CODES:
            raise unreadable("the log file", bucket, key, e)
        report.log_files["unreadable"] += 1
        report.fail(LOG_FILE_UNREADABLE, key, f"s3://{bucket}/{key} cannot be read, so it cannot be checked: {likely_cause(code)}")
        return
    if actual is None:
        report.log_files["deleted"] += 1
        report.fail(LOG_FILE_DELETED, key, "listed in a digest, but not in the bucket")
    elif actual != log_file.get("hashValue"):
        report.log_files["modified"] += 1
        report.fail(LOG_FILE_MODIFIED, key, "its SHA-256 differs from the one in the digest")
    else:
        report.log_files["valid"] += 1


# -- the validate_logs module's run -------------------------------------------


def check_parameters(params: dict[str, Any], now: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime]:
    """(start, end), or ParameterError naming the option; no API call."""
    parse_trail_reference(params["trail_name"], "trail_name")
    for account_id in params["account_ids"]:
        check_account_id(account_id, "account_ids")
    for region in params.get("regions") or []:
        check_region(region, "regions")
    problem = max_concurrency_error(params.get("max_concurrency", DEFAULT_MAX_CONCURRENCY))
    if problem:
        raise ParameterError.of([problem])
    return time_range(params["start_time"], params["end_time"], now)


def _last_part(folder: str) -> str:
    return folder.rstrip("/").rsplit("/", 1)[-1]


def scopes_of(s3, trail: dict[str, Any], account_ids: Collection[str], regions: Collection[str]) -> list[tuple[str, str, str]]:
    """(account id, region, digest folder) of every place the trail's digests are in."""
    bucket = trail["S3BucketName"]
    prefix = trail.get("S3KeyPrefix")
    trail_account = parse_aws_arn(trail["TrailARN"])["account_id"]
    roots = []
    if trail.get("IsOrganizationTrail"):
        for org_folder in list_folders(s3, bucket, logs_root(prefix)):
            org_id = _last_part(org_folder)
            if not org_id.startswith("o-"):
                continue
            for account_folder in list_folders(s3, bucket, org_folder):
                account_id = _last_part(account_folder)
                if not account_ids or account_id in account_ids:
                    roots.append((account_id, account_root(prefix, account_id, org_id)))
    else:
        roots.append((trail_account, account_root(prefix, trail_account)))
    scopes = []
    for account_id, root in roots:
        if trail.get("IsMultiRegionTrail"):
            found = [_last_part(folder) for folder in list_folders(s3, bucket, f"{root}CloudTrail-Digest/")]
        else:
            found = [home_region_of(trail)]
        for region in sorted(found):
            if not regions or region in regions:
                scopes.append((account_id, region, digest_folder(root, region)))
    return scopes


def validate(module, trail: dict[str, Any], start: datetime.datetime, end: datetime.datetime) -> Report:
    """Every digest of the trail in every scope, and the log files they list."""
    pool = module.params["max_concurrency"]
    s3 = module.client("s3", retry_decorator=transient_retry(), config=client_config(pool))
    report = Report()
    keys_by_region: dict[str, PublicKeys] = {}

    def keys_for(region: str) -> PublicKeys:
        # Each region signs with its own keys; ListPublicKeys is asked in the digest's region.
        if region not in keys_by_region:
            keys_by_region[region] = PublicKeys(lambda low, high: list_public_keys(client_for_region(module, region), low, high), start, end)
        return keys_by_region[region]

    def trail_entries(reader: ObjectReader) -> Iterator[Entry]:
        for account_id, region, folder in scopes_of(s3, trail, module.params["account_ids"], module.params["regions"]):
            yield Step(Report.scope, account_id, region, folder)
            yield from scope_entries(s3, trail["S3BucketName"], folder, trail["Name"], home_region_of(trail), start, end, keys_for(region), reader)

    with ObjectReader(s3, pool, retry_decorator=transient_retry) as reader:
        validate_entries(s3, report, trail_entries(reader), reader)
    return report


def run(module) -> dict[str, Any]:
    """The validate_logs module's work: the result to exit with. Fails the
    module, with a verdict, when nothing could be read or validated, and when
    validation failed and ``fail_on_invalid`` is set. Every result says how
    long it took (``seconds``): one module run cannot report progress while it
    runs, so a play shows each trail's time as it finishes."""
    began = time.monotonic()

    def took() -> float:
        return round(time.monotonic() - began, 1)

    empty: dict[str, Any] = {"verdict": "not_validated", "summary": {}, "failures": [], "information": []}
    try:
        start, end = check_parameters(module.params, datetime.datetime.now(datetime.timezone.utc))
    except ParameterError as e:
        module.fail_json(msg=str(e), seconds=took(), **empty)
    if not HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography"), seconds=took(), **empty)

    name = module.params["trail_name"]
    found = empty
    try:
        trail = get_trail(module.client("cloudtrail", retry_decorator=transient_retry()), name)
        if trail is None:
            module.fail_json(msg=f"trail_name: no trail {name!r} in this region (a trail of another region needs its ARN)", seconds=took(), **empty)
        found = dict(empty, trail_arn=trail["TrailARN"], s3_bucket=trail["S3BucketName"])
        if not trail.get("LogFileValidationEnabled"):
            module.fail_json(
                msg=f"Log file validation is not enabled for trail {trail['Name']}: CloudTrail writes no digest files for it, so there is nothing to validate.",
                seconds=took(),
                **found,
            )
        report = validate(module, trail, start, end)
    except AnsibleAWSError as e:
        # What could not be read is a verdict too: the playbook reports it per account.
        located = {key: found[key] for key in ("trail_arn", "s3_bucket") if key in found}
        if e.exception:
            module.fail_json_aws(e.exception, msg=e.message, verdict="unreadable", summary={}, failures=[], information=[], seconds=took(), **located)
        module.fail_json(msg=e.message, verdict="unreadable", summary={}, failures=[], information=[], seconds=took(), **located)

    summary = report.summary(start, end)
    result = {"trail_arn": found["trail_arn"], "s3_bucket": found["s3_bucket"], "changed": False, "seconds": took()}
    result.update(verdict=verdict(summary, report.failures), summary=summary, failures=report.failures, information=report.information)
    if result["verdict"] == "not_validated":
        module.fail_json(
            msg=f"No digest files of trail {trail['Name']} end between {summary['start_time']} and {summary['end_time']}: nothing was validated.", **result
        )
    if result["verdict"] == "invalid" and module.params["fail_on_invalid"]:
        kinds = sorted({failure["kind"] for failure in report.failures})
        module.fail_json(msg=f"Log file integrity validation failed: {len(report.failures)} failure(s) ({', '.join(kinds)}).", **result)
    return result
