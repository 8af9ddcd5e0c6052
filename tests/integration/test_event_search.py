"""playbooks/event_search.yml on an organization of 10 member accounts plus one
account whose role cannot be used: the default "security-relevant changes"
search finds the StopLogging another user made in one member, names the actor
and the time, leaves out the collection's own session unless asked, lists the
unreadable account with the reason, and paces LookupEvents per account and
region (the local AWS throttles it at CloudTrail's 2 requests a second).

The fleet is made once for the module; each test is one playbook run.
"""

from __future__ import annotations

import collections
import datetime
import json
import os
import re
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT
from tests.integration.conftest import _env
from tests.integration.fleet_helpers import ROLE_ARN_TEMPLATE, account_client, make_organization, static_account, write_inventory
from tests.local_aws.fidelity.faults import clear_faults, inject_faults
from tests.local_aws.fidelity.lookup_events import set_throttle
from tests.local_aws.policies import cloudtrail_bucket_policy
from tests.local_aws.server import ACCOUNT_ID

N_MEMBERS = 10
TRAIL = "management-events"
OWN_SESSION = "trailops-cloudtrail"
OTHER_USER = "mallory"
REGIONS = ["us-east-1", "eu-west-1"]
# The default query: one LookupEvents request per event name, per account and region.
DEFAULT_QUERIES = 9
# An account whose role acts in another account: assume_account.yml refuses it.
WRONG_ACCOUNT = "444455556666"
WRONG_ROLE = ROLE_ARN_TEMPLATE.format(account_id="555566667777")


def session(aws, account: str, name: str, service: str, region: str = "us-east-1"):
    """A client acting in ``account`` through its role, under the role session ``name``."""
    return account_client(aws, account, service, region, session_name=name)


def make_trail(aws, account: str) -> str:
    """The member's trail and log bucket, made by the collection's own session, as fleet.yml would."""
    bucket = f"cloudtrail-logs-{account}"
    s3 = session(aws, account, OWN_SESSION, "s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(cloudtrail_bucket_policy(bucket, account)))
    cloudtrail = session(aws, account, OWN_SESSION, "cloudtrail")
    cloudtrail.create_trail(Name=TRAIL, S3BucketName=bucket)
    cloudtrail.start_logging(Name=TRAIL)
    cloudtrail.update_trail(Name=TRAIL, EnableLogFileValidation=True)
    return bucket


class Fleet:
    def __init__(self, aws, tmp_path) -> None:
        self.aws = aws
        self.tmp_path = tmp_path
        self.members = make_organization(aws, N_MEMBERS)
        self.target = self.members[6]
        self.organization = write_inventory(tmp_path, aws, options={"exclude_accounts": [ACCOUNT_ID]}, name="org")
        self.static = write_inventory(
            tmp_path, aws, accounts=[static_account(WRONG_ACCOUNT, name="wrong-role", role_arn=WRONG_ROLE)], name="static"
        )
        for account in (self.target, self.members[2]):
            make_trail(aws, account)
        # Out of band: another user stops logging in one member...
        session(aws, self.target, OTHER_USER, "cloudtrail").stop_logging(Name=TRAIL)
        # ... and changes the policy of a bucket that no trail delivers to: not a security-relevant change.
        other_s3 = session(aws, self.members[3], OTHER_USER, "s3")
        other_s3.create_bucket(Bucket="website-assets")
        other_s3.put_bucket_policy(Bucket="website-assets", Policy=json.dumps(cloudtrail_bucket_policy("website-assets", self.members[3])))

    def run(self, name: str, extra_vars: dict | None = None, *args: str) -> subprocess.CompletedProcess:
        report_dir = self.tmp_path / name
        variables = {"report_dir": str(report_dir), "event_search_regions": REGIONS}
        variables.update(extra_vars or {})
        command = [
            os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
            "playbooks/event_search.yml",
            "-i",
            self.organization,
            "-i",
            self.static,
            "-f",
            "11",
            "-e",
            json.dumps(variables),
            *args,
        ]
        return subprocess.run(
            command,
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
            env=_env(self.aws, "us-east-1", {"ANSIBLE_PYTHON_INTERPRETER": sys.executable}),
            timeout=900,
            check=False,
        )

    def search(self, name: str, extra_vars: dict | None = None, *args: str) -> tuple[subprocess.CompletedProcess, dict, str]:
        proc = self.run(name, extra_vars, *args)
        report_dir = self.tmp_path / name
        assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
        report = json.loads((report_dir / "event_search.json").read_text())
        markdown = (report_dir / "event_search.md").read_text()
        return proc, report, markdown


@pytest.fixture(scope="module")
def fleet(local_aws_server, tmp_path_factory):
    local_aws_server.reset()
    yield Fleet(local_aws_server, tmp_path_factory.mktemp("event_search"))
    local_aws_server.reset()


@pytest.fixture(scope="module")
def default_search(fleet):
    """The default search, under CloudTrail's LookupEvents rate, with the calls recorded."""
    set_throttle(fleet.aws, 2)
    fleet.aws.start_recording()
    try:
        proc, report, markdown = fleet.search("default")
        calls = fleet.aws.stop_recording()
        errors = fleet.aws.error_responses()
    finally:
        set_throttle(fleet.aws, None)
    return proc, report, markdown, calls, errors


def stop_logging_record(fleet) -> dict:
    """The StopLogging event as CloudTrail's own LookupEvents gives it, read with boto3."""
    cloudtrail = session(fleet.aws, fleet.target, "reader", "cloudtrail")
    (event,) = cloudtrail.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "StopLogging"}])["Events"]
    return event


def test_finds_the_stop_logging_of_another_user_in_one_member_among_ten(fleet, default_search):
    _proc, report, _markdown, _calls, _errors = default_search
    assert not session(fleet.aws, fleet.target, "reader", "cloudtrail").get_trail_status(Name=TRAIL)["IsLogging"]
    record = stop_logging_record(fleet)
    (event,) = report["events"]
    assert event["account_id"] == fleet.target
    assert event["account_name"] == "member-006"
    assert event["region"] == "us-east-1"
    assert event["event_name"] == "StopLogging"
    assert event["event_source"] == "cloudtrail.amazonaws.com"
    assert event["actor"] == {
        "user_name": OTHER_USER,
        "type": "AssumedRole",
        "arn": f"arn:aws:sts::{fleet.target}:assumed-role/OrganizationAccountAccessRole/{OTHER_USER}",
    }
    assert event["event_time"] == record["EventTime"].isoformat().replace("+00:00", "Z")
    assert event["event_id"] == record["EventId"]
    assert {"type": "AWS::CloudTrail::Trail", "name": TRAIL} in event["resources"]
    assert event["source_ip"] and event["error_code"] is None


def test_markdown_names_the_actor_and_the_time(fleet, default_search):
    _proc, report, markdown, _calls, _errors = default_search
    (event,) = report["events"]
    (row,) = [line for line in markdown.splitlines() if "StopLogging" in line]
    assert event["event_time"] in row and fleet.target in row and OTHER_USER in row and event["actor"]["arn"] in row


def test_every_account_is_listed_and_the_unreadable_one_with_the_reason(fleet, default_search):
    _proc, report, markdown, _calls, _errors = default_search
    statuses = {account["account_id"]: account["status"] for account in report["accounts"]}
    assert statuses == dict({member: "searched" for member in fleet.members}, **{WRONG_ACCOUNT: "unreadable"})
    (wrong,) = [account for account in report["accounts"] if account["account_id"] == WRONG_ACCOUNT]
    assert f"acts in account 555566667777, not in {WRONG_ACCOUNT}" in wrong["error"]
    assert f"| {WRONG_ACCOUNT} wrong-role | " in markdown
    searched = [account for account in report["accounts"] if account["status"] == "searched"]
    assert all(account["regions"] == REGIONS for account in searched)


def test_the_collections_own_changes_are_left_out_by_default(default_search):
    _proc, report, _markdown, _calls, _errors = default_search
    assert all(event["actor"]["user_name"] != OWN_SESSION for event in report["events"])
    assert report["include_own"] is False and report["query"] == "security-relevant changes"


def test_lookup_events_is_paced_per_account_and_region(fleet, default_search):
    """Each account and region gets exactly the default query's requests, none of
    them throttled, although the local AWS allows only 2 a second."""
    _proc, _report, _markdown, calls, errors = default_search
    per_reader = collections.Counter((c.access_key, c.region) for c in calls if c.service == "cloudtrail" and c.action == "LookupEvents")
    assert sorted(per_reader.values()) == [DEFAULT_QUERIES] * (N_MEMBERS * len(REGIONS))
    assert {region for _key, region in per_reader} == set(REGIONS)
    assert [e for e in errors if e[1] == "LookupEvents"] == []
    # The search reads only.
    assert [c for c in calls if c.is_write and c.action != "AssumeRole"] == []


def test_no_credential_in_the_output_or_the_reports(fleet, default_search):
    proc, report, markdown, _calls, _errors = default_search
    text = proc.stdout + proc.stderr + json.dumps(report) + markdown
    assert "SecretAccessKey" not in text and "secret_key" not in text and "session_token" not in text


def test_include_own_shows_the_collections_changes_too(fleet):
    proc, report, _markdown = fleet.search("own", {"event_search_include_own": True}, "-vvv")
    # Not even at -vvv: an assumed role's access key id, or moto's session token.
    assert not re.search(r"ASIA[A-Z0-9]{16}", proc.stdout + proc.stderr)
    assert "FQoGZXIvYXdzE" not in proc.stdout + proc.stderr
    found = {(e["account_id"], e["event_name"], e["actor"]["user_name"]) for e in report["events"]}
    assert found == {
        (fleet.target, "StopLogging", OTHER_USER),
        # fleet.yml's changes: a log bucket's policy, and the trail's update.
        *{(member, name, OWN_SESSION) for member in (fleet.target, fleet.members[2]) for name in ("PutBucketPolicy", "UpdateTrail")},
    }
    times = [e["event_time"] for e in report["events"]]
    assert times == sorted(times, reverse=True)


def test_search_by_user_finds_everything_that_user_changed(fleet):
    """One region given as a plain string, under --check: the search only reads, so it runs and writes its reports."""
    _proc, report, _markdown = fleet.search("by_user", {"event_search_usernames": [OTHER_USER], "event_search_regions": "us-east-1"}, "--check")
    assert {tuple(a["regions"]) for a in report["accounts"] if a["status"] == "searched"} == {("us-east-1",)}
    found = sorted((e["account_id"], e["event_name"]) for e in report["events"])
    assert found == sorted([(fleet.target, "StopLogging"), (fleet.members[3], "CreateBucket"), (fleet.members[3], "PutBucketPolicy")])
    assert report["query"] == {"usernames": [OTHER_USER]}


@pytest.mark.parametrize(
    "extra_vars, message",
    [
        ({"event_search_start": "last week"}, "event_search_start: cannot parse 'last week'"),
        ({"event_search_event_names": ["StopLogging", ""]}, "event_search_event_names must be a list of non-empty strings"),
        ({"event_search_regions": ["us-east-1", "mars-north-1"]}, "event_search_regions: unknown region 'mars-north-1'"),
    ],
)
def test_a_bad_search_fails_before_any_account_is_touched(fleet, extra_vars, message):
    fleet.aws.start_recording()
    proc = fleet.run("bad", extra_vars)
    calls = fleet.aws.stop_recording()
    assert proc.returncode != 0 and message in proc.stdout, proc.stdout[-3000:]
    # Only the inventory's Organizations reads: no role assumed, no CloudTrail call.
    assert {c.service for c in calls} <= {"organizations"}
    assert not (fleet.tmp_path / "bad" / "event_search.json").exists()


def test_an_account_whose_event_history_is_denied_is_unreadable_with_the_reason(fleet):
    """The first LookupEvents of the run is denied: that account alone is unreadable, named with CloudTrail's answer."""
    inject_faults(fleet.aws, [{"service": "cloudtrail", "action": "LookupEvents", "fault": "throttle", "code": "AccessDeniedException", "limit": 1}])
    try:
        _proc, report, markdown = fleet.search("denied", {"event_search_event_names": ["StopLogging"], "event_search_regions": ["us-east-1"]})
    finally:
        clear_faults(fleet.aws)
    unreadable = [account for account in report["accounts"] if account["status"] == "unreadable"]
    (denied,) = [account for account in unreadable if account["account_id"] != WRONG_ACCOUNT]
    assert denied["account_id"] in fleet.members
    assert denied["error"].startswith("event_history: LookupEvents in us-east-1 failed: An error occurred (AccessDeniedException)")
    assert f"| {denied['account_id']} {denied['account_name']} | " in markdown
    assert len(unreadable) == 2 and len(report["accounts"]) == N_MEMBERS + 1


AWS_CLI = os.path.join(REPO_ROOT, "build", "awscli-venv", "bin", "aws")


@pytest.mark.skipif(not os.path.exists(AWS_CLI), reason="the AWS CLI venv is missing: make build/awscli-venv/.installed")
def test_the_aws_cli_reads_the_same_event_in_that_member(fleet, default_search):
    """aws cloudtrail lookup-events, with the member's credentials: same event id, time, user and ARN as the report."""
    _proc, report, _markdown, _calls, _errors = default_search
    (entry,) = report["events"]
    credentials = fleet.aws.client("sts", "us-east-1").assume_role(
        RoleArn=ROLE_ARN_TEMPLATE.format(account_id=fleet.target), RoleSessionName="cli-reader"
    )["Credentials"]
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    env.update(fleet.aws.env("us-east-1"))
    env.update(
        AWS_ACCESS_KEY_ID=credentials["AccessKeyId"],
        AWS_SECRET_ACCESS_KEY=credentials["SecretAccessKey"],
        AWS_SESSION_TOKEN=credentials["SessionToken"],
    )
    command = [
        AWS_CLI, "cloudtrail", "lookup-events", "--lookup-attributes", "AttributeKey=EventName,AttributeValue=StopLogging",
        "--region", "us-east-1", "--endpoint-url", fleet.aws.endpoint, "--output", "json",
    ]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    (event,) = json.loads(done.stdout)["Events"]
    record = json.loads(event["CloudTrailEvent"])
    assert event["EventId"] == entry["event_id"]
    assert event["Username"] == entry["actor"]["user_name"] == OTHER_USER
    assert record["userIdentity"]["arn"] == entry["actor"]["arn"]
    # The AWS CLI 1.x prints times as epoch seconds.
    cli_time = datetime.datetime.fromtimestamp(event["EventTime"], datetime.timezone.utc)
    assert cli_time == datetime.datetime.fromisoformat(entry["event_time"].replace("Z", "+00:00"))
