"""The CloudWatch Logs part of the baseline (module_utils/cloudwatch_logs.py)
against the local AWS: read, plan and apply as the baseline module calls them,
the state read back with boto3, and the calls the server received."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from botocore.exceptions import ClientError

from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.trailops.cloudtrail.plugins.module_utils import cloudwatch_logs as cwl
from ansible_collections.trailops.cloudtrail.plugins.module_utils.retries import transient_retry
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parts import Where
from tests.integration.setup_helpers import make_log_bucket
from tests.local_aws.fidelity.delivery import deliver
from tests.local_aws.fidelity.lookup_events import seed_events
from tests.local_aws.server import ACCOUNT_ID, REGION, REPO_ROOT

TRAIL = "baseline-cwl"
WHERE = Where(ACCOUNT_ID, "aws", REGION, TRAIL)
GROUP = f"aws-cloudtrail-logs-{TRAIL}"
ROLE = f"CloudTrailRoleForCloudWatchLogs-{TRAIL}"
SPEC = {"log_group_name": GROUP, "retention_days": 365, "role_name": ROLE}
# Someone else's inline policy on the same role: never read, never touched.
FOREIGN_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "Audit", "Effect": "Allow", "Action": "logs:DescribeLogStreams", "Resource": "*"}],
}
FOREIGN_TRUST = {"Sid": "SecurityTeam", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}, "Action": "sts:AssumeRole"}


@pytest.fixture
def client_for(aws):
    """What the baseline module hands a part: a home-region client per service
    with the collection's retry policy (``aws_retry=True``)."""
    return lambda service: RetryingBotoClientWrapper(aws.client(service, REGION), transient_retry())


def plan_run(client_for, spec=None):
    """One run's read and plan, as under --check: no apply."""
    spec = spec or SPEC
    before = cwl.read(client_for, spec, WHERE)
    return cwl.plan(before, cwl.desired(spec, WHERE), spec, WHERE)


def full_run(client_for, spec=None):
    planned = plan_run(client_for, spec)
    return planned, cwl.apply(client_for, planned, WHERE)


def log_group(aws):
    (group,) = [g for g in aws.client("logs").describe_log_groups(logGroupNamePrefix=GROUP)["logGroups"] if g["logGroupName"] == GROUP]
    return group


def inline_policy(aws, name=cwl.INLINE_POLICY_NAME):
    return aws.client("iam").get_role_policy(RoleName=ROLE, PolicyName=name)["PolicyDocument"]


def writes(calls):
    return [c for c in calls if c.is_write]


AWS_CLI = os.path.join(REPO_ROOT, "build", "awscli-venv", "bin", "aws")


def aws_cli(aws, *args):
    """The AWS CLI (the reference client) against the local AWS; its JSON answer."""
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    env.update(aws.env(REGION))
    command = [AWS_CLI, *args, "--endpoint-url", aws.endpoint, "--output", "json"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else None


def test_check_mode_from_nothing_writes_nothing_and_predicts_the_create(aws, client_for):
    aws.start_recording()
    planned = plan_run(client_for)
    calls = aws.stop_recording()

    assert writes(calls) == []
    # The role's absence is told by GetRole's NoSuchEntity (the one error a
    # create run answers); no GetRolePolicy then.
    assert [c.action for c in calls] == ["DescribeLogGroups", "GetRole"]
    assert [(e.action, e.code) for e in aws.error_responses()] == [("GetRole", "NoSuchEntity")]
    assert planned.before is None
    assert planned.steps == ["CreateLogGroup", "PutRetentionPolicy", "CreateRole", "PutRolePolicy"]
    assert planned.after["retention_days"] == 365
    assert cwl.trail_settings(planned.after) == {
        "cloudwatch_logs_log_group_arn": f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{GROUP}:*",
        "cloudwatch_logs_role_arn": f"arn:aws:iam::{ACCOUNT_ID}:role/{ROLE}",
    }
    assert aws.client("logs").describe_log_groups(logGroupNamePrefix=GROUP)["logGroups"] == []
    with pytest.raises(ClientError, match="NoSuchEntity"):
        aws.client("iam").get_role(RoleName=ROLE)


def test_create_then_a_second_run_reads_three_times_and_writes_nothing(aws, client_for):
    aws.start_recording()
    planned, after = full_run(client_for)
    calls = aws.stop_recording()

    assert [c.action for c in writes(calls)] == ["CreateLogGroup", "PutRetentionPolicy", "CreateRole", "PutRolePolicy"]
    assert [(e.action, e.code) for e in aws.error_responses()] == [("GetRole", "NoSuchEntity")]
    assert {c.region for c in calls if c.service == "logs"} == {REGION}
    group = log_group(aws)
    assert group["retentionInDays"] == 365
    assert aws.client("logs").list_tags_for_resource(resourceArn=group["logGroupArn"])["tags"] == {"trailops.cloudtrail:created-by": "baseline"}
    role = aws.client("iam").get_role(RoleName=ROLE)["Role"]
    assert role["AssumeRolePolicyDocument"] == {"Version": "2012-10-17", "Statement": [cwl.cloudtrail_trust_statement()]}
    assert inline_policy(aws)["Statement"] == [
        {
            "Sid": "AWSCloudTrailCreateLogStream",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"{group['logGroupArn']}:log-stream:*",
        }
    ]
    assert after == planned.after

    aws.start_recording()
    second = plan_run(client_for)
    calls = aws.stop_recording()
    assert second.steps == [] and second.changed is False
    assert second.before == after
    # The no-change run: one read per piece, each answered without an error.
    assert [c.action for c in calls] == ["DescribeLogGroups", "GetRole", "GetRolePolicy"]
    assert writes(calls) == []
    assert aws.error_responses() == []


def test_retention_changed_out_of_band_is_planned_then_repaired(aws, client_for):
    full_run(client_for)
    aws.client("logs").put_retention_policy(logGroupName=GROUP, retentionInDays=7)

    aws.start_recording()
    drift = plan_run(client_for)
    calls = aws.stop_recording()
    assert writes(calls) == [] and aws.error_responses() == []
    assert drift.steps == ["PutRetentionPolicy"]
    assert (drift.before["retention_days"], drift.after["retention_days"]) == (7, 365)
    assert log_group(aws)["retentionInDays"] == 7

    aws.start_recording()
    cwl.apply(client_for, drift, WHERE)
    assert [c.action for c in writes(aws.stop_recording())] == ["PutRetentionPolicy"]
    assert log_group(aws)["retentionInDays"] == 365


def test_never_expire_deletes_the_retention_policy(aws, client_for):
    full_run(client_for)
    spec = dict(SPEC, retention_days=None)

    planned, dummy = full_run(client_for, spec)

    assert planned.steps == ["DeleteRetentionPolicy"]
    assert "retentionInDays" not in log_group(aws)
    assert plan_run(client_for, spec).steps == []


def test_foreign_inline_policy_and_trust_statement_are_kept(aws, client_for):
    full_run(client_for)
    iam = aws.client("iam")
    iam.put_role_policy(RoleName=ROLE, PolicyName="security-audit", PolicyDocument=json.dumps(FOREIGN_POLICY))
    # Out of band: our policy narrowed, and CloudTrail's grant replaced by another.
    iam.put_role_policy(RoleName=ROLE, PolicyName=cwl.INLINE_POLICY_NAME, PolicyDocument=json.dumps(FOREIGN_POLICY))
    iam.update_assume_role_policy(RoleName=ROLE, PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [FOREIGN_TRUST]}))

    aws.start_recording()
    planned, dummy = full_run(client_for)
    calls = aws.stop_recording()

    assert planned.steps == ["UpdateAssumeRolePolicy", "PutRolePolicy"]
    assert [c.action for c in writes(calls)] == ["UpdateAssumeRolePolicy", "PutRolePolicy"]
    assert inline_policy(aws, "security-audit") == FOREIGN_POLICY
    assert sorted(iam.list_role_policies(RoleName=ROLE)["PolicyNames"]) == ["cloudtrail-cloudwatch-logs", "security-audit"]
    assert inline_policy(aws) == cwl.inline_policy(f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{GROUP}")
    trust = iam.get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust == [FOREIGN_TRUST, cwl.cloudtrail_trust_statement()]
    assert plan_run(client_for).steps == []


def test_check_mode_of_every_drift_writes_nothing(aws, client_for):
    full_run(client_for)
    aws.client("logs").put_retention_policy(logGroupName=GROUP, retentionInDays=7)
    aws.client("iam").delete_role_policy(RoleName=ROLE, PolicyName=cwl.INLINE_POLICY_NAME)
    aws.client("iam").update_assume_role_policy(RoleName=ROLE, PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [FOREIGN_TRUST]}))

    aws.start_recording()
    planned = plan_run(client_for)
    calls = aws.stop_recording()

    assert planned.steps == ["PutRetentionPolicy", "UpdateAssumeRolePolicy", "PutRolePolicy"]
    assert planned.before["inline_policy"] is None and planned.after["inline_policy"] == cwl.inline_policy(planned.after["log_group_arn"])
    assert writes(calls) == []
    assert log_group(aws)["retentionInDays"] == 7
    with pytest.raises(ClientError, match="NoSuchEntity"):
        inline_policy(aws)


def test_the_trail_delivers_through_what_the_part_made(aws, client_for):
    """The ARNs handed to the trail, the trust policy and the inline policy are
    what CloudTrail needs: the local AWS assumes the role and puts the events."""
    dummy, after = full_run(client_for)
    make_log_bucket(aws, "baseline-cwl-logs")
    settings = cwl.trail_settings(after)
    cloudtrail = aws.client("cloudtrail")
    cloudtrail.create_trail(
        Name=TRAIL,
        S3BucketName="baseline-cwl-logs",
        CloudWatchLogsLogGroupArn=settings["cloudwatch_logs_log_group_arn"],
        CloudWatchLogsRoleArn=settings["cloudwatch_logs_role_arn"],
    )
    cloudtrail.start_logging(Name=TRAIL)
    seed_events(aws, [{"EventName": "DescribeTrails", "Username": "alice"}])

    assert deliver(aws, digest=False)["log_files"]

    status = cloudtrail.get_trail_status(Name=TRAIL)
    assert status.get("LatestCloudWatchLogsDeliveryTime") and "LatestCloudWatchLogsDeliveryError" not in status
    assert aws.client("logs").filter_log_events(logGroupName=GROUP)["events"]


@pytest.mark.skipif(not os.path.exists(AWS_CLI), reason="the AWS CLI venv is missing: make build/awscli-venv/.installed")
def test_the_aws_cli_reads_what_the_part_reads_and_its_writes_show_as_drift(aws, client_for):
    dummy, after = full_run(client_for)

    (group,) = [g for g in aws_cli(aws, "logs", "describe-log-groups", "--log-group-name-prefix", GROUP)["logGroups"] if g["logGroupName"] == GROUP]
    role = aws_cli(aws, "iam", "get-role", "--role-name", ROLE)["Role"]
    policy = aws_cli(aws, "iam", "get-role-policy", "--role-name", ROLE, "--policy-name", cwl.INLINE_POLICY_NAME)["PolicyDocument"]
    assert (group["retentionInDays"], group["arn"]) == (after["retention_days"], cwl.trail_log_group_arn(after))
    assert (role["Arn"], role["AssumeRolePolicyDocument"], policy) == (after["role_arn"], after["trust_policy"], after["inline_policy"])

    aws_cli(aws, "logs", "put-retention-policy", "--log-group-name", GROUP, "--retention-in-days", "30")
    drift = plan_run(client_for)
    assert drift.steps == ["PutRetentionPolicy"] and drift.before["retention_days"] == 30
