"""How the local AWS reads a request: who signed it, for which region and
service, and which action it asks for, in each protocol AWS speaks.

Every fidelity module that looks at requests reads them here (the events of
``api_calls``, the fault rules, the bucket-policy check, the answers kept by
``responses``; the recording parser of ``tests.local_aws.server`` too), so that
a fault rule, an event name and an error answer name a call the same way.

Actions are CloudTrail's event names: the ``X-Amz-Target`` action for JSON
protocols, the ``Action`` parameter (body or query) for query protocols, and
for S3 the API action of a path-style request (``GetBucketPolicy``,
``HeadBucket``, ``ListObjectsV2``, ``<Verb>Object``). A REST call with none of
these is named by method and path, as ``Call`` names it.

Everything but ``signed_request`` and ``read_body`` is a pure function of
headers, paths and query strings; importing this module does not import moto.
"""

from __future__ import annotations

import datetime
import io
import json
import re
import urllib.parse
from typing import Any, Mapping, NamedTuple, Optional

# Read-only calls by action-name prefix (CloudTrail's readOnly; Call.is_write); everything else is a write.
READ_ONLY_PREFIXES = ("Describe", "Get", "List", "Lookup", "Head")
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
S3_BUCKET_CALLS = {"PUT": "CreateBucket", "DELETE": "DeleteBucket", "HEAD": "HeadBucket"}
S3_OBJECT_VERBS = {"GET": "GetObject", "PUT": "PutObject", "DELETE": "DeleteObject", "HEAD": "HeadObject", "POST": "PostObject"}
# Where ``signed_request`` keeps its reading in the WSGI environ.
_READ_KEY = "trailops.signed_request"


class CredentialScope(NamedTuple):
    """The SigV4 credential scope: whose key signed the request, for which region and service."""

    access_key: str
    region: str
    service: str


class SignedRequest(NamedTuple):
    """A signed request as the fidelity layer reads it (``path`` unquoted; ``body`` empty for S3)."""

    access_key: str
    region: str
    service: str
    action: str
    protocol: str  # "json", "query", "s3" or "rest"
    method: str
    path: str
    query: dict[str, list[str]]
    body: bytes


def credential_scope(headers: Mapping[str, str], query: Optional[Mapping[str, list[str]]] = None) -> CredentialScope:
    """The credential scope of a request signed in its ``Authorization`` header or presigned
    in its query; all empty for an unsigned request (the control API)."""
    match = re.search(r"Credential=([^,\s]+)", headers.get("Authorization", "") or "")
    credential = match[1] if match else ((query or {}).get("X-Amz-Credential") or [""])[0]
    parts = credential.split("/")
    # access key / date / region / service / aws4_request
    if len(parts) < 5 or not all(parts[:4]):
        return CredentialScope("", "", "")
    return CredentialScope(parts[0], parts[2], parts[3])


def form_params(form: str, query: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """A query-protocol request's parameters: the form body's, then the URL query's."""
    params = urllib.parse.parse_qs(form, keep_blank_values=True) if "=" in form else {}
    params.update(query)
    return params


def s3_bucket_call(method: str, path: str, query: Mapping[str, list[str]]) -> Optional[tuple[str, dict[str, Any], str]]:
    """(event name, request parameters, bucket) of a bucket-level S3 call (management
    event), or None for an object call (data event) or a bucket listing."""
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
    return (S3_BUCKET_CALLS[method], params, bucket) if method in S3_BUCKET_CALLS else None


def s3_action(method: str, path: str, query: Mapping[str, list[str]]) -> str:
    """The S3 API action of a path-style request: a bucket call, a listing, or an object call."""
    bucket_call = s3_bucket_call(method, path, query)
    if bucket_call:
        return bucket_call[0]
    parts = [part for part in path.split("/") if part]
    if len(parts) == 1:
        # A bucket GET with no sub-resource lists its objects; POST ?delete deletes many.
        if method == "GET":
            if "versions" in query:
                return "ListObjectVersions"
            if "uploads" in query:
                return "ListMultipartUploads"
            return "ListObjectsV2" if query.get("list-type") == ["2"] else "ListObjects"
        if method == "POST" and "delete" in query:
            return "DeleteObjects"
    return S3_OBJECT_VERBS.get(method, method)


def protocol_of(service: str, target: str, params: Mapping[str, list[str]]) -> str:
    """How the request names its action: ``json`` (X-Amz-Target), ``s3``, ``query`` (Action) or ``rest``."""
    if target:
        return "json"
    if service == "s3":
        return "s3"
    return "query" if (params.get("Action") or [""])[0] else "rest"


def action_of(service: str, method: str, path: str, query: Mapping[str, list[str]], target: str, form: str) -> str:
    """The action of a request, in the protocol ``protocol_of`` names."""
    params = {} if target or service == "s3" else form_params(form, query)
    protocol = protocol_of(service, target, params)
    if protocol == "json":
        return target.rsplit(".", 1)[-1]
    if protocol == "s3":
        return s3_action(method, path, query)
    if protocol == "query":
        return params["Action"][0]
    return f"{method} {path}"


def as_time(value: Any) -> datetime.datetime:
    """A time as requests and control payloads carry it (epoch seconds or ISO 8601), in UTC."""
    if isinstance(value, (int, float)):
        return datetime.datetime.fromtimestamp(value, datetime.timezone.utc)
    parsed = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)


def json_error(code: str, message: str) -> Exception:
    """An HTTP 400 error answer in the JSON protocol, for moto to send (``{"__type": code, "message": ...}``)."""
    from moto.core.exceptions import JsonRESTError

    error = JsonRESTError(code, message)
    error.code = 400
    return error


def answer_error(headers: Mapping[str, str], body: bytes) -> tuple[str, str]:
    """``(code, message)`` of an error answer, in each protocol: the JSON
    ``__type``/``code``, the XML ``<Code>``, else the ``x-amzn-ErrorType``
    header; ``""`` for what the answer does not say (moto's HTML 500 for an
    unimplemented call, a load balancer's 502, a HEAD answer)."""
    text = body.decode("utf-8", "replace").strip()
    code = message = ""
    if text.startswith("{"):
        try:
            loaded = json.loads(text)
        except ValueError:
            loaded = None
        if isinstance(loaded, dict):
            # JSON 1.0/1.1 may qualify the code: "com.amazonaws.cloudtrail#TrailNotFoundException".
            code = str(loaded.get("__type") or loaded.get("code") or loaded.get("Code") or "").rsplit("#", 1)[-1]
            message = str(loaded.get("message") or loaded.get("Message") or "")
    elif text.startswith("<"):
        code_match = re.search(r"<Code>\s*([^<\s]+)\s*</Code>", text)
        message_match = re.search(r"<Message>(.*?)</Message>", text, re.S)
        code = code_match[1] if code_match else ""
        message = message_match[1] if message_match else ""
    # The header may carry a documentation link after a colon: "Code:http://...".
    return code or headers.get("x-amzn-ErrorType", "").split(":", 1)[0].strip(), message


# -- reading a Flask request inside the server --------------------------------


def read_body(request: Any) -> bytes:
    """The request body, put back for the views inside (the way moto's own recorder does)."""
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        return b""
    if not length:
        return b""
    body = request.environ["wsgi.input"].read(length)
    request.environ["wsgi.input"] = io.BytesIO(body)
    return body


def signed_request(request: Any) -> Optional[SignedRequest]:
    """The signed request ``request`` is, or None if it is not signed (the control API).

    Read once per request: each view wrapper (faults, api_calls, s3_policy,
    responses) asks, and gets the reading of the first."""
    if _READ_KEY not in request.environ:
        request.environ[_READ_KEY] = _read_signed_request(request)
    return request.environ[_READ_KEY]


def _read_signed_request(request: Any) -> Optional[SignedRequest]:
    url = urllib.parse.urlsplit(request.environ.get("RAW_URI") or request.full_path)
    query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
    scope = credential_scope(request.headers, query)
    if not scope.service:
        return None
    target = request.headers.get("X-Amz-Target", "")
    path = urllib.parse.unquote(url.path)
    # S3 bodies are objects: never needed to name the call, and they can be large.
    body = b"" if scope.service == "s3" else read_body(request)
    form = "" if target else body.decode("utf-8", "replace")
    params = {} if target or scope.service == "s3" else form_params(form, query)
    return SignedRequest(
        access_key=scope.access_key,
        region=scope.region,
        service=scope.service,
        action=action_of(scope.service, request.method, path, query, target, form),
        protocol=protocol_of(scope.service, target, params),
        method=request.method,
        path=path,
        query=query,
        body=body,
    )
