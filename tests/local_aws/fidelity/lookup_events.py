"""LookupEvents for the local AWS (moto 5.2.5 answers it with HTTP 500).

Inside the server process, ``install()``:

* wraps moto's Flask view wrapper (``convert_to_flask_response``) so that every
  signed request the server answers becomes a CloudTrail-shaped management
  event of the caller's account and region (failed calls carry ``errorCode`` and
  ``errorMessage``). S3 object calls are data events and LookupEvents calls are
  not recorded (see ``docs/event_history.md``);
* adds ``CloudTrailResponse.lookup_events`` with CloudTrail's filters, paging,
  time window and errors, and an optional throttle of N requests per second per
  account and region (``ThrottlingException``), off unless
  ``TRAILOPS_LOOKUP_EVENTS_RATE`` is set at server start or a test turns it on;
* adds control endpoints under ``/moto-api/trailops/`` to seed events and to
  switch the throttle, and clears both on ``/moto-api/reset``.

The test side of those endpoints is ``seed_events`` and ``set_throttle`` below;
they only speak HTTP, so importing this module does not import moto.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import io
import itertools
import json
import os
import re
import threading
import time
import urllib.parse
import urllib.request
import uuid
from typing import Any, Iterable

from tests.local_aws import tls
from tests.local_aws.fidelity import _hooks

SEED_PATH = "/moto-api/trailops/lookup-events/seed"
THROTTLE_PATH = "/moto-api/trailops/lookup-events/throttle"
RATE_VARIABLE = "TRAILOPS_LOOKUP_EVENTS_RATE"

# CloudTrail's list, kept apart from the lookup's own copy on purpose: the
# server must not take its rules from the code it tests.
LOOKUP_ATTRIBUTE_KEYS = (
    "EventId",
    "EventName",
    "ReadOnly",
    "Username",
    "ResourceType",
    "ResourceName",
    "EventSource",
    "AccessKeyId",
)
MAX_RESULTS = 50
RETENTION = datetime.timedelta(days=90)
READ_ONLY_PREFIXES = ("Describe", "Get", "List", "Lookup", "Head")
# Services whose events CloudTrail delivers to us-east-1 whatever the signing region.
GLOBAL_SERVICES = {"iam": "us-east-1"}
# Request parameters that name a resource, per service (LookupEvents' Resources).
RESOURCE_PARAMETERS: dict[str, dict[str, str]] = {
    "cloudtrail": {
        "Name": "AWS::CloudTrail::Trail",
        "TrailName": "AWS::CloudTrail::Trail",
        "ResourceId": "AWS::CloudTrail::Trail",
        "ResourceIdList": "AWS::CloudTrail::Trail",
        "trailNameList": "AWS::CloudTrail::Trail",
        "S3BucketName": "AWS::S3::Bucket",
        "SnsTopicName": "AWS::SNS::Topic",
        "KmsKeyId": "AWS::KMS::Key",
    },
    "kms": {"KeyId": "AWS::KMS::Key", "TargetKeyId": "AWS::KMS::Key", "AliasName": "AWS::KMS::Alias"},
    "sns": {"TopicArn": "AWS::SNS::Topic", "Name": "AWS::SNS::Topic"},
    "iam": {
        "RoleName": "AWS::IAM::Role",
        "UserName": "AWS::IAM::User",
        "GroupName": "AWS::IAM::Group",
        "PolicyArn": "AWS::IAM::Policy",
    },
    "sts": {"RoleArn": "AWS::IAM::Role"},
    "logs": {"logGroupName": "AWS::Logs::LogGroup"},
}
# S3 bucket sub-resources and the CloudTrail event name stem for each.
S3_SUBRESOURCES = {
    "policy": "BucketPolicy",
    "acl": "BucketAcl",
    "tagging": "BucketTagging",
    "versioning": "BucketVersioning",
    "encryption": "BucketEncryption",
    "lifecycle": "BucketLifecycle",
    "publicAccessBlock": "PublicAccessBlock",
    "ownershipControls": "BucketOwnershipControls",
    "location": "BucketLocation",
    "logging": "BucketLogging",
    "notification": "BucketNotificationConfiguration",
    "requestPayment": "BucketRequestPayment",
    "object-lock": "ObjectLockConfiguration",
    "cors": "BucketCors",
    "website": "BucketWebsite",
    "policyStatus": "BucketPolicyStatus",
}
S3_VERBS = {"GET": "Get", "PUT": "Put", "DELETE": "Delete"}

_LOCK = threading.Lock()
# Arrival order, for events of the same second (itertools.count is atomic under the GIL).
_SEQUENCE = itertools.count()
_EVENTS: dict[tuple[str, str], list[dict[str, Any]]] = {}
_BUCKETS: dict[tuple[str, str], list[float]] = {}
_THROTTLE: dict[str, float | None] = {"rate": None}
_ORIGINAL: dict[str, Any] = {}


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


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


# -- events ---------------------------------------------------------------


def _lower_first(value: Any) -> Any:
    """CloudTrail writes requestParameters in camelCase."""
    if isinstance(value, dict):
        return {(key[:1].lower() + key[1:]): _lower_first(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_lower_first(item) for item in value]
    return value


def _resources(service: str, params: dict[str, Any]) -> list[dict[str, str]]:
    resources = []
    for name, resource_type in RESOURCE_PARAMETERS.get(service, {}).items():
        values = params.get(name)
        for value in values if isinstance(values, list) else [values]:
            if isinstance(value, str) and value:
                resources.append({"ResourceType": resource_type, "ResourceName": value})
    return resources


def _user_identity(identity: dict[str, str], access_key: str) -> dict[str, Any]:
    """The record's userIdentity, as CloudTrail writes it for each kind of caller
    (user guide, "CloudTrail userIdentity element")."""
    arn = identity["arn"]
    account_id = identity["account_id"]
    partition = arn.split(":", 2)[1] if arn.count(":") >= 2 else "aws"
    if ":assumed-role/" in arn:
        role_name = arn.split(":assumed-role/", 1)[1].split("/", 1)[0]
        return {
            "type": "AssumedRole",
            "principalId": identity["user_id"],
            "arn": arn,
            "accountId": account_id,
            "accessKeyId": access_key,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": identity["user_id"].split(":", 1)[0],
                    "arn": f"arn:{partition}:iam::{account_id}:role/{role_name}",
                    "accountId": account_id,
                    "userName": role_name,
                },
                "webIdFederationData": {},
                # Whole seconds, and strings, as in CloudTrail's records.
                "attributes": {"creationDate": identity.get("session_created") or "", "mfaAuthenticated": "false"},
            },
        }
    if arn.endswith(":root"):
        return {"type": "Root", "principalId": account_id, "arn": arn, "accountId": account_id, "accessKeyId": access_key}
    # moto's GetCallerIdentity names an IAM user arn:aws:sts::<account>:user/<name>;
    # IAM users live in IAM, and CloudTrail writes arn:aws:iam::<account>:user/<name>.
    user_arn = re.sub(r"^arn:([^:]+):sts::", r"arn:\1:iam::", arn) if ":user/" in arn else arn
    return {
        "type": "IAMUser",
        "principalId": identity["user_id"],
        "arn": user_arn,
        "accountId": account_id,
        "accessKeyId": access_key,
        "userName": arn.rsplit("/", 1)[-1],
    }


def _username(user_identity: dict[str, Any]) -> str:
    """LookupEvents' Username: the user name, the role session name, or root."""
    if user_identity.get("type") == "AssumedRole":
        return user_identity["arn"].rsplit("/", 1)[-1]
    if user_identity.get("type") == "Root":
        return "root"
    return user_identity.get("userName", "")


def build_event(
    *,
    account_id: str,
    region: str,
    event_name: str,
    event_source: str,
    event_time: datetime.datetime,
    user_identity: dict[str, Any],
    read_only: bool,
    request_parameters: dict[str, Any] | None,
    resources: list[dict[str, str]],
    error: tuple[str, str] | None = None,
    category: str = "Management",
    username: str | None = None,
    response_elements: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One stored event: LookupEvents' summary fields plus the record behind CloudTrailEvent."""
    event_id = str(uuid.uuid4())
    # CloudTrail records whole seconds, and LookupEvents answers the record's own time:
    # a lookup that ends at a record's eventTime must find it.
    event_time = event_time.replace(microsecond=0)
    record: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": user_identity,
        "eventTime": event_time.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": event_source,
        "eventName": event_name,
        "awsRegion": region,
        "sourceIPAddress": "127.0.0.1",
        "userAgent": "local-aws",
        "requestParameters": request_parameters,
        "responseElements": response_elements,
        "requestID": str(uuid.uuid4()),
        "eventID": event_id,
        "readOnly": read_only,
        "eventType": "AwsApiCall" if category == "Management" else "AwsCloudTrailInsight",
        "managementEvent": category == "Management",
        "recipientAccountId": account_id,
        "eventCategory": category,
    }
    if error:
        record["errorCode"], record["errorMessage"] = error
    return {
        "EventId": event_id,
        "EventName": event_name,
        "ReadOnly": "true" if read_only else "false",
        "AccessKeyId": user_identity.get("accessKeyId", ""),
        "EventTime": event_time,
        "EventSource": event_source,
        "Username": username if username is not None else _username(user_identity),
        "Resources": resources,
        "CloudTrailEvent": json.dumps(record),
        "_category": category,
        "_seq": next(_SEQUENCE),
    }


def store(account_id: str, region: str, events: list[dict[str, Any]]) -> None:
    with _LOCK:
        _EVENTS.setdefault((account_id, region), []).extend(events)


# -- recording the calls the server receives -------------------------------


def _credential_scope(headers: Any) -> tuple[str, str, str]:
    match = re.search(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/([^/]+)/", headers.get("Authorization", ""))
    return (match[1], match[2], match[3]) if match else ("", "", "")


def _read_body(request: Any) -> bytes:
    """The body, put back for moto (the same way moto's own recorder does)."""
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        return b""
    if not length:
        return b""
    body = request.environ["wsgi.input"].read(length)
    request.environ["wsgi.input"] = io.BytesIO(body)
    return body


def _s3_call(method: str, path: str, query: dict[str, list[str]]) -> tuple[str, dict[str, Any], str] | None:
    """(event name, request parameters, bucket) of a bucket-level S3 call; None for object (data) calls."""
    parts = [part for part in path.split("/") if part]
    if not parts:
        return ("ListBuckets", {}, "") if method == "GET" else None
    if len(parts) > 1:
        return None
    bucket = parts[0]
    params: dict[str, Any] = {"bucketName": bucket}
    for key, stem in S3_SUBRESOURCES.items():
        if key in query and method in S3_VERBS:
            params[key] = ""
            return f"{S3_VERBS[method]}{stem}", params, bucket
    names = {"PUT": "CreateBucket", "DELETE": "DeleteBucket", "HEAD": "HeadBucket"}
    return (names[method], params, bucket) if method in names else None


def describe_call(request: Any) -> dict[str, Any] | None:
    """Service, action, region, access key, parameters and resources of a signed request, or None."""
    access_key, region, service = _credential_scope(request.headers)
    if not access_key:
        return None
    # S3 bodies (objects) are never needed, and can be large.
    body = b"" if service == "s3" else _read_body(request)
    url = urllib.parse.urlsplit(request.environ.get("RAW_URI") or request.full_path)
    query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
    target = request.headers.get("X-Amz-Target", "")
    params: dict[str, Any] = {}
    resources: list[dict[str, str]] = []
    if target:
        action = target.rsplit(".", 1)[-1]
        try:
            loaded = json.loads(body or b"{}")
        except ValueError:
            loaded = {}
        params = loaded if isinstance(loaded, dict) else {}
        resources = _resources(service, params)
        request_parameters = _lower_first(params) or None
    elif service == "s3":
        s3_call = _s3_call(request.method, urllib.parse.unquote(url.path), query)
        if s3_call is None:
            return None
        action, request_parameters, bucket = s3_call
        resources = [{"ResourceType": "AWS::S3::Bucket", "ResourceName": bucket}] if bucket else []
    else:
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        form.update(query)
        action = form.pop("Action", [""])[0]
        if not action:
            return None
        form.pop("Version", None)
        params = {key: values[0] for key, values in form.items()}
        resources = _resources(service, params)
        request_parameters = _lower_first(params) or None
    if service == "cloudtrail" and action == "LookupEvents":
        # Not recorded: a reader's own calls would otherwise change what it pages through.
        return None
    return {
        "service": service,
        "action": action,
        "region": GLOBAL_SERVICES.get(service, region),
        "access_key": access_key,
        "request_parameters": request_parameters,
        "resources": resources,
    }


def _identity(access_key: str, region: str) -> dict[str, str]:
    """Who the access key is, as moto's STS would answer GetCallerIdentity."""
    from moto.iam.models import get_account_id_from
    from moto.sts.models import sts_backends

    account_id = get_account_id_from(access_key)
    for _account, backends in list(sts_backends.items()):
        role = backends["aws"].get_assumed_role_from_access_key(access_key)
        if role is not None:
            created = getattr(role.access_key, "create_date", None)
            return {
                "user_id": role.user_id,
                "arn": role.arn,
                "account_id": role.account_id,
                "session_created": created.strftime("%Y-%m-%dT%H:%M:%SZ") if created else "",
            }
    user_id, arn, account_id = sts_backends[account_id]["aws"].get_caller_identity(access_key, region)
    return {"user_id": user_id, "arn": arn, "account_id": account_id}


def _error_of(status: int, body: bytes) -> tuple[str, str] | None:
    if status < 400:
        return None
    text = body.decode("utf-8", "replace")
    try:
        loaded = json.loads(text)
        code = str(loaded.get("__type") or loaded.get("code") or "").rsplit("#", maxsplit=1)[-1]
        message = loaded.get("message") or loaded.get("Message") or ""
    except (ValueError, AttributeError):
        code_match = re.search(r"<Code>(.*?)</Code>", text, re.S)
        message_match = re.search(r"<Message>(.*?)</Message>", text, re.S)
        code = code_match[1] if code_match else ""
        message = message_match[1] if message_match else ""
    return (code or f"HTTP{status}", message)


def response_elements(call: dict[str, Any], status: int, body: bytes) -> dict[str, Any] | None:
    """What CloudTrail writes as responseElements, where it is cheap to say: the answer
    of a successful CloudTrail write (CreateTrail, UpdateTrail, Put*Selectors, ...),
    in the record's camelCase. Everything else is null, which CloudTrail also writes for
    reads, failed calls and many writes; other services' answers (KMS data keys, STS
    credentials) hold what CloudTrail leaves out, so they are never copied."""
    read_only = call["action"].startswith(READ_ONLY_PREFIXES)
    if call["service"] != "cloudtrail" or read_only or status >= 400 or not body:
        return None
    try:
        answer = json.loads(body)
    except ValueError:
        return None
    return _lower_first(answer) if isinstance(answer, dict) and answer else None


def record_call(
    call: dict[str, Any], started: datetime.datetime, error: tuple[str, str] | None, elements: dict[str, Any] | None = None
) -> None:
    identity = _identity(call["access_key"], call["region"])
    user_identity = _user_identity(identity, call["access_key"])
    event = build_event(
        account_id=identity["account_id"],
        region=call["region"],
        event_name=call["action"],
        event_source=f"{call['service']}.amazonaws.com",
        event_time=started,
        user_identity=user_identity,
        read_only=call["action"].startswith(READ_ONLY_PREFIXES),
        request_parameters=call["request_parameters"],
        resources=call["resources"],
        error=error,
        response_elements=elements,
    )
    store(identity["account_id"], call["region"], [event])


def _recording_view(self: Any, args: Any = None, **kwargs: Any) -> Any:
    from flask import request

    started = _now()
    try:
        call = describe_call(request)
    except Exception:  # never let the recorder break a request
        call = None
    try:
        response = _ORIGINAL["view"](self, args, **kwargs)
    except Exception as exc:
        if call is not None:
            record_call(call, started, (getattr(exc, "error_type", type(exc).__name__), getattr(exc, "message", str(exc))))
        raise
    if call is not None:
        status = response.status_code
        body = response.get_data() if status >= 400 or call["service"] == "cloudtrail" else b""
        record_call(call, started, _error_of(status, body if status >= 400 else b""), response_elements(call, status, body))
    return response


# -- LookupEvents ---------------------------------------------------------


def _error(code: str, message: str) -> Exception:
    from moto.core.exceptions import JsonRESTError

    error = JsonRESTError(code, message)
    error.code = 400
    return error


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


def _as_time(value: Any) -> datetime.datetime:
    if isinstance(value, (int, float)):
        return datetime.datetime.fromtimestamp(value, datetime.timezone.utc)
    parsed = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)


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


def _sort_key(event: dict[str, Any]) -> tuple[datetime.datetime, int]:
    # Events of the same (whole) second keep the order the server recorded them in.
    return event["EventTime"], event["_seq"]


def _encode_token(fingerprint: str, last: dict[str, Any]) -> str:
    cursor = {"q": fingerprint, "t": last["EventTime"].isoformat(), "seq": last["_seq"]}
    return base64.urlsafe_b64encode(json.dumps(cursor).encode()).decode()


def _decode_token(token: str, fingerprint: str) -> tuple[datetime.datetime, int]:
    try:
        cursor = json.loads(base64.urlsafe_b64decode(token.encode()))
        if cursor["q"] == fingerprint:
            return _as_time(cursor["t"]), int(cursor["seq"])
    except (ValueError, KeyError, TypeError):
        pass
    raise _error("InvalidNextTokenException", "A token that is not valid, or a token that was previously used in a request with different parameters.")


def lookup(account_id: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """LookupEvents over the stored events of one account and region."""
    attributes = params.get("LookupAttributes") or []
    if len(attributes) > 1:
        raise _error("InvalidLookupAttributesException", "You cannot specify more than one lookup attribute.")
    for attribute in attributes:
        if attribute.get("AttributeKey") not in LOOKUP_ATTRIBUTE_KEYS:
            raise _error("InvalidLookupAttributesException", f"Invalid lookup attribute key: {attribute.get('AttributeKey')}")
        if not attribute.get("AttributeValue"):
            raise _error("InvalidLookupAttributesException", "The lookup attribute value must not be empty.")
    max_results = params.get("MaxResults", MAX_RESULTS)
    if not isinstance(max_results, int) or not 1 <= max_results <= MAX_RESULTS:
        raise _error("InvalidMaxResultsException", f"MaxResults must be from 1 to {MAX_RESULTS}.")
    category = params.get("EventCategory")
    if category is not None and category != "insight":
        raise _error("InvalidEventCategoryException", "EventCategory must be insight.")
    start = _as_time(params["StartTime"]) if params.get("StartTime") is not None else None
    end = _as_time(params["EndTime"]) if params.get("EndTime") is not None else None
    if start and end and start > end:
        raise _error("InvalidTimeRangeException", "StartTime must be before EndTime.")
    fingerprint = _query_fingerprint(params)
    cursor = _decode_token(params["NextToken"], fingerprint) if params.get("NextToken") else None

    oldest = _now() - RETENTION
    wanted_category = "Insight" if category == "insight" else "Management"
    with _LOCK:
        stored = list(_EVENTS.get((account_id, region), []))
    selected = [
        event
        for event in stored
        if event["_category"] == wanted_category
        and event["EventTime"] >= oldest
        and (start is None or event["EventTime"] >= start)
        and (end is None or event["EventTime"] <= end)
        and all(_matches(event, a["AttributeKey"], a["AttributeValue"]) for a in attributes)
        and (cursor is None or _sort_key(event) < cursor)
    ]
    selected.sort(key=_sort_key, reverse=True)
    page = selected[:max_results]
    result: dict[str, Any] = {
        "Events": [
            dict({k: v for k, v in event.items() if not k.startswith("_")}, EventTime=event["EventTime"].timestamp()) for event in page
        ]
    }
    if len(selected) > max_results:
        result["NextToken"] = _encode_token(fingerprint, page[-1])
    return result


def _lookup_events(self: Any) -> str:
    if not _take_token(self.current_account, self.region):
        raise _error("ThrottlingException", "Rate exceeded")
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
    return build_event(
        account_id=account_id,
        region=region,
        event_name=given.get("EventName", "DescribeTrails"),
        event_source=given.get("EventSource", "cloudtrail.amazonaws.com"),
        event_time=_as_time(given["EventTime"]) if given.get("EventTime") is not None else _now(),
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
    store(account_id, region, events)
    return 200, {"Content-Type": "application/json"}, json.dumps({"seeded": len(events)})


def _throttle_view(request: Any, full_url: str, headers: Any) -> tuple[int, dict[str, str], str]:
    payload = json.loads(request.get_data() or b"{}")
    with _LOCK:
        _THROTTLE["rate"] = float(payload["rate"]) if payload.get("rate") else None
        _BUCKETS.clear()
    return 200, {"Content-Type": "application/json"}, json.dumps({"rate": _THROTTLE["rate"]})


def clear() -> None:
    """Forget every event and go back to the throttle the server started with."""
    with _LOCK:
        _EVENTS.clear()
        _BUCKETS.clear()
        _THROTTLE["rate"] = _default_rate()


def install() -> None:
    """Record calls and serve them through LookupEvents (once, before the first request)."""
    if _ORIGINAL:
        return
    from moto.cloudtrail.responses import CloudTrailResponse
    from moto.core.utils import convert_to_flask_response

    _ORIGINAL["view"] = convert_to_flask_response.__call__
    convert_to_flask_response.__call__ = _recording_view
    CloudTrailResponse.lookup_events = _lookup_events
    _hooks.on_reset(clear)
    _hooks.control_path(SEED_PATH, _seed_view)
    _hooks.control_path(THROTTLE_PATH, _throttle_view)
    _THROTTLE["rate"] = _default_rate()
