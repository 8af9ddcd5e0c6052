# -*- coding: utf-8 -*-

# Copyright: Contributors to the trailops.cloudtrail project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The statements CloudTrail needs in an S3 bucket policy, merged into the
policy the bucket already has.

Ownership is by ``Sid``: the module owns exactly the statements whose Sid is
one of ``owned_sids(sid_suffix)`` and never touches any other statement. The
pure functions here go current policy -> desired statements -> merged policy
-> plan; the S3 wrappers below them make one call each.

S3 has no conditional PutBucketPolicy, so a shared bucket's policy is a
read-modify-write race between every writer. ``ensure_bucket_policy`` narrows
it as far as S3 allows: every write (and every retry of one) is merged from a
fresh read, and every write is followed by a read that must show our
statements and every other statement the write was merged from.
"""

from __future__ import annotations

import json
import random
import re
import time
from typing import Any
from typing import Callable
from typing import Optional

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.iam import get_aws_account_info
from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies
from ansible_collections.amazon.aws.plugins.module_utils.s3 import AnsibleS3Error
from ansible_collections.amazon.aws.plugins.module_utils.s3 import S3ErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.s3 import validate_bucket_name

from ansible_collections.trailops.cloudtrail.plugins.module_utils.retries import TRANSIENT_ERROR_CODES
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import trail_arn
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import parse_trail_reference
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parameters import ParameterError
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parameters import check_account_id
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parameters import check_s3_key_prefix
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parts import PartPlan
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parts import Where
from ansible_collections.trailops.cloudtrail.plugins.module_utils.retries import transient_retry
from ansible_collections.trailops.cloudtrail.plugins.module_utils import policy_statements
from ansible_collections.trailops.cloudtrail.plugins.module_utils.policy_statements import sid_of
from ansible_collections.trailops.cloudtrail.plugins.module_utils.policy_statements import statements_of

SERVICE_PRINCIPAL = "cloudtrail.amazonaws.com"
# The user guide's (and the CloudTrail console's) Sids end in this date; using
# it as the default suffix adopts statements written from the guide instead of
# adding a second, overlapping grant beside them.
DEFAULT_SID_SUFFIX = "20150319"
DEFAULT_POLICY_VERSION = "2012-10-17"

# S3 rejects a bucket policy over 20 KB; checked before the write so the
# message can say why.
MAX_POLICY_BYTES = 20 * 1024
MAX_SID_SUFFIX = 64

# A write is merged, sent and verified at most this many times before the
# module gives up and names what is missing.
MAX_WRITE_ATTEMPTS = 10
# How long a write is left to settle before it is read back. Another writer
# that read the policy before our write lands its (stale) write within one
# round trip of its read; reading back after that shows its overwrite, so the
# loss is repaired instead of reported as success.
SETTLE_SECONDS = 0.5
# Full-jitter backoff between attempts (seconds): up to 0.5, 1, 2, ... 10.
BACKOFF_BASE = 0.5
BACKOFF_CAP = 10.0

_SID_SUFFIX = re.compile(r"^[A-Za-z0-9]*$")
_ORGANIZATION_ID = re.compile(r"^o-[a-z0-9]{10,32}$")


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


SID_ROLES = {
    "AWSCloudTrailAclCheck": "acl_check",
    "AWSCloudTrailWrite": "write",
    "AWSCloudTrailDenyInsecureTransport": "deny_insecure_transport",
}


def _lower_list(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return sorted(str(v).lower() for v in values)


def _is_cloudtrail_principal(statement: dict[str, Any]) -> bool:
    principal = statement.get("Principal")
    return isinstance(principal, dict) and set(principal) == {"Service"} and _lower_list(principal["Service"]) == [SERVICE_PRINCIPAL]


def is_cloudtrail_grant(role: str, statement: Any) -> bool:
    """Whether ``statement`` is what our Sid of ``role`` stands for: the user
    guide's ACL check or write for CloudTrail's service principal, or the
    TLS-only deny. Resources and conditions may differ (they are ours to set);
    the effect, principal and action may not."""
    if not isinstance(statement, dict):
        return False
    if role == "deny_insecure_transport":
        condition = statement.get("Condition") or {}
        secure = (condition.get("Bool") or {}).get("aws:SecureTransport") if isinstance(condition, dict) else None
        return statement.get("Effect") == "Deny" and str(secure).lower() == "false"
    action = {"acl_check": "s3:getbucketacl", "write": "s3:putobject"}[role]
    return statement.get("Effect") == "Allow" and _is_cloudtrail_principal(statement) and _lower_list(statement.get("Action")) == [action]


def sid_misuse_error(policy: Optional[dict[str, Any]], owned: set[str]) -> Optional[str]:
    """Why the policy cannot be merged because a statement carries one of our
    Sids without being CloudTrail's grant (an AWS Config grant or someone's
    Deny under our name), or ``None``. Such a statement is never rewritten."""
    for statement in statements_of(policy):
        sid = sid_of(statement)
        if sid not in owned:
            continue
        role = next((role for prefix, role in sorted(SID_ROLES.items(), key=lambda item: -len(item[0])) if sid.startswith(prefix)), None)
        if role is not None and not is_cloudtrail_grant(role, statement):
            return (
                f"sid_suffix: the bucket policy has a statement with the Sid {sid!r} that is not CloudTrail's grant "
                f"({json.dumps(statement, sort_keys=True)}); it was left untouched and nothing was written. "
                "Rename that statement's Sid, or choose another sid_suffix"
            )
    return None


# ---------------------------------------------------------------- validation
def validate_params(params: dict[str, Any]) -> None:
    """Raise ``ParameterError`` for the first parameter that breaks a rule.
    Runs before any API call."""
    bucket_error = validate_bucket_name(params["bucket"])
    if bucket_error:
        raise ParameterError("bucket", f"{bucket_error} (got {params['bucket']!r})")

    suffix = params.get("sid_suffix")
    if suffix is None or len(suffix) > MAX_SID_SUFFIX or not _SID_SUFFIX.match(suffix):
        raise ParameterError("sid_suffix", f"only ASCII letters and digits, at most {MAX_SID_SUFFIX} characters (got {suffix!r})")

    if params.get("state", "present") == "absent":
        return

    trails = params.get("trails") or []
    if not trails:
        raise ParameterError("trails", "at least one trail (name or ARN) is required when state is present")
    for trail in trails:
        # A trail of another account is no error here: a shared log bucket
        # lets the trails of many accounts deliver to it.
        parse_trail_reference(trail, "trails")

    account_id = params.get("account_id")
    if account_id is not None:
        check_account_id(account_id)

    organization_id = params.get("organization_id")
    if organization_id is not None and not _ORGANIZATION_ID.match(organization_id):
        raise ParameterError("organization_id", f"an organization id is 'o-' and 10 to 32 lowercase letters or digits (got {organization_id!r})")

    check_s3_key_prefix(params.get("s3_key_prefix"))


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
    try:
        return policy_statements.parse_policy(text, "bucket policy")
    except policy_statements.PolicyDocumentError as e:
        raise InvalidBucketPolicyError(message=f"bucket: {e}") from e


def owned_statements(policy: Optional[dict[str, Any]], sids: set[str]) -> list[dict[str, Any]]:
    return [statement for statement in statements_of(policy) if sid_of(statement) in sids]


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
        sid = sid_of(statement)
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


def serialize_policy(policy: dict[str, Any]) -> str:
    """The exact text PutBucketPolicy sends; the size check measures this same
    string, so what is checked is what is sent."""
    return json.dumps(policy, separators=(",", ":"))


def policy_size_error(body: Optional[str]) -> Optional[str]:
    """Why S3 would refuse the policy text ``body`` for its size, or ``None``."""
    if body is None:
        return None
    size = len(body.encode("utf-8"))
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


def _same_statement(left: Any, right: Any) -> bool:
    return not compare_policies({"Statement": [left]}, {"Statement": [right]})


def foreign_statements(policy: Optional[dict[str, Any]], owned: set[str]) -> list[Any]:
    return [statement for statement in statements_of(policy) if sid_of(statement) not in owned]


def missing_statements(policy: Optional[dict[str, Any]], expected: list[Any]) -> list[Any]:
    """The statements of ``expected`` that ``policy`` does not hold
    (compared semantically, as S3 may reformat what it stores)."""
    present = statements_of(policy)
    return [statement for statement in expected if not any(_same_statement(statement, other) for other in present)]


def describe_statements(statements: list[Any]) -> str:
    return ", ".join(sid_of(statement) or json.dumps(statement, sort_keys=True) for statement in statements)


def backoff_delay(attempt: int) -> float:
    return random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt))


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


# The writes are not retried by the client (no aws_retry, and the client is
# built without botocore's own retries): a retry must re-read and re-merge,
# never re-send a policy merged from a read that another writer has outdated.
@BucketPolicyErrorHandler.common_error_handler("put bucket policy")
def put_bucket_policy(client, bucket: str, body: str) -> bool:
    """Send ``body`` as it is. False when S3 answered with a transient error
    (nothing was written; the caller re-reads before trying again)."""
    try:
        client.put_bucket_policy(Bucket=bucket, Policy=body)
    except is_boto3_error_code(TRANSIENT_ERROR_CODES):
        return False
    return True


@BucketPolicyErrorHandler.common_error_handler("delete bucket policy")
def delete_bucket_policy(client, bucket: str) -> bool:
    try:
        client.delete_bucket_policy(Bucket=bucket)
    except is_boto3_error_code(TRANSIENT_ERROR_CODES):
        return False
    return True


# ---------------------------------------------------------------- ensure
def ensure_bucket_policy(
    client,
    bucket: str,
    desired: list[dict[str, Any]],
    owned: set[str],
    check_mode: bool,
    pause: Callable[[float], None] = time.sleep,
) -> tuple[bool, Optional[dict[str, Any]], Optional[dict[str, Any]]]:
    """Merge ``desired`` into the bucket's policy, replacing only ``owned``
    Sids. Returns ``(changed, before, after)``; ``after`` is the policy as
    read back after the last write (the prediction in check mode, where
    nothing is written). A run that changes nothing makes one read call.

    Every attempt reads, merges and (if needed) writes; the next attempt's
    read is the previous write's read-back. The run ends when a read shows
    our statements and every foreign statement our last write was merged
    from; a write lost to another writer is merged and written again, up to
    ``MAX_WRITE_ATTEMPTS`` times, then the run fails naming what is missing.
    """
    changed = False
    before: Optional[dict[str, Any]] = None
    kept: list[Any] = []
    problem = "S3 kept answering with a transient error"
    for attempt in range(MAX_WRITE_ATTEMPTS):
        current = parse_policy(get_bucket_policy(client, bucket))
        if attempt == 0:
            before = current
        misuse = sid_misuse_error(current, owned)
        if misuse:
            raise InvalidBucketPolicyError(message=misuse)
        after = merge_policy(current, desired, owned)
        action = plan(current, after)
        # Another writer must not have lost a statement our last write was
        # merged from. We never re-add one (its owner may have removed it on
        # purpose since): we wait for it, then fail naming it.
        lost = missing_statements(current, kept)
        if action is None and not lost:
            return changed, before, current
        if action is None:
            problem = f"it lacks {describe_statements(lost)}, which our write kept and another writer removed"
        else:
            if changed:
                ours = describe_statements(missing_statements(current, desired)) or "removed ones are back"
                problem = f"another writer replaced it without our statements ({ours})"
            body = serialize_policy(after) if after is not None else None
            size_error = policy_size_error(body)
            if size_error:
                raise InvalidBucketPolicyError(message=size_error)
            if check_mode:
                return True, before, after
            written = put_bucket_policy(client, bucket, body) if body is not None else delete_bucket_policy(client, bucket)
            if written:
                changed = True
                kept = foreign_statements(current, owned)
                pause(SETTLE_SECONDS)
                continue
        pause(backoff_delay(attempt))
    raise InvalidBucketPolicyError(
        message=f"bucket: the policy of {bucket} was not settled after {MAX_WRITE_ATTEMPTS} attempts: {problem}; nothing more was written"
    )


# -- the trail's statements as a part of a baseline (parts.py) ---------------
# Steps of the part. A bucket about to be deleted takes its policy with it:
# that plan's one step is the log bucket's own DeleteBucket, not a write here.
PUT_STEP = "PutBucketPolicy"
DELETE_STEP = "DeleteBucketPolicy"
WITH_THE_BUCKET = "DeleteBucket"


def renamed_error(spec: dict[str, Any], message: str) -> ParameterError:
    """A ``"<option>: ..."`` message of this file under the caller's option
    names (``spec["option_names"]``: the baseline's ``s3_bucket_name``, the
    log_bucket role's ``log_bucket_*``)."""
    name, separator, rest = message.partition(": ")
    names = spec.get("option_names") or {}
    if not separator:
        return ParameterError(names.get("bucket", "bucket"), message)
    return ParameterError(names.get(name, name), rest)


class BucketPolicyPart:
    """The trails' statements in the log bucket's policy, as one part
    (``parts.py``) of the baseline module and of the log_bucket module.

    Its spec: ``bucket``, ``state``, ``trails`` (ARNs), ``s3_key_prefix``,
    ``organization_id``, ``deny_insecure_transport``, ``sid_suffix`` and
    ``option_names`` (how messages name this file's options). Its state is the
    statements it owns, by Sid (``None``: none). The read is the one plain
    GetBucketPolicy; ``apply`` goes through ``ensure_bucket_policy``, which
    merges again from a fresh read, so a statement another writer added
    since the read is kept."""

    @staticmethod
    def check(spec: dict[str, Any]) -> None:
        return None

    @staticmethod
    def desired(spec: dict[str, Any], where: Where) -> list[dict[str, Any]]:
        if spec["state"] == "absent":
            return []
        return desired_statements(
            spec["bucket"],
            spec["trails"],
            s3_key_prefix=spec.get("s3_key_prefix"),
            organization_id=spec.get("organization_id"),
            deny_insecure_transport=bool(spec.get("deny_insecure_transport")),
            sid_suffix=spec["sid_suffix"],
        )

    @staticmethod
    def owned(spec: dict[str, Any]) -> set[str]:
        return set(owned_sids(spec["sid_suffix"]).values())

    @staticmethod
    def read(client_for, spec: dict[str, Any], where: Where, bucket_exists: bool = True) -> Optional[dict[str, Any]]:
        """The bucket's whole policy (``None``: no policy, or no bucket yet)."""
        if not bucket_exists:
            return None
        try:
            return parse_policy(get_bucket_policy(client_for("s3-policy"), spec["bucket"]))
        except (BucketNotFoundError, InvalidBucketPolicyError) as e:
            raise renamed_error(spec, e.message) from None

    @classmethod
    def view(cls, policy: Optional[dict[str, Any]], spec: dict[str, Any]) -> Optional[dict[str, Any]]:
        """What a result shows: the part's own statements, by Sid."""
        statements = owned_statements(policy, cls.owned(spec))
        return {"statements": {statement["Sid"]: statement for statement in statements}} if statements else None

    @classmethod
    def plan(cls, current: Optional[dict[str, Any]], spec: dict[str, Any], where: Where, bucket_deleted: bool = False) -> PartPlan:
        """Pure: the merged policy's statements and the write. Raises
        ``ParameterError`` for a policy that must not be rewritten (one of our
        Sids on a foreign statement) or that S3 would refuse for its size."""
        owned = cls.owned(spec)
        if bucket_deleted:
            before = cls.view(current, spec)
            return PartPlan(before, None, [WITH_THE_BUCKET] if before else [])
        problem = sid_misuse_error(current, owned)
        if problem:
            raise renamed_error(spec, problem)
        after = merge_policy(current, cls.desired(spec, where), owned)
        action = plan(current, after)
        if action == "put":
            problem = policy_size_error(serialize_policy(after))
            if problem:
                raise renamed_error(spec, problem)
        steps = {"put": [PUT_STEP], "delete": [DELETE_STEP]}.get(action or "", [])
        return PartPlan(cls.view(current, spec), cls.view(after, spec), steps)

    @classmethod
    def apply(cls, client_for, plan: PartPlan, spec: dict[str, Any], where: Where) -> Optional[dict[str, Any]]:
        """The plan's write, merged again from a fresh read and read back; the statements after."""
        if not (PUT_STEP in plan.steps or DELETE_STEP in plan.steps):
            return plan.after
        try:
            dummy, dummy_before, after = ensure_bucket_policy(client_for("s3-policy"), spec["bucket"], cls.desired(spec, where), cls.owned(spec), False)
        except (BucketNotFoundError, InvalidBucketPolicyError) as e:
            raise renamed_error(spec, e.message) from None
        return cls.view(after, spec)


# -- the bucket_policy module's run -------------------------------------------


def build_desired(module, params: dict[str, Any]) -> list[dict[str, Any]]:
    """The statements to ensure (none for ``state: absent``). Calls STS only
    when a trail is given by name and ``account_id`` is not set."""
    if params["state"] == "absent":
        return []
    trails = params["trails"]
    account_id = params["account_id"]
    if trails_needing_account(trails):
        if not module.region:
            raise ParameterError("region", "a region is needed to build the ARN of a trail given by name in trails; set region or give the trail's ARN")
        if account_id is None:
            account_id = get_aws_account_info(module)[0]
    return desired_statements(
        bucket=params["bucket"],
        trail_arns=resolve_trail_arns(trails, module.region, account_id),
        s3_key_prefix=params["s3_key_prefix"],
        organization_id=params["organization_id"],
        deny_insecure_transport=params["deny_insecure_transport"],
        sid_suffix=params["sid_suffix"],
    )


def run(module) -> dict[str, Any]:
    """The bucket_policy module's work, its parameters already checked with
    ``validate_params``: the result to exit with. In check mode no write is
    made and the result is the prediction."""
    params = module.params
    owned = set(owned_sids(params["sid_suffix"]).values())
    try:
        desired = build_desired(module, params)
        # botocore's own retries would re-send a PutBucketPolicy merged from a
        # stale read; ensure_bucket_policy retries writes itself, re-reading first.
        client = module.client("s3", retry_decorator=transient_retry(), config={"retries": {"total_max_attempts": 1}})
        changed, before, after = ensure_bucket_policy(client, params["bucket"], desired, owned, module.check_mode)
    except (BucketNotFoundError, InvalidBucketPolicyError) as e:
        module.fail_json(msg=e.message)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)

    result = dict(changed=changed, policy=after or {}, statements=owned_statements(after, owned))
    if module._diff:
        result["diff"] = dict(before=before or {}, after=after or {})
    return result
