# -*- coding: utf-8 -*-

# Copyright: Contributors to the trailops.cloudtrail project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""CloudTrail's delivery to CloudWatch Logs as one part of the account
baseline (see ``parts.py``): the log group and its retention, and the IAM role
CloudTrail assumes to write there, with its trust policy and its inline policy
``cloudtrail-cloudwatch-logs``.

The normalized state (``None``: neither the log group nor the role exists)::

    {log_group_name, log_group_arn, retention_days,
     role_name, role_arn, trust_policy, inline_policy}

``log_group_arn`` is ``None`` when the log group does not exist (then
``retention_days`` says nothing); ``role_arn`` and ``trust_policy`` are
``None`` when the role does not exist; ``inline_policy`` is ``None`` when the
role has no policy of that name. ``retention_days`` ``None`` on an existing log
group means its events never expire. Policies are dicts, compared with
amazon.aws's ``compare_policies``.

What the collection owns here:

- the log group's retention. The log group is never deleted (it holds the
  trail's events); it is tagged ``trailops.cloudtrail:created-by=baseline``
  when this part creates it, and its tags are not read afterwards;
- the inline policy ``cloudtrail-cloudwatch-logs``, whole. The role's other
  inline and attached policies are never read nor touched;
- in the trust policy, only CloudTrail's ``sts:AssumeRole`` grant: every other
  statement is kept as it is.

IAM is eventually consistent: CloudTrail refuses a role (or an inline policy)
made a few seconds earlier with ``InvalidCloudWatchLogsRoleArnException`` or
``InvalidCloudWatchLogsLogGroupArnException`` ("Access denied..."). The plan's
``data["role_propagation"]`` says when this run writes the role or its
policies; the caller then retries CreateTrail/UpdateTrail on the errors
``is_role_propagation_error`` recognizes, for a bounded time
(``retry_role_propagation``).
"""

from __future__ import annotations

import json
import random
import re
import time
import urllib.parse
from typing import Any
from typing import Callable
from typing import Optional
from typing import TypeVar

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.iam import IAMErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.iam import get_iam_role
from ansible_collections.amazon.aws.plugins.module_utils.iam import validate_iam_identifiers
from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies

from ansible_collections.trailops.cloudtrail.plugins.module_utils.parameters import ParameterError
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parts import PartPlan
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parts import Where

SERVICE_PRINCIPAL = "cloudtrail.amazonaws.com"
POLICY_VERSION = "2012-10-17"
INLINE_POLICY_NAME = "cloudtrail-cloudwatch-logs"
# The Sid the trail role wrote before the baseline module, kept so that a
# role made by it needs no write.
INLINE_POLICY_SID = "AWSCloudTrailCreateLogStream"
CREATED_BY_TAG = {"trailops.cloudtrail:created-by": "baseline"}
DEFAULT_RETENTION_DAYS = 365

# The values PutRetentionPolicy accepts (botocore's logs model, shape ``Days``;
# the model states them only in its documentation, so they are kept here and a
# unit test compares the two). No retention at all is DeleteRetentionPolicy.
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)
# CreateLogGroup's ``logGroupName`` (botocore's logs model, shape ``LogGroupName``).
LOG_GROUP_NAME = re.compile(r"[\.\-_/#A-Za-z0-9]+")
MAX_LOG_GROUP_NAME = 512

# Each option as the baseline module names it, for the messages.
OPTIONS = {
    "log_group_name": "cloudwatch_logs_log_group_name",
    "retention_days": "cloudwatch_logs_retention_days",
    "role_name": "cloudwatch_logs_role_name",
}

# CloudTrail's answers while a new role or policy has not reached it yet
# (hashicorp/terraform-provider-aws#693, #1312): "Access denied. Check the trust
# relationships for your role." The same codes with another message ("You must
# specify a role ARN as well as a log group") are real errors.
ROLE_PROPAGATION_CODES = ("InvalidCloudWatchLogsRoleArnException", "InvalidCloudWatchLogsLogGroupArnException")
ROLE_PROPAGATION_ATTEMPTS = 8
ROLE_PROPAGATION_BACKOFF_CAP = 10.0

T = TypeVar("T")


class AnsibleCloudWatchLogsError(AnsibleAWSError):
    pass


class CloudWatchLogsErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = AnsibleCloudWatchLogsError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("ResourceNotFoundException")


# ---------------------------------------------------------------- names
def default_log_group_name(trail_name: str) -> str:
    return f"aws-cloudtrail-logs-{trail_name}"


def default_role_name(trail_name: str) -> str:
    return f"CloudTrailRoleForCloudWatchLogs-{trail_name}"


def _names(spec: dict[str, Any], where: Optional[Where]) -> tuple[str, str]:
    """The log group's and the role's names: as given, else named after the trail."""
    trail_name = where.trail_name if where else ""
    return (
        spec.get("log_group_name") or default_log_group_name(trail_name),
        spec.get("role_name") or default_role_name(trail_name),
    )


def _retention(spec: dict[str, Any]) -> Optional[int]:
    """The retention asked for: 365 days when the option is not given at all,
    ``None`` (never expire) when it is given as null."""
    return spec["retention_days"] if "retention_days" in spec else DEFAULT_RETENTION_DAYS


def log_group_arn(where: Where, name: str) -> str:
    """The log group's ARN as IAM policies name it (no trailing ``:*``)."""
    return where.arn("logs", f"log-group:{name}")


def role_arn(where: Where, name: str) -> str:
    """A role's ARN at the path ``/``, the path this part creates roles at."""
    return where.arn("iam", f"role/{name}", region="")


def trail_log_group_arn(state: dict[str, Any]) -> Optional[str]:
    """The trail's ``CloudWatchLogsLogGroupArn``: the log group's ARN with
    ``:*``, as CloudTrail wants it."""
    return f"{state['log_group_arn']}:*" if state.get("log_group_arn") else None


def trail_settings(state: dict[str, Any]) -> dict[str, Optional[str]]:
    """What the trail module's options take from this part's state."""
    return {"cloudwatch_logs_log_group_arn": trail_log_group_arn(state), "cloudwatch_logs_role_arn": state.get("role_arn")}


# ---------------------------------------------------------------- check
def _role_name_problem(name: str) -> Optional[str]:
    # amazon.aws's check uses Python's \w, which also matches non-ASCII
    # letters that IAM refuses.
    return validate_iam_identifiers("role", name) or (None if name.isascii() else "role name must be ASCII")


def check(spec: dict[str, Any], where: Optional[Where] = None) -> None:
    """Raise ``ParameterError`` for the first option CloudWatch Logs or IAM
    would refuse. Pure; runs before any call. Without ``where`` the names must
    already be resolved (the baseline passes them so)."""
    log_group_name, role_name = _names(spec, where)
    option = OPTIONS["log_group_name"]
    if not isinstance(log_group_name, str) or not 1 <= len(log_group_name) <= MAX_LOG_GROUP_NAME:
        raise ParameterError(option, f"a log group name has 1 to {MAX_LOG_GROUP_NAME} characters (got {log_group_name!r}); nothing was written")
    if not LOG_GROUP_NAME.fullmatch(log_group_name):
        hint = " (give the name, not the ARN)" if log_group_name.startswith("arn:") else ""
        raise ParameterError(
            option,
            f"a log group name has only ASCII letters, digits and '.', '-', '_', '/', '#' (got {log_group_name!r}){hint}; nothing was written",
        )
    retention = _retention(spec)
    if retention is not None and (isinstance(retention, bool) or retention not in RETENTION_DAYS):
        raise ParameterError(
            OPTIONS["retention_days"],
            f"must be one of the values CloudWatch Logs accepts ({', '.join(map(str, RETENTION_DAYS))}), or null for never"
            f" (got {retention!r}); nothing was written",
        )
    problem = _role_name_problem(role_name) if isinstance(role_name, str) else "role name must be a string"
    if problem:
        defaulted = "" if spec.get("role_name") else " (the default name, made from the trail name; give a shorter one)"
        raise ParameterError(OPTIONS["role_name"], f"{problem} (got {role_name!r}){defaulted}; nothing was written")


# ---------------------------------------------------------------- policies
def parse_policy_document(document: Any) -> Optional[dict[str, Any]]:
    """A policy document as a dict. IAM answers URL-encoded JSON, which boto3
    decodes; a client that did not gets it decoded here."""
    if document is None or isinstance(document, dict):
        return document
    text = urllib.parse.unquote(document)
    return json.loads(text)


def statements_of(policy: Optional[dict[str, Any]]) -> list[Any]:
    if not policy:
        return []
    statements = policy.get("Statement", [])
    return [statements] if isinstance(statements, dict) else list(statements)


def cloudtrail_trust_statement() -> dict[str, Any]:
    """CloudTrail's grant in the role's trust policy. Without the
    ``aws:SourceArn``/``aws:SourceAccount`` conditions: the CloudTrail user
    guide says confused deputy prevention does not apply to this role ("Role
    policy document for CloudTrail to use CloudWatch Logs for monitoring")."""
    return {"Effect": "Allow", "Principal": {"Service": SERVICE_PRINCIPAL}, "Action": "sts:AssumeRole"}


def _as_lower_list(value: Any) -> list[str]:
    return sorted(str(v).lower() for v in (value if isinstance(value, list) else [value]))


def is_cloudtrail_trust(statement: Any) -> bool:
    """Whether ``statement`` is a grant to CloudTrail alone to assume the role
    (drifted or not): those are ours to rewrite; any other statement is not."""
    if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
        return False
    principal = statement.get("Principal")
    return (
        isinstance(principal, dict)
        and set(principal) == {"Service"}
        and _as_lower_list(principal["Service"]) == [SERVICE_PRINCIPAL]
        and _as_lower_list(statement.get("Action")) == ["sts:assumerole"]
    )


def _same_statement(left: Any, right: Any) -> bool:
    def without_sid(statement: Any) -> Any:
        return {k: v for k, v in statement.items() if k != "Sid"} if isinstance(statement, dict) else statement

    return not compare_policies({"Statement": [without_sid(left)]}, {"Statement": [without_sid(right)]})


def merge_trust_policy(current: Optional[dict[str, Any]]) -> dict[str, Any]:
    """``current`` when it already holds CloudTrail's grant (under any Sid);
    otherwise ``current`` without its drifted CloudTrail grants and with ours
    appended, every other statement kept in place."""
    ours = cloudtrail_trust_statement()
    statements = statements_of(current)
    if current is not None and any(_same_statement(statement, ours) for statement in statements):
        return current
    merged = dict(current) if current else {"Version": POLICY_VERSION}
    merged["Statement"] = [statement for statement in statements if not is_cloudtrail_trust(statement)] + [ours]
    return merged


def inline_policy(log_group_arn_: str) -> dict[str, Any]:
    """The inline policy ``cloudtrail-cloudwatch-logs``: CloudTrail may make
    log streams in the log group and put events in them. One statement with
    both actions, as the trail role wrote it (the user guide splits them in
    two; the grant is the same)."""
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": INLINE_POLICY_SID,
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"{log_group_arn_}:log-stream:*",
            }
        ],
    }


def _policy_differs(current: Optional[dict[str, Any]], wanted: dict[str, Any]) -> bool:
    return current is None or compare_policies(current, wanted)


# ---------------------------------------------------------------- normalize
def normalize(
    log_group: Optional[dict[str, Any]],
    role: Optional[dict[str, Any]],
    policy: Optional[dict[str, Any]],
    log_group_name: str,
    role_name: str,
) -> Optional[dict[str, Any]]:
    """The normalized state from DescribeLogGroups' entry, GetRole's role and
    GetRolePolicy's document (each ``None`` when absent)."""
    if log_group is None and role is None:
        return None
    group_arn = None
    if log_group is not None:
        # ``logGroupArn`` is the ARN without ``:*``; older answers have only ``arn``.
        group_arn = log_group.get("logGroupArn") or re.sub(r":\*$", "", log_group.get("arn", ""))
    return {
        "log_group_name": log_group_name,
        "log_group_arn": group_arn,
        "retention_days": log_group.get("retentionInDays") if log_group is not None else None,
        "role_name": role_name,
        "role_arn": role["Arn"] if role is not None else None,
        "trust_policy": parse_policy_document(role.get("AssumeRolePolicyDocument")) if role is not None else None,
        "inline_policy": parse_policy_document(policy) if role is not None else None,
    }


# ---------------------------------------------------------------- the part
def desired(spec: dict[str, Any], where: Where) -> Optional[dict[str, Any]]:
    """The state asked for. The trust policy here is CloudTrail's grant alone;
    ``plan`` merges it into the role's current one. ``None`` for
    ``state: absent``, which this part never acts on (see ``plan``)."""
    if spec.get("state") == "absent":
        return None
    log_group_name, role_name = _names(spec, where)
    group_arn = log_group_arn(where, log_group_name)
    return {
        "log_group_name": log_group_name,
        "log_group_arn": group_arn,
        "retention_days": _retention(spec),
        "role_name": role_name,
        "role_arn": role_arn(where, role_name),
        "trust_policy": {"Version": POLICY_VERSION, "Statement": [cloudtrail_trust_statement()]},
        "inline_policy": inline_policy(group_arn),
    }


def plan(before: Optional[dict[str, Any]], desired_: Optional[dict[str, Any]], spec: dict[str, Any], where: Where) -> PartPlan:
    """The writes from ``before`` to ``desired_``, in the order ``apply``
    makes them: CreateLogGroup, PutRetentionPolicy or DeleteRetentionPolicy,
    CreateRole, UpdateAssumeRolePolicy, PutRolePolicy.

    ``desired_`` ``None`` (state absent) plans nothing: the log group holds the
    trail's events, and the role is left as the trail role always left it."""
    if desired_ is None:
        return PartPlan(before, before)
    current = before or {}
    steps: list[str] = []
    group_exists = current.get("log_group_arn") is not None
    role_exists = current.get("role_arn") is not None
    retention = desired_["retention_days"]
    if not group_exists:
        steps.append("CreateLogGroup")
        # A new log group keeps its events forever: only a retention is a write.
        if retention is not None:
            steps.append("PutRetentionPolicy")
    elif current.get("retention_days") != retention:
        steps.append("DeleteRetentionPolicy" if retention is None else "PutRetentionPolicy")

    trust = merge_trust_policy(current.get("trust_policy") if role_exists else None)
    if not role_exists:
        steps.append("CreateRole")
    elif _policy_differs(current.get("trust_policy"), trust):
        steps.append("UpdateAssumeRolePolicy")
    policy_differs = not role_exists or _policy_differs(current.get("inline_policy"), desired_["inline_policy"])
    if policy_differs:
        steps.append("PutRolePolicy")

    after = dict(
        desired_,
        # A role found at another path keeps its ARN (a path cannot change).
        role_arn=current["role_arn"] if role_exists else desired_["role_arn"],
        log_group_arn=current["log_group_arn"] if group_exists else desired_["log_group_arn"],
        trust_policy=trust,
        # What a read will show: a policy that already grants the same is kept as written.
        inline_policy=desired_["inline_policy"] if policy_differs else current["inline_policy"],
    )
    data = {
        "log_group_name": after["log_group_name"],
        "retention_days": retention,
        "role_name": after["role_name"],
        "trust_policy": trust,
        "inline_policy": after["inline_policy"],
        "tags": dict(CREATED_BY_TAG),
        "role_description": f"CloudTrail delivers the events of {where.trail_name} to CloudWatch Logs",
        # CloudTrail may refuse the role until these writes reach it.
        "role_propagation": any(step in ("CreateRole", "UpdateAssumeRolePolicy", "PutRolePolicy") for step in steps),
    }
    return PartPlan(before, after, steps, data)


def read(client_for: Callable[[str], Any], spec: dict[str, Any], where: Where) -> Optional[dict[str, Any]]:
    """The current state: DescribeLogGroups (by prefix: no error when the log
    group is absent), GetRole (NoSuchEntity only when the role is absent),
    GetRolePolicy only when the role exists. Three calls, no error, when
    everything is in place."""
    log_group_name, role_name = _names(spec, where)
    log_group = describe_log_group(client_for("logs"), log_group_name)
    iam = client_for("iam")
    role = get_iam_role(iam, role_name)
    policy = get_role_policy(iam, role_name, INLINE_POLICY_NAME) if role is not None else None
    return normalize(log_group, role, policy, log_group_name, role_name)


def apply(client_for: Callable[[str], Any], plan_: PartPlan, where: Where) -> Optional[dict[str, Any]]:
    """Make ``plan_.steps`` in order; the state after (the plan's prediction,
    with the new role's ARN as IAM answered it). Never called in check mode."""
    if not plan_.steps:
        return plan_.after
    data = plan_.data
    after = dict(plan_.after or {})
    logs = client_for("logs") if any(step.endswith(("LogGroup", "RetentionPolicy")) for step in plan_.steps) else None
    iam = client_for("iam") if any(step.endswith(("Role", "AssumeRolePolicy", "RolePolicy")) for step in plan_.steps) else None
    for step in plan_.steps:
        if step == "CreateLogGroup":
            create_log_group(logs, data["log_group_name"], data["tags"])
        elif step == "PutRetentionPolicy":
            put_retention_policy(logs, data["log_group_name"], data["retention_days"])
        elif step == "DeleteRetentionPolicy":
            delete_retention_policy(logs, data["log_group_name"])
        elif step == "CreateRole":
            after["role_arn"] = create_role(iam, data["role_name"], data["trust_policy"], data["role_description"])["Arn"]
        elif step == "UpdateAssumeRolePolicy":
            update_assume_role_policy(iam, data["role_name"], data["trust_policy"])
        elif step == "PutRolePolicy":
            put_role_policy(iam, data["role_name"], INLINE_POLICY_NAME, data["inline_policy"])
        else:
            raise ValueError(f"cloudwatch_logs: no such step {step!r}")
    return after


# ---------------------------------------------------------------- role propagation
def is_role_propagation_error(error: BaseException) -> bool:
    """Whether CloudTrail refused the log group or role only because IAM has
    not propagated a role or policy written moments ago. Takes the botocore
    ``ClientError`` or amazon.aws's ``AnsibleAWSError`` wrapping it."""
    cause = getattr(error, "exception", None) or error
    response = getattr(cause, "response", None) or {}
    details = response.get("Error", {}) if isinstance(response, dict) else {}
    return details.get("Code") in ROLE_PROPAGATION_CODES and "access denied" in str(details.get("Message", "")).lower()


def retry_role_propagation(
    call: Callable[[], T],
    attempts: int = ROLE_PROPAGATION_ATTEMPTS,
    pause: Callable[[float], None] = time.sleep,
) -> T:
    """``call()``, made again while it fails with a role propagation error,
    after jittered waits of half to all of 1, 2, 4, 8, 10, 10, 10 seconds
    (at most 45 s in all with the default 8 attempts); any other error, or the
    last attempt's, is raised."""
    for attempt in range(attempts):
        try:
            return call()
        except Exception as e:  # pylint: disable=broad-exception-caught
            if attempt == attempts - 1 or not is_role_propagation_error(e):
                raise
        pause(random.uniform(0.5, 1.0) * min(ROLE_PROPAGATION_BACKOFF_CAP, 2.0**attempt))
    raise AssertionError("unreachable")


# ---------------------------------------------------------------- CloudWatch Logs calls
@CloudWatchLogsErrorHandler.list_error_handler("describe log groups")
def describe_log_group(client, name: str) -> Optional[dict[str, Any]]:
    """The log group named ``name``, or ``None``. DescribeLogGroups by prefix
    answers an empty list rather than an error when it is absent; the prefix
    also matches longer names, so the answer is searched for the exact one."""
    params: dict[str, Any] = {"logGroupNamePrefix": name}
    while True:
        response = client.describe_log_groups(aws_retry=True, **params)
        for group in response.get("logGroups", []):
            if group.get("logGroupName") == name:
                return group
        if not response.get("nextToken"):
            return None
        params["nextToken"] = response["nextToken"]


@CloudWatchLogsErrorHandler.common_error_handler("create log group")
def create_log_group(client, name: str, tags: dict[str, str]) -> bool:
    """False when another writer made it since the read (it is then used as
    it is, untagged)."""
    try:
        client.create_log_group(aws_retry=True, logGroupName=name, tags=tags)
    except is_boto3_error_code("ResourceAlreadyExistsException"):
        return False
    return True


@CloudWatchLogsErrorHandler.common_error_handler("put retention policy")
def put_retention_policy(client, name: str, days: int) -> None:
    client.put_retention_policy(aws_retry=True, logGroupName=name, retentionInDays=days)


@CloudWatchLogsErrorHandler.common_error_handler("delete retention policy")
def delete_retention_policy(client, name: str) -> None:
    client.delete_retention_policy(aws_retry=True, logGroupName=name)


# ---------------------------------------------------------------- IAM calls
# GetRole is amazon.aws's get_iam_role; it has no wrapper for the rest.
@IAMErrorHandler.list_error_handler("get role policy")
def get_role_policy(client, role_name: str, policy_name: str) -> Optional[Any]:
    """The inline policy's document, or ``None`` when the role has none of that name."""
    return client.get_role_policy(aws_retry=True, RoleName=role_name, PolicyName=policy_name)["PolicyDocument"]


@IAMErrorHandler.common_error_handler("create role")
def create_role(client, name: str, trust_policy: dict[str, Any], description: str) -> dict[str, Any]:
    return client.create_role(aws_retry=True, RoleName=name, AssumeRolePolicyDocument=json.dumps(trust_policy), Description=description)["Role"]


@IAMErrorHandler.common_error_handler("update assume role policy")
def update_assume_role_policy(client, name: str, trust_policy: dict[str, Any]) -> None:
    client.update_assume_role_policy(aws_retry=True, RoleName=name, PolicyDocument=json.dumps(trust_policy))


@IAMErrorHandler.common_error_handler("put role policy")
def put_role_policy(client, role_name: str, policy_name: str, document: dict[str, Any]) -> None:
    client.put_role_policy(aws_retry=True, RoleName=role_name, PolicyName=policy_name, PolicyDocument=json.dumps(document))
