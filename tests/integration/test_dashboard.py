"""playbooks/dashboard.yml on the local AWS, opened in Debian's headless
chromium: the page renders without console errors, shows every account and
trail, draws its charts, and a screenshot is taken into build/reports/.

The page is about the accounts, not the tool: an out-of-band StopLogging by
another user is in the security panel, the collection's own role session is
in no count, chart or table unless the switch says so, and each account has
its drift, SNS, CloudWatch Logs, selector scope and cost columns."""

from __future__ import annotations

import datetime
import html.parser
import json
import os
import re
import subprocess
import tempfile
from collections import Counter

import botocore.exceptions
import pytest

from tests.conftest import REPO_ROOT
from tests.integration.fleet_helpers import ROLE_ARN_TEMPLATE
from tests.integration.fleet_helpers import account_client
from tests.integration.fleet_helpers import make_organization
from tests.integration.fleet_helpers import static_account
from tests.integration.fleet_helpers import write_inventory
from tests.integration.setup_helpers import make_kms_key
from tests.integration.setup_helpers import make_log_bucket
from tests.integration.setup_helpers import make_log_group
from tests.integration.setup_helpers import make_sns_topic
from tests.local_aws.fidelity.lookup_events import seed_events
from tests.local_aws.server import REGION

CHROMIUM = "/usr/bin/chromium"
AWS_CLI = os.path.join(REPO_ROOT, "build", "awscli-venv", "bin", "aws")
# As /work/.library/env/machines/python.md says: without the background
# networking flags chromium keeps trying hosts this machine cannot reach.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    # The page's console messages, one "...:CONSOLE:<line>] ..." line each on stderr.
    "--enable-logging=stderr",
    "--v=0",
]
PLAYBOOK = os.path.join(REPO_ROOT, "playbooks", "dashboard.yml")
REPORTS = os.path.join(REPO_ROOT, "build", "reports")
SUSPENDED = "999999999999"
WRONG_ROLE = "111111111111"


@pytest.fixture(scope="module")
def chromium() -> str:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (installs Debian's chromium) before the dashboard's browser test")
    return CHROMIUM


def run_chromium(chromium: str, page: str, *args: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="dashboard-chromium-") as profile:
        return subprocess.run(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, "file://" + os.path.abspath(page)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


def console_messages(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


class DomIndex(html.parser.HTMLParser):
    """What the tests look for in the DOM chromium dumps."""

    def __init__(self) -> None:
        super().__init__()
        self.accounts: dict[str, str] = {}
        self.trails: list[str] = []
        self.ids: set[str] = set()
        self.svg_shapes: dict[str, int] = {}
        self.table_rows: dict[str, int] = {}
        self.section: str | None = None
        self.text: list[str] = []
        self.section_text: dict[str, list[str]] = {}
        # The rows of the security panel and of the event table, by their data- attributes.
        self.security_rows: list[dict[str, str]] = []
        self.event_users: list[str] = []
        self.narrowed: list[str] = []
        self.duplicates: list[tuple[str, str]] = []
        self.drift: dict[str, str] = {}
        self._account: str | None = None
        self._trail: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "section":
            self.section = attrs.get("id")
        if "data-account-id" in attrs:
            self.accounts[attrs["data-account-id"]] = attrs.get("data-readable")
        if "data-trail-name" in attrs:
            self.trails.append(attrs["data-trail-name"])
            self._account = attrs.get("data-account-id")
            self._trail = attrs["data-trail-name"]
        elif "data-account-id" in attrs:
            self._account = attrs["data-account-id"]
        if attrs.get("class") == "security-change":
            self.security_rows.append({key[5:]: value for key, value in attrs.items() if key.startswith("data-")})
        if tag == "tr" and attrs.get("class") == "event":
            self.event_users.append(attrs.get("data-user"))
        if attrs.get("data-narrowed") == "true":
            self.narrowed.append(self._trail)
        if "duplicate" in (attrs.get("class") or "").split():
            self.duplicates.append((self._account, attrs.get("data-region")))
        if "data-drift" in attrs:
            self.drift[self._account] = attrs["data-drift"]
        if tag == "rect" and self.section:
            self.svg_shapes[self.section] = self.svg_shapes.get(self.section, 0) + 1
        if tag == "tr" and self.section:
            self.table_rows[self.section] = self.table_rows.get(self.section, 0) + 1

    def handle_endtag(self, tag):
        if tag == "section":
            self.section = None

    def handle_data(self, data):
        self.text.append(data)
        if self.section:
            self.section_text.setdefault(self.section, []).append(data)

    def text_of(self, section: str) -> str:
        return " ".join(" ".join(self.section_text.get(section, [])).split())


def in_account(aws, account):
    """Something set-up helpers take as ``aws``, acting in ``account``."""

    class InAccount:
        def client(self, service, region=REGION):
            return account_client(aws, account, service, region)

    return InAccount()


# The fleet size: the dashboard's browser test runs on 20 accounts.
MEMBERS = 20
# The collection's role session (tasks/assume_account.yml), and people who are not the collection.
OWN_SESSION = "trailops-cloudtrail"
ONCALL = "oncall-alice"
# Member indexes set up for the new columns and panels.
STOPPED, OWN_SELECTORS, NARROWED, DUPLICATE = 3, 4, 5, 6


def make_fleet(aws, members: int = MEMBERS) -> dict[str, list[str]]:
    """``members`` member accounts, each with its own trails, real calls and seeded
    history (the first seven set up differently); returns the trail names by account."""
    accounts = make_organization(aws, members)
    trails: dict[str, list[str]] = {}
    now = datetime.datetime.now(datetime.timezone.utc)
    for index, account in enumerate(accounts):
        member = in_account(aws, account)
        bucket = make_log_bucket(member, f"dashboard-logs-{account}", account=account)
        cloudtrail = member.client("cloudtrail")
        names = [f"management-{index}"]
        params = {"Name": names[0], "S3BucketName": bucket, "IsMultiRegionTrail": True, "EnableLogFileValidation": index != 1}
        if index == 0:
            params["KmsKeyId"] = make_kms_key(member, f"dashboard-{index}", account=account).key_arn
        if index == 1:
            # Notifications and CloudWatch Logs, for their columns.
            params["SnsTopicName"] = make_sns_topic(member, "cloudtrail-deliveries")
            params["CloudWatchLogsLogGroupArn"], params["CloudWatchLogsRoleArn"] = make_log_group(member, "CloudTrail/management-1", account=account)
        cloudtrail.create_trail(**params)
        cloudtrail.start_logging(Name=names[0])
        if index == 2:
            names.append("data-events")
            cloudtrail.create_trail(Name="data-events", S3BucketName=bucket)
            cloudtrail.put_event_selectors(
                TrailName="data-events",
                EventSelectors=[{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": False,
                                 "DataResources": [{"Type": "AWS::S3::Object", "Values": [f"arn:aws:s3:::{bucket}/"]}]}],
            )
            cloudtrail.put_insight_selectors(TrailName=names[0], InsightSelectors=[{"InsightType": "ApiCallRateInsight"}])
        trails[account] = names
        # A day of history: a burst of reads by one user, writes by another, and failed calls.
        seeded = []
        for minute in range(0, 24 * 60, 20):
            seeded.append({"EventName": "DescribeInstances", "Username": "auditor", "ReadOnly": True, "EventSource": "ec2.amazonaws.com",
                           "EventTime": (now - datetime.timedelta(minutes=minute + 3)).isoformat()})
        for minute in range(0, 6 * 60, 30):
            seeded.append({"EventName": "PutObject", "Username": f"deployer-{index}", "EventSource": "s3.amazonaws.com",
                           "EventTime": (now - datetime.timedelta(minutes=minute + 5)).isoformat()})
        for minute in (15, 75, 135) if index < 2 else ():
            seeded.append({"EventName": "StopLogging", "Username": "intruder", "ErrorCode": "AccessDenied",
                           "ErrorMessage": "not authorized", "EventTime": (now - datetime.timedelta(minutes=minute)).isoformat()})
        if index == 2:
            seeded.append({"EventName": "PutObject", "EventCategory": "Insight",
                           "EventTime": (now - datetime.timedelta(minutes=50)).isoformat()})
        if index == STOPPED:
            # Older than any account's newest events: only the security queries find it when a read is cut short.
            seeded.append({"EventName": "DeleteTrail", "Username": "mallory", "EventSource": "cloudtrail.amazonaws.com",
                           "EventTime": (now - datetime.timedelta(hours=20)).isoformat(),
                           "Resources": [{"ResourceType": "AWS::CloudTrail::Trail", "ResourceName": "old-trail"}]})
        if index == DUPLICATE:
            # A second trail recording the same management events: a billed extra copy.
            names.append("second-copy")
            cloudtrail.create_trail(Name="second-copy", S3BucketName=bucket)
            cloudtrail.start_logging(Name="second-copy")
        seed_events(aws, seeded, account_id=account, region=REGION)
    return trails


def own_calls(aws, account: str, trail: str) -> int:
    """What the collection's earlier runs leave in an account's history: reads,
    and a probe that fails (a trail that is not there); returns how many calls."""
    cloudtrail = account_client(aws, account, "cloudtrail", session_name=OWN_SESSION)
    cloudtrail.get_trail_status(Name=trail)
    cloudtrail.get_event_selectors(TrailName=trail)
    with pytest.raises(botocore.exceptions.ClientError) as probe:
        cloudtrail.get_trail_status(Name="retired-trail")
    assert probe.value.response["Error"]["Code"] == "TrailNotFoundException"
    return 3


def out_of_band_changes(aws, accounts: list[str]) -> int:
    """Another user stops logging in one member and narrows the selectors of
    another; the collection's own session writes the selectors of a third, as
    fleet.yml does. Returns the collection's calls made here."""
    account_client(aws, accounts[STOPPED], "cloudtrail", session_name=ONCALL).stop_logging(Name=f"management-{STOPPED}")
    account_client(aws, accounts[NARROWED], "cloudtrail", session_name=ONCALL).put_event_selectors(
        TrailName=f"management-{NARROWED}", EventSelectors=[{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}]
    )
    account_client(aws, accounts[OWN_SELECTORS], "cloudtrail", session_name=OWN_SESSION).put_event_selectors(
        TrailName=f"management-{OWN_SELECTORS}", EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True}]
    )
    return 1


def prepare_fleet(aws, members: int = MEMBERS) -> tuple[dict[str, list[str]], int]:
    trails = make_fleet(aws, members)
    own = out_of_band_changes(aws, list(trails))
    own += sum(own_calls(aws, account, names[0]) for account, names in trails.items())
    return trails, own


@pytest.fixture
def fleet(aws, tmp_path):
    trails, own = prepare_fleet(aws)
    entries = [static_account(account, name=f"member-{index:03d}") for index, account in enumerate(trails)]
    entries.append(static_account(SUSPENDED, name="closed-account", status="SUSPENDED"))
    # A role that acts in another account must not be read as this account.
    entries.append(static_account(WRONG_ROLE, name="wrong-role", role_arn=f"arn:aws:iam::{next(iter(trails))}:role/OrganizationAccountAccessRole"))
    # The trailops.cloudtrail.accounts inventory plugin, with the accounts listed statically.
    inventory = write_inventory(tmp_path, aws, accounts=entries)
    return trails, inventory, own


def drift_report(accounts: list[str]) -> dict:
    """drift_report.json as playbooks/drift_report.yml writes it (docs/fleet.md): one
    member drifted, one clean; the others were not in that run."""
    return {
        "generated": "2026-11-23T23:46:24Z",
        "accounts": [
            {"account_id": accounts[0], "account_name": "member-000", "status": "drifted", "error": None, "trails": [],
             "drift": [{"resource": "trail management-0", "setting": "is_logging", "desired": True, "actual": False}], "log_validation": None},
            {"account_id": accounts[1], "account_name": "member-001", "status": "clean", "error": None, "trails": [], "drift": [],
             "log_validation": None},
        ],
    }


def cli_lookup_events(aws, account: str, event_name: str) -> list[dict]:
    """The AWS CLI (the reference client) reading one member's event history, as the account's role."""
    credentials = aws.client("sts").assume_role(RoleArn=ROLE_ARN_TEMPLATE.format(account_id=account), RoleSessionName="cli-check")["Credentials"]
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "AWS_CONFIG_FILE": os.devnull,
           "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    env.update(aws.env(REGION))
    env.update({"AWS_ACCESS_KEY_ID": credentials["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
                "AWS_SESSION_TOKEN": credentials["SessionToken"]})
    command = [AWS_CLI, "cloudtrail", "lookup-events", "--lookup-attributes", f"AttributeKey=EventName,AttributeValue={event_name}",
               "--endpoint-url", aws.endpoint, "--output", "json"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["Events"]


def open_in_chromium(chromium: str, page) -> DomIndex:
    dom_run = run_chromium(chromium, str(page), "--dump-dom")
    assert dom_run.returncode == 0, dom_run.stderr[-3000:]
    assert console_messages(dom_run.stderr) == []
    dom = DomIndex()
    dom.feed(dom_run.stdout)
    return dom


def test_dashboard_renders_in_chromium(aws, run_playbook, fleet, chromium, tmp_path):
    trails, inventory, own_before = fleet
    accounts = list(trails)
    report_dir = tmp_path / "reports"
    report_dir.mkdir()
    (report_dir / "drift_report.json").write_text(json.dumps(drift_report(accounts)), encoding="utf-8")

    aws.start_recording()
    done = run_playbook(PLAYBOOK, {"report_dir": str(report_dir)}, "-i", inventory)
    calls = aws.stop_recording()
    assert done.returncode == 0, done.stdout + done.stderr
    # The dashboard only reads: assuming roles is the one call that is not a Get/List/Describe.
    assert [(c.service, c.action) for c in calls if c.is_write and c.action != "AssumeRole"] == []
    actions = Counter(c.action for c in calls if c.service == "cloudtrail")
    # trail_info per account: one DescribeTrails and ListTags, two reads per trail.
    assert actions["DescribeTrails"] == actions["ListTags"] == MEMBERS
    assert actions["GetTrailStatus"] == actions["GetEventSelectors"] == sum(map(len, trails.values()))
    # GetInsightSelectors only for the one trail with Insights (trail_info reads HasInsightSelectors first).
    assert actions["GetInsightSelectors"] == 1
    # LookupEvents per account (its own assumed key): pages of 50 up to dashboard_max_events, and one for Insights;
    # no account has 500 events, so no security query is read apart.
    lookups = Counter(c.access_key for c in calls if c.action == "LookupEvents")
    assert len(lookups) == MEMBERS and max(lookups.values()) <= 500 // 50 + 1
    # The collection's calls in the members during the run (trail_info's reads; LookupEvents is not
    # in event history), and before it: every one of them is hidden, and counted.
    own_during = sum(1 for c in calls if c.service != "sts" and c.action != "LookupEvents")

    page = report_dir / "dashboard.html"
    source = page.read_text(encoding="utf-8")
    # Self-contained: nothing the page would load, the CSP forbids it too.
    assert re.findall(r"""(?:src|href)\s*=|url\(|@import""", source) == []
    # No access key id of any session (the collection's included) in the page or the output.
    assert re.findall(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b", source + done.stdout) == []

    dom = open_in_chromium(chromium, page)

    assert dom.accounts == dict({account: "true" for account in trails}, **{SUSPENDED: "false", WRONG_ROLE: "false"})
    assert sorted(dom.trails) == sorted(name for names in trails.values() for name in names)
    text = " ".join(" ".join(dom.text).split())
    assert "is SUSPENDED, not ACTIVE" in text
    assert f"acts in account {next(iter(trails))}, not in {WRONG_ROLE}" in text
    # Each chart has its bars: 24 hourly slots carry events, the rankings their rows.
    for chart in ("chart-events-over-time", "chart-top-event-names", "chart-top-users", "chart-error-calls"):
        assert dom.svg_shapes.get(chart, 0) > 0, chart
    assert "StopLogging: AccessDenied" in text
    assert "auditor" in text and "DescribeInstances" in text
    # The Insights events table: its heading row and the one seeded event.
    assert dom.table_rows.get("insights") == 2
    assert "ApiCallRate" in text
    assert "SSE-KMS" in text and "SSE-S3" in text
    assert "Data: S3 (1)" in text

    # The security panel: the out-of-band StopLogging by another user, with the account's name,
    # the narrowing of another member's selectors, the failed attempts; nothing of the collection's.
    changes = {(row["change-account"], row["event-name"], row["user"]) for row in dom.security_rows}
    assert (accounts[STOPPED], "StopLogging", ONCALL) in changes
    assert (accounts[NARROWED], "PutEventSelectors", ONCALL) in changes
    assert (accounts[STOPPED], "DeleteTrail", "mallory") in changes
    assert (accounts[0], "StopLogging", "intruder") in changes
    # The test set-up's own session (fleet-test) put selectors in member 2: another user, too.
    assert {user for _account, _name, user in changes} == {ONCALL, "mallory", "intruder", "fleet-test"}
    panel = dom.text_of("security-changes")
    assert f"member-{STOPPED:03d} {accounts[STOPPED]} {REGION} StopLogging {ONCALL} AssumedRole management-{STOPPED} done" in panel
    # The collection's own session: in no table or chart, and counted.
    assert OWN_SESSION not in dom.event_users and OWN_SESSION not in dom.text_of("chart-top-users")
    # Its failed probes too (each member's GetTrailStatus of a retired trail): the own count below includes them.
    assert "TrailNotFoundException" not in dom.text_of("chart-error-calls")
    own = own_before + own_during
    assert f"{own} events of the collection's own role sessions" in text
    # The events table names the account.
    assert re.search(r"member-\d{3} \d{12} " + REGION, dom.text_of("event-history"))

    # Columns per account: drift from drift_report.json, the narrowed selector, SNS and CloudWatch Logs,
    # the billed duplicate copy with its estimate.
    assert dom.drift[accounts[0]] == "drifted" and dom.drift[accounts[1]] == "clean"
    assert {dom.drift[account] for account in accounts[2:]} == {"not checked"}
    assert dom.narrowed == [f"management-{NARROWED}"]
    assert "Write-only" in dom.text_of("accounts") and "All (read + write)" in dom.text_of("accounts")
    assert "SNS topic" in text and "CloudWatch Logs log group" in text
    # The log group by name, as the console's trail list shows it.
    assert "management-1 us-east-1 all regions" in dom.text_of("accounts")
    assert re.search(r"cloudtrail-deliveries CloudTrail/management-1 dashboard-logs-", dom.text_of("accounts"))
    assert dom.duplicates == [(accounts[DUPLICATE], REGION)]
    costs = re.findall(r"\$(\d+\.\d\d) billed copy", dom.text_of("accounts"))
    assert len(costs) == 1 and float(costs[0]) > 0

    os.makedirs(REPORTS, exist_ok=True)
    screenshot = os.path.join(REPORTS, "dashboard.png")
    if os.path.exists(screenshot):
        os.unlink(screenshot)
    shot = run_chromium(chromium, str(page), f"--screenshot={screenshot}", "--window-size=1440,3400")
    assert shot.returncode == 0, shot.stderr[-3000:]
    assert console_messages(shot.stderr) == []
    with open(screenshot, "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"
    assert os.path.getsize(screenshot) > 50_000
    # Keep the page beside its screenshot for people to open.
    with open(os.path.join(REPORTS, "dashboard.html"), "w", encoding="utf-8") as handle:
        handle.write(source)


def test_console_errors_are_caught(chromium, tmp_path):
    """The check above can fail: a page that loads an external asset and throws shows both."""
    page = tmp_path / "broken.html"
    page.write_text(
        "<!DOCTYPE html><html><head><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "script-src 'unsafe-inline'\"></head><body><img src=\"http://assets.invalid/logo.png\">"
        "<script>window.undefinedFunction();</script></body></html>",
        encoding="utf-8",
    )
    done = run_chromium(chromium, str(page), "--dump-dom")
    messages = "\n".join(console_messages(done.stderr))
    assert "assets.invalid/logo.png" in messages
    assert "undefinedFunction" in messages


def test_an_empty_fleet_still_writes_a_page(aws, run_playbook, chromium, tmp_path):
    """Every account unreadable: the page says so, with no charts to draw from."""
    inventory = write_inventory(tmp_path, accounts=[static_account(SUSPENDED, name="closed-account", status="SUSPENDED")], source="yaml")
    done = run_playbook(PLAYBOOK, {"report_dir": str(tmp_path)}, "-i", inventory)
    assert done.returncode == 0, done.stdout + done.stderr
    dom_run = run_chromium(chromium, str(tmp_path / "dashboard.html"), "--dump-dom")
    assert console_messages(dom_run.stderr) == []
    dom = DomIndex()
    dom.feed(dom_run.stdout)
    assert dom.accounts == {SUSPENDED: "false"}
    text = " ".join(" ".join(dom.text).split())
    assert "No events in the window." in text and "No failed calls in the window." in text
    assert json.dumps(dom.trails) == "[]"


def test_the_switch_shows_the_collections_own_calls_and_a_short_read_still_finds_the_changes(aws, run_playbook, chromium, tmp_path):
    """dashboard_include_own_calls=true: the collection's own reads and its own selector write are in the
    page. dashboard_max_events cut short: the security queries are read apart, and find a DeleteTrail
    older than every event read. The fleet callback prints each account's line as it finishes."""
    trails, _own = prepare_fleet(aws, members=DUPLICATE + 1)
    accounts = list(trails)
    picked = [accounts[STOPPED], accounts[OWN_SELECTORS]]
    inventory = write_inventory(tmp_path, aws, accounts=[static_account(a, name=f"member-{accounts.index(a):03d}") for a in picked])
    # The drift column from a real drift_report.yml run into the same report_dir: these members have
    # none of the fleet's baseline, so both drift.
    drift = run_playbook(os.path.join(REPO_ROOT, "playbooks", "drift_report.yml"), {"report_dir": str(tmp_path), "drift_costs": False},
                         "-i", inventory, "--check")
    assert drift.returncode == 0, drift.stdout + drift.stderr
    drifted = {entry["account_id"]: entry for entry in json.loads((tmp_path / "drift_report.json").read_text())["accounts"]}
    assert {drifted[account]["status"] for account in picked} == {"drifted"}
    aws.start_recording()
    done = run_playbook(
        PLAYBOOK,
        {"report_dir": str(tmp_path), "dashboard_include_own_calls": True, "dashboard_max_events": 20},
        "-i", inventory,
        env={"ANSIBLE_STDOUT_CALLBACK": "trailops.cloudtrail.fleet"},
    )
    calls = aws.stop_recording()
    assert done.returncode == 0, done.stdout + done.stderr
    # One line per account, counted, as its reads finish.
    for account in picked:
        assert re.search(rf"^\[[12]/2\] {account} \(member-\d{{3}}\) read: 1 trail, 20 events$", done.stdout, re.M), done.stdout
    # Cut short: the main read, the Insights read, and one query per event name of the security query.
    lookups = Counter(c.access_key for c in calls if c.action == "LookupEvents")
    assert sorted(lookups.values()) == [2 + 9, 2 + 9]

    dom = open_in_chromium(chromium, tmp_path / "dashboard.html")
    changes = {(row["change-account"], row["event-name"], row["user"]) for row in dom.security_rows}
    assert (accounts[OWN_SELECTORS], "PutEventSelectors", OWN_SESSION) in changes
    assert (accounts[STOPPED], "StopLogging", ONCALL) in changes
    assert (accounts[STOPPED], "DeleteTrail", "mallory") in changes
    # The AWS CLI reads the same StopLogging: same user, same time.
    if os.path.exists(AWS_CLI):
        [stopped] = [row for row in dom.security_rows if row["event-name"] == "StopLogging" and row["change-account"] == accounts[STOPPED]]
        [reference] = cli_lookup_events(aws, accounts[STOPPED], "StopLogging")
        assert reference["Username"] == stopped["user"] == ONCALL
        # The CLI prints EventTime as epoch seconds.
        cli_time = datetime.datetime.fromtimestamp(reference["EventTime"], datetime.timezone.utc)
        assert cli_time == datetime.datetime.fromisoformat(stopped["event-time"].replace("Z", "+00:00"))
    assert OWN_SESSION in dom.event_users and OWN_SESSION in dom.text_of("chart-top-users")
    text = " ".join(" ".join(dom.text).split())
    assert "Counts, charts and tables include the collection's own" in text
    assert dom.drift == {account: "drifted" for account in picked}
    for account in picked:
        assert f"drift: drifted ({len(drifted[account]['drift'])})" in dom.text_of("accounts")
