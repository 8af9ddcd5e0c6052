"""Fault injection: throttling and 5xx answers on a chosen share of calls,
and latency.

Real accounts throttle and fail: CloudTrail allows one write a second, S3 says
``SlowDown``, any service answers 500 or 503 now and then. A test asks for such
answers with rules, and the server gives them instead of moto's answer, before
moto sees the request, so a faulted call changes nothing (as in AWS, where a
throttled call is not carried out).

A rule (all keys optional but ``fault``)::

    {"service": "cloudtrail",        # credential scope service, or "*"
     "action": "PutEventSelectors",  # or a list of actions, or "*"
     "region": "us-east-1",          # or "*"
     "access_key": "testing",        # the caller's access key, or "*"
     "fault": "throttle",            # or "server_error", or "latency"
     "status": 503,                  # server_error only: 500, 502, 503 or 504
     "delay": 0.03,                  # latency only: seconds, or [low, high] for a
                                     # seeded uniform pick per call
     "code": "...",                  # the error code, if not the service's own
     "every": 3, "burst": 1,         # of each 3 matching calls the first 1 fails
     "share": 0.3, "seed": 7,        # or: a seeded share of the matching calls
     "limit": 10}                    # at most this many faults from this rule

Which calls fail depends only on the order of the matching calls, never on
time, so tests are repeatable.

A ``latency`` rule is not a fault: the calls it picks wait ``delay`` seconds and
then get moto's own answer, as over a real network where a GET to S3 costs tens
of milliseconds rather than loopback's one or two. Every latency rule that
picks a call adds its delay; the wait holds no lock, so concurrent calls wait
side by side, as they would in AWS. After the latency rules, the first
throttle or server_error rule that picks the call answers it. Actions are CloudTrail's event names: the
``X-Amz-Target`` action, the query ``Action``, and for S3 the bucket call
(``PutBucketPolicy``, ``HeadBucket``, ``ListObjectsV2``, ``ListObjects``, ...)
or ``<Verb>Object``.

Each service answers in its own protocol: JSON services (CloudTrail, KMS, Logs)
``ThrottlingException`` (Organizations ``TooManyRequestsException``); query
services ``Throttling`` (SNS ``Throttled``, HTTP 429); EC2
``RequestLimitExceeded``; S3 ``SlowDown`` (503).
Faulted calls are in moto's call recording (the server received them) but not in
the LookupEvents history.

The test side is ``inject_faults`` / ``clear_faults`` / ``fault_counts``; they
only speak HTTP, so importing this module does not import moto.
"""

from __future__ import annotations

import json
import random
import threading
import time
import urllib.error
import urllib.request
import uuid
from typing import Any, Iterable, Optional

from tests.local_aws import tls
from tests.local_aws.fidelity import hooks, wire

FAULTS_PATH = "/moto-api/trailops/faults"

FAULT_KINDS = ("throttle", "server_error", "latency")
SERVER_ERROR_STATUSES = (500, 502, 503, 504)
JSON_SERVICES = frozenset({"cloudtrail", "kms", "logs", "organizations", "dynamodb", "lambda"})
# Throttling codes where a service does not say what its protocol usually says
# (JSON: ThrottlingException; query: Throttling).
SERVICE_THROTTLE = {"sns": ("Throttled", 429), "organizations": ("TooManyRequestsException", 400)}

_LOCK = threading.Lock()
_RULES: list[dict[str, Any]] = []
_ORIGINAL: dict[str, Any] = {}


# -- the test side --------------------------------------------------------


def _request(endpoint: str, method: str, payload: Optional[dict[str, Any]] = None) -> dict[str, Any]:
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(endpoint + FAULTS_PATH, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with tls.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return json.loads(error.read() or b"{}")


def inject_faults(aws: Any, rules: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Replace the server's fault rules with ``rules`` (their counters start at 0)."""
    answer = _request(aws.endpoint, "POST", {"rules": list(rules)})
    if "error" in answer:
        raise ValueError(answer["error"])
    return answer["rules"]


def clear_faults(aws: Any) -> None:
    """No more faults (``/moto-api/reset`` clears them too)."""
    _request(aws.endpoint, "POST", {"rules": []})


def fault_counts(aws: Any) -> list[dict[str, Any]]:
    """The rules with ``matched`` (calls that matched) and ``injected`` (faults given)."""
    return _request(aws.endpoint, "GET")["rules"]


# -- rules ----------------------------------------------------------------


def rule_error(rule: Any) -> Optional[str]:
    """Why ``rule`` is not a valid rule, or ``None`` (so a typo fails the test, not silently)."""
    if not isinstance(rule, dict):
        return "a rule must be a mapping"
    known = {"service", "action", "region", "access_key", "fault", "status", "code", "every", "burst", "share", "seed", "limit", "delay"}
    unknown = sorted(set(rule) - known)
    if unknown:
        return f"unknown rule keys {unknown}"
    if rule.get("fault") not in FAULT_KINDS:
        return f"fault must be one of {list(FAULT_KINDS)}"
    if rule.get("fault") == "server_error" and rule.get("status", 503) not in SERVER_ERROR_STATUSES:
        return f"status must be one of {list(SERVER_ERROR_STATUSES)}"
    if (rule.get("fault") == "latency") != ("delay" in rule):
        return "delay is required with fault latency, and only there"
    if "delay" in rule and _delay_bounds(rule["delay"]) is None:
        return "delay must be seconds from 0 to 60, or [low, high] with 0 <= low <= high <= 60"
    every, burst = rule.get("every", 1), rule.get("burst", 1)
    if not (isinstance(every, int) and isinstance(burst, int) and 1 <= burst <= every):
        return "every and burst must be integers with 1 <= burst <= every"
    if "share" in rule and not (isinstance(rule["share"], (int, float)) and 0 <= rule["share"] <= 1):
        return "share must be from 0 to 1"
    return None


def _delay_bounds(delay: Any) -> Optional[tuple[float, float]]:
    """(low, high) seconds of a ``delay``, or None if it is not one."""
    def seconds(value: Any) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 60

    if seconds(delay):
        return float(delay), float(delay)
    if isinstance(delay, (list, tuple)) and len(delay) == 2 and all(seconds(v) for v in delay) and delay[0] <= delay[1]:
        return float(delay[0]), float(delay[1])
    return None


def delay_of(state: dict[str, Any]) -> float:
    """The wait for one call a latency rule picked (seeded, so repeatable)."""
    low, high = _delay_bounds(state["delay"]) or (0.0, 0.0)
    return low if low == high else state["_delay_rng"].uniform(low, high)


def _matches(pattern: Any, value: str) -> bool:
    if pattern is None or pattern == "*":
        return True
    if isinstance(pattern, (list, tuple)):
        return value in pattern
    return pattern == value


def rule_state(rule: dict[str, Any]) -> dict[str, Any]:
    """A rule with its counters at 0 and its seeded pickers: what ``decide`` counts against."""
    return dict(rule, matched=0, injected=0, _rng=random.Random(rule.get("seed", 0)), _delay_rng=random.Random(rule.get("seed", 0)))


def decide(state: dict[str, Any], call: dict[str, str]) -> bool:
    """Count ``call`` (service, action, region, access_key) against ``state`` if it matches; whether it gets a fault."""
    if not all(_matches(state.get(key), value) for key, value in call.items()):
        return False
    state["matched"] += 1
    if state.get("limit") is not None and state["injected"] >= state["limit"]:
        return False
    if "share" in state:
        fails = state["_rng"].random() < state["share"]
    else:
        fails = (state["matched"] - 1) % state.get("every", 1) < state.get("burst", 1)
    if fails:
        state["injected"] += 1
    return fails


def _public(state: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in state.items() if not key.startswith("_")}


# -- answers --------------------------------------------------------------


def _protocol(signed: wire.SignedRequest) -> str:
    """The protocol a fault answer speaks (EC2's query protocol has errors of its own)."""
    if signed.service in ("s3", "ec2"):
        return signed.service
    if signed.protocol == "json" or signed.service in JSON_SERVICES:
        return "json"
    return "query"


def fault_answer(service: str, protocol: str, rule: dict[str, Any]) -> tuple[int, dict[str, str], str]:
    """(status, headers, body) of the fault, as ``service`` would say it."""
    request_id = str(uuid.uuid4())
    if rule["fault"] == "throttle":
        code, status, message = {
            "json": ("ThrottlingException", 400, "Rate exceeded"),
            "query": ("Throttling", 400, "Rate exceeded"),
            "ec2": ("RequestLimitExceeded", 503, "Request limit exceeded."),
            "s3": ("SlowDown", 503, "Please reduce your request rate."),
        }[protocol]
        if service in SERVICE_THROTTLE:
            code, status = SERVICE_THROTTLE[service]
    else:
        status = rule.get("status", 503)
        if status in (502, 504):
            # A load balancer's answer: no AWS error document at all.
            reason = "Bad Gateway" if status == 502 else "Gateway Timeout"
            return status, {"Content-Type": "text/html"}, f"<html><body><h1>{status} {reason}</h1></body></html>"
        code = ("InternalError" if protocol == "s3" else "InternalFailure") if status == 500 else "ServiceUnavailable"
        message = "We encountered an internal error. Please try again." if status == 500 else "Service is unavailable."
    code = rule.get("code") or code
    headers = {"x-amzn-RequestId": request_id}
    if protocol == "json":
        headers.update({"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": code})
        return status, headers, json.dumps({"__type": code, "message": message})
    headers["Content-Type"] = "text/xml"
    if protocol == "s3":
        body = f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><RequestId>{request_id}</RequestId></Error>"
    elif protocol == "ec2":
        body = f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>"
    else:
        body = (
            f"<ErrorResponse><Error><Type>{'Sender' if status < 500 else 'Receiver'}</Type><Code>{code}</Code>"
            f"<Message>{message}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
    return status, headers, body


# -- inside the server ----------------------------------------------------


def _fault_for(request: Any) -> tuple[float, Optional[tuple[str, str, dict[str, Any]]]]:
    """(seconds to wait, the fault to answer or None) for ``request``."""
    with _LOCK:
        if not _RULES:
            return 0.0, None
    signed = wire.signed_request(request)
    if signed is None:
        return 0.0, None
    wait = 0.0
    call = {"service": signed.service, "action": signed.action, "region": signed.region, "access_key": signed.access_key}
    with _LOCK:
        for state in _RULES:
            if state["fault"] == "latency":
                if decide(state, call):
                    wait += delay_of(state)
            elif decide(state, call):
                return wait, (signed.service, _protocol(signed), dict(state))
    return wait, None


def _faulting_view(self: Any, args: Any = None, **kwargs: Any) -> Any:
    from flask import Response
    from flask import request as flask_request

    wait, fault = _fault_for(flask_request)
    if wait:
        time.sleep(wait)
    if fault is None:
        return _ORIGINAL["view"](self, args, **kwargs)
    from moto.core.utils import normalize_request
    from moto.moto_api import recorder

    # Counted like any other call: the server did receive it.
    recorder._record_request(normalize_request(flask_request))
    status, headers, body = fault_answer(*fault)
    return Response(response=body, status=status, headers=headers)


def _faults_view(request: Any, full_url: str, headers: Any) -> tuple[int, dict[str, str], str]:
    answer_headers = {"Content-Type": "application/json"}
    if request.method == "POST":
        rules = json.loads(request.get_data() or b"{}").get("rules", [])
        for rule in rules:
            error = rule_error(rule)
            if error:
                return 400, answer_headers, json.dumps({"error": f"{error}: {rule!r}"})
        with _LOCK:
            _RULES[:] = [rule_state(rule) for rule in rules]
    with _LOCK:
        return 200, answer_headers, json.dumps({"rules": [_public(state) for state in _RULES]})


def clear() -> None:
    with _LOCK:
        _RULES.clear()


def install() -> None:
    """Wrap the view outside api_calls' (install after it), so a faulted call is not an event."""
    if _ORIGINAL:
        return
    hooks.wrap_view(_ORIGINAL, _faulting_view)
    hooks.on_reset(clear)
    hooks.control_path(FAULTS_PATH, _faults_view)
