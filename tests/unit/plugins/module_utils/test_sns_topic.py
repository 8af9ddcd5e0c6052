"""The trail's SNS topic part (module_utils/sns_topic.py): checks, desired
state and plans as case tables; reads and writes with a fake client."""

from __future__ import annotations

import json
from unittest.mock import MagicMock

import pytest
from botocore.exceptions import ClientError

from ansible_collections.trailops.cloudtrail.plugins.module_utils import policy_statements as ps
from ansible_collections.trailops.cloudtrail.plugins.module_utils import sns_topic
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parameters import ParameterError
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parts import Where

ACCOUNT = "123456789012"
WHERE = Where(ACCOUNT, "aws", "us-east-1", "management-events")
ARN = f"arn:aws:sns:us-east-1:{ACCOUNT}:cloudtrail-management-events"
FOREIGN = {"Sid": "Alarms", "Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "SNS:Publish", "Resource": ARN}


def existing(policy=None, display_name="CloudTrail management-events", arn=ARN, spec=None):
    """A topic's state as read() returns it, with the policy it was read from."""
    if policy is None:
        policy = ps.merge_policy(None, sns_topic.desired_statements(arn, WHERE), sns_topic.default_topic_policy(arn, ACCOUNT))
    shown = {} if sns_topic.by_arn(spec or {}) else {"display_name": display_name}
    return ps.PolicyState.of(policy, {sns_topic.statement_sid(WHERE)}, name=arn.rsplit(":", 1)[1], topic_arn=arn, **shown)


def plan_for(before, spec=None):
    spec = spec or {}
    return sns_topic.plan(before, sns_topic.desired(spec, WHERE), spec, WHERE)


# ---------------------------------------------------------------- check
@pytest.mark.parametrize(
    "name, problem",
    [
        (None, None),
        ("cloudtrail-management-events", None),
        ("a" * 256, None),
        ("a_b-C9", None),
        (f"arn:aws:sns:us-east-1:{ACCOUNT}:alerts", None),
        ("a" * 257, "standard SNS topic name"),
        ("with.dot", "standard SNS topic name"),
        ("alerts.fifo", "standard SNS topic name"),
        ("with space", "standard SNS topic name"),
        ("arn:aws:sns:us-east-1:alerts", "not an SNS topic ARN"),
        ("arn:aws:sqs:us-east-1:123456789012:q", "not an SNS topic ARN"),
        ("arn:aws:sns:us-east-1:210987654321:alerts", "not in the trail's account"),
        (f"arn:aws:sns:eu-west-1:{ACCOUNT}:alerts", "not in the trail's account"),
        (f"arn:aws-cn:sns:us-east-1:{ACCOUNT}:alerts", "not in the trail's account"),
    ],
)
def test_check(name, problem):
    spec = {"name": name}
    if problem is None:
        sns_topic.check(spec, WHERE)
        return
    with pytest.raises(ParameterError) as raised:
        sns_topic.check(spec, WHERE)
    assert raised.value.option == "sns_topic_name"
    assert problem in str(raised.value) and "nothing was written" in str(raised.value)


@pytest.mark.parametrize("trail, topic", [("management-events", "cloudtrail-management-events"), ("org.trail", "cloudtrail-org-trail")])
def test_default_topic_name_is_always_one_sns_accepts(trail, topic):
    assert sns_topic.default_topic_name(trail) == topic
    sns_topic.check({"name": topic}, WHERE)


# ---------------------------------------------------------------- desired
def test_desired_by_name():
    desired = sns_topic.desired({}, WHERE)
    assert list(desired) == ["name", "topic_arn", "display_name", "statements"]
    assert desired["topic_arn"] == ARN
    assert desired["display_name"] == "CloudTrail management-events"
    (statement,) = desired["statements"].values()
    assert statement["Action"] == "SNS:Publish" and statement["Resource"] == ARN
    assert statement["Condition"] == {"StringEquals": {"aws:SourceArn": WHERE.trail_arn}}
    assert statement["Sid"].startswith("AWSCloudTrailSNSPolicymanagementevents")


def test_desired_by_arn_leaves_the_display_name_alone():
    arn = f"arn:aws:sns:us-east-1:{ACCOUNT}:alerts"
    desired = sns_topic.desired({"name": arn}, WHERE)
    assert desired["name"] == "alerts" and desired["topic_arn"] == arn
    assert "display_name" not in desired


def test_desired_refuses_a_topic_of_another_account():
    with pytest.raises(ParameterError):
        sns_topic.desired({"name": "arn:aws:sns:us-east-1:210987654321:alerts"}, WHERE)


# ---------------------------------------------------------------- plan
def test_plan_create_is_one_call_with_the_default_policy_and_ours():
    plan = plan_for(None, {"display_name": "Trail notices"})
    assert plan.steps == ["CreateTopic"]
    assert plan.after["display_name"] == "Trail notices"
    attributes = plan.data["attributes"]
    assert attributes["DisplayName"] == "Trail notices"
    policy = json.loads(attributes["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == [sns_topic.DEFAULT_STATEMENT_SID, sns_topic.statement_sid(WHERE)]
    assert policy["Id"] == sns_topic.DEFAULT_POLICY_ID


def test_plan_create_without_a_display_name_sends_none():
    plan = plan_for(None, {"display_name": ""})
    assert "DisplayName" not in plan.data["attributes"]


def test_plan_no_change():
    before = existing()
    plan = plan_for(before)
    assert plan.steps == []
    assert plan.after == dict(before)


@pytest.mark.parametrize(
    "policy, display_name, writes",
    [
        ({"Version": "2008-10-17", "Statement": [FOREIGN]}, "CloudTrail management-events", ["Policy"]),
        (None, "renamed", ["DisplayName"]),
        ({"Version": "2008-10-17", "Statement": [FOREIGN]}, "", ["Policy", "DisplayName"]),
    ],
)
def test_plan_repairs_the_policy_and_the_display_name(policy, display_name, writes):
    plan = plan_for(existing(policy, display_name=display_name))
    assert plan.steps == ["SetTopicAttributes"] * len(writes)
    assert plan.data["writes"] == writes
    assert plan.after == sns_topic.desired({}, WHERE)


def test_plan_by_arn_merges_only_the_statement():
    arn = f"arn:aws:sns:us-east-1:{ACCOUNT}:alerts"
    spec = {"name": arn}
    before = existing({"Version": "2008-10-17", "Statement": [dict(FOREIGN, Resource=arn)]}, arn=arn, spec=spec)
    plan = plan_for(before, spec)
    assert plan.steps == ["SetTopicAttributes"] and plan.data["writes"] == ["Policy"]
    assert "display_name" not in plan.after


def test_plan_refuses_a_missing_topic_given_by_arn():
    with pytest.raises(ParameterError, match="never created"):
        plan_for(None, {"name": f"arn:aws:sns:us-east-1:{ACCOUNT}:alerts"})


def test_plan_refuses_a_foreign_statement_under_our_sid():
    sid = sns_topic.statement_sid(WHERE)
    policy = {"Version": "2008-10-17", "Statement": [dict(FOREIGN, Sid=sid)]}
    with pytest.raises(ParameterError, match=sid):
        plan_for(existing(policy))


def test_plan_refuses_a_merge_over_the_topic_policy_size_limit():
    big = dict(FOREIGN, Resource="x" * sns_topic.MAX_TOPIC_POLICY_BYTES)
    with pytest.raises(ParameterError, match="over the limit of 30720"):
        plan_for(existing({"Version": "2008-10-17", "Statement": [big]}))


# ---------------------------------------------------------------- read and apply with a fake SNS
def test_read_is_one_call_and_a_missing_topic_is_none():
    sns = MagicMock()
    sns.get_topic_attributes.side_effect = ClientError({"Error": {"Code": "NotFound", "Message": "Topic does not exist"}}, "GetTopicAttributes")
    assert sns_topic.read(lambda service: sns, {}, WHERE) is None
    sns.get_topic_attributes.assert_called_once_with(aws_retry=True, TopicArn=ARN)


def test_read_shows_only_our_statement_and_keeps_the_policy_for_the_plan():
    policy = {"Version": "2008-10-17", "Statement": [FOREIGN]}
    sns = MagicMock()
    sns.get_topic_attributes.return_value = {"Attributes": {"Policy": json.dumps(policy), "DisplayName": "x", "TopicArn": ARN}}
    state = sns_topic.read(lambda service: sns, {}, WHERE)
    assert dict(state) == {"name": "cloudtrail-management-events", "topic_arn": ARN, "display_name": "x", "statements": {}}
    assert state.policy == policy


def test_read_refuses_a_policy_that_is_no_policy_document():
    sns = MagicMock()
    sns.get_topic_attributes.return_value = {"Attributes": {"Policy": "[]"}}
    with pytest.raises(ParameterError, match="left untouched"):
        sns_topic.read(lambda service: sns, {}, WHERE)


def test_apply_create():
    sns = MagicMock()
    sns.create_topic.return_value = {"TopicArn": ARN}
    plan = plan_for(None)
    assert sns_topic.apply(lambda service: sns, plan, WHERE) == plan.after
    sns.create_topic.assert_called_once_with(aws_retry=True, Name="cloudtrail-management-events", Attributes=plan.data["attributes"])


def test_apply_merges_into_the_policy_as_read_at_write_time():
    plan = plan_for(existing({"Version": "2008-10-17", "Statement": []}, display_name="old"))
    sns = MagicMock()
    sns.get_topic_attributes.return_value = {"Attributes": {"Policy": json.dumps({"Version": "2008-10-17", "Statement": [FOREIGN]})}}
    sns_topic.apply(lambda service: sns, plan, WHERE)
    calls = sns.set_topic_attributes.call_args_list
    assert [c.kwargs["AttributeName"] for c in calls] == ["Policy", "DisplayName"]
    written = json.loads(calls[0].kwargs["AttributeValue"])
    assert written["Statement"] == [FOREIGN, *sns_topic.desired_statements(ARN, WHERE)]
    assert calls[1].kwargs["AttributeValue"] == "CloudTrail management-events"
