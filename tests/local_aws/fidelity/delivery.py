"""Log file and digest delivery for logging trails (issue: log file integrity).

CloudTrail delivers about every five minutes and writes a digest every hour; no
test waits that long, so delivery here happens when a test or the demo asks for
it (``deliver`` below, or ``POST /moto-api/trailops/cloudtrail/deliver``). Each
flush, for every logging trail:

* writes the events recorded since the last flush (``event_store``) as one
  gzipped log file per account and region, named and placed as CloudTrail
  does: ``[<prefix>/]AWSLogs/[<org id>/]<account>/CloudTrail/
  <region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<16 chars>.json.gz``;
* when log file validation is on, writes one digest per account and region
  listing the log files delivered since the previous digest with the SHA-256 of
  their uncompressed content, linked to the previous digest by path, hash and
  signature, and signed SHA256withRSA with the region's key over CloudTrail's
  signing string; the signature goes into the object metadata ``signature``;
* when validation is off, forgets the chain, so the next digest starts a new one
  (what an auditor sees as a gap).

* with ``backfill``, lists the flush's log files (and those still waiting for a
  digest) in a backfill digest (``..._backfill.json.gz``, metadata
  ``backfill-generation-timestamp``) outside the chain, as CloudTrail does for
  log files that missed their hour's digest.

The chain restarts as CloudTrail documents ("Digest chains break" in the user
guide): after StopLogging/StartLogging and after validation off/on, the next
digest has no previous-digest link. Calls made while the trail was stopped are
never delivered. GetTrailStatus reports the times of the last log file and
digest delivered here, not the time of the call.

``ListPublicKeys`` (moto answers 500) returns each region's keys: DER, PKCS#1,
with their validity windows and fingerprints. Each region starts with one key;
``rotate_key`` closes the key valid at a given time and starts a new one, so a
range across a rotation lists several keys and each digest names the one that
signed it. ``set_public_keys_page_size`` makes ListPublicKeys page (NextToken);
unset, all keys come in one page, as CloudTrail's do today (its NextToken is
"reserved for future use", and the AWS CLI does not page). A region's first
key survives ``/moto-api/reset``, like CloudTrail's; rotations, the page size
and the delivery state do not.

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

from tests.local_aws import tls
from tests.local_aws.fidelity import event_store, hooks, wire

DELIVER_PATH = "/moto-api/trailops/cloudtrail/deliver"
PUBLIC_KEYS_PATH = "/moto-api/trailops/cloudtrail/public-keys"
SIGNATURE_ALGORITHM = "SHA256withRSA"
KEY_VALIDITY = (
    datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc),
    datetime.datetime(2099, 1, 1, tzinfo=datetime.timezone.utc),
)

_LOCK = threading.RLock()
# Per region: the first key (kept across resets) and the keys of later rotations, oldest first.
_KEYS: dict[str, dict[str, Any]] = {}
_ROTATED: dict[str, list[dict[str, Any]]] = {}
_PAGE_SIZE: dict[str, int | None] = {"value": None}
# Per trail ARN and (account, region): index ranges of recorded events made while it was stopped.
_STOPPED_AT: dict[str, dict[tuple[str, str], int]] = {}
_SKIPPED: dict[str, dict[tuple[str, str], list[tuple[int, int]]]] = {}
# Called with (trail, log file entry) after each log file is written (SNS, CloudWatch Logs).
_LOG_FILE_HOOKS: list[Any] = []
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
    backfill: bool = False,
    chain_start_signature: str | None = None,
) -> dict[str, list[str]]:
    """Flush: deliver log files (and digests unless ``digest`` is false) as of ``at``.

    ``trail`` (a name or ARN) limits the flush to one trail. With ``backfill``
    the log files go into a backfill digest instead of the chain's next digest.
    ``chain_start_signature`` is what the first digest of a new chain records as
    ``previousDigestSignature`` (JSON null unless given; ``""`` tests how a
    client signs an empty one). Returns the keys written:
    ``{"log_files": [...], "digests": [...]}``.
    """
    payload: dict[str, Any] = {"digest": digest, "backfill": backfill, "chain_start_signature": chain_start_signature}
    if at is not None:
        payload["at"] = at.astimezone(datetime.timezone.utc).isoformat()
    if trail:
        payload["trail"] = trail
    request = urllib.request.Request(
        aws.endpoint + DELIVER_PATH, data=json.dumps(payload).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    with tls.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def _post_public_keys(aws: Any, payload: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        aws.endpoint + PUBLIC_KEYS_PATH, data=json.dumps(payload).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    with tls.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def rotate_key(aws: Any, region: str, at: datetime.datetime) -> str:
    """Close the key of ``region`` valid at ``at`` and start a new one there; returns its fingerprint."""
    return _post_public_keys(aws, {"region": region, "rotate_at": at.astimezone(datetime.timezone.utc).isoformat()})["fingerprint"]


def set_public_keys_page_size(aws: Any, size: int | None) -> None:
    """At most ``size`` keys per ListPublicKeys page (``None``: one page)."""
    _post_public_keys(aws, {"page_size": size})


# -- keys -----------------------------------------------------------------


def _new_key(start: datetime.datetime) -> dict[str, Any]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    der = private.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    return {"private": private, "der": der, "fingerprint": hashlib.md5(der).hexdigest(), "start": start}


def region_keys(region: str) -> list[dict[str, Any]]:
    """The region's keys, oldest first, each with its validity window (``start``, ``end``):
    a key is valid until the next one starts."""
    with _LOCK:
        if region not in _KEYS:
            _KEYS[region] = _new_key(KEY_VALIDITY[0])
        keys = [_KEYS[region]] + sorted(_ROTATED.get(region, []), key=lambda key: key["start"])
        ends = [key["start"] for key in keys[1:]] + [KEY_VALIDITY[1]]
        return [dict(key, end=end) for key, end in zip(keys, ends)]


def region_key(region: str, at: datetime.datetime | None = None) -> dict[str, Any]:
    """The key that signs the region's digests at ``at`` (default: the first key)."""
    keys = region_keys(region)
    if at is None:
        return keys[0]
    return [key for key in keys if key["start"] <= at][-1] if at >= keys[0]["start"] else keys[0]


def rotate(region: str, at: datetime.datetime) -> dict[str, Any]:
    with _LOCK:
        region_keys(region)
        key = _new_key(at)
        _ROTATED.setdefault(region, []).append(key)
        return key


def sign(private_key: Any, data: bytes) -> str:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    return private_key.sign(data, padding.PKCS1v15(), hashes.SHA256()).hex()


def signing_string(digest: dict[str, Any], uncompressed: bytes) -> bytes:
    """What CloudTrail signs: end time, bucket/key, the digest's SHA-256, the previous
    signature (``null`` when there is none; any string, ``""`` too, as it is)."""
    previous = digest.get("previousDigestSignature")
    previous = "null" if previous is None else previous
    return "\n".join(
        [digest["digestEndTime"], f"{digest['digestS3Bucket']}/{digest['digestS3Object']}", hashlib.sha256(uncompressed).hexdigest(), previous]
    ).encode()


def _epoch(value: datetime.datetime) -> float:
    return value.timestamp()


def _list_public_keys(self: Any) -> str:
    import base64

    params = json.loads(self.body or "{}")
    now = event_store.now()
    start = wire.as_time(params["StartTime"]) if params.get("StartTime") is not None else now
    end = wire.as_time(params["EndTime"]) if params.get("EndTime") is not None else now
    if start > end:
        raise wire.json_error("InvalidTimeRangeException", "StartTime must be before EndTime.")
    keys = [
        {
            "Value": base64.b64encode(key["der"]).decode(),
            "ValidityStartTime": _epoch(key["start"]),
            "ValidityEndTime": _epoch(key["end"]),
            "Fingerprint": key["fingerprint"],
        }
        for key in region_keys(self.region)
        if key["start"] <= end and start <= key["end"]
    ]
    offset = 0
    if params.get("NextToken"):
        try:
            offset = int(base64.b64decode(params["NextToken"]).decode())
        except ValueError:
            raise wire.json_error("InvalidTokenException", "Invalid token.")
    size = _PAGE_SIZE["value"] or len(keys) or 1
    answer: dict[str, Any] = {"PublicKeyList": keys[offset:offset + size]}
    if offset + size < len(keys):
        answer["NextToken"] = base64.b64encode(str(offset + size).encode()).decode()
    return json.dumps(answer)


def _public_keys_view(request: Any, full_url: str, headers: Any) -> tuple[int, dict[str, str], str]:
    payload = json.loads(request.get_data() or b"{}")
    answer: dict[str, Any] = {}
    if "page_size" in payload:
        _PAGE_SIZE["value"] = payload["page_size"]
    if payload.get("rotate_at"):
        answer["fingerprint"] = rotate(payload["region"], wire.as_time(payload["rotate_at"]))["fingerprint"]
    return 200, {"Content-Type": "application/json"}, json.dumps(answer)


# -- logging stopped and started, validation off and on ------------------


def _break_chains(trail: Any) -> None:
    """The next digest of every account and region of ``trail`` starts a new chain."""
    for chain_key in [chain_key for chain_key in _CHAINS if chain_key[0] == trail.arn]:
        _CHAINS.pop(chain_key, None)


def logging_stopped(trail: Any) -> None:
    """StopLogging: the chain breaks, and what is called from now on is not delivered."""
    with _LOCK:
        _break_chains(trail)
        _STOPPED_AT[trail.arn] = event_store.counts()


def logging_started(trail: Any) -> None:
    """StartLogging after a stop: the calls made while stopped are skipped for good."""
    with _LOCK:
        stopped = _STOPPED_AT.pop(trail.arn, None)
        if stopped is None:
            return
        skipped = _SKIPPED.setdefault(trail.arn, {})
        for place, length in event_store.counts().items():
            if length > stopped.get(place, 0):
                skipped.setdefault(place, []).append((stopped.get(place, 0), length))


def validation_changed(trail: Any, enabled: bool) -> None:
    """Validation off: nothing vouches for what is delivered until it is on again, in a new chain."""
    with _LOCK:
        if not enabled:
            _break_chains(trail)
            for chain_key in [chain_key for chain_key in _PENDING if chain_key[0] == trail.arn]:
                _PENDING.pop(chain_key, None)


def on_log_file(callback: Any) -> None:
    """Call ``callback(trail, entry)`` after each log file is written."""
    _LOG_FILE_HOOKS.append(callback)


def _status_description(self: Any) -> dict[str, Any]:
    """GetTrailStatus: the times of the last delivery made here, not of the call."""
    description: dict[str, Any] = {
        "IsLogging": self.is_logging,
        "LatestDeliveryAttemptTime": "",
        "LatestNotificationAttemptTime": "",
        "LatestNotificationAttemptSucceeded": "",
        "LatestDeliveryAttemptSucceeded": "",
        "TimeLoggingStarted": "",
        "TimeLoggingStopped": "",
    }
    for field, epoch_field, value in (
        ("TimeLoggingStarted", "StartLoggingTime", self.started),
        ("TimeLoggingStopped", "StopLoggingTime", self.stopped),
    ):
        if value:
            value = value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
            description[field] = _iso(value)
            description[epoch_field] = _epoch(value)
    delivered = getattr(self, "trailops_log_delivery", None)
    if delivered:
        description["LatestDeliveryTime"] = _epoch(delivered)
        description["LatestDeliveryAttemptTime"] = _iso(delivered)
        description["LatestDeliveryAttemptSucceeded"] = _iso(delivered)
    digested = getattr(self, "trailops_digest_delivery", None)
    if digested:
        description["LatestDigestDeliveryTime"] = _epoch(digested)
    return description


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

    Also those recorded (or seeded) before it first started logging: tests
    seed events with past times, and delivering a little more than CloudTrail
    would changes nothing for integrity. Never those recorded between a
    StopLogging and the next StartLogging (nor the StopLogging call's own event,
    which is recorded after the trail stopped; CloudTrail would deliver that one).
    """
    delivered = _DELIVERED.setdefault(trail.arn, {})
    stored = event_store.events(account_id, region)
    first = delivered.get((account_id, region), 0)
    delivered[(account_id, region)] = len(stored)
    skipped = _SKIPPED.get(trail.arn, {}).get((account_id, region), [])
    return [
        event
        for index, event in enumerate(stored[first:], start=first)
        if event_store.category(event) == event_store.MANAGEMENT and not any(low <= index < high for low, high in skipped)
    ]


def _regions(trail: Any, accounts: list[str]) -> list[str]:
    if not trail.is_multi_region:
        return [trail.region_name]
    seen = {region for (account, region) in event_store.counts() if account in accounts}
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


def _digest_key(trail: Any, root: str, account_id: str, region: str, at: datetime.datetime, backfill: bool) -> str:
    suffix = "_backfill" if backfill else ""
    return (
        f"{root}/CloudTrail-Digest/{region}/{at:%Y/%m/%d}/"
        f"{account_id}_CloudTrail-Digest_{region}_{trail.trail_name}_{trail.region_name}_{_stamp(at, True)}{suffix}.json.gz"
    )


def _deliver_digest(
    trail: Any,
    root: str,
    account_id: str,
    region: str,
    at: datetime.datetime,
    start: datetime.datetime,
    backfill: bool = False,
    chain_start_signature: str | None = None,
) -> str:
    """The chain's next digest; or, with ``backfill``, a backfill digest outside the chain
    (no previous-digest link, and the chain goes on from its last regular digest)."""
    chain_key = (trail.arn, account_id, region)
    if chain_key in _CHAINS and _CHAINS[chain_key]["trail"] is not trail:
        # A trail deleted and created again under the same name starts a new chain.
        _CHAINS.pop(chain_key)
    previous = None if backfill else _CHAINS.get(chain_key)
    log_files = _PENDING.pop(chain_key, [])
    key_info = region_key(region, at)
    key = _digest_key(trail, root, account_id, region, at, backfill)
    newest = [entry["newestEventTime"] for entry in log_files]
    oldest = [entry["oldestEventTime"] for entry in log_files]
    chained = _CHAINS.get(chain_key)
    digest = {
        "awsAccountId": account_id,
        "digestStartTime": _iso(chained["end"] if chained else start),
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
        "previousDigestSignature": previous["signature"] if previous else chain_start_signature,
        "logFiles": log_files,
    }
    body = json.dumps(digest).encode()
    signature = sign(key_info["private"], signing_string(digest, body))
    metadata = {"signature": signature, "signature-algorithm": SIGNATURE_ALGORITHM}
    if backfill:
        metadata["backfill-generation-timestamp"] = _iso(at)
    _put(trail.bucket_name, key, gzip.compress(body), metadata)
    if not backfill:
        _CHAINS[chain_key] = {"key": key, "sha256": hashlib.sha256(body).hexdigest(), "signature": signature, "end": at, "trail": trail}
    return key


def flush(
    at: datetime.datetime | None, selector: str | None, digest: bool, backfill: bool = False, chain_start_signature: str | None = None
) -> dict[str, list[str]]:
    written: dict[str, list[str]] = {"log_files": [], "digests": []}
    with _LOCK:
        for trail in _logging_trails(selector):
            last = _LAST_FLUSH.get(trail.arn)
            when = at or event_store.now()
            if last and when <= last:
                # Digest names carry seconds: two flushes must not share one.
                when = last + datetime.timedelta(seconds=1)
            when = when.replace(microsecond=0)
            start = last or min(_started(trail), when)
            org_id, accounts = _organization(trail)
            delivered_log_file = delivered_digest = False
            for account_id in accounts:
                root = _account_root(trail, account_id, org_id)
                for region in _regions(trail, accounts):
                    chain_key = (trail.arn, account_id, region)
                    events = _new_events(trail, account_id, region)
                    if events:
                        entry = _deliver_log_file(trail, root, account_id, region, when, events)
                        written["log_files"].append(entry["s3Object"])
                        hooks.log_file_delivered(trail, account_id, region, entry["s3Object"], events)
                        delivered_log_file = True
                        if trail.log_validation:
                            _PENDING.setdefault(chain_key, []).append(entry)
                        # The one place to hook what follows a delivered log file (SNS, CloudWatch Logs).
                        for hook in _LOG_FILE_HOOKS:
                            hook(trail, entry)
                    if not trail.log_validation:
                        # Validation off: nothing vouches for these files, and the next digest starts a new chain.
                        _CHAINS.pop(chain_key, None)
                        _PENDING.pop(chain_key, None)
                    elif backfill:
                        if _PENDING.get(chain_key):
                            written["digests"].append(_deliver_digest(trail, root, account_id, region, when, start, backfill=True))
                            delivered_digest = True
                    elif digest:
                        written["digests"].append(_deliver_digest(trail, root, account_id, region, when, start, False, chain_start_signature))
                        delivered_digest = True
            if delivered_log_file:
                trail.status.trailops_log_delivery = when
            if delivered_digest:
                trail.status.trailops_digest_delivery = when
            _LAST_FLUSH[trail.arn] = when
    return written


def _deliver_view(request: Any, full_url: str, headers: Any) -> tuple[int, dict[str, str], str]:
    payload = json.loads(request.get_data() or b"{}")
    at = wire.as_time(payload["at"]) if payload.get("at") else None
    written = flush(
        at, payload.get("trail"), bool(payload.get("digest", True)), bool(payload.get("backfill", False)), payload.get("chain_start_signature")
    )
    return 200, {"Content-Type": "application/json"}, json.dumps(written)


def clear() -> None:
    with _LOCK:
        _DELIVERED.clear()
        _LAST_FLUSH.clear()
        _CHAINS.clear()
        _PENDING.clear()
        _ROTATED.clear()
        _PAGE_SIZE["value"] = None
        _STOPPED_AT.clear()
        _SKIPPED.clear()


def install() -> None:
    """Deliver log files and digests on demand."""
    from moto.cloudtrail.models import TrailStatus
    from moto.cloudtrail.responses import CloudTrailResponse

    if getattr(CloudTrailResponse, "list_public_keys", None) is _list_public_keys:
        return
    CloudTrailResponse.list_public_keys = _list_public_keys
    TrailStatus.description = _status_description
    hooks.on_reset(clear)
    hooks.control_path(DELIVER_PATH, _deliver_view)
    hooks.control_path(PUBLIC_KEYS_PATH, _public_keys_view)
