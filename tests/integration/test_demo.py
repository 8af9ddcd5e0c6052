"""`make demo`'s playbook: the console's quick trail, and a second run that changes nothing."""

import re


def _recap(stdout: str) -> dict[str, int]:
    match = re.search(r"localhost\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", stdout)
    assert match, stdout
    return dict(zip(("ok", "changed", "unreachable", "failed"), map(int, match.groups())))


def test_quick_trail_is_created_then_left_alone(aws, run_playbook, account_id):
    first = run_playbook("playbooks/demo.yml")
    assert first.returncode == 0, first.stdout + first.stderr
    assert _recap(first.stdout)["changed"] > 0

    aws.start_recording()
    second = run_playbook("playbooks/demo.yml")
    calls = aws.stop_recording()
    assert second.returncode == 0, second.stdout + second.stderr
    assert _recap(second.stdout)["changed"] == 0
    assert [c for c in calls if c.is_write and c.service in ("cloudtrail", "s3")] == []

    cloudtrail = aws.client("cloudtrail")
    (trail,) = cloudtrail.describe_trails()["trailList"]
    assert trail["Name"] == "management-events"
    assert trail["IsMultiRegionTrail"] is True
    assert trail["LogFileValidationEnabled"] is True
    assert re.fullmatch(rf"aws-cloudtrail-logs-{account_id}-[0-9a-f]{{8}}", trail["S3BucketName"])
    assert cloudtrail.get_trail_status(Name=trail["TrailARN"])["IsLogging"] is True
