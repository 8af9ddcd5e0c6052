"""Every signed call the server answers becomes a CloudTrail management event.

Inside the server process, ``install()`` wraps moto's Flask view wrapper
(``convert_to_flask_response``) so that each signed request becomes an
``AwsApiCall`` event of the caller's account and region in the event store
(``event_store``), as CloudTrail records it: ``userIdentity`` per kind of caller,
``requestParameters`` in camelCase, the resources the parameters name, failed
calls with ``errorCode`` and ``errorMessage``. S3 object calls are data events
and LookupEvents calls are not recorded (see ``docs/event_history.md``).
"""

from __future__ import annotations

import datetime
import json
import re
from typing import Any

from tests.local_aws.fidelity import event_store, hooks, wire

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

_ORIGINAL: dict[str, Any] = {}


def lower_first(value: Any) -> Any:
    """CloudTrail writes requestParameters in camelCase."""
    if isinstance(value, dict):
        return {(key[:1].lower() + key[1:]): lower_first(item) for key, item in value.items()}
    if isinstance(value, list):
        return [lower_first(item) for item in value]
    return value


def resources(service: str, params: dict[str, Any]) -> list[dict[str, str]]:
    """The resources a call's parameters name, as LookupEvents lists them."""
    found = []
    for name, resource_type in RESOURCE_PARAMETERS.get(service, {}).items():
        values = params.get(name)
        for value in values if isinstance(values, list) else [values]:
            if isinstance(value, str) and value:
                found.append({"ResourceType": resource_type, "ResourceName": value})
    return found


def user_identity(identity: dict[str, str], access_key: str) -> dict[str, Any]:
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


def describe_call(request: Any) -> dict[str, Any] | None:
    """Service, action, region, access key, parameters and resources of a signed request,
    or None for what CloudTrail does not record as a management event."""
    signed = wire.signed_request(request)
    if signed is None:
        return None
    params: dict[str, Any] = {}
    found: list[dict[str, str]] = []
    if signed.protocol == "json":
        try:
            loaded = json.loads(signed.body or b"{}")
        except ValueError:
            loaded = {}
        params = loaded if isinstance(loaded, dict) else {}
        found = resources(signed.service, params)
        request_parameters = lower_first(params) or None
    elif signed.protocol == "s3":
        s3_call = wire.s3_bucket_call(signed.method, signed.path, signed.query)
        if s3_call is None:
            return None
        _action, request_parameters, bucket = s3_call
        found = [{"ResourceType": "AWS::S3::Bucket", "ResourceName": bucket}] if bucket else []
    elif signed.protocol == "query":
        form = wire.form_params(signed.body.decode("utf-8", "replace"), signed.query)
        form.pop("Action", None)
        form.pop("Version", None)
        params = {key: values[0] for key, values in form.items()}
        found = resources(signed.service, params)
        request_parameters = lower_first(params) or None
    else:
        return None
    if signed.service == "cloudtrail" and signed.action == "LookupEvents":
        # Not recorded: a reader's own calls would otherwise change what it pages through.
        return None
    return {
        "service": signed.service,
        "action": signed.action,
        "region": GLOBAL_SERVICES.get(signed.service, signed.region),
        "access_key": signed.access_key,
        "request_parameters": request_parameters,
        "resources": found,
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


def error_of(status: int, headers: Any, body: bytes) -> tuple[str, str] | None:
    """(errorCode, errorMessage) of a failed call's answer, or None if it succeeded."""
    if status < 400:
        return None
    code, message = wire.answer_error(headers, body)
    return (code or f"HTTP{status}", message)


def response_elements(call: dict[str, Any], status: int, body: bytes) -> dict[str, Any] | None:
    """What CloudTrail writes as responseElements, where it is cheap to say: the answer
    of a successful CloudTrail write (CreateTrail, UpdateTrail, Put*Selectors, ...),
    in the record's camelCase. Everything else is null, which CloudTrail also writes for
    reads, failed calls and many writes; other services' answers (KMS data keys, STS
    credentials) hold what CloudTrail leaves out, so they are never copied."""
    read_only = call["action"].startswith(wire.READ_ONLY_PREFIXES)
    if call["service"] != "cloudtrail" or read_only or status >= 400 or not body:
        return None
    try:
        answer = json.loads(body)
    except ValueError:
        return None
    return lower_first(answer) if isinstance(answer, dict) and answer else None


def record_call(
    call: dict[str, Any], started: datetime.datetime, error: tuple[str, str] | None, elements: dict[str, Any] | None = None
) -> None:
    """Store ``call`` (from ``describe_call``) as an event of the caller's account."""
    identity = _identity(call["access_key"], call["region"])
    event = event_store.new_event(
        account_id=identity["account_id"],
        region=call["region"],
        event_name=call["action"],
        event_source=f"{call['service']}.amazonaws.com",
        event_time=started,
        user_identity=user_identity(identity, call["access_key"]),
        read_only=call["action"].startswith(wire.READ_ONLY_PREFIXES),
        request_parameters=call["request_parameters"],
        resources=call["resources"],
        error=error,
        response_elements=elements,
    )
    event_store.record(identity["account_id"], call["region"], [event])


def _recording_view(self: Any, args: Any = None, **kwargs: Any) -> Any:
    from flask import request

    started = event_store.now()
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
        record_call(call, started, error_of(status, response.headers, body), response_elements(call, status, body))
    return response


def install() -> None:
    """Record every signed call (once, before the first request)."""
    if _ORIGINAL:
        return
    hooks.wrap_view(_ORIGINAL, _recording_view)
