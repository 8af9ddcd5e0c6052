"""LookupEvents for the local AWS (moto 5.2.5 answers it with HTTP 500).

Inside the server process, ``install()``:

* adds ``CloudTrailResponse.lookup_events``, answered from the event store
  (``event_store``: the server's own calls, recorded by ``api_calls``, and the
  events a test seeds) with CloudTrail's filters, paging, time window and
  errors, and an optional throttle of N requests per second per account and
  region (``ThrottlingException``), off unless ``TRAILOPS_LOOKUP_EVENTS_RATE``
  is set at server start or a test turns it on;
* adds control endpoints under ``/moto-api/trailops/`` to seed events and to
  switch the throttle, and clears both on ``/moto-api/reset``.

The test side of those endpoints is ``seed_events`` and ``set_throttle`` below;
they only speak HTTP, so importing this module does not import moto.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
import threading
import time
import urllib.request
from typing import Any, Iterable

import botocore.session

from tests.local_aws import tls
from tests.local_aws.fidelity import event_store, hooks, wire

SEED_PATH = "/moto-api/trailops/lookup-events/seed"
THROTTLE_PATH = "/moto-api/trailops/lookup-events/throttle"
RATE_VARIABLE = "TRAILOPS_LOOKUP_EVENTS_RATE"

# CloudTrail's own rules, from the service model botocore ships (the one the
# AWS SDKs are generated from), never from the lookup's copy: the server must
# not take its rules from the code it tests.
_MODEL = botocore.session.get_session().get_service_model("cloudtrail")
LOOKUP_ATTRIBUTE_KEYS = tuple(_MODEL.shape_for("LookupAttributeKey").enum)
MAX_RESULTS = _MODEL.shape_for("MaxResults").metadata["max"]
RETENTION = datetime.timedelta(days=90)
# The throttle's lock: the event store has its own.
_LOCK = threading.Lock()
_BUCKETS: dict[tuple[str, str], list[float]] = {}
_THROTTLE: dict[str, float | None] = {"rate": None}


def _default_rate() -> float | None:
    value = os.environ.get(RATE_VARIABLE)
    return float(value) if value else None


# -- the test side --------------------------------------------------------


def _post_json(endpoint: str, path: str, payload: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        endpoint + path, data=json.dumps(payload).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    with tls.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"{}")


def seed_events(aws: Any, events: Iterable[dict[str, Any]], account_id: str = "123456789012", region: str = "us-east-1") -> int:
    """Store ``events`` as if CloudTrail had recorded them in ``account_id``/``region``.

    Each event may give ``EventName``, ``EventTime`` (ISO 8601 or epoch seconds),
    ``Username``, ``EventSource``, ``ReadOnly``, ``AccessKeyId``, ``Resources``,
    ``EventCategory`` (``Management`` or ``Insight``), ``RequestParameters``,
    ``ErrorCode`` and ``ErrorMessage``; the rest is filled in.
    """
    payload = {"account_id": account_id, "region": region, "events": list(events)}
    return _post_json(aws.endpoint, SEED_PATH, payload)["seeded"]


def set_throttle(aws: Any, rate: float | None) -> None:
    """LookupEvents allows ``rate`` requests per second per account and region (None: unlimited)."""
    _post_json(aws.endpoint, THROTTLE_PATH, {"rate": rate})


# -- LookupEvents ---------------------------------------------------------


def _take_token(account_id: str, region: str) -> bool:
    """A token bucket per account and region holding a second's worth of requests (at least one)."""
    rate = _THROTTLE["rate"]
    if not rate:
        return True
    capacity = max(1.0, rate)
    now = time.monotonic()
    with _LOCK:
        bucket = _BUCKETS.setdefault((account_id, region), [capacity, now])
        bucket[0] = min(capacity, bucket[0] + (now - bucket[1]) * rate)
        bucket[1] = now
        if bucket[0] < 1:
            return False
        bucket[0] -= 1
        return True


def _matches(event: dict[str, Any], key: str, value: str) -> bool:
    if key == "ResourceType":
        return any(r.get("ResourceType") == value for r in event["Resources"])
    if key == "ResourceName":
        return any(r.get("ResourceName") == value for r in event["Resources"])
    return event.get(key) == value


def _query_fingerprint(params: dict[str, Any]) -> str:
    """What a NextToken call must repeat: everything but NextToken and MaxResults."""
    kept = {key: value for key, value in params.items() if key not in ("NextToken", "MaxResults")}
    return hashlib.sha256(json.dumps(kept, sort_keys=True, default=str).encode()).hexdigest()[:32]


def _encode_token(fingerprint: str, last: dict[str, Any]) -> str:
    event_time, sequence = event_store.arrival_order(last)
    cursor = {"q": fingerprint, "t": event_time.isoformat(), "seq": sequence}
    return base64.urlsafe_b64encode(json.dumps(cursor).encode()).decode()


def _decode_token(token: str, fingerprint: str) -> tuple[datetime.datetime, int]:
    try:
        cursor = json.loads(base64.urlsafe_b64decode(token.encode()))
        if cursor["q"] == fingerprint:
            return wire.as_time(cursor["t"]), int(cursor["seq"])
    except (ValueError, KeyError, TypeError):
        pass
    raise wire.json_error("InvalidNextTokenException", "A token that is not valid, or a token that was previously used in a request with different parameters.")


def lookup(account_id: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """LookupEvents over the stored events of one account and region."""
    attributes = params.get("LookupAttributes") or []
    if len(attributes) > 1:
        raise wire.json_error("InvalidLookupAttributesException", "You cannot specify more than one lookup attribute.")
    for attribute in attributes:
        if attribute.get("AttributeKey") not in LOOKUP_ATTRIBUTE_KEYS:
            raise wire.json_error("InvalidLookupAttributesException", f"Invalid lookup attribute key: {attribute.get('AttributeKey')}")
        if not attribute.get("AttributeValue"):
            raise wire.json_error("InvalidLookupAttributesException", "The lookup attribute value must not be empty.")
    max_results = params.get("MaxResults", MAX_RESULTS)
    if not isinstance(max_results, int) or not 1 <= max_results <= MAX_RESULTS:
        raise wire.json_error("InvalidMaxResultsException", f"MaxResults must be from 1 to {MAX_RESULTS}.")
    category = params.get("EventCategory")
    if category is not None and category != "insight":
        raise wire.json_error("InvalidEventCategoryException", "EventCategory must be insight.")
    start = wire.as_time(params["StartTime"]) if params.get("StartTime") is not None else None
    end = wire.as_time(params["EndTime"]) if params.get("EndTime") is not None else None
    if start and end and start > end:
        raise wire.json_error("InvalidTimeRangeException", "StartTime must be before EndTime.")
    fingerprint = _query_fingerprint(params)
    cursor = _decode_token(params["NextToken"], fingerprint) if params.get("NextToken") else None

    oldest = event_store.now() - RETENTION
    wanted_category = event_store.INSIGHT if category == "insight" else event_store.MANAGEMENT
    selected = [
        event
        for event in event_store.events(account_id, region)
        if event_store.category(event) == wanted_category
        and event["EventTime"] >= oldest
        and (start is None or event["EventTime"] >= start)
        and (end is None or event["EventTime"] <= end)
        and all(_matches(event, a["AttributeKey"], a["AttributeValue"]) for a in attributes)
        and (cursor is None or event_store.arrival_order(event) < cursor)
    ]
    selected.sort(key=event_store.arrival_order, reverse=True)
    page = selected[:max_results]
    result: dict[str, Any] = {
        "Events": [dict(event_store.summary(event), EventTime=event["EventTime"].timestamp()) for event in page]
    }
    if len(selected) > max_results:
        result["NextToken"] = _encode_token(fingerprint, page[-1])
    return result


def _lookup_events(self: Any) -> str:
    if not _take_token(self.current_account, self.region):
        raise wire.json_error("ThrottlingException", "Rate exceeded")
    return json.dumps(lookup(self.current_account, self.region, json.loads(self.body or "{}")))


# -- control endpoints ----------------------------------------------------


def _seeded_event(account_id: str, region: str, given: dict[str, Any]) -> dict[str, Any]:
    username = given.get("Username", "seeder")
    access_key = given.get("AccessKeyId", "AKIASEEDEDEVENTS0000")
    read_only = given.get("ReadOnly", False)
    if isinstance(read_only, str):
        read_only = read_only.lower() == "true"
    error = (given["ErrorCode"], given.get("ErrorMessage", "")) if given.get("ErrorCode") else None
    user_identity = {
        "type": "IAMUser",
        "principalId": access_key,
        "arn": f"arn:aws:iam::{account_id}:user/{username}",
        "accountId": account_id,
        "accessKeyId": access_key,
        "userName": username,
    }
    return event_store.new_event(
        account_id=account_id,
        region=region,
        event_name=given.get("EventName", "DescribeTrails"),
        event_source=given.get("EventSource", "cloudtrail.amazonaws.com"),
        event_time=wire.as_time(given["EventTime"]) if given.get("EventTime") is not None else event_store.now(),
        user_identity=user_identity,
        read_only=bool(read_only),
        request_parameters=given.get("RequestParameters"),
        resources=list(given.get("Resources") or []),
        error=error,
        category=given.get("EventCategory", "Management"),
        username=username,
    )


def _seed_view(request: Any, full_url: str, headers: Any) -> tuple[int, dict[str, str], str]:
    payload = json.loads(request.get_data() or b"{}")
    account_id, region = payload["account_id"], payload["region"]
    events = [_seeded_event(account_id, region, given) for given in payload.get("events", [])]
    event_store.record(account_id, region, events)
    return 200, {"Content-Type": "application/json"}, json.dumps({"seeded": len(events)})


def _throttle_view(request: Any, full_url: str, headers: Any) -> tuple[int, dict[str, str], str]:
    payload = json.loads(request.get_data() or b"{}")
    with _LOCK:
        _THROTTLE["rate"] = float(payload["rate"]) if payload.get("rate") else None
        _BUCKETS.clear()
    return 200, {"Content-Type": "application/json"}, json.dumps({"rate": _THROTTLE["rate"]})


def clear() -> None:
    """Go back to the throttle the server started with (the event store forgets its events itself)."""
    with _LOCK:
        _BUCKETS.clear()
        _THROTTLE["rate"] = _default_rate()


def install() -> None:
    """Serve the event store through LookupEvents (once, before the first request)."""
    from moto.cloudtrail.responses import CloudTrailResponse

    if getattr(CloudTrailResponse, "lookup_events", None) is _lookup_events:
        return
    CloudTrailResponse.lookup_events = _lookup_events
    hooks.on_reset(clear)
    hooks.control_path(SEED_PATH, _seed_view)
    hooks.control_path(THROTTLE_PATH, _throttle_view)
    _THROTTLE["rate"] = _default_rate()
