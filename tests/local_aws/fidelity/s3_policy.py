"""Bucket policies that deny insecure transport, enforced as S3 enforces them.

moto evaluates a bucket's policy only on object calls, and there it cannot
evaluate conditions: every statement with a ``Condition`` that names the action
counts as an explicit deny, whatever its effect and whatever the request. So
the trail role's deny-insecure-transport statement made every GetObject on a
trail bucket 403, over HTTPS too. Here moto's object check sees only the
statements without conditions, and this module evaluates the one condition
that matters for our buckets. In S3, a statement like the trail role's
``AWSCloudTrailDenyInsecureTransport``::

    {"Effect": "Deny", "Principal": "*", "Action": "s3:*",
     "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
     "Condition": {"Bool": {"aws:SecureTransport": "false"}}}

refuses every plain-HTTP request with 403 AccessDenied. The local AWS serves
HTTPS (``tests.local_aws.tls``), so its own requests pass; a local AWS started
with ``LocalAWS(https=False)`` shows the refusal.

Only this much is evaluated: explicit ``Deny`` statements for every principal
(``"*"`` or ``{"AWS": "*"}``) whose conditions are all ``Bool``/``BoolIfExists``
on ``aws:SecureTransport``. Any other statement is left alone, so the patch can
only refuse a request S3 would refuse too.
"""

from __future__ import annotations

import json
from typing import Any, Optional

from tests.local_aws.fidelity import hooks, wire
from tests.local_aws.fidelity.policy_eval import as_list, for_everyone, matches, statements_of

_ORIGINAL: dict[str, Any] = {}
SECURE_TRANSPORT = "aws:securetransport"
# S3 API actions whose IAM action has another name.
IAM_ACTIONS = {
    "HeadObject": "GetObject",
    "HeadBucket": "ListBucket",
    "ListObjects": "ListBucket",
    "ListObjectsV2": "ListBucket",
    "ListObjectVersions": "ListBucketVersions",
    "ListMultipartUploads": "ListBucketMultipartUploads",
    "DeleteObjects": "DeleteObject",
}


def _secure_transport_condition(statement: dict[str, Any], secure: bool) -> bool:
    """Whether the statement's conditions are all on aws:SecureTransport and hold for ``secure``."""
    conditions = statement.get("Condition") or {}
    if not conditions:
        return False
    for operator, clauses in conditions.items():
        if operator not in ("Bool", "BoolIfExists") or not isinstance(clauses, dict):
            return False
        for key, expected in clauses.items():
            if key.lower() != SECURE_TRANSPORT:
                return False
            if str(secure).lower() not in [str(value).lower() for value in as_list(expected)]:
                return False
    return True


def denies(policy_text: Optional[bytes | str], action: str, resource: str, secure: bool) -> Optional[str]:
    """The Sid (or ``""``) of a statement that denies ``action`` on ``resource`` for this transport, or None."""
    for statement in statements_of(policy_text):
        if not (isinstance(statement, dict) and statement.get("Effect") == "Deny" and for_everyone(statement)):
            continue
        if (
            matches(statement.get("Action"), action, ignore_case=True)
            and matches(statement.get("Resource"), resource)
            and _secure_transport_condition(statement, secure)
        ):
            return str(statement.get("Sid", ""))
    return None


def _target(signed: wire.SignedRequest) -> Optional[tuple[str, str, str]]:
    """(bucket, IAM action, resource ARN) of a path-style S3 request, or None."""
    parts = signed.path.lstrip("/").split("/", 1)
    if not parts[0]:
        return None
    resource = f"arn:aws:s3:::{parts[0]}" + (f"/{parts[1]}" if len(parts) > 1 and parts[1] else "")
    return parts[0], "s3:" + IAM_ACTIONS.get(signed.action, signed.action), resource


def _bucket_policy(bucket: str) -> Optional[bytes]:
    from moto.s3.models import s3_backends

    owner = s3_backends.bucket_accounts.get(bucket)
    if not owner:
        return None
    partition, account = owner
    found = s3_backends[account][partition].buckets.get(bucket)
    return found.policy if found is not None else None


def _access_denied() -> Any:
    import uuid

    from flask import Response

    request_id = str(uuid.uuid4())
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
        f"<Message>Access Denied</Message><RequestId>{request_id}</RequestId></Error>"
    )
    return Response(response=body, status=403, headers={"Content-Type": "application/xml", "x-amz-request-id": request_id})


def _policy_view(self: Any, args: Any = None, **kwargs: Any) -> Any:
    from flask import request as flask_request

    signed = wire.signed_request(flask_request)
    if signed is not None and signed.service == "s3":
        target = _target(signed)
        if target and denies(_bucket_policy(target[0]), target[1], target[2], flask_request.is_secure) is not None:
            from moto.core.utils import normalize_request
            from moto.moto_api import recorder

            # The server did receive it: counted like any other call.
            recorder._record_request(normalize_request(flask_request))
            return _access_denied()
    return _ORIGINAL["view"](self, args, **kwargs)


def _get_permission(self: Any, action: str, resource: str) -> Any:
    """moto's object check on the statements it can evaluate: those without conditions."""
    from moto.iam.access_control import IAMPolicy, PermissionResult

    if self.policy is None:
        return PermissionResult.NEUTRAL
    statements = [s for s in statements_of(self.policy) if isinstance(s, dict) and not s.get("Condition")]
    if not statements:
        return PermissionResult.NEUTRAL
    return IAMPolicy(json.dumps({"Version": "2012-10-17", "Statement": statements})).is_action_permitted(action, resource)


def install() -> None:
    """Wrap moto's view (inside api_calls and faults: a refused bucket call is
    still an event, and a faulted call never reaches the policy)."""
    if _ORIGINAL:
        return
    from moto.s3.models import FakeBucket

    hooks.wrap_view(_ORIGINAL, _policy_view)
    hooks.patch(_ORIGINAL, FakeBucket, get_permission=_get_permission)
