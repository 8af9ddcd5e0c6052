# -*- coding: utf-8 -*-

# Copyright: Contributors to the trailops.cloudtrail project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The statements CloudTrail needs in an S3 bucket policy, merged into the
policy the bucket already has.

Ownership is by ``Sid``: the module owns exactly the statements whose Sid is
one of ``owned_sids(sid_suffix)`` and never touches any other statement. The
pure functions here go current policy -> desired statements -> merged policy
-> plan; the S3 wrappers below them make one call each.
"""

from __future__ import annotations

import json
import re
from typing import Any
from typing import Optional

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies
from ansible_collections.amazon.aws.plugins.module_utils.s3 import AnsibleS3Error
from ansible_collections.amazon.aws.plugins.module_utils.s3 import S3ErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.s3 import validate_bucket_name

from ansible_collections.trailops.cloudtrail.plugins.module_utils.trail import trail_arn
from ansible_collections.trailops.cloudtrail.plugins.module_utils.trail import trail_name_error

SERVICE_PRINCIPAL = "cloudtrail.amazonaws.com"
# The user guide's (and the CloudTrail console's) Sids end in this date; using
# it as the default suffix adopts statements written from the guide instead of
# adding a second, overlapping grant beside them.
DEFAULT_SID_SUFFIX = "20150319"
DEFAULT_POLICY_VERSION = "2012-10-17"

MAX_S3_KEY_PREFIX = 200
# S3 rejects a bucket policy over 20 KB; checked before the write so the
# message can say why.
MAX_POLICY_BYTES = 20 * 1024
MAX_SID_SUFFIX = 64

_SID_SUFFIX = re.compile(r"^[A-Za-z0-9]*$")
_ACCOUNT_ID = re.compile(r"^\d{12}$")
_ORGANIZATION_ID = re.compile(r"^o-[a-z0-9]{10,32}$")
_TRAIL_ARN = re.compile(r"^arn:(aws[a-z-]*):cloudtrail:([a-z0-9-]+):(\d{12}):trail/(.+)$")


class AnsibleBucketPolicyError(AnsibleS3Error):
    pass


class BucketNotFoundError(AnsibleBucketPolicyError):
    pass


class InvalidBucketPolicyError(AnsibleBucketPolicyError):
    pass


# ---------------------------------------------------------------- ownership
def owned_sids(sid_suffix: str = DEFAULT_SID_SUFFIX) -> dict[str, str]:
    """The Sids this module owns, by role."""
    return {
        "acl_check": f"AWSCloudTrailAclCheck{sid_suffix}",
        "write": f"AWSCloudTrailWrite{sid_suffix}",
        "deny_insecure_transport": f"AWSCloudTrailDenyInsecureTransport{sid_suffix}",
    }


# ---------------------------------------------------------------- validation
def validate_params(params: dict[str, Any]) -> Optional[str]:
    """The first problem with the module's parameters, naming the parameter
    and the rule, or ``None``. Runs before any API call."""
    bucket_error = validate_bucket_name(params["bucket"])
    if bucket_error:
        return f"bucket: {bucket_error} (got {params['bucket']!r})"

    suffix = params.get("sid_suffix")
    if suffix is None or len(suffix) > MAX_SID_SUFFIX or not _SID_SUFFIX.match(suffix):
        return f"sid_suffix: only ASCII letters and digits, at most {MAX_SID_SUFFIX} characters (got {suffix!r})"

    if params.get("state", "present") == "absent":
        return None

    trails = params.get("trails") or []
    if not trails:
        return "trails: at least one trail (name or ARN) is required when state is present"
    for trail in trails:
        if trail.startswith("arn:"):
            match = _TRAIL_ARN.match(trail)
            if not match:
                return f"trails: {trail!r} is not a trail ARN (arn:<partition>:cloudtrail:<region>:<account id>:trail/<name>)"
            error = trail_name_error(match.group(4))
        else:
            error = trail_name_error(trail)
        if error:
            return f"trails: {trail!r} is not a valid trail name: it {error}"

    account_id = params.get("account_id")
    if account_id is not None and not _ACCOUNT_ID.match(account_id):
        return f"account_id: an AWS account id is 12 digits (got {account_id!r})"

    organization_id = params.get("organization_id")
    if organization_id is not None and not _ORGANIZATION_ID.match(organization_id):
        return f"organization_id: an organization id is 'o-' and 10 to 32 lowercase letters or digits (got {organization_id!r})"

    prefix = params.get("s3_key_prefix")
    if prefix:
        if len(prefix) > MAX_S3_KEY_PREFIX:
            return f"s3_key_prefix: at most {MAX_S3_KEY_PREFIX} characters (got {len(prefix)})"
        if prefix.startswith("/"):
            return f"s3_key_prefix: must not start with '/' (got {prefix!r})"
    return None


# ---------------------------------------------------------------- trails
def partition_for_region(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def trails_needing_account(trails: list[str]) -> bool:
    """True when some trail is given by name, so its ARN needs an account."""
    return any(not trail.startswith("arn:") for trail in trails)


def resolve_trail_arns(trails: list[str], region: Optional[str], account_id: Optional[str]) -> list[str]:
    """Each trail's ARN: ARNs as given, names in ``region`` and ``account_id``.

    A name is not looked up in CloudTrail (that would cost a call on every
    run), so a trail whose home region is not ``region`` must be given by ARN.
    """
    arns = set()
    for trail in trails:
        if trail.startswith("arn:"):
            arns.add(trail)
        else:
            if not region or not account_id:
                raise ValueError(f"trail {trail!r} is given by name, so both a region and an account id are needed to build its ARN")
            arns.add(trail_arn(partition_for_region(region), region, account_id, trail))
    return sorted(arns)


def _one_or_list(values: list[str]) -> Any:
    return values[0] if len(values) == 1 else values


# ---------------------------------------------------------------- statements
def normalize_s3_key_prefix(s3_key_prefix: Optional[str]) -> str:
    """The prefix as CloudTrail uses it: ``None``, ``""`` and ``"logs/"`` are
    ``""``, ``""`` and ``"logs"`` (the trail module drops the trailing slash
    the same way)."""
    return (s3_key_prefix or "").rstrip("/")


def log_object_arn(partition: str, bucket: str, owner: str, s3_key_prefix: Optional[str]) -> str:
    """Where CloudTrail writes log files for ``owner`` (an account or
    organization id): ``<bucket>[/<prefix>]/AWSLogs/<owner>/*``."""
    prefix = normalize_s3_key_prefix(s3_key_prefix)
    middle = f"{prefix}/" if prefix else ""
    return f"arn:{partition}:s3:::{bucket}/{middle}AWSLogs/{owner}/*"


def desired_statements(
    bucket: str,
    trail_arns: list[str],
    s3_key_prefix: Optional[str] = None,
    organization_id: Optional[str] = None,
    deny_insecure_transport: bool = False,
    sid_suffix: str = DEFAULT_SID_SUFFIX,
) -> list[dict[str, Any]]:
    """The statements of the CloudTrail user guide for ``trail_arns``.

    Both grants are restricted by ``aws:SourceArn`` to the trails. The write
    covers ``AWSLogs/<account>/*`` for the account of each trail, and
    ``AWSLogs/<organization id>/*`` for organization trails.
    """
    sids = owned_sids(sid_suffix)
    partition = trail_arns[0].split(":")[1]
    bucket_arn = f"arn:{partition}:s3:::{bucket}"
    source_arn = _one_or_list(sorted(trail_arns))
    owners = sorted({arn.split(":")[4] for arn in trail_arns})
    if organization_id:
        owners.append(organization_id)
    statements: list[dict[str, Any]] = [
        {
            "Sid": sids["acl_check"],
            "Effect": "Allow",
            "Principal": {"Service": SERVICE_PRINCIPAL},
            "Action": "s3:GetBucketAcl",
            "Resource": bucket_arn,
            "Condition": {"StringEquals": {"aws:SourceArn": source_arn}},
        },
        {
            "Sid": sids["write"],
            "Effect": "Allow",
            "Principal": {"Service": SERVICE_PRINCIPAL},
            "Action": "s3:PutObject",
            "Resource": _one_or_list([log_object_arn(partition, bucket, owner, s3_key_prefix) for owner in owners]),
            "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": source_arn}},
        },
    ]
    if deny_insecure_transport:
        statements.append(
            {
                "Sid": sids["deny_insecure_transport"],
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        )
    return statements


# ---------------------------------------------------------------- policies
def parse_policy(text: Optional[str]) -> Optional[dict[str, Any]]:
    """The bucket's policy as a dict (``None`` for no policy).

    Raises ``InvalidBucketPolicyError`` for anything that is not a JSON object
    with a list or object ``Statement``: such a policy is never overwritten.
    """
    if text is None:
        return None
    try:
        policy = json.loads(text)
    except ValueError as e:
        raise InvalidBucketPolicyError(message=f"bucket: the current bucket policy is not valid JSON ({e}); it was left untouched") from e
    if not isinstance(policy, dict) or not isinstance(policy.get("Statement", []), (list, dict)):
        raise InvalidBucketPolicyError(message="bucket: the current bucket policy is not a JSON policy document with a Statement list; it was left untouched")
    return policy


def statements_of(policy: Optional[dict[str, Any]]) -> list[Any]:
    if not policy:
        return []
    statements = policy.get("Statement", [])
    return [statements] if isinstance(statements, dict) else list(statements)


def _sid(statement: Any) -> Optional[str]:
    return statement.get("Sid") if isinstance(statement, dict) else None


def owned_statements(policy: Optional[dict[str, Any]], sids: set[str]) -> list[dict[str, Any]]:
    return [statement for statement in statements_of(policy) if _sid(statement) in sids]


def merge_policy(
    current: Optional[dict[str, Any]],
    desired: list[dict[str, Any]],
    owned: set[str],
) -> Optional[dict[str, Any]]:
    """``current`` with the statements whose Sid is in ``owned`` replaced by
    ``desired`` (in place where they were, new ones appended), every other
    statement kept exactly as it was. ``None`` when no statement is left,
    which means the policy itself should go."""
    wanted = {statement["Sid"]: statement for statement in desired}
    placed: set[str] = set()
    merged: list[Any] = []
    for statement in statements_of(current):
        sid = _sid(statement)
        if sid not in owned:
            merged.append(statement)
        elif sid in wanted and sid not in placed:
            # A Sid that occurs twice (the console writes two
            # AWSCloudTrailWrite20150319 for organization trails) collapses
            # into our one statement.
            merged.append(wanted[sid])
            placed.add(sid)
    merged.extend(statement for sid, statement in wanted.items() if sid not in placed)
    if not merged:
        return None
    policy = dict(current) if current else {"Version": DEFAULT_POLICY_VERSION}
    policy["Statement"] = merged
    return policy


def policy_size_error(policy: Optional[dict[str, Any]]) -> Optional[str]:
    """Why S3 would refuse ``policy`` for its size, or ``None``."""
    if policy is None:
        return None
    size = len(json.dumps(policy, separators=(",", ":")).encode("utf-8"))
    if size > MAX_POLICY_BYTES:
        return f"bucket: the merged bucket policy would be {size} bytes, over S3's limit of {MAX_POLICY_BYTES}; nothing was written"
    return None


def plan(current: Optional[dict[str, Any]], after: Optional[dict[str, Any]]) -> Optional[str]:
    """The write that turns ``current`` into ``after``: ``"put"``,
    ``"delete"`` or ``None``. Policies are compared semantically, so order and
    formatting never cause a write."""
    if after is None:
        return "delete" if current is not None else None
    if current is None or compare_policies(current, after):
        return "put"
    return None


# ---------------------------------------------------------------- S3 calls
class BucketPolicyErrorHandler(S3ErrorHandler):
    _CUSTOM_EXCEPTION = AnsibleBucketPolicyError

    @classmethod
    def _is_missing(cls):
        # Only "no policy" is data; amazon.aws's S3 handler also swallows
        # NoSuchBucket, which must be an error here.
        return is_boto3_error_code("NoSuchBucketPolicy")


@BucketPolicyErrorHandler.list_error_handler("get bucket policy")
def get_bucket_policy(client, bucket: str) -> Optional[str]:
    """The bucket's policy text, or ``None`` when it has none."""
    try:
        return client.get_bucket_policy(aws_retry=True, Bucket=bucket)["Policy"]
    except is_boto3_error_code("NoSuchBucket") as e:
        raise BucketNotFoundError(message=f"bucket: no S3 bucket named {bucket!r} exists", exception=e) from e


@BucketPolicyErrorHandler.common_error_handler("put bucket policy")
def put_bucket_policy(client, bucket: str, policy: dict[str, Any]) -> None:
    client.put_bucket_policy(aws_retry=True, Bucket=bucket, Policy=json.dumps(policy))


@BucketPolicyErrorHandler.common_error_handler("delete bucket policy")
def delete_bucket_policy(client, bucket: str) -> None:
    client.delete_bucket_policy(aws_retry=True, Bucket=bucket)


# ---------------------------------------------------------------- ensure
def ensure_bucket_policy(
    client,
    bucket: str,
    desired: list[dict[str, Any]],
    owned: set[str],
    check_mode: bool,
) -> tuple[bool, Optional[dict[str, Any]], Optional[dict[str, Any]]]:
    """Merge ``desired`` into the bucket's policy, replacing only ``owned``
    Sids. Returns ``(changed, before, after)``; in check mode ``after`` is
    the prediction and nothing is written. Exactly one read call."""
    before = parse_policy(get_bucket_policy(client, bucket))
    after = merge_policy(before, desired, owned)
    action = plan(before, after)
    if action == "put" and policy_size_error(after):
        raise InvalidBucketPolicyError(message=policy_size_error(after))
    if action and not check_mode:
        if action == "put":
            put_bucket_policy(client, bucket, after)
        else:
            delete_bucket_policy(client, bucket)
    if action is None:
        after = before
    return action is not None, before, after
