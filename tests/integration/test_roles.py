"""The roles against the local AWS: the no-change run of the `trail` role
(counted on the server), check mode on an empty account, and bad input that
fails before any call. The molecule scenarios (`make molecule`) cover the rest."""

from __future__ import annotations

import collections
import json
import re

import pytest

PLAYBOOK = "tests/integration/playbooks/role.yml"
ENV = {"ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_NOCOLOR": "1"}


def _recap(stdout: str) -> dict[str, int]:
    match = re.search(r"localhost\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", stdout)
    assert match, stdout
    return dict(zip(("ok", "changed", "unreachable", "failed"), map(int, match.groups())))


def _run(run_playbook, role: str, variables: dict, *args: str):
    return run_playbook(PLAYBOOK, dict(variables, role_under_test=role), *args, env=ENV)


def _per_service(calls) -> dict[str, int]:
    return dict(collections.Counter(call.service for call in calls))


QUICK = {"trail_name": "management-events"}
REGULAR = {
    "trail_name": "regular-trail",
    "trail_s3_bucket_name": "trailops-regular-logs",
    "trail_s3_key_prefix": "cloudtrail",
    "trail_kms_key_create": True,
    "trail_sns_topic_create": True,
    "trail_cloudwatch_logs_create": True,
    "trail_event_selectors_preset": "management_events",
    "trail_insight_selectors": [{"insight_type": "ApiCallRateInsight"}],
    "trail_tags": {"team": "security"},
}


@pytest.mark.parametrize(
    "variables, budget",
    [
        # One baseline module run: STS GetCallerIdentity (the account);
        # S3: the bucket's 5 settings and its policy; CloudTrail: GetTrail,
        # GetTrailStatus, ListTags.
        pytest.param(QUICK, {"sts": 1, "s3": 6, "cloudtrail": 3}, id="quick"),
        # ... plus the KMS key, SNS topic, log group, IAM role and policy reads,
        # and GetEventSelectors + GetInsightSelectors.
        # (Only S3, STS and CloudTrail are pinned here; the README has the whole count.)
        pytest.param(REGULAR, {"sts": 1, "s3": 6, "cloudtrail": 5}, id="regular"),
    ],
)
def test_trail_role_no_change_run_makes_no_write(aws, run_playbook, variables: dict, budget: dict[str, int]):
    first = _run(run_playbook, "trail", variables)
    assert first.returncode == 0, first.stdout + first.stderr
    assert _recap(first.stdout)["changed"] > 0

    aws.start_recording()
    second = _run(run_playbook, "trail", variables)
    calls = aws.stop_recording()
    assert second.returncode == 0, second.stdout + second.stderr
    assert _recap(second.stdout)["changed"] == 0, second.stdout
    assert [c for c in calls if c.is_write] == []
    print(f"no-change run: {len(calls)} calls {_per_service(calls)}: {[(c.service, c.action) for c in calls]}")
    counted = {service: count for service, count in _per_service(calls).items() if service in budget}
    assert counted == budget, [(c.service, c.action) for c in calls]

    # The drift check of an account without drift: nothing to report, nothing written.
    aws.start_recording()
    checked = _run(run_playbook, "trail", variables, "--check", "--diff")
    calls = aws.stop_recording()
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert _recap(checked.stdout)["changed"] == 0, checked.stdout
    assert [c for c in calls if c.is_write] == []


def test_trail_role_check_mode_on_an_empty_account_writes_nothing(aws, run_playbook):
    aws.start_recording()
    result = _run(run_playbook, "trail", QUICK, "--check", "--diff")
    calls = aws.stop_recording()
    assert result.returncode == 0, result.stdout + result.stderr
    assert _recap(result.stdout)["changed"] > 0
    assert [c for c in calls if c.is_write] == []
    assert aws.client("cloudtrail").describe_trails()["trailList"] == []
    assert aws.client("s3").list_buckets()["Buckets"] == []


@pytest.mark.parametrize(
    "role, variables, message",
    [
        ("trail", {"trail_name": "t-one", "trail_is_multi_region_trail": "sometimes"}, "trail_is_multi_region_trail"),
        ("trail", {"trail_name": "t-one", "trail_event_selectors_preset": "everything"}, "trail_event_selectors_preset"),
        ("trail", {"trail_name": "t-one", "trail_tags": ["not", "a", "dict"]}, "trail_tags"),
        ("trail", {}, "trail_name"),
        (
            "trail",
            {"trail_name": "t-one", "trail_kms_key_create": True, "trail_kms_key_id": "alias/given"},
            "trail_kms_key_id: set together with trail_kms_key_create: create a key or give one, not both",
        ),
        (
            "trail",
            {"trail_name": "t-one", "trail_s3_bucket_existing": True},
            "trail_s3_bucket_existing: true but trail_s3_bucket_name is empty",
        ),
        (
            "trail",
            {"trail_name": "t-one", "trail_cloudwatch_logs_log_group_arn": "arn:aws:logs:us-east-1:123456789012:log-group:g:*"},
            "trail_cloudwatch_logs_log_group_arn: goes together with trail_cloudwatch_logs_role_arn",
        ),
        (
            "trail",
            {"trail_name": "t-one", "trail_event_selectors_preset": "cis_benchmark", "trail_event_selectors": [{"read_write_type": "All"}]},
            "trail_event_selectors_preset: set together with trail_event_selectors or trail_advanced_event_selectors",
        ),
        (
            "log_bucket",
            {"log_bucket_name": "b-one", "log_bucket_trails": ["t-one"], "log_bucket_encryption": "AES256", "log_bucket_kms_key_id": "k"},
            "log_bucket_kms_key_id: is set but log_bucket_encryption is AES256",
        ),
        ("log_bucket", {"log_bucket_name": "b-one", "log_bucket_encryption": "DES"}, "log_bucket_encryption"),
        (
            "log_bucket",
            {"log_bucket_name": "b-one", "log_bucket_trails": ["t-one"], "log_bucket_lifecycle_expiration_day": 30},
            "unknown variable(s) log_bucket_lifecycle_expiration_day: the log_bucket role has no such variable",
        ),
        ("event_selectors", {"event_selectors_trails": ["t-one"]}, "nothing to apply"),
        # Ansible accepts any variable; the roles refuse those they do not know (a typo), naming them.
        (
            "trail",
            {"trail_name": "t-one", "trail_kms_key_creat": True},
            "unknown variable(s) trail_kms_key_creat: the trail role has no such variable",
        ),
        (
            "event_selectors",
            {"event_selectors_trails": ["t-one"], "event_selectors_preset": "management_events", "event_selectors_insight": []},
            "unknown variable(s) event_selectors_insight: the event_selectors role has no such variable",
        ),
        (
            "event_selectors",
            {"event_selectors_trails": ["t-one"], "event_selectors_basic": [{}], "event_selectors_advanced": [{}]},
            "event_selectors_basic and event_selectors_advanced are both set",
        ),
    ],
)
def test_bad_input_fails_before_any_call(aws, run_playbook, role, variables, message):
    aws.start_recording()
    result = _run(run_playbook, role, variables)
    calls = aws.stop_recording()
    assert result.returncode != 0, result.stdout
    assert message in result.stdout, result.stdout
    assert calls == []


def test_adopted_bucket_setting_that_would_change_fails_before_any_write(aws, run_playbook):
    aws.client("s3").create_bucket(Bucket="trailops-adopted")
    aws.start_recording()
    result = _run(
        run_playbook,
        "log_bucket",
        {"log_bucket_name": "trailops-adopted", "log_bucket_trails": ["t-one"], "log_bucket_existing": True, "log_bucket_versioning": True},
    )
    calls = aws.stop_recording()
    assert result.returncode != 0, result.stdout
    assert "log_bucket_versioning: would change the adopted bucket's versioning" in result.stdout, result.stdout
    assert [c for c in calls if c.is_write] == []
    assert aws.client("s3").get_bucket_versioning(Bucket="trailops-adopted").get("Status") is None


LIFECYCLE_BUCKET = {
    "log_bucket_name": "trailops-lifecycle-logs",
    "log_bucket_trails": ["arn:aws:cloudtrail:us-east-1:123456789012:trail/t-one"],
    "log_bucket_s3_key_prefix": "audit",
    "log_bucket_lifecycle_transition_days": 30,
    "log_bucket_lifecycle_expiration_days": 365,
}


def test_log_bucket_lifecycle_rule_is_kept_apart_and_idempotent(aws, run_playbook):
    s3 = aws.client("s3")
    first = _run(run_playbook, "log_bucket", LIFECYCLE_BUCKET)
    assert first.returncode == 0, first.stdout + first.stderr
    # Issue 13: one rule per folder CloudTrail writes to, never all of AWSLogs/.
    rules = s3.get_bucket_lifecycle_configuration(Bucket="trailops-lifecycle-logs")["Rules"]
    folders = ["CloudTrail", "CloudTrail-Digest", "CloudTrail-Insight"]
    assert sorted(rule["Filter"]["Prefix"] for rule in rules) == sorted(f"audit/AWSLogs/123456789012/{folder}/" for folder in folders)
    for rule in rules:
        assert rule["ID"] == "trailops-cloudtrail:" + rule["Filter"]["Prefix"]
        assert [(t["Days"], t["StorageClass"]) for t in rule["Transitions"]] == [(30, "GLACIER")]
        assert rule["Expiration"]["Days"] == 365

    aws.start_recording()
    again = _run(run_playbook, "log_bucket", LIFECYCLE_BUCKET)
    calls = aws.stop_recording()
    assert again.returncode == 0, again.stdout + again.stderr
    assert _recap(again.stdout)["changed"] == 0, again.stdout
    assert [c for c in calls if c.is_write] == []
    # Tags, Block Public Access, ownership, encryption, versioning and the lifecycle (asked for), read at once,
    # then GetBucketPolicy; the trail is an ARN: no STS. No HeadBucket, no ListBuckets, no error answered.
    assert _per_service(calls) == {"s3": 7}
    assert aws.error_responses() == []

    # A changed setting is predicted under --check and nothing is written.
    aws.start_recording()
    checked = _run(run_playbook, "log_bucket", dict(LIFECYCLE_BUCKET, log_bucket_lifecycle_expiration_days=400), "--check")
    calls = aws.stop_recording()
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert _recap(checked.stdout)["changed"] == 1, checked.stdout
    assert [c for c in calls if c.is_write] == []
    assert {rule["Expiration"]["Days"] for rule in s3.get_bucket_lifecycle_configuration(Bucket="trailops-lifecycle-logs")["Rules"]} == {365}


def test_log_bucket_is_deleted_only_when_asked(aws, run_playbook):
    s3 = aws.client("s3")
    present = _run(run_playbook, "log_bucket", LIFECYCLE_BUCKET)
    assert present.returncode == 0, present.stdout + present.stderr
    absent = dict(LIFECYCLE_BUCKET, log_bucket_state="absent")

    removed = _run(run_playbook, "log_bucket", absent)
    assert removed.returncode == 0, removed.stdout + removed.stderr
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["trailops-lifecycle-logs"]
    with pytest.raises(s3.exceptions.ClientError, match="NoSuchBucketPolicy"):
        s3.get_bucket_policy(Bucket="trailops-lifecycle-logs")

    aws.start_recording()
    checked = _run(run_playbook, "log_bucket", dict(absent, log_bucket_delete=True), "--check")
    calls = aws.stop_recording()
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert _recap(checked.stdout)["changed"] == 1, checked.stdout
    assert [c for c in calls if c.is_write] == []

    deleted = _run(run_playbook, "log_bucket", dict(absent, log_bucket_delete=True))
    assert deleted.returncode == 0, deleted.stdout + deleted.stderr
    assert s3.list_buckets()["Buckets"] == []


def test_trail_role_makes_an_organization_trail(aws, run_playbook, account_id):
    organization = aws.client("organizations").create_organization(FeatureSet="ALL")["Organization"]["Id"]
    variables = {"trail_name": "org-trail", "trail_is_organization_trail": True, "trail_organization_id": organization}
    first = _run(run_playbook, "trail", variables)
    assert first.returncode == 0, first.stdout + first.stderr

    trail = aws.client("cloudtrail").get_trail(Name="org-trail")["Trail"]
    assert trail["IsOrganizationTrail"] is True
    policy = json.loads(aws.client("s3").get_bucket_policy(Bucket=trail["S3BucketName"])["Policy"])
    (write,) = [s for s in policy["Statement"] if s.get("Action") == "s3:PutObject"]
    bucket_arn = f"arn:aws:s3:::{trail['S3BucketName']}"
    assert sorted(write["Resource"]) == [f"{bucket_arn}/AWSLogs/{account_id}/*", f"{bucket_arn}/AWSLogs/{organization}/*"]

    again = _run(run_playbook, "trail", variables)
    assert again.returncode == 0, again.stdout + again.stderr
    assert _recap(again.stdout)["changed"] == 0, again.stdout
