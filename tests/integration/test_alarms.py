"""The trail role's CIS monitoring preset on the local AWS: every metric filter
and alarm of CIS AWS Foundations Benchmark v3.0.0 (4.1-4.15) on the trail's
log group; a StopLogging by a user, delivered through the log group, raises
the CloudTrail-changes metric and nothing else, and a non-matching event
raises nothing; a second run changes nothing; a deleted alarm shows as drift
under --check, which writes nothing."""

from __future__ import annotations

import datetime
import os
import re

import yaml

from tests.conftest import REPO_ROOT
from tests.local_aws.fidelity.delivery import deliver
from tests.local_aws.fidelity.lookup_events import seed_events

PLAYBOOK = "tests/integration/playbooks/role.yml"
ENV = {"ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_NOCOLOR": "1"}
TRAIL = "audited"
GROUP = f"aws-cloudtrail-logs-{TRAIL}"
VARIABLES = {
    "role_under_test": "trail",
    "trail_name": TRAIL,
    "trail_region": "us-east-1",
    "trail_is_multi_region_trail": False,
    "trail_cloudwatch_logs_create": True,
    "trail_cloudwatch_alarms_cis": True,
}


# Two CIS controls and one alarm of the user's own: the drift and check-mode
# tests need no more, and each alarm costs two module runs.
SOME = dict(
    VARIABLES,
    trail_cloudwatch_alarms_cis_controls=["4.3", "4.5"],
    trail_cloudwatch_alarms=[{"name": f"{TRAIL}-kms-key-deletion", "filter_pattern": '{ $.eventName = "ScheduleKeyDeletion" }', "threshold": 2}],
)


def _cis() -> list[dict]:
    with open(os.path.join(REPO_ROOT, "roles", "trail", "vars", "cis_alarms.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)["_trail_cis_alarms"]


def _name(control: dict) -> str:
    return f"{TRAIL}-cis-{control['id']}-{control['slug']}"


def _changed(stdout: str) -> int:
    match = re.search(r"localhost\s+:\s+ok=\d+\s+changed=(\d+)", stdout)
    assert match, stdout
    return int(match.group(1))


def _sums(aws) -> dict[str, float]:
    cloudwatch, now = aws.client("cloudwatch"), datetime.datetime.now(datetime.timezone.utc)
    sums = {}
    for control in _cis():
        points = cloudwatch.get_metric_statistics(
            Namespace="CISBenchmark",
            MetricName=_name(control),
            StartTime=now - datetime.timedelta(hours=1),
            EndTime=now + datetime.timedelta(hours=1),
            Period=7200,
            Statistics=["Sum"],
        )["Datapoints"]
        sums[control["id"]] = sum(point["Sum"] for point in points)
    return sums


def _event(name: str, source: str = "cloudtrail.amazonaws.com") -> dict[str, str]:
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    return {"EventName": name, "EventSource": source, "EventTime": now.isoformat(), "Username": "mallory"}


def test_cis_preset_creates_every_filter_and_alarm_and_raises_on_a_matching_event(aws, run_playbook, account_id):
    first = run_playbook(PLAYBOOK, VARIABLES, env=ENV)
    assert first.returncode == 0, first.stdout + first.stderr

    filters = {f["filterName"]: f for f in aws.client("logs").describe_metric_filters(logGroupName=GROUP)["metricFilters"]}
    assert sorted(filters) == sorted(_name(control) for control in _cis())
    for control in _cis():
        metric_filter = filters[_name(control)]
        assert metric_filter["filterPattern"] == control["filter_pattern"]
        (transformation,) = metric_filter["metricTransformations"]
        assert (transformation["metricName"], transformation["metricNamespace"], transformation["metricValue"]) == (
            _name(control),
            "CISBenchmark",
            "1",
        )
    topic = f"arn:aws:sns:us-east-1:{account_id}:cloudtrail-alarms-{TRAIL}"
    alarms = {a["AlarmName"]: a for a in aws.client("cloudwatch").describe_alarms()["MetricAlarms"]}
    assert sorted(alarms) == sorted(filters)
    for name, alarm in alarms.items():
        assert alarm["MetricName"] == name and alarm["Namespace"] == "CISBenchmark"
        assert (alarm["Statistic"], alarm["ComparisonOperator"], alarm["Threshold"]) == ("Sum", "GreaterThanOrEqualToThreshold", 1.0)
        assert alarm["AlarmActions"] == [topic]
    assert topic in [t["TopicArn"] for t in aws.client("sns").list_topics()["Topics"]]

    # Deliver what the role's own run recorded, then measure from there.
    deliver(aws, digest=False)
    before = _sums(aws)

    seed_events(aws, [_event("DescribeTrails")])
    assert deliver(aws, digest=False)["log_files"]
    assert _sums(aws) == before

    seed_events(aws, [_event("StopLogging")])
    assert deliver(aws, digest=False)["log_files"]
    after = _sums(aws)
    assert after["4.5"] == before["4.5"] + 1
    assert {k: v for k, v in after.items() if k != "4.5"} == {k: v for k, v in before.items() if k != "4.5"}
    stopped = [e for e in aws.client("logs").filter_log_events(logGroupName=GROUP)["events"] if '"StopLogging"' in e["message"]]
    assert len(stopped) == 1


def test_second_run_changes_nothing_and_a_deleted_alarm_is_drift(aws, run_playbook):
    first = run_playbook(PLAYBOOK, SOME, env=ENV)
    assert first.returncode == 0, first.stdout + first.stderr
    alarms = {a["AlarmName"]: a for a in aws.client("cloudwatch").describe_alarms()["MetricAlarms"]}
    assert sorted(alarms) == [f"{TRAIL}-cis-4.3-root-account-usage", f"{TRAIL}-cis-4.5-cloudtrail-configuration-changes", f"{TRAIL}-kms-key-deletion"]
    assert alarms[f"{TRAIL}-kms-key-deletion"]["Threshold"] == 2.0

    aws.start_recording()
    second = run_playbook(PLAYBOOK, SOME, env=ENV)
    calls = aws.stop_recording()
    assert second.returncode == 0, second.stdout + second.stderr
    assert _changed(second.stdout) == 0, second.stdout
    assert [(c.service, c.action) for c in calls if c.is_write] == []

    cloudwatch = aws.client("cloudwatch")
    gone = f"{TRAIL}-cis-4.3-root-account-usage"
    cloudwatch.delete_alarms(AlarmNames=[gone])

    aws.start_recording()
    checked = run_playbook(PLAYBOOK, SOME, "--check", "--diff", env=ENV)
    calls = aws.stop_recording()
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert _changed(checked.stdout) == 1, checked.stdout
    assert gone in checked.stdout
    assert [(c.service, c.action) for c in calls if c.is_write] == []
    assert cloudwatch.describe_alarms(AlarmNames=[gone])["MetricAlarms"] == []


def test_check_mode_on_an_empty_account_writes_nothing(aws, run_playbook):
    aws.start_recording()
    checked = run_playbook(PLAYBOOK, SOME, "--check", "--diff", env=ENV)
    calls = aws.stop_recording()
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert _changed(checked.stdout) > 0
    assert "would get 3 metric filters" in checked.stdout
    assert [(c.service, c.action) for c in calls if c.is_write] == []
    assert aws.client("cloudwatch").describe_alarms()["MetricAlarms"] == []
