"""playbooks/dashboard.yml on the local AWS, opened in Debian's headless
chromium: the page renders without console errors, shows every account and
trail, draws its charts, and a screenshot is taken into build/reports/."""

from __future__ import annotations

import datetime
import html.parser
import json
import os
import re
import subprocess
import tempfile
from collections import Counter

import pytest

from tests.conftest import REPO_ROOT
from tests.integration.fleet_helpers import account_client
from tests.integration.fleet_helpers import make_organization
from tests.integration.fleet_helpers import static_account
from tests.integration.fleet_helpers import write_inventory
from tests.integration.setup_helpers import make_kms_key
from tests.integration.setup_helpers import make_log_bucket
from tests.local_aws.fidelity.lookup_events import seed_events
from tests.local_aws.server import REGION

CHROMIUM = "/usr/bin/chromium"
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
        if tag == "rect" and self.section:
            self.svg_shapes[self.section] = self.svg_shapes.get(self.section, 0) + 1
        if tag == "tr" and self.section:
            self.table_rows[self.section] = self.table_rows.get(self.section, 0) + 1

    def handle_data(self, data):
        self.text.append(data)


def in_account(aws, account):
    """Something set-up helpers take as ``aws``, acting in ``account``."""

    class InAccount:
        def client(self, service, region=REGION):
            return account_client(aws, account, service, region)

    return InAccount()


# The fleet size: the dashboard's browser test runs on 20 accounts.
MEMBERS = 20


def make_fleet(aws) -> dict[str, list[str]]:
    """MEMBERS member accounts, each with its own trails, real calls and seeded
    history (the first three set up differently); returns the trail names by account."""
    accounts = make_organization(aws, MEMBERS)
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
        for minute in (15, 75, 135):
            seeded.append({"EventName": "StopLogging", "Username": "intruder", "ErrorCode": "AccessDenied",
                           "ErrorMessage": "not authorized", "EventTime": (now - datetime.timedelta(minutes=minute)).isoformat()})
        if index == 2:
            seeded.append({"EventName": "PutObject", "EventCategory": "Insight",
                           "EventTime": (now - datetime.timedelta(minutes=50)).isoformat()})
        seed_events(aws, seeded, account_id=account, region=REGION)
    return trails


@pytest.fixture
def fleet(aws, tmp_path):
    trails = make_fleet(aws)
    entries = [static_account(account, name=f"member-{index:03d}") for index, account in enumerate(trails)]
    entries.append(static_account(SUSPENDED, name="closed-account", status="SUSPENDED"))
    # A role that acts in another account must not be read as this account.
    entries.append(static_account(WRONG_ROLE, name="wrong-role", role_arn=f"arn:aws:iam::{next(iter(trails))}:role/OrganizationAccountAccessRole"))
    # The trailops.cloudtrail.accounts inventory plugin, with the accounts listed statically.
    inventory = write_inventory(tmp_path, aws, accounts=entries)
    return trails, inventory


def test_dashboard_renders_in_chromium(aws, run_playbook, fleet, chromium, tmp_path):
    trails, inventory = fleet
    report_dir = tmp_path / "reports"

    aws.start_recording()
    done = run_playbook(PLAYBOOK, {"report_dir": str(report_dir)}, "-i", inventory)
    calls = aws.stop_recording()
    assert done.returncode == 0, done.stdout + done.stderr
    # The dashboard only reads: assuming roles is the one call that is not a Get/List/Describe.
    assert [(c.service, c.action) for c in calls if c.is_write and c.action != "AssumeRole"] == []
    actions = Counter(c.action for c in calls if c.service == "cloudtrail")
    # trail_info per account: one DescribeTrails and ListTags, three reads per trail.
    assert actions["DescribeTrails"] == actions["ListTags"] == MEMBERS
    assert actions["GetTrailStatus"] == actions["GetEventSelectors"] == actions["GetInsightSelectors"] == sum(map(len, trails.values()))
    # LookupEvents per account (its own assumed key): pages of 50 up to dashboard_max_events, and one for Insights.
    lookups = Counter(c.access_key for c in calls if c.action == "LookupEvents")
    assert len(lookups) == MEMBERS and max(lookups.values()) <= 500 // 50 + 1

    page = report_dir / "dashboard.html"
    source = page.read_text(encoding="utf-8")
    # Self-contained: nothing the page would load, the CSP forbids it too.
    assert re.findall(r"""(?:src|href)\s*=|url\(|@import""", source) == []

    dom_run = run_chromium(chromium, str(page), "--dump-dom")
    assert dom_run.returncode == 0, dom_run.stderr[-3000:]
    assert console_messages(dom_run.stderr) == []
    dom = DomIndex()
    dom.feed(dom_run.stdout)

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

    os.makedirs(REPORTS, exist_ok=True)
    screenshot = os.path.join(REPORTS, "dashboard.png")
    if os.path.exists(screenshot):
        os.unlink(screenshot)
    shot = run_chromium(chromium, str(page), f"--screenshot={screenshot}", "--window-size=1440,2200")
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
