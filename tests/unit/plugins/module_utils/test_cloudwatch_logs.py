"""Case tables for module_utils/cloudwatch_logs.py: the checks, the desired
state, the trust policy merge, the plan, and read/apply over fake clients."""

from __future__ import annotations

import copy
import json
import re
import urllib.parse
from unittest.mock import MagicMock

import botocore.session
import pytest
from botocore.exceptions import ClientError

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.trailops.cloudtrail.plugins.module_utils import cloudwatch_logs as cwl
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parameters import ParameterError
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parts import Where

ACCOUNT = "123456789012"
WHERE = Where(ACCOUNT, "aws", "eu-west-1", "org-trail")
GROUP = "aws-cloudtrail-logs-org-trail"
GROUP_ARN = f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:{GROUP}"
ROLE = "CloudTrailRoleForCloudWatchLogs-org-trail"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{ROLE}"
OURS = {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "sts:AssumeRole"}
FOREIGN_TRUST = {"Sid": "Ops", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}
SPEC = {"log_group_name": GROUP, "retention_days": 365, "role_name": ROLE}


def state(**overrides):
    """The state of a log group and role made by this part for WHERE."""
    current = {
        "log_group_name": GROUP,
        "log_group_arn": GROUP_ARN,
        "retention_days": 365,
        "role_name": ROLE,
        "role_arn": ROLE_ARN,
        "trust_policy": {"Version": "2012-10-17", "Statement": [dict(OURS)]},
        "inline_policy": cwl.inline_policy(GROUP_ARN),
    }
    current.update(overrides)
    return current


def client_error(code: str, message: str = "x", operation: str = "Op") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


# ---------------------------------------------------------------- check
@pytest.mark.parametrize(
    "spec, option, rule",
    [
        ({}, None, None),
        (SPEC, None, None),
        ({"log_group_name": "", "role_name": None}, None, None),
        ({"retention_days": None}, None, None),
        ({"retention_days": 3653}, None, None),
        ({"log_group_name": "/aws/cloudtrail/a_b-c.d#1"}, None, None),
        ({"log_group_name": "x" * 512, "role_name": "r" * 64}, None, None),
        ({"role_name": "a+b=c,d.e@f_g-h"}, None, None),
        ({"retention_days": 0}, "cloudwatch_logs_retention_days", "one of the values"),
        ({"retention_days": 2}, "cloudwatch_logs_retention_days", "one of the values"),
        ({"retention_days": 366}, "cloudwatch_logs_retention_days", "one of the values"),
        ({"retention_days": -7}, "cloudwatch_logs_retention_days", "one of the values"),
        ({"retention_days": True}, "cloudwatch_logs_retention_days", "one of the values"),
        ({"retention_days": "365"}, "cloudwatch_logs_retention_days", "one of the values"),
        ({"log_group_name": "x" * 513}, "cloudwatch_logs_log_group_name", "1 to 512 characters"),
        ({"log_group_name": "my group"}, "cloudwatch_logs_log_group_name", "ASCII letters"),
        ({"log_group_name": "gruppe-ä"}, "cloudwatch_logs_log_group_name", "ASCII letters"),
        ({"log_group_name": GROUP_ARN + ":*"}, "cloudwatch_logs_log_group_name", "not the ARN"),
        ({"role_name": "r" * 65}, "cloudwatch_logs_role_name", "may not exceed 64"),
        ({"role_name": "my role"}, "cloudwatch_logs_role_name", "must match pattern"),
        ({"role_name": "rôle"}, "cloudwatch_logs_role_name", "ASCII"),
        ({"role_name": "arn:aws:iam::123456789012:role/x"}, "cloudwatch_logs_role_name", "must match pattern"),
    ],
)
def test_check_names_the_option_and_the_rule(spec, option, rule):
    if option is None:
        cwl.check(spec, WHERE)
        return
    with pytest.raises(ParameterError) as raised:
        cwl.check(spec, WHERE)
    assert raised.value.option == option
    assert str(raised.value).startswith(f"{option}: ")
    assert rule in str(raised.value)
    assert "nothing was written" in str(raised.value)


def test_check_of_a_long_trail_name_says_the_default_role_name_is_too_long():
    where = Where(ACCOUNT, "aws", "eu-west-1", "t" * 40)
    with pytest.raises(ParameterError, match="default name, made from the trail name") as raised:
        cwl.check({}, where)
    assert raised.value.option == "cloudwatch_logs_role_name"
    cwl.check({"role_name": "short"}, where)


def test_check_without_where_takes_resolved_names():
    cwl.check(SPEC)
    with pytest.raises(ParameterError):
        cwl.check(dict(SPEC, retention_days=4))


def test_retention_values_are_those_of_botocores_logs_model():
    model = botocore.session.get_session().get_service_model("logs")
    documentation = model.shape_for("Days").documentation
    listed = re.search(r"Possible values are: ([0-9, and]+)\.", documentation).group(1)
    assert tuple(int(value) for value in re.findall(r"[0-9]+", listed)) == cwl.RETENTION_DAYS


def test_log_group_name_rule_is_botocores():
    model = botocore.session.get_session().get_service_model("logs")
    metadata = model.shape_for("LogGroupName").metadata
    assert metadata["pattern"] == cwl.LOG_GROUP_NAME.pattern
    assert metadata["max"] == cwl.MAX_LOG_GROUP_NAME


# ---------------------------------------------------------------- desired
@pytest.mark.parametrize(
    "spec, where, expected",
    [
        ({}, WHERE, {"log_group_name": GROUP, "retention_days": 365, "role_name": ROLE, "log_group_arn": GROUP_ARN, "role_arn": ROLE_ARN}),
        ({"retention_days": None}, WHERE, {"retention_days": None}),
        (
            {"retention_days": 7, "log_group_name": "g", "role_name": "r"},
            WHERE,
            {"retention_days": 7, "log_group_arn": f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:g", "role_arn": f"arn:aws:iam::{ACCOUNT}:role/r"},
        ),
        (
            {},
            Where(ACCOUNT, "aws-cn", "cn-north-1", "t1"),
            {
                "log_group_arn": f"arn:aws-cn:logs:cn-north-1:{ACCOUNT}:log-group:aws-cloudtrail-logs-t1",
                "role_arn": f"arn:aws-cn:iam::{ACCOUNT}:role/CloudTrailRoleForCloudWatchLogs-t1",
            },
        ),
    ],
)
def test_desired(spec, where, expected):
    wanted = cwl.desired(spec, where)
    assert list(wanted) == ["log_group_name", "log_group_arn", "retention_days", "role_name", "role_arn", "trust_policy", "inline_policy"]
    for key, value in expected.items():
        assert wanted[key] == value
    assert wanted["trust_policy"] == {"Version": "2012-10-17", "Statement": [OURS]}
    assert wanted["inline_policy"]["Statement"][0]["Resource"] == f"{wanted['log_group_arn']}:log-stream:*"
    assert wanted["inline_policy"]["Statement"][0]["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]


def test_desired_of_an_absent_baseline_is_none():
    assert cwl.desired({"state": "absent"}, WHERE) is None


def test_trail_settings_point_at_the_log_group_with_star_and_the_role():
    assert cwl.trail_settings(state()) == {"cloudwatch_logs_log_group_arn": f"{GROUP_ARN}:*", "cloudwatch_logs_role_arn": ROLE_ARN}
    assert cwl.trail_log_group_arn(state(log_group_arn=None)) is None


# ---------------------------------------------------------------- trust policy
OURS_WITH_SID = dict(OURS, Sid="CloudTrail", Action=["sts:AssumeRole"], Principal={"Service": ["cloudtrail.amazonaws.com"]})
DRIFTED = dict(OURS, Condition={"StringEquals": {"aws:SourceAccount": "999999999999"}})
TWO_SERVICES = dict(OURS, Principal={"Service": ["cloudtrail.amazonaws.com", "logs.amazonaws.com"]})
DENY = dict(OURS, Effect="Deny")


@pytest.mark.parametrize(
    "statements, expected",
    [
        (None, [OURS]),
        ([], [OURS]),
        ([OURS], "unchanged"),
        ([OURS_WITH_SID], "unchanged"),
        ([FOREIGN_TRUST, OURS], "unchanged"),
        ([FOREIGN_TRUST], [FOREIGN_TRUST, OURS]),
        ([DRIFTED], [OURS]),
        ([FOREIGN_TRUST, DRIFTED], [FOREIGN_TRUST, OURS]),
        ([TWO_SERVICES], [TWO_SERVICES, OURS]),
        ([DENY], [DENY, OURS]),
    ],
)
def test_merge_trust_policy_keeps_every_statement_but_cloudtrails_own(statements, expected):
    current = None if statements is None else {"Version": "2012-10-17", "Statement": copy.deepcopy(statements)}
    merged = cwl.merge_trust_policy(current)
    if expected == "unchanged":
        assert merged is current
    else:
        assert merged == {"Version": "2012-10-17", "Statement": expected}


def test_merge_trust_policy_takes_a_single_statement_object():
    merged = cwl.merge_trust_policy({"Version": "2008-10-17", "Statement": FOREIGN_TRUST})
    assert merged == {"Version": "2008-10-17", "Statement": [FOREIGN_TRUST, OURS]}


# ---------------------------------------------------------------- plan
FOREIGN_TRUST_POLICY = {"Version": "2012-10-17", "Statement": [FOREIGN_TRUST]}
SAME_GRANT_REWRITTEN = {
    "Statement": [
        {
            "Effect": "Allow",
            "Sid": "AWSCloudTrailCreateLogStream",
            "Action": ["logs:PutLogEvents", "logs:CreateLogStream"],
            "Resource": [f"{GROUP_ARN}:log-stream:*"],
        }
    ],
    "Version": "2012-10-17",
}


@pytest.mark.parametrize(
    "before, spec, steps, changes",
    [
        (None, SPEC, ["CreateLogGroup", "PutRetentionPolicy", "CreateRole", "PutRolePolicy"], {}),
        (None, dict(SPEC, retention_days=None), ["CreateLogGroup", "CreateRole", "PutRolePolicy"], {"retention_days": None}),
        (state(), SPEC, [], {}),
        (state(retention_days=None), dict(SPEC, retention_days=None), [], {"retention_days": None}),
        (state(retention_days=7), SPEC, ["PutRetentionPolicy"], {}),
        (state(retention_days=None), SPEC, ["PutRetentionPolicy"], {}),
        (state(retention_days=365), dict(SPEC, retention_days=None), ["DeleteRetentionPolicy"], {"retention_days": None}),
        (state(retention_days=7), dict(SPEC, retention_days=3653), ["PutRetentionPolicy"], {"retention_days": 3653}),
        (
            state(role_arn=None, trust_policy=None, inline_policy=None),
            SPEC,
            ["CreateRole", "PutRolePolicy"],
            {},
        ),
        (
            state(log_group_arn=None, retention_days=None),
            SPEC,
            ["CreateLogGroup", "PutRetentionPolicy"],
            {},
        ),
        (state(inline_policy=None), SPEC, ["PutRolePolicy"], {}),
        (
            state(inline_policy={"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]}),
            SPEC,
            ["PutRolePolicy"],
            {},
        ),
        (state(inline_policy=SAME_GRANT_REWRITTEN), SPEC, [], {"inline_policy": SAME_GRANT_REWRITTEN}),
        (
            state(trust_policy=FOREIGN_TRUST_POLICY),
            SPEC,
            ["UpdateAssumeRolePolicy"],
            {"trust_policy": {"Version": "2012-10-17", "Statement": [FOREIGN_TRUST, OURS]}},
        ),
        (
            state(trust_policy={"Version": "2012-10-17", "Statement": [FOREIGN_TRUST, OURS_WITH_SID]}),
            SPEC,
            [],
            {"trust_policy": {"Version": "2012-10-17", "Statement": [FOREIGN_TRUST, OURS_WITH_SID]}},
        ),
        (
            state(role_arn=f"arn:aws:iam::{ACCOUNT}:role/service-role/{ROLE}"),
            SPEC,
            [],
            {"role_arn": f"arn:aws:iam::{ACCOUNT}:role/service-role/{ROLE}"},
        ),
    ],
)
def test_plan_steps_and_after(before, spec, steps, changes):
    wanted = cwl.desired(spec, WHERE)
    planned = cwl.plan(copy.deepcopy(before), wanted, spec, WHERE)
    assert planned.steps == steps
    assert planned.changed is bool(steps)
    assert planned.before == before
    assert planned.after == dict(state(), **changes)
    assert planned.data["role_propagation"] is any(s in ("CreateRole", "UpdateAssumeRolePolicy", "PutRolePolicy") for s in steps)
    # What apply leaves is what the next run reads: it plans nothing.
    assert cwl.plan(planned.after, cwl.desired(spec, WHERE), spec, WHERE).steps == []


def test_plan_data_carries_the_writes():
    planned = cwl.plan(state(trust_policy=FOREIGN_TRUST_POLICY, retention_days=7), cwl.desired(SPEC, WHERE), SPEC, WHERE)
    assert planned.data["trust_policy"] == {"Version": "2012-10-17", "Statement": [FOREIGN_TRUST, OURS]}
    assert planned.data["retention_days"] == 365
    assert planned.data["tags"] == {"trailops.cloudtrail:created-by": "baseline"}
    assert planned.data["inline_policy"] == cwl.inline_policy(GROUP_ARN)


def test_plan_of_an_absent_baseline_leaves_the_log_group_and_role():
    planned = cwl.plan(state(), None, {"state": "absent"}, WHERE)
    assert planned.steps == [] and planned.after == state()
    assert cwl.plan(None, None, {"state": "absent"}, WHERE).after is None


# ---------------------------------------------------------------- normalize
URL_ENCODED_TRUST = urllib.parse.quote(json.dumps({"Version": "2012-10-17", "Statement": [OURS]}))


@pytest.mark.parametrize(
    "log_group, role, policy, expected",
    [
        (None, None, None, None),
        (
            {"logGroupName": GROUP, "arn": f"{GROUP_ARN}:*", "retentionInDays": 365, "creationTime": 1, "storedBytes": 0},
            {"RoleName": ROLE, "Arn": ROLE_ARN, "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [OURS]}},
            cwl.inline_policy(GROUP_ARN),
            state(),
        ),
        (
            {"logGroupName": GROUP, "arn": f"{GROUP_ARN}:*", "logGroupArn": GROUP_ARN},
            {"RoleName": ROLE, "Arn": ROLE_ARN, "AssumeRolePolicyDocument": URL_ENCODED_TRUST},
            urllib.parse.quote(json.dumps(cwl.inline_policy(GROUP_ARN))),
            state(retention_days=None),
        ),
        (
            {"logGroupName": GROUP, "arn": f"{GROUP_ARN}:*", "retentionInDays": 7},
            None,
            None,
            state(retention_days=7, role_arn=None, trust_policy=None, inline_policy=None),
        ),
        (
            None,
            {"RoleName": ROLE, "Arn": ROLE_ARN, "AssumeRolePolicyDocument": URL_ENCODED_TRUST},
            None,
            state(log_group_arn=None, retention_days=None, inline_policy=None),
        ),
    ],
)
def test_normalize(log_group, role, policy, expected):
    assert cwl.normalize(log_group, role, policy, GROUP, ROLE) == expected


# ---------------------------------------------------------------- role propagation
@pytest.mark.parametrize(
    "error, expected",
    [
        (client_error("InvalidCloudWatchLogsRoleArnException", "Access denied. Check the trust relationships for your role."), True),
        (client_error("InvalidCloudWatchLogsLogGroupArnException", "Access denied. Check the permissions for your role."), True),
        (AnsibleAWSError(message="Failed", exception=client_error("InvalidCloudWatchLogsRoleArnException", "Access denied.")), True),
        (client_error("InvalidCloudWatchLogsRoleArnException", "You must specify a role ARN as well as a log group."), False),
        (client_error("InvalidCloudWatchLogsLogGroupArnException", "Log group x is not valid or does not exist."), False),
        (client_error("AccessDeniedException", "Access denied."), False),
        (ValueError("Access denied"), False),
    ],
)
def test_is_role_propagation_error(error, expected):
    assert cwl.is_role_propagation_error(error) is expected


def test_retry_role_propagation_retries_only_propagation_errors():
    pauses = []
    denied = client_error("InvalidCloudWatchLogsRoleArnException", "Access denied.")
    answers = [denied, denied, "done"]

    def call():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert cwl.retry_role_propagation(call, pause=pauses.append) == "done"
    assert len(pauses) == 2 and all(0 < p <= cwl.ROLE_PROPAGATION_BACKOFF_CAP for p in pauses)

    other = client_error("InvalidCloudWatchLogsRoleArnException", "You must specify a role ARN as well as a log group.")
    pauses.clear()
    with pytest.raises(ClientError):
        cwl.retry_role_propagation(lambda: (entry for entry in ()).throw(other), pause=pauses.append)
    assert pauses == []


def test_retry_role_propagation_gives_up_after_its_attempts():
    calls = []

    def call():
        calls.append(1)
        raise client_error("InvalidCloudWatchLogsRoleArnException", "Access denied.")

    with pytest.raises(ClientError):
        cwl.retry_role_propagation(call, attempts=3, pause=lambda seconds: None)
    assert len(calls) == 3


# ---------------------------------------------------------------- read and apply over fake clients
def fake_clients(log_groups, role=None, policy=None):
    logs, iam = MagicMock(name="logs"), MagicMock(name="iam")
    logs.describe_log_groups.side_effect = log_groups
    if role is None:
        iam.get_role.side_effect = client_error("NoSuchEntity", operation="GetRole")
    else:
        iam.get_role.return_value = {"Role": role}
    if policy is None:
        iam.get_role_policy.side_effect = client_error("NoSuchEntity", operation="GetRolePolicy")
    else:
        iam.get_role_policy.return_value = {"PolicyDocument": policy}
    iam.create_role.return_value = {"Role": {"Arn": ROLE_ARN}}
    return logs, iam, {"logs": logs, "iam": iam}.__getitem__


def test_read_in_place_makes_three_calls_and_finds_the_exact_name_among_prefix_matches():
    pages = [
        {"logGroups": [{"logGroupName": GROUP + "-2", "arn": f"{GROUP_ARN}-2:*"}], "nextToken": "n"},
        {"logGroups": [{"logGroupName": GROUP, "arn": f"{GROUP_ARN}:*", "retentionInDays": 365}]},
    ]
    role = {"RoleName": ROLE, "Arn": ROLE_ARN, "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [OURS]}}
    logs, iam, client_for = fake_clients(pages, role, cwl.inline_policy(GROUP_ARN))
    assert cwl.read(client_for, SPEC, WHERE) == state()
    assert logs.describe_log_groups.call_args_list[0].kwargs == {"aws_retry": True, "logGroupNamePrefix": GROUP}
    assert logs.describe_log_groups.call_args_list[1].kwargs["nextToken"] == "n"
    iam.get_role.assert_called_once_with(RoleName=ROLE)
    iam.get_role_policy.assert_called_once_with(aws_retry=True, RoleName=ROLE, PolicyName="cloudtrail-cloudwatch-logs")


def test_read_of_nothing_asks_no_role_policy():
    dummy, iam, client_for = fake_clients([{"logGroups": []}])
    assert cwl.read(client_for, SPEC, WHERE) is None
    iam.get_role_policy.assert_not_called()


def test_read_of_a_role_without_our_policy():
    role = {"RoleName": ROLE, "Arn": ROLE_ARN, "AssumeRolePolicyDocument": FOREIGN_TRUST_POLICY}
    dummy, dummy, client_for = fake_clients([{"logGroups": []}], role)
    assert cwl.read(client_for, SPEC, WHERE) == state(log_group_arn=None, retention_days=None, trust_policy=FOREIGN_TRUST_POLICY, inline_policy=None)


def test_apply_of_a_create_writes_in_order_with_the_tag():
    logs, iam, client_for = fake_clients([])
    planned = cwl.plan(None, cwl.desired(SPEC, WHERE), SPEC, WHERE)
    after = cwl.apply(client_for, planned, WHERE)
    assert after == planned.after
    logs.create_log_group.assert_called_once_with(aws_retry=True, logGroupName=GROUP, tags={"trailops.cloudtrail:created-by": "baseline"})
    logs.put_retention_policy.assert_called_once_with(aws_retry=True, logGroupName=GROUP, retentionInDays=365)
    create = iam.create_role.call_args.kwargs
    assert create["RoleName"] == ROLE and json.loads(create["AssumeRolePolicyDocument"]) == {"Version": "2012-10-17", "Statement": [OURS]}
    put = iam.put_role_policy.call_args.kwargs
    assert put["PolicyName"] == "cloudtrail-cloudwatch-logs" and json.loads(put["PolicyDocument"]) == cwl.inline_policy(GROUP_ARN)
    order = [c[0] for c in logs.method_calls + iam.method_calls]
    assert order == ["create_log_group", "put_retention_policy", "create_role", "put_role_policy"]


def test_apply_of_no_steps_makes_no_call():
    logs, iam, client_for = fake_clients([])
    planned = cwl.plan(state(), cwl.desired(SPEC, WHERE), SPEC, WHERE)
    assert cwl.apply(client_for, planned, WHERE) == state()
    assert logs.method_calls == [] and iam.method_calls == []


def test_apply_removes_the_retention_when_asked_for_never():
    logs, dummy, client_for = fake_clients([])
    spec = dict(SPEC, retention_days=None)
    cwl.apply(client_for, cwl.plan(state(retention_days=30), cwl.desired(spec, WHERE), spec, WHERE), WHERE)
    logs.delete_retention_policy.assert_called_once_with(aws_retry=True, logGroupName=GROUP)
    logs.put_retention_policy.assert_not_called()


def test_apply_wraps_an_aws_error_naming_the_call():
    logs, dummy, client_for = fake_clients([])
    logs.put_retention_policy.side_effect = client_error("InvalidParameterException")
    with pytest.raises(AnsibleAWSError, match="put retention policy"):
        cwl.apply(client_for, cwl.plan(state(retention_days=7), cwl.desired(SPEC, WHERE), SPEC, WHERE), WHERE)
