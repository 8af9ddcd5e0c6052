"""validate_logs reading with a pool of threads finds exactly what a pool of one
finds, on every kind of tampering; S3 SlowDown on a share of GetObject calls is
backed off and still ends in the right verdict; the fleet playbook gives each
account its verdict and its time as the account finishes."""

from __future__ import annotations

import datetime
import gzip
import json

import pytest
import yaml

from tests.conftest import REPO_ROOT
from tests.integration import test_validate_logs_cli as cross_check
from tests.integration.setup_helpers import make_log_bucket
from tests.local_aws.fidelity.delivery import deliver
from tests.local_aws.fidelity.faults import clear_faults, fault_counts, inject_faults
from tests.local_aws.fidelity.lookup_events import seed_events

BUCKET = "concurrent-logs"
TRAIL = "audited"
HOURS = 4
FILES_PER_HOUR = 5


def _iso(value: datetime.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def delivered(aws):
    """Four hourly digests of five log files each: enough objects that a pool of
    eight has several reads in flight at every step."""
    make_log_bucket(aws, BUCKET)
    cloudtrail = aws.client("cloudtrail")
    cloudtrail.create_trail(Name=TRAIL, S3BucketName=BUCKET, EnableLogFileValidation=True)
    cloudtrail.start_logging(Name=TRAIL)
    start = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) - datetime.timedelta(hours=HOURS + 1)
    hours = []
    for hour in range(HOURS):
        log_files, digests = [], []
        for flush in range(FILES_PER_HOUR):
            at = start + datetime.timedelta(hours=hour, minutes=10 * (flush + 1))
            seed_events(aws, [{"EventName": f"Hour{hour}Flush{flush}", "EventTime": _iso(at - datetime.timedelta(minutes=1))}])
            written = deliver(aws, at=at, digest=flush == FILES_PER_HOUR - 1)
            log_files += written["log_files"]
            digests += written["digests"]
        hours.append({"log_files": log_files, "digest": digests[0]})
    return {"start": start, "hours": hours}


def rewrite(aws, key, transform, raw=False):
    """Put the object back changed by ``transform``, keeping its metadata."""
    s3 = aws.client("s3")
    got = s3.get_object(Bucket=BUCKET, Key=key)
    body = got["Body"].read()
    changed = transform(body) if raw else gzip.compress(transform(gzip.decompress(body)))
    s3.put_object(Bucket=BUCKET, Key=key, Body=changed, Metadata=got["Metadata"])


def modify_log_file(aws, hours):
    rewrite(aws, hours[1]["log_files"][2], lambda body: body.replace(b"Hour1Flush2", b"Hour1FlushX"))


def log_file_not_gzip(aws, hours):
    aws.client("s3").put_object(Bucket=BUCKET, Key=hours[0]["log_files"][4], Body=b"{}")


def delete_log_files(aws, hours):
    for key in (hours[2]["log_files"][0], hours[2]["log_files"][3]):
        aws.client("s3").delete_object(Bucket=BUCKET, Key=key)


def modify_digest(aws, hours):
    def drop_log_files(body):
        digest = json.loads(body)
        digest["logFiles"] = digest["logFiles"][:1]
        return json.dumps(digest).encode()

    rewrite(aws, hours[1]["digest"], drop_log_files)


def delete_digest(aws, hours):
    aws.client("s3").delete_object(Bucket=BUCKET, Key=hours[2]["digest"])


def digest_not_gzip(aws, hours):
    rewrite(aws, hours[0]["digest"], lambda body: b"plain text", raw=True)


def remove_signature(aws, hours):
    s3 = aws.client("s3")
    key = hours[3]["digest"]
    got = s3.get_object(Bucket=BUCKET, Key=key)
    metadata = {name: value for name, value in got["Metadata"].items() if name != "signature"}
    s3.put_object(Bucket=BUCKET, Key=key, Body=got["Body"].read(), Metadata=metadata)


def everything_at_once(aws, hours):
    modify_log_file(aws, hours)
    log_file_not_gzip(aws, hours)
    delete_log_files(aws, hours)
    remove_signature(aws, hours)


TAMPERING = {
    "none": (lambda aws, hours: None, set()),
    "modified log file": (modify_log_file, {"log_file_modified"}),
    "log file no longer gzip": (log_file_not_gzip, {"log_file_modified"}),
    "deleted log files": (delete_log_files, {"log_file_deleted"}),
    "modified digest": (modify_digest, {"digest_signature_invalid", "digest_modified"}),
    "deleted digest": (delete_digest, {"digest_missing"}),
    "digest no longer gzip": (digest_not_gzip, {"digest_unreadable"}),
    "signature removed": (remove_signature, {"digest_signature_missing"}),
    "several at once": (everything_at_once, {"log_file_modified", "log_file_deleted", "digest_signature_missing"}),
}


def validate(run_module, start, max_concurrency):
    # One fixed range for every run, so two runs can be compared whole.
    end = start + datetime.timedelta(hours=HOURS + 1)
    return run_module("validate_logs", {"trail_name": TRAIL, "start_time": _iso(start), "end_time": _iso(end),
                                        "fail_on_invalid": False, "max_concurrency": max_concurrency})


def object_reads(calls):
    """GetObject calls: S3 GETs of a key (path-style: /bucket/key), not listings."""
    return sum(1 for call in calls if call.service == "s3" and call.method == "GET" and len([p for p in call.path.split("/") if p]) >= 2)


def findings(result):
    return {key: result.get(key) for key in ("verdict", "summary", "failures", "msg")}


@pytest.mark.parametrize("case", list(TAMPERING))
def test_a_pool_finds_exactly_what_one_reader_finds(aws, run_module, delivered, case):
    tamper, expected_kinds = TAMPERING[case]
    tamper(aws, delivered["hours"])

    one = validate(run_module, delivered["start"], 1)
    aws.start_recording()
    pool = validate(run_module, delivered["start"], 8)
    calls = aws.stop_recording()

    # The same verdict, counts and failures, in the same order.
    assert findings(pool) == findings(one)
    assert {failure["kind"] for failure in pool["failures"]} >= expected_kinds
    assert (pool["verdict"] == "valid") == (not expected_kinds)
    assert [call for call in calls if call.is_write] == []
    if case == "none":
        assert pool["summary"]["log_files"]["valid"] == HOURS * FILES_PER_HOUR
        # One GetObject per digest and per log file, none twice.
        assert object_reads(calls) == HOURS * (FILES_PER_HOUR + 1)


@pytest.mark.parametrize("case", list(cross_check.CASES))
def test_a_pool_finds_exactly_what_one_reader_finds_on_the_cli_cross_check(aws, run_module, case):
    """Every case of the AWS CLI cross-check (test_validate_logs_cli.py), read by a pool of one and of eight."""
    delivered, _expected_invalid = cross_check.CASES[case](aws)
    end = delivered.end or datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    params = {"trail_name": cross_check.TRAIL, "start_time": _iso(delivered.start), "end_time": _iso(end), "fail_on_invalid": False}
    one = run_module("validate_logs", dict(params, max_concurrency=1))
    pool = run_module("validate_logs", dict(params, max_concurrency=8))
    assert one["verdict"] in ("valid", "invalid"), one
    assert findings(pool) == findings(one)
    assert pool.get("information") == one.get("information")


def test_slow_down_on_a_share_of_reads_still_ends_valid(aws, run_module, delivered):
    inject_faults(aws, [{"service": "s3", "action": "GetObject", "fault": "throttle", "share": 0.3, "seed": 11}])
    try:
        aws.start_recording()
        result = validate(run_module, delivered["start"], 8)
        calls = aws.stop_recording()
        (rule,) = fault_counts(aws)
    finally:
        clear_faults(aws)
    assert rule["injected"] > 0, rule
    assert result["verdict"] == "valid", result.get("msg")
    assert result["summary"]["log_files"] == {"valid": HOURS * FILES_PER_HOUR, "modified": 0, "deleted": 0, "unreadable": 0, "not_validated": 0}
    assert result["summary"]["digests"] == {"valid": HOURS, "invalid": 0, "missing": 0}
    # Every SlowDown was answered by asking again.
    assert object_reads(calls) == HOURS * (FILES_PER_HOUR + 1) + rule["injected"]


def test_slow_down_with_a_tampered_log_file_is_still_invalid_and_nothing_more(aws, run_module, delivered):
    delete_log_files(aws, delivered["hours"])
    expected = findings(validate(run_module, delivered["start"], 1))
    inject_faults(aws, [{"service": "s3", "action": "GetObject", "fault": "throttle", "share": 0.3, "seed": 5}])
    try:
        throttled = validate(run_module, delivered["start"], 8)
        (rule,) = fault_counts(aws)
    finally:
        clear_faults(aws)
    assert rule["injected"] > 0
    assert findings(throttled) == expected
    assert [failure["kind"] for failure in throttled["failures"]] == ["log_file_deleted", "log_file_deleted"]


@pytest.mark.parametrize("value", [0, 65, -1])
def test_pool_size_out_of_range_fails_before_any_call(aws, run_module, value):
    aws.start_recording()
    result = run_module("validate_logs", {"trail_name": TRAIL, "start_time": "2024-05-01T00:00:00Z", "max_concurrency": value})
    calls = aws.stop_recording()
    assert result["failed"] and result["msg"].startswith("max_concurrency: must be a whole number from 1 to 64"), result["msg"]
    assert calls == []


def test_fleet_playbook_validates_accounts_side_by_side():
    """Nothing makes the accounts wait for each other: the validation play runs
    with the free strategy, and nothing in it is run_once, serial or throttled."""
    with open(f"{REPO_ROOT}/playbooks/validate_logs.yml", encoding="utf-8") as handle:
        validation, _report = yaml.safe_load(handle)
    assert validation["strategy"] == "ansible.builtin.free"
    assert "serial" not in validation and "throttle" not in validation

    def tasks(items):
        for task in items:
            yield task
            for part in ("block", "rescue", "always"):
                yield from tasks(task.get(part, []))

    assert [task["name"] for task in tasks(validation["tasks"]) if {"run_once", "throttle", "delegate_to"} & set(task)] == []


def test_fleet_playbook_reports_each_accounts_verdict_and_time(aws, run_playbook, tmp_path):
    from tests.integration.fleet_helpers import account_client, make_organization, static_account, write_inventory

    clean, tampered = make_organization(aws, 2)
    start = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) - datetime.timedelta(hours=3)
    flushes = {}
    for account in (clean, tampered):
        make_log_bucket(_InAccount(aws, account, account_client), f"logs-{account}", account=account)
        cloudtrail = account_client(aws, account, "cloudtrail", "us-east-1")
        cloudtrail.create_trail(Name=TRAIL, S3BucketName=f"logs-{account}", EnableLogFileValidation=True)
        cloudtrail.start_logging(Name=TRAIL)
        arn = f"arn:aws:cloudtrail:us-east-1:{account}:trail/{TRAIL}"
        flushes[account] = [deliver(aws, at=start + datetime.timedelta(hours=hour), trail=arn) for hour in (1, 2)]
    modified = flushes[tampered][0]["log_files"][0]
    account_client(aws, tampered, "s3", "us-east-1").put_object(Bucket=f"logs-{tampered}", Key=modified, Body=gzip.compress(b"{}"))
    inventory = write_inventory(tmp_path, accounts=[static_account(a) for a in (clean, tampered)], source="yaml")

    done = run_playbook("playbooks/validate_logs.yml", {"report_dir": str(tmp_path), "validate_logs_hours": 4}, "-i", inventory, "-f", "4")
    assert done.returncode == 0, done.stdout + done.stderr
    accounts = json.loads((tmp_path / "log_validation.json").read_text())["accounts"]
    assert {account: entry["verdict"] for account, entry in accounts.items()} == {clean: "valid", tampered: "invalid"}
    for account, entry in accounts.items():
        assert isinstance(entry["seconds"], (int, float)) and 0 <= entry["seconds"] < 600, entry
        # Progress: each account's own line, with its verdict and time, as it finishes.
        assert f"{account}: {entry['verdict']} in {entry['seconds']} s" in done.stdout, done.stdout
    assert f"{tampered}: invalid in {accounts[tampered]['seconds']} s, 1 failure(s)" in done.stdout


class _InAccount:
    """What make_log_bucket needs (``client()``), in a member account."""

    def __init__(self, aws, account, account_client):
        self.aws, self.account, self._account_client = aws, account, account_client

    def client(self, service, region="us-east-1"):
        return self._account_client(self.aws, self.account, service, region)
