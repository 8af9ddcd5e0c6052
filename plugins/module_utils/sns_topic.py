# -*- coding: utf-8 -*-

# Copyright: Contributors to the trailops.cloudtrail project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The SNS topic CloudTrail notifies on each log file delivery, as a part of
the account baseline (``parts.py``): the topic (by name, made when missing;
or an existing topic by ARN, of which only the policy is touched), its
display name, and CloudTrail's ``SNS:Publish`` statement for this trail merged
into the topic policy.

The topic policy is merged, never replaced: SNS's default statement (the
account's own access) and anything an administrator added stay. A new topic
is made in one CreateTopic whose Policy attribute is SNS's default policy with
our statement merged in, which is exactly what the topic would hold after
CreateTopic and a merge.

The topic is never deleted here: its subscribers are someone's.
"""

from __future__ import annotations

import re
from typing import Any
from typing import Optional

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.trailops.cloudtrail.plugins.module_utils import policy_statements as ps
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parameters import ParameterError
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parts import PartErrorHandler
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parts import PartPlan
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parts import Where
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parts import name_from_trail

OPTION = "sns_topic_name"
# Amazon SNS developer guide, "Amazon SNS API permissions: Actions and
# resources reference", Policy quotas: a policy has at most 30 kb.
MAX_TOPIC_POLICY_BYTES = 30 * 1024
# CreateTopic API reference: a standard topic's name is 1 to 256 ASCII
# letters, digits, "_" and "-". CloudTrail notifies standard topics only.
_TOPIC_NAME = re.compile(r"[A-Za-z0-9_-]{1,256}")
_TOPIC_ARN = re.compile(r"arn:(?P<partition>aws(?:-[a-z]+)*):sns:(?P<region>[a-z0-9-]+):(?P<account>[0-9]{12}):(?P<name>[A-Za-z0-9_-]{1,256})")
# The Id and Version of the policy SNS gives a topic made without one.
DEFAULT_POLICY_ID = "__default_policy_ID"
DEFAULT_STATEMENT_SID = "__default_statement_ID"
DEFAULT_POLICY_VERSION = "2008-10-17"
# The actions of SNS's default statement, which lets the account's own
# principals use the topic (SNS developer guide, "Example cases for Amazon SNS
# access control"; what GetTopicAttributes shows on a new topic).
DEFAULT_STATEMENT_ACTIONS = [
    "SNS:GetTopicAttributes",
    "SNS:SetTopicAttributes",
    "SNS:AddPermission",
    "SNS:RemovePermission",
    "SNS:DeleteTopic",
    "SNS:Subscribe",
    "SNS:ListSubscriptionsByTopic",
    "SNS:Publish",
]


# ---------------------------------------------------------------- names and checks
def default_topic_name(trail_name: str) -> str:
    """``cloudtrail-<trail>``; a trail name may hold "." where a topic name may not."""
    return name_from_trail("cloudtrail-", trail_name)


def by_arn(spec: dict[str, Any]) -> bool:
    """An existing topic given by ARN: only its policy is ours to merge into."""
    return (spec.get("name") or "").startswith("arn:")


def check(spec: dict[str, Any], where: Optional[Where] = None) -> None:
    """ParameterError for a topic name or ARN SNS would refuse, or an ARN in
    another account, region or partition than the trail's (writes go only
    where the run is meant to act). No call."""
    name = spec.get("name")
    if not name:
        return
    if name.startswith("arn:"):
        match = _TOPIC_ARN.fullmatch(name)
        if not match:
            raise ParameterError(OPTION, f"{name!r} is not an SNS topic ARN (arn:<partition>:sns:<region>:<account id>:<name>); nothing was written")
        if where is not None and (match["account"], match["region"], match["partition"]) != (where.account, where.region, where.partition):
            raise ParameterError(
                OPTION,
                f"the topic {name!r} is not in the trail's account {where.account}, home region {where.region}"
                f" and partition {where.partition}, where this run writes; nothing was written",
            )
        return
    if not _TOPIC_NAME.fullmatch(name):
        raise ParameterError(
            OPTION, f"a standard SNS topic name is 1 to 256 ASCII letters, digits, '_' or '-' (got {name!r}); nothing was written"
        )


def topic_arn(spec: dict[str, Any], where: Where) -> str:
    given = spec.get("name") or default_topic_name(where.trail_name)
    return given if given.startswith("arn:") else where.arn("sns", given)


# ---------------------------------------------------------------- statements
def statement_sid(where: Where) -> str:
    """This trail's Sid in the topic policy: the user guide's
    ``AWSCloudTrailSNSPolicy`` with the trail's own suffix."""
    return "AWSCloudTrailSNSPolicy" + ps.trail_sid_suffix(where.trail_name, where.trail_arn)


def desired_statements(arn: str, where: Where) -> list[dict[str, Any]]:
    """The user guide's ("Amazon SNS topic policy for CloudTrail") statement
    for this trail: CloudTrail may publish to the topic, for this trail only."""
    return [
        {
            "Sid": statement_sid(where),
            "Effect": "Allow",
            "Principal": {"Service": ps.SERVICE_PRINCIPAL},
            "Action": "SNS:Publish",
            "Resource": arn,
            "Condition": {"StringEquals": {"aws:SourceArn": where.trail_arn}},
        }
    ]


def default_topic_policy(arn: str, account: str) -> dict[str, Any]:
    """The policy SNS gives a topic made without one."""
    return {
        "Version": DEFAULT_POLICY_VERSION,
        "Id": DEFAULT_POLICY_ID,
        "Statement": [
            {
                "Sid": DEFAULT_STATEMENT_SID,
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": list(DEFAULT_STATEMENT_ACTIONS),
                "Resource": arn,
                "Condition": {"StringEquals": {"AWS:SourceOwner": account}},
            }
        ],
    }


# ---------------------------------------------------------------- desired and plan (pure)
def desired(spec: dict[str, Any], where: Where) -> dict[str, Any]:
    """The topic as asked for. A topic given by ARN has no display name
    here: it is not ours to set."""
    check(spec, where)
    arn = topic_arn(spec, where)
    state: dict[str, Any] = {"name": arn.rsplit(":", 1)[1], "topic_arn": arn}
    if not by_arn(spec):
        display_name = spec.get("display_name")
        state["display_name"] = f"CloudTrail {where.trail_name}" if display_name is None else display_name
    state["statements"] = {statement["Sid"]: statement for statement in desired_statements(arn, where)}
    return state


def _problem(problem: Optional[str]) -> None:
    if problem:
        raise ParameterError(OPTION, problem)


def plan(before: Optional[dict[str, Any]], desired: Optional[dict[str, Any]], spec: dict[str, Any], where: Where) -> PartPlan:
    """The calls that make the topic as desired, and the state after them."""
    if desired is None:
        # The topic outlives the trail (the module docstring says why).
        return PartPlan.kept(before)
    arn = desired["topic_arn"]
    statements = desired_statements(arn, where)
    label = f"topic policy of {arn}"
    if before is None:
        if by_arn(spec):
            raise ParameterError(
                OPTION, f"the topic {arn} does not exist; a topic given by ARN is never created (give a name to create one); nothing was written"
            )
        policy = ps.merge_policy(None, statements, default_topic_policy(arn, where.account))
        _problem(ps.size_error(policy, MAX_TOPIC_POLICY_BYTES, label))
        attributes = {"Policy": ps.serialize_policy(policy)}
        if desired["display_name"]:
            attributes["DisplayName"] = desired["display_name"]
        return PartPlan(None, dict(desired), ["CreateTopic"], {"name": desired["name"], "attributes": attributes})

    current = ps.read_policy(before, DEFAULT_POLICY_VERSION)
    merged, problem = ps.merge_checked(current, statements, default_topic_policy(arn, where.account), MAX_TOPIC_POLICY_BYTES, label)
    _problem(problem)
    steps: list[str] = []
    writes: list[str] = []
    if merged is not None:
        steps.append("SetTopicAttributes")
        writes.append("Policy")
    after = {"name": before["name"], "topic_arn": arn}
    if "display_name" in desired:
        after["display_name"] = desired["display_name"]
        if before.get("display_name") != desired["display_name"]:
            steps.append("SetTopicAttributes")
            writes.append("DisplayName")
    after["statements"] = ps.view(before.get("statements") or {}, statements)
    # The result shows a plain dict: the read policy stays here.
    return PartPlan(dict(before), after, steps, {"writes": writes, "display_name": desired.get("display_name")})


# ---------------------------------------------------------------- SNS calls
class AnsibleSnsTopicError(AnsibleAWSError):
    pass


class SnsTopicErrorHandler(PartErrorHandler):
    _CUSTOM_EXCEPTION = AnsibleSnsTopicError
    MISSING_CODE = "NotFound"


@SnsTopicErrorHandler.list_error_handler("get the SNS topic's attributes")
def get_topic_attributes(sns, arn: str) -> Optional[dict[str, str]]:
    """The topic's attributes, or ``None`` when it does not exist."""
    return sns.get_topic_attributes(aws_retry=True, TopicArn=arn)["Attributes"]


@SnsTopicErrorHandler.common_error_handler("create the SNS topic")
def create_topic(sns, name: str, attributes: dict[str, str]) -> str:
    return sns.create_topic(aws_retry=True, Name=name, Attributes=attributes)["TopicArn"]


@SnsTopicErrorHandler.common_error_handler("set the SNS topic's attribute")
def set_topic_attribute(sns, arn: str, name: str, value: str) -> None:
    sns.set_topic_attributes(aws_retry=True, TopicArn=arn, AttributeName=name, AttributeValue=value)


# ---------------------------------------------------------------- read and apply
def _parse(text: Optional[str], arn: str, error) -> Optional[dict[str, Any]]:
    try:
        return ps.parse_policy(text, f"topic policy of {arn}")
    except ps.PolicyDocumentError as e:
        raise error(f"{e}; nothing was written") from None


def read(client_for, spec: dict[str, Any], where: Where) -> Optional[dict[str, Any]]:
    """GetTopicAttributes on the topic's ARN (built from the name and the
    trail's account and region, so no list call): NotFound only when the
    topic does not exist yet."""
    arn = topic_arn(spec, where)
    attributes = get_topic_attributes(client_for("sns"), arn)
    if attributes is None:
        return None
    policy = _parse(attributes.get("Policy"), arn, lambda message: ParameterError(OPTION, message))
    fields = {"name": arn.rsplit(":", 1)[1], "topic_arn": arn}
    if not by_arn(spec):
        fields["display_name"] = attributes.get("DisplayName") or ""
    return ps.PolicyState.of(policy, {statement_sid(where)}, **fields)


def _fresh_merge(sns, arn: str, where: Where) -> Optional[dict[str, Any]]:
    """The topic policy as read now with our statement merged, or ``None``
    when it already holds it: a statement added since the plan's read is kept."""
    attributes = get_topic_attributes(sns, arn)
    if attributes is None:
        raise AnsibleSnsTopicError(message=f"{OPTION}: the topic {arn} was deleted during the run; nothing more was written")
    current = _parse(attributes.get("Policy"), arn, lambda message: AnsibleSnsTopicError(message=f"{OPTION}: {message}"))
    merged, problem = ps.merge_checked(
        current, desired_statements(arn, where), default_topic_policy(arn, where.account), MAX_TOPIC_POLICY_BYTES, f"topic policy of {arn}"
    )
    if problem:
        raise AnsibleSnsTopicError(message=f"{OPTION}: {problem}")
    return merged


def apply(client_for, plan: PartPlan, where: Where) -> dict[str, Any]:
    """Make ``plan.steps`` in order; the topic's state after them."""
    sns = client_for("sns")
    arn = plan.after["topic_arn"]
    if plan.steps == ["CreateTopic"]:
        arn = create_topic(sns, plan.data["name"], plan.data["attributes"])
    else:
        for attribute in plan.data["writes"]:
            if attribute == "Policy":
                merged = _fresh_merge(sns, arn, where)
                if merged is not None:
                    set_topic_attribute(sns, arn, "Policy", ps.serialize_policy(merged))
            else:
                set_topic_attribute(sns, arn, "DisplayName", plan.data["display_name"])
    return dict(plan.after, topic_arn=arn)
