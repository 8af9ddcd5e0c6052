"""playbooks/validate_logs.yml under the collection's fleet stdout callback, on a
fleet of three accounts: each trail's line as its validation finishes (verdict,
digests and log files checked, seconds), then each account's outcome counted
out of the fleet ([n/3]), and the same figures in log_validation.json."""

from __future__ import annotations

import datetime
import gzip
import json
import re

from tests.integration.fleet_helpers import account_client, make_organization, static_account, write_inventory
from tests.integration.setup_helpers import make_log_bucket
from tests.local_aws.fidelity.delivery import deliver

TRAIL = "audited"
TRAIL_LINE = re.compile(
    r"^(?P<account>\d{12}) \((?P<name>[^)]*)\) trail (?P<trail>\S+): (?P<verdict>valid|invalid), (?P<digests>\d+) digests? and "
    r"(?P<log_files>\d+) log files? checked in (?P<seconds>[\d.]+) s(?:, (?P<failures>\d+) failures?)?$"
)
ACCOUNT_LINE = re.compile(r"^\[(?P<done>\d+)/(?P<total>\d+)\] (?P<account>\d{12}) \((?P<name>[^)]*)\) (?P<verdict>\w+) in (?P<seconds>[\d.]+) s: (?P<rest>.*)$")


class _InAccount:
    """What make_log_bucket needs (``client()``), in a member account."""

    def __init__(self, aws, account):
        self.aws, self.account = aws, account

    def client(self, service, region="us-east-1"):
        return account_client(self.aws, self.account, service, region)


def counted(number: int, word: str) -> str:
    return f"{number} {word}" if number == 1 else f"{number} {word}s"


def checked(counts: dict, kinds: tuple) -> int:
    return sum(counts.get(kind, 0) for kind in kinds)


def test_a_fleet_validation_prints_each_trail_and_each_account_counted(aws, run_playbook, tmp_path):
    clean, tampered, without_trail = make_organization(aws, 3)
    start = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) - datetime.timedelta(hours=3)
    delivered = {}
    for account in (clean, tampered):
        make_log_bucket(_InAccount(aws, account), f"logs-{account}", account=account)
        cloudtrail = account_client(aws, account, "cloudtrail", "us-east-1")
        cloudtrail.create_trail(Name=TRAIL, S3BucketName=f"logs-{account}", EnableLogFileValidation=True)
        cloudtrail.start_logging(Name=TRAIL)
        arn = f"arn:aws:cloudtrail:us-east-1:{account}:trail/{TRAIL}"
        delivered[account] = [deliver(aws, at=start + datetime.timedelta(hours=hour), trail=arn) for hour in (1, 2)]
    modified = delivered[tampered][0]["log_files"][0]
    account_client(aws, tampered, "s3", "us-east-1").put_object(Bucket=f"logs-{tampered}", Key=modified, Body=gzip.compress(b"{}"))
    accounts = [clean, tampered, without_trail]
    inventory = write_inventory(tmp_path, accounts=[static_account(a) for a in accounts], source="yaml")

    done = run_playbook(
        "playbooks/validate_logs.yml", {"report_dir": str(tmp_path), "validate_logs_hours": 4}, "-i", inventory, "-f", "3",
        env={"ANSIBLE_STDOUT_CALLBACK": "trailops.cloudtrail.fleet", "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((tmp_path / "log_validation.json").read_text())["accounts"]
    lines = done.stdout.splitlines()
    trail_lines = {m["account"]: (index, m) for index, m in ((i, TRAIL_LINE.match(line)) for i, line in enumerate(lines)) if m}
    account_lines = {m["account"]: (index, m) for index, m in ((i, ACCOUNT_LINE.match(line)) for i, line in enumerate(lines)) if m}

    # Each account once, counted out of the fleet, in the order they finished.
    assert sorted(account_lines) == sorted(accounts), done.stdout
    assert sorted(int(m["done"]) for _i, m in account_lines.values()) == [1, 2, 3]
    assert {m["total"] for _i, m in account_lines.values()} == {"3"}
    for account in accounts:
        _index, line = account_lines[account]
        entry = report[account]
        assert line["name"] == f"static-{account}"
        assert (line["verdict"], float(line["seconds"])) == (entry["verdict"], entry["seconds"])

    assert {account: report[account]["verdict"] for account in accounts} == {clean: "valid", tampered: "invalid", without_trail: "not_validated"}
    assert account_lines[without_trail][1]["rest"] == "no trail of this account has log file validation on: nothing to validate"

    # Each trail's line comes as its validation finishes, before its account's line, with the module's own figures.
    assert sorted(trail_lines) == sorted([clean, tampered]), done.stdout
    for account in (clean, tampered):
        index, line = trail_lines[account]
        (trail,) = report[account]["summary"]["trails"]
        digests = checked(trail["digests"], ("valid", "invalid")) + checked(trail["backfill_digests"], ("valid", "invalid"))
        log_files = checked(trail["log_files"], ("valid", "modified", "deleted", "unreadable"))
        assert index < account_lines[account][0]
        assert (line["trail"], line["verdict"]) == (TRAIL, trail["verdict"])
        assert (int(line["digests"]), int(line["log_files"])) == (digests, log_files)
        assert digests >= 2 and log_files >= 1
        assert float(line["seconds"]) == trail["seconds"] and 0 <= trail["seconds"] < 600
        failures = len(report[account]["failures"])
        assert int(line["failures"] or 0) == failures
        expected = f"1 trail, {counted(digests, 'digest')}, {counted(log_files, 'log file')}"
        assert account_lines[account][1]["rest"] == expected + (f", {counted(failures, 'failure')}" if failures else "")
    assert int(trail_lines[tampered][1]["failures"]) == 1

    # Nothing else but the recap: the per-account debug lines stay for the default callback.
    others = [line for i, line in enumerate(lines) if i not in {index for index, _m in list(trail_lines.values()) + list(account_lines.values())}]
    assert len(others) == 1 and others[0].startswith("RECAP: 3 hosts: ") and others[0].endswith(", 0 failed"), done.stdout
