"""playbooks/fleet.yml and playbooks/drift_report.yml on a fleet of 20 accounts
(an organization on the local AWS) plus accounts that cannot be worked on.

The 20-account tests share one module-scoped fleet and run in file order:
apply, re-run (changed=0, no writes), out-of-band changes found by --check
--diff and by the drift report (and nothing else), repair. Each is one playbook
run, so the module costs five fleet runs in all.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT
from tests.integration.conftest import _env
from tests.integration.fleet_helpers import ROLE_ARN_TEMPLATE, account_client, make_organization, static_account, write_inventory
from tests.local_aws.fidelity.faults import inject_faults
from tests.local_aws.server import ACCOUNT_ID

N_ACCOUNTS = 20
TRAIL = "management-events"
FORKS = "10"
RECAP = re.compile(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)
# The role of another account: assume_account.yml must refuse it.
WRONG_ACCOUNT = "444455556666"
WRONG_ROLE = ROLE_ARN_TEMPLATE.format(account_id="555566667777")


def ansible_playbook(aws, playbook: str, inventories: list[str], *args: str) -> subprocess.CompletedProcess:
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), playbook]
    for inventory in inventories:
        command += ["-i", inventory]
    return subprocess.run(
        command + list(args),
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=_env(aws, "us-east-1", {"ANSIBLE_PYTHON_INTERPRETER": sys.executable}),
        timeout=1500,
        check=False,
    )


def recap(proc: subprocess.CompletedProcess) -> dict[str, dict[str, int]]:
    return {
        host: {"ok": int(ok), "changed": int(changed), "unreachable": int(unreachable), "failed": int(failed)}
        for host, ok, changed, unreachable, failed in RECAP.findall(proc.stdout)
    }


def output(proc: subprocess.CompletedProcess) -> str:
    return proc.stdout[-6000:] + proc.stderr[-3000:]


def writes(calls) -> list:
    # AssumeRole only reads credentials; every run needs one per account.
    return [c for c in calls if c.is_write and c.action != "AssumeRole"]


class Fleet:
    def __init__(self, aws, tmp_path) -> None:
        self.aws = aws
        self.tmp_path = tmp_path
        self.members = make_organization(aws, N_ACCOUNTS + 1)
        self.suspended = self.members.pop()
        aws.client("organizations").close_account(AccountId=self.suspended)
        self.organization = write_inventory(tmp_path, aws, options={"exclude_accounts": [ACCOUNT_ID]}, name="org")
        self.static = write_inventory(
            tmp_path, aws, accounts=[static_account(WRONG_ACCOUNT, name="wrong-role", role_arn=WRONG_ROLE)], name="static"
        )
        self.report_dir = str(tmp_path / "reports")

    def run(self, playbook: str, *args: str) -> subprocess.CompletedProcess:
        return ansible_playbook(self.aws, playbook, [self.organization, self.static], "-f", FORKS, *args)

    def client(self, account: str, service: str):
        return account_client(self.aws, account, service)

    @property
    def unworkable(self) -> set[str]:
        return {self.suspended, WRONG_ACCOUNT}


@pytest.fixture(scope="module")
def fleet(local_aws_server, tmp_path_factory):
    local_aws_server.reset()
    yield Fleet(local_aws_server, tmp_path_factory.mktemp("fleet"))
    local_aws_server.reset()


@pytest.fixture(scope="module")
def applied(fleet):
    return fleet.run("playbooks/fleet.yml")


def test_fleet_applies_the_baseline_to_every_active_account(fleet, applied):
    hosts = recap(applied)
    assert set(hosts) == set(fleet.members) | fleet.unworkable, output(applied)
    for account in fleet.members:
        assert hosts[account]["failed"] == 0 and hosts[account]["changed"] > 0, output(applied)
        cloudtrail = fleet.client(account, "cloudtrail")
        trails = cloudtrail.describe_trails()["trailList"]
        assert [t["TrailARN"] for t in trails] == [f"arn:aws:cloudtrail:us-east-1:{account}:trail/{TRAIL}"]
        assert trails[0]["S3BucketName"].startswith(f"aws-cloudtrail-logs-{account}-")
        assert trails[0]["IsMultiRegionTrail"] and trails[0]["LogFileValidationEnabled"]
        assert cloudtrail.get_trail_status(Name=TRAIL)["IsLogging"]
    # Nothing landed in the management account, whose credentials ran the play.
    assert fleet.aws.client("cloudtrail").describe_trails()["trailList"] == []


def test_accounts_that_cannot_be_worked_on_fail_alone_with_the_reason(fleet, applied):
    hosts = recap(applied)
    assert applied.returncode == 2, output(applied)
    assert {host for host, counts in hosts.items() if counts["failed"]} == fleet.unworkable
    assert f"account {fleet.suspended} (member-{N_ACCOUNTS:03d}) is SUSPENDED, not ACTIVE" in applied.stdout
    # The baseline module assumed the role and found it acting elsewhere: nothing written.
    assert f"account_id: the task is meant for account {WRONG_ACCOUNT}, but its credentials act in account 555566667777" in applied.stdout
    assert fleet.client(WRONG_ACCOUNT, "cloudtrail").describe_trails()["trailList"] == []
    assert fleet.client("555566667777", "cloudtrail").describe_trails()["trailList"] == []


def test_summary_lists_changed_and_failed_accounts(fleet, applied):
    summary = json.loads(re.search(r'"msg": (\{\n\s+"accounts".*?\n    \})', applied.stdout, re.S).group(1))
    assert summary["accounts"] == N_ACCOUNTS + 2
    assert summary["ok"] == 0
    assert {label.split()[0] for label in summary["changed"]} == set(fleet.members)
    assert all("trail" in parts for parts in summary["changed"].values())
    assert {label.split()[0] for label in summary["failed"]} == fleet.unworkable


def test_rerun_changes_nothing_in_any_account(fleet, applied):
    fleet.aws.start_recording()
    proc = fleet.run("playbooks/fleet.yml")
    calls = fleet.aws.stop_recording()
    hosts = recap(proc)
    assert {host for host in fleet.members if hosts[host]["changed"] or hosts[host]["failed"]} == set(), output(proc)
    assert writes(calls) == []
    assert '"ok": %d' % N_ACCOUNTS in proc.stdout


@pytest.fixture(scope="module")
def drifted(fleet, applied):
    """Three accounts changed out of band, each in its own way."""
    logging_off, validation_off, policy_gone = fleet.members[3], fleet.members[11], fleet.members[17]
    fleet.client(logging_off, "cloudtrail").stop_logging(Name=TRAIL)
    fleet.client(validation_off, "cloudtrail").update_trail(Name=TRAIL, EnableLogFileValidation=False)
    bucket = fleet.client(policy_gone, "cloudtrail").get_trail(Name=TRAIL)["Trail"]["S3BucketName"]
    fleet.client(policy_gone, "s3").delete_bucket_policy(Bucket=bucket)
    return {logging_off: ("is_logging", True, False), validation_off: ("log_file_validation_enabled", True, False), policy_gone: ("statement", None, None)}


def test_check_diff_finds_exactly_the_drifted_accounts_and_changes_nothing(fleet, drifted):
    fleet.aws.start_recording()
    proc = fleet.run("playbooks/fleet.yml", "--check", "--diff")
    calls = fleet.aws.stop_recording()
    hosts = recap(proc)
    assert {host for host in fleet.members if hosts[host]["changed"]} == set(drifted), output(proc)
    assert writes(calls) == []
    assert '-    "is_logging": false,' in proc.stdout and '+    "is_logging": true,' in proc.stdout
    assert '-    "log_file_validation_enabled": false,' in proc.stdout
    # The trail role's statements carry a suffix of the trail's own (issue 13).
    assert re.search(r"AWSCloudTrailWrite[A-Za-z0-9]+", proc.stdout)


def test_drift_report_lists_each_account_with_its_status_and_drift(fleet, drifted):
    fleet.aws.start_recording()
    proc = fleet.run("playbooks/drift_report.yml", "--check", "-e", json.dumps({"report_dir": fleet.report_dir}))
    calls = fleet.aws.stop_recording()
    assert proc.returncode == 0, output(proc)
    assert writes(calls) == []
    with open(os.path.join(fleet.report_dir, "drift_report.json"), encoding="utf-8") as handle:
        report = json.load(handle)
    statuses = {a["account_id"]: a["status"] for a in report["accounts"]}
    assert statuses == dict(
        {account: "clean" for account in fleet.members},
        **{account: "drifted" for account in drifted},
        **{account: "unreadable" for account in fleet.unworkable},
    )
    by_id = {a["account_id"]: a for a in report["accounts"]}
    for account, (setting, desired, actual) in drifted.items():
        drift = by_id[account]["drift"]
        if setting == "statement":
            settings = {d["setting"] for d in drift}
            assert any(s.startswith("statement AWSCloudTrailAclCheck") for s in settings), settings
            assert any(s.startswith("statement AWSCloudTrailWrite") for s in settings), settings
            assert all(d["actual"] is None and d["desired"]["Principal"] for d in drift)
        else:
            assert drift == [{"resource": f"trail {TRAIL}", "setting": setting, "desired": desired, "actual": actual}]
    for account in set(fleet.members) - set(drifted):
        assert by_id[account]["drift"] == [] and by_id[account]["error"] is None
        assert by_id[account]["trails"] == [
            {"name": TRAIL, "home_region": "us-east-1", "trail_arn": f"arn:aws:cloudtrail:us-east-1:{account}:trail/{TRAIL}"}
        ]
    assert "SUSPENDED" in by_id[fleet.suspended]["error"] and by_id[fleet.suspended]["trails"] == []
    assert "credentials act in account 555566667777" in by_id[WRONG_ACCOUNT]["error"]
    markdown = open(os.path.join(fleet.report_dir, "drift_report.md"), encoding="utf-8").read()
    assert "| drifted | 3 |" in markdown and "| unreadable | 2 |" in markdown and f"| clean | {N_ACCOUNTS - 3} |" in markdown
    assert f"## {fleet.members[3]} member-003: drifted" in markdown
    assert "| trail management-events | is_logging | `true` | `false` |" in markdown


def test_drift_report_refuses_to_run_without_check(fleet, drifted):
    fleet.aws.start_recording()
    proc = fleet.run("playbooks/drift_report.yml", "-e", json.dumps({"report_dir": fleet.report_dir + "-nocheck"}))
    calls = fleet.aws.stop_recording()
    assert proc.returncode != 0
    assert "drift_report.yml only reads, and it needs --check" in proc.stdout
    # Only the inventory read the organization.
    assert [c for c in calls if c.service != "organizations"] == []
    assert not os.path.exists(fleet.report_dir + "-nocheck")


def test_fleet_repairs_exactly_the_drifted_accounts(fleet, drifted):
    proc = fleet.run("playbooks/fleet.yml")
    hosts = recap(proc)
    assert {host for host in fleet.members if hosts[host]["changed"]} == set(drifted), output(proc)
    for account in drifted:
        cloudtrail = fleet.client(account, "cloudtrail")
        assert cloudtrail.get_trail_status(Name=TRAIL)["IsLogging"]
        assert cloudtrail.get_trail(Name=TRAIL)["Trail"]["LogFileValidationEnabled"]


def test_a_role_that_cannot_be_assumed_fails_that_account_alone(aws, tmp_path):
    """AWS answers AccessDenied when the role does not exist or does not trust
    the caller; the local AWS gives that answer to the first AssumeRole."""
    first, second = make_organization(aws, 2)
    inventory = write_inventory(tmp_path, aws, accounts=[static_account(first), static_account(second)])
    inject_faults(aws, [{"service": "sts", "action": "AssumeRole", "fault": "throttle", "code": "AccessDenied", "limit": 1}])
    # One fork: the accounts run in inventory order, so the first one is denied.
    proc = ansible_playbook(aws, "playbooks/fleet.yml", [inventory], "-f", "1")
    hosts = recap(proc)
    assert hosts[first]["failed"] == 1 and hosts[second]["failed"] == 0, output(proc)
    assert f"account {first} (static-{first}): Failed to assume the role arn:aws:iam::{first}:role/" in proc.stdout
    assert "AccessDenied" in proc.stdout
    assert account_client(aws, first, "cloudtrail").describe_trails()["trailList"] == []
    assert len(account_client(aws, second, "cloudtrail").describe_trails()["trailList"]) == 1
