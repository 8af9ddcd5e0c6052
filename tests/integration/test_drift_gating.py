"""playbooks/drift_report.yml as a gate (drift_fail_on_drift) and with its
cost view (drift_costs), on an organization of the local AWS.

Every member gets the baseline from fleet.yml, so each has its own
multi-region trail; the management account adds an organization trail, which
the members see too (as in AWS). That is the common silent duplicate: the
report must flag each member's own trail as a billed extra copy of management
events, with an estimate from the member's event history.

Then the gate: with drift_fail_on_drift the run exits non-zero on a drifted
and on an unreadable account, naming them, after both reports are written,
and exits zero on a clean fleet; without it a drifted fleet exits zero as
before. The fixtures run in that order (clean first, then one member drifts).
"""

from __future__ import annotations

import collections
import json
import os
import subprocess

import pytest

from tests.conftest import REPO_ROOT
from tests.integration.fleet_helpers import ROLE_ARN_TEMPLATE, account_client, make_organization, static_account, write_inventory
from tests.integration.test_fleet import ansible_playbook, output, writes
from tests.local_aws.policies import cloudtrail_bucket_policy
from tests.local_aws.server import ACCOUNT_ID

REGION = "us-east-1"
TRAIL = "management-events"
ORG_TRAIL = "org-trail"
ORG_BUCKET = "org-trail-archive"
# A role that acts in another account: the account is unreadable.
WRONG_ACCOUNT = "444455556666"
WRONG_ROLE = ROLE_ARN_TEMPLATE.format(account_id="555566667777")
AWS_CLI = os.path.join(REPO_ROOT, "build", "awscli-venv", "bin", "aws")
# USD per 100,000 additional management events (plugins/plugin_utils/cloudtrail_prices.json).
COPY_PRICE = 2.0


class Org:
    def __init__(self, aws, tmp_path) -> None:
        self.aws = aws
        self.tmp_path = tmp_path
        self.clean, self.drifting = make_organization(aws, 2)
        self.members = [self.clean, self.drifting]
        self.inventory = write_inventory(tmp_path, aws, options={"exclude_accounts": [ACCOUNT_ID]}, name="org")
        self.unreadable = write_inventory(tmp_path, aws, accounts=[static_account(WRONG_ACCOUNT, name="wrong-role", role_arn=WRONG_ROLE)], name="static")
        self.runs = 0

    def report(self, *inventories: str, **variables) -> tuple[subprocess.CompletedProcess, dict, str, str]:
        """One drift_report.yml --check run into its own report_dir: (process, drift_report.json, drift_report.md, report_dir)."""
        self.runs += 1
        report_dir = str(self.tmp_path / f"reports-{self.runs}")
        proc = ansible_playbook(
            self.aws, "playbooks/drift_report.yml", list(inventories or [self.inventory]), "-f", "5", "--check",
            "-e", json.dumps(dict(variables, fleet_region=REGION, report_dir=report_dir)),
        )
        report, markdown = None, ""
        if os.path.exists(os.path.join(report_dir, "drift_report.json")):
            with open(os.path.join(report_dir, "drift_report.json"), encoding="utf-8") as handle:
                report = {account["account_id"]: account for account in json.load(handle)["accounts"]}
            with open(os.path.join(report_dir, "drift_report.md"), encoding="utf-8") as handle:
                markdown = handle.read()
        return proc, report, markdown, report_dir


def add_organization_trail(aws) -> str:
    """An organization trail of the management account, logging: the copy each member sees beside its own."""
    organization_id = aws.client("organizations").describe_organization()["Organization"]["Id"]
    s3 = aws.client("s3", REGION)
    s3.create_bucket(Bucket=ORG_BUCKET)
    s3.put_bucket_policy(Bucket=ORG_BUCKET, Policy=json.dumps(cloudtrail_bucket_policy(ORG_BUCKET, ACCOUNT_ID, organization_id=organization_id)))
    cloudtrail = aws.client("cloudtrail", REGION)
    arn = cloudtrail.create_trail(Name=ORG_TRAIL, S3BucketName=ORG_BUCKET, IsOrganizationTrail=True, IsMultiRegionTrail=True)["TrailARN"]
    cloudtrail.start_logging(Name=ORG_TRAIL)
    return arn


@pytest.fixture(scope="module")
def org(local_aws_server, tmp_path_factory):
    local_aws_server.reset()
    fleet = Org(local_aws_server, tmp_path_factory.mktemp("drift-gating"))
    applied = ansible_playbook(local_aws_server, "playbooks/fleet.yml", [fleet.inventory], "-e", json.dumps({"fleet_region": REGION}))
    assert applied.returncode == 0, output(applied)
    fleet.org_trail_arn = add_organization_trail(local_aws_server)
    yield fleet
    local_aws_server.reset()


@pytest.fixture(scope="module")
def clean_gated(org):
    """The clean fleet with the gate on, its calls recorded."""
    org.aws.start_recording()
    run = org.report(drift_fail_on_drift=True)
    calls = org.aws.stop_recording()
    return run, calls, org.aws.error_responses()


@pytest.fixture(scope="module")
def drifted(org, clean_gated):
    """After the clean runs: one member's trail stops logging, out of band."""
    account_client(org.aws, org.drifting, "cloudtrail").stop_logging(Name=TRAIL)
    return org


# -- the cost view ------------------------------------------------------------------


def test_a_members_own_trail_beside_the_organization_trail_is_a_billed_duplicate_with_an_estimate(org, clean_gated):
    (proc, report, markdown, dummy), dummy_calls, dummy_errors = clean_gated
    assert proc.returncode == 0, output(proc)
    for member in org.members:
        own = f"arn:aws:cloudtrail:{REGION}:{member}:trail/{TRAIL}"
        # What the member's account really holds, read back: its own trail and the organization's, both logging.
        cloudtrail = account_client(org.aws, member, "cloudtrail")
        assert sorted(t["TrailARN"] for t in cloudtrail.describe_trails()["trailList"]) == sorted([own, org.org_trail_arn])
        assert cloudtrail.get_trail_status(Name=own)["IsLogging"] and cloudtrail.get_trail_status(Name=org.org_trail_arn)["IsLogging"]

        costs = report[member]["costs"]
        assert report[member]["cost_error"] is None
        assert costs["currency"] == "USD" and costs["price_date"]
        [duplicate] = costs["duplicates"]
        assert duplicate == {
            "region": REGION,
            "trails": [org.org_trail_arn, own],
            "billed_extra_copies": 1,
            "free_copies": [org.org_trail_arn],
            "billed_trails": [own],
            "organization_trail": True,
        }
        # The estimate comes from the member's event history: the fleet run and this report made calls there.
        rate = costs["regions"][REGION]["events_per_hour"]
        assert rate > 0
        [item] = [i for i in costs["trails"][own]["items"] if i["kind"] == "management_copy"]
        assert item["billed"] is True and item["events_per_month"] == round(rate * 730)
        assert item["usd"] == round(item["events_per_month"] / 100000 * COPY_PRICE, 2) > 0
        assert costs["trails"][own]["monthly_estimate"] == item["usd"]
        assert costs["trails"][org.org_trail_arn]["monthly_estimate"] == 0.0
        assert f"| {member} member-" in markdown
    assert (
        "**Billed duplicate** in us-east-1: management events are delivered 2 times. "
        "Free copy: org-trail (organization trail); billed: management-events."
    ) in markdown
    assert "| management-events | " in markdown and "management_copy: billed, " in markdown


def test_the_cost_view_reads_quietly_and_writes_nothing(org, clean_gated):
    dummy_run, calls, errors = clean_gated
    assert writes(calls) == []
    # No call that answers an error in a clean account (each would be an error event in the customer's CloudTrail).
    assert errors == []
    lookups = [c for c in calls if c.action == "LookupEvents"]
    # Bounded: the last hour, at most 200 events (4 pages) per account.
    assert 0 < len(lookups) <= 4 * len(org.members)


def test_the_aws_cli_lists_the_trails_the_cost_view_priced(org, clean_gated):
    if not os.path.exists(AWS_CLI):
        pytest.skip("the AWS CLI venv is missing: make build/awscli-venv/.installed")
    (dummy_proc, report, dummy_md, dummy_dir), dummy_calls, dummy_errors = clean_gated
    member = org.clean
    role = ROLE_ARN_TEMPLATE.format(account_id=member)
    credentials = org.aws.client("sts", REGION).assume_role(RoleArn=role, RoleSessionName="cli")["Credentials"]
    env = dict(org.aws.env(REGION), PATH=os.environ["PATH"], HOME=os.environ.get("HOME", "/tmp"))
    env.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_ACCESS_KEY_ID=credentials["AccessKeyId"],
               AWS_SECRET_ACCESS_KEY=credentials["SecretAccessKey"], AWS_SESSION_TOKEN=credentials["SessionToken"])
    done = subprocess.run([AWS_CLI, "cloudtrail", "describe-trails", "--region", REGION, "--endpoint-url", org.aws.endpoint, "--output", "json"],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    listed = {t["TrailARN"]: t for t in json.loads(done.stdout)["trailList"]}
    assert sorted(listed) == sorted(report[member]["costs"]["trails"])
    assert listed[org.org_trail_arn]["IsOrganizationTrail"] is True


@pytest.fixture(scope="module")
def uncosted(org, clean_gated):
    """The same clean fleet with drift_costs false, its calls recorded."""
    org.aws.start_recording()
    run = org.report(drift_costs=False)
    return run, org.aws.stop_recording()


def test_drift_costs_false_skips_the_cost_view_and_its_calls(org, uncosted):
    (proc, report, markdown, dummy), calls = uncosted
    assert proc.returncode == 0, output(proc)
    assert all(report[member]["costs"] is None and report[member]["status"] == "clean" for member in org.members)
    assert [c for c in calls if c.action in ("LookupEvents", "DescribeTrails")] == []
    assert "What the trails cost" not in markdown


def test_the_cost_view_costs_a_few_reads_per_account(org, clean_gated, uncosted):
    """What drift_costs adds per account (2 trails, one region): the role, trail_info's reads, a bounded sample."""
    dummy_run, with_costs, dummy_errors = clean_gated
    dummy_run, without = uncosted
    added = collections.Counter(c.action for c in with_costs) - collections.Counter(c.action for c in without)
    n = len(org.members)
    # Per account: one role assumption, DescribeTrails, one ListTags (both trails' home is us-east-1), GetTrailStatus and
    # GetEventSelectors per trail, no GetInsightSelectors (neither trail has Insights), and at most 4 LookupEvents.
    assert dict(added) == {
        "AssumeRole": n, "DescribeTrails": n, "ListTags": n, "GetTrailStatus": 2 * n, "GetEventSelectors": 2 * n, "LookupEvents": added["LookupEvents"],
    }
    assert n <= added["LookupEvents"] <= 4 * n
    # Each account's sample is read with its own assumed credentials.
    assert len({c.access_key for c in with_costs if c.action == "LookupEvents"}) == n


@pytest.mark.parametrize(
    "variables, message",
    [
        ({"drift_fail_on_drift": "sometimes"}, "drift_fail_on_drift must be true or false, got sometimes"),
        ({"drift_cost_hours": 0}, "drift_cost_hours must be a number of hours greater than 0 and at most 24, got 0"),
        ({"drift_cost_max_events": "many"}, "drift_cost_max_events must be a whole number greater than 0, got many"),
        ({"drift_cost_regions": "us-east-1"}, "drift_cost_regions must be a non-empty list of regions such as us-east-1, got us-east-1"),
        ({"drift_cost_regions": ["US East"]}, "drift_cost_regions must be a non-empty list of regions such as us-east-1, got ['US East']"),
    ],
)
def test_a_wrong_variable_stops_the_report_before_any_call(org, clean_gated, variables, message):
    org.aws.start_recording()
    proc, report, dummy_md, dummy_dir = org.report(**variables)
    calls = org.aws.stop_recording()
    assert proc.returncode == 2 and message in proc.stdout, output(proc)
    # The inventory plugin reads the organization; the playbook itself makes no call.
    assert [c for c in calls if c.service != "organizations"] == [] and report is None


# -- the gate ----------------------------------------------------------------------


def test_a_clean_fleet_passes_the_gate(org, clean_gated):
    (proc, report, markdown, report_dir), dummy_calls, dummy_errors = clean_gated
    assert proc.returncode == 0, output(proc)
    assert {member: report[member]["status"] for member in org.members} == {member: "clean" for member in org.members}
    assert "Fail on drift" in proc.stdout and "drift_fail_on_drift:" not in proc.stdout
    assert os.path.isfile(os.path.join(report_dir, "drift_report.md"))


def test_a_drifted_account_fails_the_gate_after_the_reports_are_written(drifted):
    org = drifted
    # Read back: the drift is real.
    assert account_client(org.aws, org.drifting, "cloudtrail").get_trail_status(Name=TRAIL)["IsLogging"] is False
    proc, report, markdown, dummy = org.report(drift_fail_on_drift=True)
    assert proc.returncode == 2, output(proc)
    assert f"drift_fail_on_drift: 1 account(s) drifted: {org.drifting} member-001, 0 unreadable." in proc.stdout, output(proc)
    assert report[org.drifting]["status"] == "drifted" and report[org.clean]["status"] == "clean"
    assert {"resource": f"trail {TRAIL}", "setting": "is_logging", "desired": True, "actual": False} in report[org.drifting]["drift"]
    assert "| drifted | 1 |" in markdown


def test_a_drifted_fleet_without_the_gate_exits_zero_as_before(drifted):
    org = drifted
    proc, report, markdown, dummy = org.report()
    assert proc.returncode == 0, output(proc)
    assert report[org.drifting]["status"] == "drifted" and "| drifted | 1 |" in markdown


def test_an_unreadable_account_fails_the_gate(drifted):
    org = drifted
    # The drifted member is repaired, so the one account that fails the gate is the unreadable one.
    account_client(org.aws, org.drifting, "cloudtrail").start_logging(Name=TRAIL)
    proc, report, markdown, dummy = org.report(org.inventory, org.unreadable, drift_fail_on_drift=True)
    assert proc.returncode == 2, output(proc)
    assert f"drift_fail_on_drift: 0 account(s) drifted, 1 unreadable: {WRONG_ACCOUNT} wrong-role." in proc.stdout, output(proc)
    assert report[WRONG_ACCOUNT]["status"] == "unreadable" and report[WRONG_ACCOUNT]["costs"] is None
    assert all(report[member]["status"] == "clean" for member in org.members)
    assert "| unreadable | 1 |" in markdown
