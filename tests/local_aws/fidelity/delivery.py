"""Log file and digest delivery for logging trails (issue: log file integrity).

CloudTrail delivers about every five minutes and writes a digest every hour; no
test waits that long, so delivery here happens when a test or the demo asks for
it (``deliver`` below, or ``POST /moto-api/trailops/cloudtrail/deliver``). Each
flush, for every logging trail:

* writes the events recorded since the last flush (the store of
  ``lookup_events``) as one gzipped log file per account and region, named and
  placed as CloudTrail does: ``[<prefix>/]AWSLogs/[<org id>/]<account>/CloudTrail/
  <region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<16 chars>.json.gz``;
* when log file validation is on, writes one digest per account and region
  listing the log files delivered since the previous digest with the SHA-256 of
  their uncompressed content, linked to the previous digest by path, hash and
  signature, and signed SHA256withRSA with the region's key over CloudTrail's
  signing string; the signature goes into the object metadata ``signature``;
* when validation is off, forgets the chain, so the next digest starts a new one
  (what an auditor sees as a gap).

``ListPublicKeys`` (moto answers 500) returns each region's key: DER, PKCS#1,
with its validity window and fingerprint. The keys survive ``/moto-api/reset``,
like CloudTrail's; the delivery state does not.

Objects are written straight into moto's S3 backend, as the CloudTrail service
principal would: they are not API calls of the account and are not recorded.
"""

from __future__ import annotations

import datetime
import gzip
import hashlib
import json
import secrets
import string
import threading
import urllib.request
from typing import Any

from tests.local_aws.fidelity import _hooks, lookup_events

DELIVER_PATH = "/moto-api/trailops/cloudtrail/deliver"
SIGNATURE_ALGORITHM = "SHA256withRSA"
KEY_VALIDITY = (
    datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc),
    datetime.datetime(2099, 1, 1, tzinfo=datetime.timezone.utc),
)

_LOCK = threading.RLock()
_KEYS: dict[str, dict[str, Any]] = {}
# Per trail ARN: how many events of each (account, region) were delivered, and when.
_DELIVERED: dict[str, dict[tuple[str, str], int]] = {}
_LAST_FLUSH: dict[str, datetime.datetime] = {}
# Per (trail ARN, account, region): the last digest, and the log files since it.
_CHAINS: dict[tuple[str, str, str], dict[str, Any]] = {}
_PENDING: dict[tuple[str, str, str], list[dict[str, Any]]] = {}


# -- the test side --------------------------------------------------------


def deliver(
    aws: Any,
    at: datetime.datetime | None = None,
    trail: str | None = None,
    digest: bool = True,
) -> dict[str, list[str]]:
    """Flush: deliver log files (and digests unless ``digest`` is false) as of ``at``.

    ``trail`` (a name or ARN) limits the flush to one trail. Returns the keys
    written: ``{"log_files": [...], "digests": [...]}``.
    """
    payload: dict[str, Any] = {"digest": digest}
    if at is not None:
        payload["at"] = at.astimezone(datetime.timezone.utc).isoformat()
    if trail:
        payload["trail"] = trail
    request = urllib.request.Request(
        aws.endpoint + DELIVER_PATH, data=json.dumps(payload).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


# -- keys -----------------------------------------------------------------


def region_key(region: str) -> dict[str, Any]:
    """The region's signing key: private key, public DER (PKCS#1) and fingerprint."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    with _LOCK:
        if region not in _KEYS:
            private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            der = private.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
            _KEYS[region] = {"private": private, "der": der, "fingerprint": hashlib.md5(der).hexdigest()}
        return _KEYS[region]


def sign(private_key: Any, data: bytes) -> str:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    return private_key.sign(data, padding.PKCS1v15(), hashes.SHA256()).hex()


def signing_string(digest: dict[str, Any], uncompressed: bytes) -> bytes:
    """What CloudTrail signs: end time, bucket/key, the digest's SHA-256, the previous signature."""
    previous = digest.get("previousDigestSignature") or "null"
    return "\n".join(
        [digest["digestEndTime"], f"{digest['digestS3Bucket']}/{digest['digestS3Object']}", hashlib.sha256(uncompressed).hexdigest(), previous]
    ).encode()


def _epoch(value: datetime.datetime) -> float:
    return value.timestamp()


def _list_public_keys(self: Any) -> str:
    params = json.loads(self.body or "{}")
    now = lookup_events._now()
    start = lookup_events._as_time(params["StartTime"]) if params.get("StartTime") is not None else now
    end = lookup_events._as_time(params["EndTime"]) if params.get("EndTime") is not None else now
    if start > end:
        raise lookup_events._error("InvalidTimeRangeException", "StartTime must be before EndTime.")
    key = region_key(self.region)
    keys = []
    if KEY_VALIDITY[0] <= end and start <= KEY_VALIDITY[1]:
        import base64

        keys.append(
            {
                "Value": base64.b64encode(key["der"]).decode(),
                "ValidityStartTime": _epoch(KEY_VALIDITY[0]),
                "ValidityEndTime": _epoch(KEY_VALIDITY[1]),
                "Fingerprint": key["fingerprint"],
            }
        )
    return json.dumps({"PublicKeyList": keys})


# -- delivery -------------------------------------------------------------


def _stamp(value: datetime.datetime, seconds: bool) -> str:
    return value.strftime("%Y%m%dT%H%M%SZ" if seconds else "%Y%m%dT%H%MZ")


def _iso(value: datetime.datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def _account_root(trail: Any, account_id: str, org_id: str | None) -> str:
    prefix = f"{trail.s3_key_prefix}/" if trail.s3_key_prefix else ""
    return f"{prefix}AWSLogs/{org_id}/{account_id}" if org_id else f"{prefix}AWSLogs/{account_id}"


def _organization(trail: Any) -> tuple[str | None, list[str]]:
    """The organization id and member accounts of an organization trail; (None, [own account]) otherwise."""
    if not trail.is_org_trail:
        return None, [trail.account_id]
    from moto.organizations.models import organizations_backends

    backend = organizations_backends[trail.account_id][trail.partition]
    if backend.org is None:
        return None, [trail.account_id]
    return backend.org.id, sorted({account.id for account in backend.accounts} | {trail.account_id})


def _logging_trails(selector: str | None) -> list[Any]:
    from moto.cloudtrail.models import cloudtrail_backends

    trails = []
    for _account, regions in list(cloudtrail_backends.items()):
        for _region, backend in list(regions.items()):
            for trail in list(backend.trails.values()):
                if selector and selector not in (trail.trail_name, trail.arn):
                    continue
                if trail.status.is_logging:
                    trails.append(trail)
    return trails


def _started(trail: Any) -> datetime.datetime:
    started = trail.status.started or datetime.datetime(1970, 1, 1)
    return started if started.tzinfo else started.replace(tzinfo=datetime.timezone.utc)


def _put(bucket: str, key: str, body: bytes, metadata: dict[str, str] | None = None) -> None:
    from moto.s3.models import s3_backends

    partition, owner = s3_backends.bucket_accounts[bucket]
    obj = s3_backends[owner][partition].put_object(bucket, key, body, disable_notification=True)
    if metadata:
        obj.set_metadata({f"x-amz-meta-{name}": value for name, value in metadata.items()})


def _new_events(trail: Any, account_id: str, region: str) -> list[dict[str, Any]]:
    """Management events of (account, region) that ``trail`` has not delivered yet.

    Also those recorded (or seeded) before it started logging: tests seed
    events with past times, and delivering a little more than CloudTrail would
    changes nothing for integrity.
    """
    delivered = _DELIVERED.setdefault(trail.arn, {})
    with lookup_events._LOCK:
        stored = list(lookup_events._EVENTS.get((account_id, region), []))
    fresh = stored[delivered.get((account_id, region), 0):]
    delivered[(account_id, region)] = len(stored)
    return [event for event in fresh if event["_category"] == "Management"]


def _regions(trail: Any, accounts: list[str]) -> list[str]:
    if not trail.is_multi_region:
        return [trail.region_name]
    with lookup_events._LOCK:
        seen = {region for (account, region) in lookup_events._EVENTS if account in accounts}
    seen |= {region for (arn, _account, region) in list(_CHAINS) + list(_PENDING) if arn == trail.arn}
    return sorted(seen | {trail.region_name})


def _deliver_log_file(trail: Any, root: str, account_id: str, region: str, at: datetime.datetime, events: list[dict[str, Any]]) -> dict[str, Any]:
    records = [json.loads(event["CloudTrailEvent"]) for event in events]
    body = json.dumps({"Records": records}).encode()
    suffix = "".join(secrets.choice(string.ascii_letters + string.digits) for _position in range(16))
    key = f"{root}/CloudTrail/{region}/{at:%Y/%m/%d}/{account_id}_CloudTrail_{region}_{_stamp(at, False)}_{suffix}.json.gz"
    _put(trail.bucket_name, key, gzip.compress(body))
    times = [event["EventTime"] for event in events]
    return {
        "s3Bucket": trail.bucket_name,
        "s3Object": key,
        "hashValue": hashlib.sha256(body).hexdigest(),
        "hashAlgorithm": "SHA-256",
        "newestEventTime": _iso(max(times)),
        "oldestEventTime": _iso(min(times)),
    }


def _deliver_digest(trail: Any, root: str, account_id: str, region: str, at: datetime.datetime, start: datetime.datetime) -> str:
    chain_key = (trail.arn, account_id, region)
    previous = _CHAINS.get(chain_key)
    log_files = _PENDING.pop(chain_key, [])
    key_info = region_key(region)
    key = (
        f"{root}/CloudTrail-Digest/{region}/{at:%Y/%m/%d}/"
        f"{account_id}_CloudTrail-Digest_{region}_{trail.trail_name}_{trail.region_name}_{_stamp(at, True)}.json.gz"
    )
    newest = [entry["newestEventTime"] for entry in log_files]
    oldest = [entry["oldestEventTime"] for entry in log_files]
    digest = {
        "awsAccountId": account_id,
        "digestStartTime": _iso(previous["end"] if previous else start),
        "digestEndTime": _iso(at),
        "digestS3Bucket": trail.bucket_name,
        "digestS3Object": key,
        "digestPublicKeyFingerprint": key_info["fingerprint"],
        "digestSignatureAlgorithm": SIGNATURE_ALGORITHM,
        "newestEventTime": max(newest) if newest else None,
        "oldestEventTime": min(oldest) if oldest else None,
        "previousDigestS3Bucket": trail.bucket_name if previous else None,
        "previousDigestS3Object": previous["key"] if previous else None,
        "previousDigestHashValue": previous["sha256"] if previous else None,
        "previousDigestHashAlgorithm": "SHA-256" if previous else None,
        "previousDigestSignature": previous["signature"] if previous else None,
        "logFiles": log_files,
    }
    body = json.dumps(digest).encode()
    signature = sign(key_info["private"], signing_string(digest, body))
    _put(trail.bucket_name, key, gzip.compress(body), {"signature": signature, "signature-algorithm": SIGNATURE_ALGORITHM})
    _CHAINS[chain_key] = {"key": key, "sha256": hashlib.sha256(body).hexdigest(), "signature": signature, "end": at}
    return key


def flush(at: datetime.datetime | None, selector: str | None, digest: bool) -> dict[str, list[str]]:
    written: dict[str, list[str]] = {"log_files": [], "digests": []}
    with _LOCK:
        for trail in _logging_trails(selector):
            last = _LAST_FLUSH.get(trail.arn)
            when = at or lookup_events._now()
            if last and when <= last:
                # Digest names carry seconds: two flushes must not share one.
                when = last + datetime.timedelta(seconds=1)
            when = when.replace(microsecond=0)
            start = last or min(_started(trail), when)
            org_id, accounts = _organization(trail)
            for account_id in accounts:
                root = _account_root(trail, account_id, org_id)
                for region in _regions(trail, accounts):
                    chain_key = (trail.arn, account_id, region)
                    events = _new_events(trail, account_id, region)
                    if events:
                        entry = _deliver_log_file(trail, root, account_id, region, when, events)
                        written["log_files"].append(entry["s3Object"])
                        if trail.log_validation:
                            _PENDING.setdefault(chain_key, []).append(entry)
                    if not trail.log_validation:
                        # Validation off: nothing vouches for these files, and the next digest starts a new chain.
                        _CHAINS.pop(chain_key, None)
                        _PENDING.pop(chain_key, None)
                    elif digest:
                        written["digests"].append(_deliver_digest(trail, root, account_id, region, when, start))
            _LAST_FLUSH[trail.arn] = when
    return written


def _deliver_view(request: Any, full_url: str, headers: Any) -> tuple[int, dict[str, str], str]:
    payload = json.loads(request.get_data() or b"{}")
    at = lookup_events._as_time(payload["at"]) if payload.get("at") else None
    written = flush(at, payload.get("trail"), bool(payload.get("digest", True)))
    return 200, {"Content-Type": "application/json"}, json.dumps(written)


def clear() -> None:
    with _LOCK:
        _DELIVERED.clear()
        _LAST_FLUSH.clear()
        _CHAINS.clear()
        _PENDING.clear()


def install() -> None:
    """Deliver log files and digests on demand."""
    from moto.cloudtrail.responses import CloudTrailResponse

    if getattr(CloudTrailResponse, "list_public_keys", None) is _list_public_keys:
        return
    CloudTrailResponse.list_public_keys = _list_public_keys
    _hooks.on_reset(clear)
    _hooks.control_path(DELIVER_PATH, _deliver_view)
