"""``make bench``: our modules, the trail role and the event_history lookup
measured side by side with what a user would pick instead (amazon.aws's
modules, and the AWS CLI where amazon.aws has none), on one local AWS.

Writes docs/performance.md (keeping any section this script did not write)
and the raw figures to build/bench/results.json.

    python -m bench.run [--runs-small 5] [--runs-large 3] [--sizes 1,10,50] [--curve 1,5,10,25,50]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse
from importlib import metadata
from typing import Any, Callable

from bench import validate_logs as validate_logs_part
from tests.local_aws import LocalAWS
from tests.local_aws.fidelity.lookup_events import seed_events, set_throttle
from tests.local_aws.fidelity.wire import s3_bucket_call
from tests.local_aws.server import ACCOUNT_ID, REGION, REPO_ROOT, parse_recording

# Our side of the fleet comparison: playbooks/fleet.yml (one baseline module
# run per account, which assumes the account's role, and a summary).
# bench/ours.yml is the trail role alone per account (the call-count table's
# "trail role" row). Both read the same extra variables (see playbook()).
OURS_PLAYBOOK = "playbooks/fleet.yml"
ROLE_PLAYBOOK = "bench/ours.yml"
BASELINE_PLAYBOOK = "bench/baseline/fleet.yml"

COLLECTIONS = os.path.join(REPO_ROOT, "build", "collections")
BIN = os.path.dirname(sys.executable)
OUT_DIR = os.path.join(REPO_ROOT, "build", "bench")
DOC = os.path.join(REPO_ROOT, "docs", "performance.md")
# The sections of docs/performance.md this script owns; any other section is kept.
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"

TRAIL = "bench-trail"
HISTORY_REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "sa-east-1"]
HISTORY_EVENTS_PER_REGION = 1500
# LookupEvents: 2 requests a second per account and region, 50 events each.
CEILING_PER_REGION = 2 * 50


def account_ids(count: int) -> list[str]:
    return [f"2000000{i:05d}" for i in range(1, count + 1)]


# -- running Ansible -------------------------------------------------------


class Ansible:
    def __init__(self, aws: LocalAWS, aws_cli: str) -> None:
        self.aws = aws
        self.aws_cli = aws_cli
        self.tmp = tempfile.mkdtemp(prefix="trailops-bench-")

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.aws.env(REGION))
        env.update(
            ANSIBLE_CONFIG=os.path.join(REPO_ROOT, "bench", "bench.cfg"),
            ANSIBLE_CALLBACK_PLUGINS=os.path.join(REPO_ROOT, "bench", "callback_plugins"),
            ANSIBLE_COLLECTIONS_PATH=COLLECTIONS,
            ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
            ANSIBLE_PYTHON_INTERPRETER=sys.executable,
            ANSIBLE_LOCALHOST_WARNING="false",
            ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
            ANSIBLE_NOCOLOR="1",
            PYTHONPATH=os.pathsep.join([COLLECTIONS, REPO_ROOT]),
        )
        env.update(extra)
        return env

    def inventory(self, accounts: list[str]) -> str:
        """One host per account, named by its id, as the accounts inventory plugin names them."""
        path = os.path.join(self.tmp, f"accounts-{len(accounts)}.json")
        hosts = {
            account: {
                "aws_account_id": account,
                "aws_account_role_arn": f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
            }
            for account in accounts
        }
        with open(path, "w", encoding="utf-8") as handle:
            json.dump({"all": {"hosts": hosts}}, handle)
        return path

    def playbook(self, playbook: str, accounts: list[str], variables: dict[str, Any], *args: str) -> dict[str, Any]:
        extra = dict(
            {
                "bench_region": REGION,
                "bench_trail_name": TRAIL,
                "bench_aws_cli": self.aws_cli,
                "bench_log_file_validation": True,
                # What playbooks/fleet.yml passes on to the trail role.
                "fleet_trail_name": "{{ bench_trail_name }}",
                "fleet_region": "{{ bench_region }}",
                "trail_s3_bucket_name": "{{ bench_bucket_prefix }}-{{ inventory_hostname }}",
                "trail_event_selectors_preset": "management_write_events",
                "trail_enable_log_file_validation": "{{ bench_log_file_validation | bool }}",
            },
            **variables,
        )
        command = [os.path.join(BIN, "ansible-playbook"), playbook, "-i", self.inventory(accounts), "-e", json.dumps(extra), *args]
        counts = os.path.join(self.tmp, "task_runs.json")
        started = time.monotonic()
        proc = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT, env=self.env(BENCH_TASK_RUNS=counts), check=False)
        seconds = time.monotonic() - started
        recap = [tuple(map(int, m)) for m in re.findall(r"ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", proc.stdout)]
        failed = proc.returncode != 0 or any(r[2] or r[3] for r in recap) or len(recap) != len(accounts)
        if failed:
            raise RuntimeError(f"{playbook} {args} failed (rc={proc.returncode}):\n{proc.stdout[-6000:]}\n{proc.stderr[-3000:]}")
        changed_tasks = [block.split("]", 1)[0] for block in proc.stdout.split("TASK [")[1:] if "\nchanged:" in block]
        with open(counts, encoding="utf-8") as handle:
            per_host = json.load(handle)
        modules: dict[str, int] = {}
        for host in per_host.values():
            for action, runs in host["modules"].items():
                modules[action] = modules.get(action, 0) + runs
        return {
            "seconds": seconds,
            "changed": sum(r[1] for r in recap),
            "tasks": sum(r[0] for r in recap),
            "changed_tasks": changed_tasks,
            "module_runs": sum(host["module_runs"] for host in per_host.values()),
            "controller_tasks": sum(host["controller_tasks"] for host in per_host.values()),
            "modules": modules,
            "lines": len(proc.stdout.splitlines()),
        }

    def module(self, name: str, args: dict[str, Any], *flags: str) -> dict[str, Any]:
        """One module run, as ``ansible localhost -m``: one Ansible process, one module process."""
        command = [os.path.join(BIN, "ansible"), "localhost", "-o", "-m", name, "-a", json.dumps(args), *flags]
        proc = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT, env=self.env(), check=False)
        # -o prints "localhost | CHANGED => {...}" on one line.
        match = re.search(r"^localhost \| \S+ => (\{.*\})$", proc.stdout, re.MULTILINE)
        if not match:
            raise RuntimeError(f"{name} printed no result (rc={proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        result = json.loads(match.group(1))
        if result.get("failed"):
            raise RuntimeError(f"{name} {args} failed: {result.get('msg')}")
        return result


# -- API calls per run -----------------------------------------------------


def _named_calls(aws: LocalAWS) -> list[tuple[str, bool]]:
    """(service:action, is a write) of each recorded call; S3 calls named as CloudTrail names them."""
    raw = aws._get("/moto-api/recorder/download-recording").decode().splitlines()
    named = []
    for line, call in zip([line for line in raw if line.strip()], parse_recording(raw)):
        action = call.action
        if call.service == "s3":
            url = urllib.parse.urlparse(json.loads(line).get("url", ""))
            query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
            found = s3_bucket_call(call.method, url.path, query)
            action = found[0] if found else f"{call.method} ?{'&'.join(query)}"
        # AssumeRole changes nothing in the account: the recorder's rule would count it as a write.
        write = call.is_write and action != "AssumeRole"
        named.append((f"{call.service}:{action}", write))
    return named


def counted(aws: LocalAWS, action: Callable[[], Any]) -> dict[str, Any]:
    aws.start_recording()
    result = action()
    aws.stop_recording()
    calls = _named_calls(aws)
    changed = result.get("changed") if isinstance(result, dict) else None
    return {
        "calls": len(calls),
        "writes": sum(1 for _name, write in calls if write),
        "changed": changed,
        "actions": [name for name, _write in calls],
    }


def call_counts(aws: LocalAWS, ansible: Ansible) -> list[dict[str, Any]]:
    """Create, no change, one setting changed: what each of ours and its amazon.aws counterpart sends."""
    rows: list[dict[str, Any]] = []
    s3 = aws.client("s3")
    arn = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT_ID}:trail/"

    def three(subject: str, what: str, create: Callable[[], Any], change: Callable[[], Any]) -> None:
        row = {"subject": subject, "work": what}
        row["create"] = counted(aws, create)
        row["no change"] = counted(aws, create)
        row["one setting changed"] = counted(aws, change)
        rows.append(row)

    def policy(bucket: str, trails: list[str]) -> dict[str, Any]:
        """The statements bucket_policy writes, for s3_bucket's policy option."""
        statements = []
        for trail_arn in trails:
            name = trail_arn.rsplit("/", 1)[1]
            statements += [
                {"Sid": f"AclCheck{name}", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
                 "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{bucket}",
                 "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}}},
                {"Sid": f"Write{name}", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
                 "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/AWSLogs/{ACCOUNT_ID}/*",
                 "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": trail_arn}}},
            ]
        return {"Version": "2012-10-17", "Statement": statements}

    # bucket_policy against s3_bucket's policy option, on a bucket that exists.
    for bucket in ("calls-ours-policy", "calls-base-policy"):
        s3.create_bucket(Bucket=bucket)
    three(
        "trailops.cloudtrail.bucket_policy", "CloudTrail statements in an existing bucket's policy",
        lambda: ansible.module("trailops.cloudtrail.bucket_policy", {"bucket": "calls-ours-policy", "trails": [arn + "trail-a"]}),
        lambda: ansible.module("trailops.cloudtrail.bucket_policy", {"bucket": "calls-ours-policy", "trails": [arn + "trail-a", arn + "trail-b"]}),
    )
    three(
        "amazon.aws.s3_bucket (policy)", "the same policy, whole, through s3_bucket's policy option",
        lambda: ansible.module("amazon.aws.s3_bucket", {"name": "calls-base-policy", "policy": json.dumps(policy("calls-base-policy", [arn + "trail-a"]))}),
        lambda: ansible.module(
            "amazon.aws.s3_bucket", {"name": "calls-base-policy", "policy": json.dumps(policy("calls-base-policy", [arn + "trail-a", arn + "trail-b"]))}
        ),
    )

    # trail against amazon.aws.cloudtrail, each with a bucket it may deliver to.
    for bucket, trail in (("calls-ours-trail", "ours"), ("calls-base-trail", "base")):
        s3.create_bucket(Bucket=bucket)
        ansible.module("trailops.cloudtrail.bucket_policy", {"bucket": bucket, "trails": [arn + trail]})

    def ours_trail(validation: bool) -> Callable[[], Any]:
        return lambda: ansible.module("trailops.cloudtrail.trail", {
            "name": "ours", "s3_bucket_name": "calls-ours-trail", "is_multi_region_trail": True,
            "include_global_service_events": True, "enable_log_file_validation": validation, "enable_logging": True})

    def base_trail(validation: bool) -> Callable[[], Any]:
        return lambda: ansible.module("amazon.aws.cloudtrail", {
            "name": "base", "s3_bucket_name": "calls-base-trail", "is_multi_region_trail": True,
            "include_global_events": True, "enable_log_file_validation": validation, "enable_logging": True, "state": "present"})

    three("trailops.cloudtrail.trail", "a multi-region trail with validation and logging; then validation off", ours_trail(True), ours_trail(False))
    three("amazon.aws.cloudtrail", "the same", base_trail(True), base_trail(False))

    # event_selectors against the AWS CLI (amazon.aws has no module for them).
    def ours_selectors(preset: str) -> Callable[[], Any]:
        return lambda: ansible.module("trailops.cloudtrail.event_selectors", {"trail_name": "base", "preset": preset})

    def cli_selectors(read_write: str) -> Callable[[], Any]:
        wanted = [{"ReadWriteType": read_write, "IncludeManagementEvents": True, "DataResources": [], "ExcludeManagementEventSources": []}]

        def run() -> dict[str, Any]:
            env = ansible.env()
            base = [ansible.aws_cli, "cloudtrail", "--region", REGION]
            got = subprocess.run(base + ["get-event-selectors", "--trail-name", "base"], capture_output=True, text=True, env=env, check=True)
            if json.loads(got.stdout).get("EventSelectors") == wanted:
                return {"changed": False}
            subprocess.run(base + ["put-event-selectors", "--trail-name", "base", "--event-selectors", json.dumps(wanted)],
                           capture_output=True, text=True, env=env, check=True)
            return {"changed": True}

        return run

    three("trailops.cloudtrail.event_selectors", "write management events only; then all management events",
          ours_selectors("management_write_events"), ours_selectors("management_events"))
    # The CLI side first reads, then puts only when the selectors differ, as a careful playbook would.
    ansible.module("trailops.cloudtrail.event_selectors", {"trail_name": "base", "preset": "management_events"})
    three("AWS CLI get/put-event-selectors", "the same", cli_selectors("WriteOnly"), cli_selectors("All"))

    # The trail role against the amazon.aws-based playbook, in one account reached through STS.
    one = account_ids(1)
    for playbook, subject, prefix in (
        (ROLE_PLAYBOOK, "trailops.cloudtrail.trail role", "calls-role"),
        (OURS_PLAYBOOK, "fleet playbook", "calls-fleet"),
        (BASELINE_PLAYBOOK, "amazon.aws playbook", "calls-base"),
    ):
        three(
            subject + f" ({playbook})",
            "bucket, policy, trail and selectors in one account (assume-role included); then validation off",
            lambda p=playbook, b=prefix: ansible.playbook(p, one, {"bench_bucket_prefix": b, "bench_trail_name": b}),
            lambda p=playbook, b=prefix: ansible.playbook(p, one, {"bench_bucket_prefix": b, "bench_trail_name": b, "bench_log_file_validation": False}),
        )
    return rows


# -- wall time of a fleet --------------------------------------------------


def spread(samples: list[float]) -> dict[str, float]:
    return {
        "median": statistics.median(samples),
        "min": min(samples),
        "max": max(samples),
        "runs": len(samples),
        "samples": samples,
    }


def fleet(aws: LocalAWS, ansible: Ansible, sizes: list[int], runs_small: int, runs_large: int, curve: list[int],
          results: dict[str, Any], save: Callable[[], None], curve_ours: tuple[int, ...] = ()) -> None:
    """For each N: both sides create their fleet once, then a no-change run and a
    --check --diff drift check each, ours and theirs alternately, several times.
    The N of ``curve_ours`` run ours alone, once each, for its cost per account."""
    # Each side has its own trail and bucket in every account, so neither undoes the other.
    both = {"ours": (OURS_PLAYBOOK, "bench-ours"), "amazon.aws": (BASELINE_PLAYBOOK, "bench-base")}
    # Largest first: the target is judged at the largest N, so it is measured even if the bench is cut short.
    for n in sorted(set(sizes) | set(curve) | set(curve_ours), reverse=True):
        aws.reset()
        accounts = account_ids(n)
        sides = both if n in sizes or n in curve else {"ours": both["ours"]}
        entry: dict[str, Any] = {}
        for side, (playbook, prefix) in sides.items():
            created = ansible.playbook(playbook, accounts, {"bench_bucket_prefix": prefix, "bench_trail_name": prefix})
            entry[f"{side} create"] = created["seconds"]
        runs = (runs_small if n < 50 else runs_large) if n in sizes else 1
        samples: dict[str, list[float]] = {}
        modes = {"no change": (), "drift check": ("--check", "--diff")}
        for _run in range(runs):
            for mode, flags in modes.items():
                for side, (playbook, prefix) in sides.items():
                    run = ansible.playbook(playbook, accounts, {"bench_bucket_prefix": prefix, "bench_trail_name": prefix}, *flags)
                    if run["changed"]:
                        raise RuntimeError(f"{side} {mode} at N={n} reported {run['changed']} changes ({run['changed_tasks']}): not a no-change run")
                    samples.setdefault(f"{side} {mode}", []).append(run["seconds"])
                    entry[f"{side} tasks per account"] = run["tasks"] / n
                    entry[f"{side} {mode} module runs per account"] = run["module_runs"] / n
                    entry[f"{side} {mode} controller tasks per account"] = run["controller_tasks"] / n
                    entry[f"{side} {mode} modules"] = {action: count / n for action, count in run["modules"].items()}
                    entry[f"{side} {mode} output lines"] = run["lines"]
        for key, values in samples.items():
            entry[key] = spread(values)
        print(f"N={n}: " + ", ".join(f"{k} {v['median']:.1f}s" for k, v in entry.items() if isinstance(v, dict) and "median" in v), flush=True)
        results["curve"][n] = entry
        if n in sizes:
            results["sizes"][n] = entry
        save()


# -- event_history throughput ----------------------------------------------


def history(aws: LocalAWS) -> list[dict[str, Any]]:
    aws.reset()
    for region in HISTORY_REGIONS:
        now = datetime.datetime.now(datetime.timezone.utc)
        events = [{"EventName": f"Call{i:05d}", "EventTime": (now - datetime.timedelta(seconds=i + 1)).isoformat()}
                  for i in range(HISTORY_EVENTS_PER_REGION)]
        seed_events(aws, events, region=region)
    set_throttle(aws, 2)
    rows = []
    try:
        for regions in (HISTORY_REGIONS[:1], HISTORY_REGIONS):
            env = dict(os.environ, **aws.env(REGION))
            env["PYTHONPATH"] = os.pathsep.join([COLLECTIONS, REPO_ROOT])
            run = {"lookup_attribute": {"Username": "seeder"}, "regions": regions}
            aws.start_recording()
            proc = subprocess.run(
                [sys.executable, "-m", "tests.integration.event_history_runner"],
                input=json.dumps({"collections": COLLECTIONS, "runs": [run]}),
                capture_output=True, text=True, cwd=REPO_ROOT, env=env, check=True,
            )
            calls = aws.stop_recording()
            (result,) = json.loads(proc.stdout)
            if "error" in result:
                raise RuntimeError(f"event_history failed: {result}")
            count = len(result["events"])
            ceiling = CEILING_PER_REGION * len(regions)
            throttled = sum(1 for c in calls if c.action == "LookupEvents") - (count + 49) // 50
            rows.append({
                "regions": len(regions),
                "events": count,
                "seconds": result["seconds"],
                "events_per_second": count / result["seconds"],
                "ceiling": ceiling,
                "share": count / result["seconds"] / ceiling,
                "requests": sum(1 for c in calls if c.action == "LookupEvents"),
                "extra_requests": throttled,
            })
    finally:
        set_throttle(aws, None)
    return rows


# -- the report ------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = ""
    with open("/proc/cpuinfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    free = subprocess.run(["free", "-h"], capture_output=True, text=True, check=False).stdout.rstrip()
    return {
        "load": " ".join(f"{value:.1f}" for value in os.getloadavg()),
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "free": free,
        "os": platform.platform(),
    }


def versions(aws_cli: str) -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in ("ansible-core", "ansible", "boto3", "botocore", "moto"):
        found[name] = metadata.version(name)
    galaxy = os.path.join(COLLECTIONS, "ansible_collections", "amazon", "aws", "MANIFEST.json")
    with open(galaxy, encoding="utf-8") as handle:
        found["amazon.aws"] = json.load(handle)["collection_info"]["version"]
    found["awscli"] = subprocess.run([aws_cli, "--version"], capture_output=True, text=True, check=False).stdout.split()[0]
    return found


def render(report: dict[str, Any]) -> str:
    out = [BEGIN, "", "# Performance", ""]
    out.append(
        f"Measured by `make bench` on {report['date']}. "
        "Everything runs on one local AWS (moto's server with our fidelity layer, `tests/local_aws/`), "
        "so the figures are Ansible's and the modules' own cost plus loopback round trips: real AWS adds "
        "tens of milliseconds per call, which makes the call counts below weigh more there, not less."
    )
    out += ["", "## Verdict", ""]
    for line in report["verdict"]:
        out.append(f"- {line}")

    out += ["", "## API calls per run", "",
            "Counted on the server (the local AWS's call recorder), for one resource in one account. "
            "`w` is how many of the calls were writes (STS AssumeRole is not counted as one: it changes nothing in the account); "
            "`changed` is what the run reported. The playbook rows include assuming the account's role.", "",
            "| subject | work | create | no change | one setting changed |", "|---|---|---|---|---|"]
    for row in report["calls"]:
        cells = []
        for phase in ("create", "no change", "one setting changed"):
            c = row[phase]
            cells.append(f"{c['calls']} ({c['writes']} w){' changed' if c['changed'] else ''}")
        out.append(f"| {row['subject']} | {row['work']} | " + " | ".join(cells) + " |")
    out += ["", "<details><summary>Which calls</summary>", ""]
    for row in report["calls"]:
        for phase in ("create", "no change", "one setting changed"):
            out.append(f"- {row['subject']}, {phase}: {', '.join(row[phase]['actions'])}")
    out += ["", "</details>"]

    fleet_result = report["fleet"]
    out += ["", "## Fleet: wall time of a no-change run and of a drift check", "",
            f"Ours: `{OURS_PLAYBOOK}`; theirs: `{BASELINE_PLAYBOOK}` (amazon.aws `s3_bucket` with its `policy`, "
            "amazon.aws `cloudtrail`, the AWS CLI for the event selectors; under `--check` `s3_bucket_info` reads the bucket, "
            "as `s3_bucket` has no check mode). Both act through a role in each account: theirs assumes it first "
            "(`bench/tasks/assume_account.yml`), ours in the `baseline` module's own run (`assume_role_arn`). "
            "both run with `forks = 10` (`bench/bench.cfg`), alternately, on the same machine and the same local AWS. "
            "The drift check is `--check --diff` against accounts without drift. Seconds: median (min-max) of the runs. "
            "The machine was shared with other test runs while this was measured (see the load average below), so the seconds "
            "are inflated and noisy; the ratios, from runs taken alternately, are the figures to read.", "",
            "| N accounts | runs | ours no change | amazon.aws no change | ratio | ours drift check | amazon.aws drift check | ratio |",
            "|---|---|---|---|---|---|---|---|"]
    for n, entry in sorted(fleet_result["sizes"].items(), key=lambda kv: int(kv[0])):
        def cell(key: str) -> str:
            s = entry[key]
            return f"{s['median']:.1f} ({s['min']:.1f}-{s['max']:.1f})"
        ratio_nc = entry["ours no change"]["median"] / entry["amazon.aws no change"]["median"]
        ratio_dc = entry["ours drift check"]["median"] / entry["amazon.aws drift check"]["median"]
        out.append(f"| {n} | {entry['ours no change']['runs']} | {cell('ours no change')} | {cell('amazon.aws no change')} | {ratio_nc:.2f} "
                   f"| {cell('ours drift check')} | {cell('amazon.aws drift check')} | {ratio_dc:.2f} |")

    out += ["", "### Cost per account as N grows", "",
            "Seconds per account (median run divided by N); tasks per account as Ansible counts them (`ok=` in the recap).", "",
            "| N | ours no change | amazon.aws no change | ours drift check | amazon.aws drift check "
            "| ours tasks/account | amazon.aws tasks/account | first run (create): ours / amazon.aws, s |",
            "|---|---|---|---|---|---|---|---|"]
    for n, entry in sorted(fleet_result["curve"].items(), key=lambda kv: int(kv[0])):
        n_int = int(n)
        per = [f"{entry[k]['median'] / n_int:.2f}" if k in entry else "-"
               for k in ("ours no change", "amazon.aws no change", "ours drift check", "amazon.aws drift check")]
        theirs_tasks = f"{entry['amazon.aws tasks per account']:.0f}" if "amazon.aws tasks per account" in entry else "-"
        theirs_create = f"{entry['amazon.aws create']:.1f}" if "amazon.aws create" in entry else "-"
        out.append(f"| {n} | " + " | ".join(per) + f" | {entry['ours tasks per account']:.0f} | {theirs_tasks} "
                   f"| {entry['ours create']:.1f} / {theirs_create} |")

    out += ["", "### Module runs per account", "",
            "Ansible starts a Python process for every module run on every host, and that start (importing Ansible's module "
            "runtime, boto3 and botocore) dominates: the calls themselves are milliseconds on loopback. Every other task costs "
            "too: for each host Ansible forks a worker and templates the task. So what decides wall time is module runs and "
            "tasks per account, counted here by `bench/callback_plugins/task_runs.py` at the largest N each side ran (skipped tasks not counted). "
            "Ours runs the `trailops.cloudtrail.baseline` module once per account: it assumes the account's role itself, reads "
            "every part at once and plans them together.", "",
            "| per account | mode | module runs | modules | controller-side tasks | output lines (whole run) |",
            "|---|---|---|---|---|---|"]
    # Each side at the largest N it ran (ours also runs alone beyond the side-by-side sizes).
    for side in ("ours", "amazon.aws"):
        for mode in ("no change", "drift check"):
            key = f"{side} {mode}"
            measured = [n for n, entry in fleet_result.get("curve", {}).items() if f"{key} module runs per account" in entry]
            if not measured:
                continue
            largest = max(measured, key=int)
            entry = fleet_result["curve"][largest]
            modules = ", ".join(f"{action} {count:g}" for action, count in sorted(entry[f"{key} modules"].items()))
            out.append(f"| {side} (N = {largest}) | {mode} | {entry[f'{key} module runs per account']:g} | {modules} "
                       f"| {entry[f'{key} controller tasks per account']:g} | {entry[f'{key} output lines']} |")
    out.append("")

    out += ["", "## event_history throughput", "",
            f"{HISTORY_EVENTS_PER_REGION} seeded events per region; the local AWS throttles LookupEvents to 2 requests a second per "
            "account and region, as CloudTrail does, so the ceiling is 2 x 50 = 100 events a second per region. "
            "The lookup is loaded by Ansible's plugin loader in a fresh process (`tests/integration/event_history_runner.py`); "
            "the time is the lookup's own. The server's token bucket starts full (2 requests), so a short read can edge above the ceiling.", "",
            "| regions | events | seconds | events/s | ceiling | share of ceiling | LookupEvents requests | throttled and retried |",
            "|---|---|---|---|---|---|---|---|"]
    for row in report["history"]:
        out.append(f"| {row['regions']} | {row['events']} | {row['seconds']:.1f} | {row['events_per_second']:.0f} | {row['ceiling']} "
                   f"| {row['share']:.0%} | {row['requests']} | {row['extra_requests']} |")

    out += ["", "## How the comparison was set up (where the issue left it open)", "",
            "- Accounts: a static inventory with the host variables the `trailops.cloudtrail.accounts` inventory plugin sets "
            "(`aws_account_id`, `aws_account_role_arn`), so the timings are the per-account work, not listing an organization; "
            "the local AWS lets any account's role be assumed.",
            "- Both sides work in the same accounts on their own trail and bucket (`bench-ours-<account>`, `bench-base-<account>`), "
            "so neither undoes the other; each fleet size starts from a wiped local AWS and a first (create) run of each side.",
            "- The same end state: a private, versioned, SSE-S3 bucket owned by the bucket owner, with the CloudTrail "
            "statements and a deny of plain HTTP in its policy; a multi-region trail with log file validation, logging on; "
            "write-only management events. The amazon.aws side reads the selectors with the AWS CLI and puts them only when "
            "they differ, as a careful playbook would (so its no-change run is `changed=0` too).",
            "- The drift check runs `--check --diff` against accounts without drift: the cost of looking, which is what a "
            "scheduled drift check pays every time. The amazon.aws side's check is the cheapest it can be and tells less: "
            "`s3_bucket` skips itself under `--check`, `s3_bucket_info` only reads the bucket (comparing it would take more "
            "tasks), and `cloudtrail` reports that it would change without saying what; ours names each drifted setting.",
            "- The AWS CLI is awscli 1.46.3 in its own venv: it carries its own botocore, so the pinned one stays as it is.",
            ""]
    out += ["", "## Machine and versions", "", "```"]
    out.append(f"nproc: {report['machine']['nproc']}")
    out.append(f"CPU:   {report['machine']['cpu']}")
    out.append(f"OS:    {report['machine']['os']}")
    out.append(f"load average (1, 5, 15 min) at the start: {report['machine'].get('load', '?')}, at the end: {report.get('load_at_end', '?')}")
    out.append(report["machine"]["free"])
    out += ["```", "", "| | version |", "|---|---|"]
    for name, version in report["versions"].items():
        out.append(f"| {name} | {version} |")
    out += ["", "## Reproduce", "", "```", "make bench", "```", "",
            "These figures: " + "; ".join(f"{part}: `python -m bench.run {arguments or '(defaults)'}`"
                                          for part, arguments in sorted(report.get("arguments", {}).items())) + ".", "",
            "It builds the venv if needed, installs the AWS CLI (`bench/requirements.txt`) into `build/awscli-venv`, starts its own "
            "local AWS on a free loopback port and rewrites this file (sections other tools added below the end marker are kept). "
            "`make bench BENCH_ARGS='--runs-small 1 --runs-large 1 --sizes 1 --curve 1'` is a quick smoke run. "
            "Raw figures: `build/bench/results.json`.", "", END]
    return "\n".join(out) + "\n"


# The targets at the largest N: our wall time as a share of the amazon.aws-based playbook's.
FLEET_TARGETS = {"no change": 0.3, "drift check": 0.3, "create": 0.7}


def _seconds(entry: dict[str, Any], key: str) -> float:
    value = entry[key]
    return value["median"] if isinstance(value, dict) else value


def verdict(report: dict[str, Any]) -> list[str]:
    lines = []
    sizes = report["fleet"]["sizes"]
    largest = max(sizes, key=int) if sizes else None
    entry = sizes[largest] if sizes else {}
    for mode, target in FLEET_TARGETS.items() if sizes else ():
        if f"ours {mode}" not in entry or f"amazon.aws {mode}" not in entry:
            continue
        ratio = _seconds(entry, f"ours {mode}") / _seconds(entry, f"amazon.aws {mode}")
        status = "met" if ratio <= target else f"missed by {ratio / target:.1f}x (ratio {ratio:.2f})"
        lines.append(f"Fleet {mode} at N = {largest}: ours takes {ratio:.2f} x the amazon.aws-based playbook's time "
                     f"(target at most {target:.2f}): {status}.")
    for error_part, error in report.get("errors", {}).items():
        lines.append(f"The {error_part} part failed: {error.splitlines()[0] if error else 'no message'} (see build/bench/results.json).")
    for row in report["history"]:
        status = "met" if row["share"] >= 0.9 else "missed"
        lines.append(f"event_history, {row['regions']} region(s): {row['events_per_second']:.0f} events/s, "
                     f"{row['share']:.0%} of the ceiling of {row['ceiling']} (target at least 90%): {status}.")
    return lines


def write_doc(text: str) -> None:
    """Replace only our section of docs/performance.md."""
    kept_before, kept_after = "", ""
    if os.path.exists(DOC):
        with open(DOC, encoding="utf-8") as handle:
            current = handle.read()
        if BEGIN in current and END in current:
            kept_before = current.split(BEGIN, 1)[0]
            kept_after = current.split(END, 1)[1].lstrip("\n")
        else:
            kept_after = current
    with open(DOC, "w", encoding="utf-8") as handle:
        handle.write(kept_before + text + ("\n" + kept_after if kept_after else ""))


def validate_logs_against_cli(aws: LocalAWS, args: argparse.Namespace, arguments: str) -> dict[str, Any]:
    """The validate_logs part: tests/tools/bench_validate_logs.py's rows, with the machine they ran on."""
    from tests.tools import bench_validate_logs

    load_at_start = " ".join(f"{value:.1f}" for value in os.getloadavg())
    rows = bench_validate_logs.measure(
        args.aws_cli,
        [int(n) for n in args.validate_logs_sizes.split(",")],
        [int(n) for n in args.validate_logs_latency_ms.split(",")],
        [int(n) for n in args.validate_logs_runs.split(",")],
        aws=aws,
        progress=lambda row: print(f"validate_logs: {row['log_files']} files, {row['latency_ms']} ms: ratio {row['ratio']:.2f}", flush=True),
    )
    return {
        "rows": rows,
        "date": datetime.date.today().isoformat(),
        "command": f"make bench BENCH_ARGS='{arguments}'" if arguments else "make bench",
        "machine": machine(),
        "load_at_start": load_at_start,
        "load_at_end": " ".join(f"{value:.1f}" for value in os.getloadavg()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.run")
    parser.add_argument("--runs-small", type=int, default=5, help="runs of each kind for N < 50")
    parser.add_argument("--runs-large", type=int, default=3, help="runs of each kind for N >= 50")
    parser.add_argument("--sizes", default="1,10,50", help="N for the side-by-side table")
    parser.add_argument("--curve", default="1,5,10,25,50", help="N for the cost-per-account curve (one run each beyond --sizes)")
    parser.add_argument("--curve-ours", default="100,200", help="N for the cost-per-account curve of ours alone (one run each)")
    parser.add_argument("--aws-cli", default=shutil.which("aws") or "aws")
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: calls, fleet, history, validate_logs")
    parser.add_argument("--only", default="", help="comma-separated parts to run, the others skipped (e.g. validate_logs)")
    parser.add_argument("--validate-logs-sizes", default="1000,10000", help="log files for the validate_logs part")
    parser.add_argument("--validate-logs-latency-ms", default="0,30", help="added latency per S3 call for the validate_logs part")
    parser.add_argument("--validate-logs-runs", default="3,1", help="runs of each side per size for the validate_logs part")
    parser.add_argument("--render-only", action="store_true", help="rewrite docs/performance.md from build/bench/results.json")
    args = parser.parse_args()
    results = os.path.join(OUT_DIR, "results.json")
    if args.render_only:
        with open(results, encoding="utf-8") as handle:
            report = json.load(handle)
        if report.get("validate_logs"):
            validate_logs_part.write_section(DOC, validate_logs_part.render(report["validate_logs"]))
        if all(report.get(part) for part in ("calls", "history", "fleet")):
            report["verdict"] = verdict(report)
            write_doc(render(report))
        return
    skip = set(filter(None, args.skip.split(",")))
    if args.only:
        skip |= {"calls", "history", "fleet", "validate_logs"} - set(args.only.split(","))
    started = time.monotonic()
    os.makedirs(OUT_DIR, exist_ok=True)
    args.aws_cli = os.path.abspath(args.aws_cli) if os.sep in args.aws_cli else args.aws_cli
    report: dict[str, Any] = {}
    # With parts skipped, the skipped parts' figures come from the last run.
    if skip and os.path.exists(results):
        with open(results, encoding="utf-8") as handle:
            report = {key: value for key, value in json.load(handle).items() if key in ("calls", "history", "fleet", "arguments", "validate_logs")}
    arguments = " ".join(a for a in sys.argv[1:] if not a.startswith("--aws-cli") and a != args.aws_cli)
    report.setdefault("arguments", {})
    if isinstance(report["arguments"], str):
        report["arguments"] = {}
    for part in ("calls", "history", "fleet"):
        if part not in skip:
            report["arguments"][part] = arguments
    report.update(date=datetime.date.today().isoformat(), machine=machine(), versions=versions(args.aws_cli))

    def save() -> None:
        report["bench_minutes"] = (time.monotonic() - started) / 60
        report["load_at_end"] = " ".join(f"{value:.1f}" for value in os.getloadavg())
        with open(results, "w", encoding="utf-8") as handle:
            json.dump(report, handle, indent=1, default=str)

    with LocalAWS() as aws:
        ansible = Ansible(aws, args.aws_cli)
        try:
            sizes = [int(n) for n in args.sizes.split(",")]
            curve = [int(n) for n in args.curve.split(",")]
            if "fleet" not in skip:
                report["fleet"] = {"sizes": {}, "curve": {}}
            parts: dict[str, Callable[[], Any]] = {
                "calls": lambda: report.__setitem__("calls", call_counts(aws, ansible)),
                "history": lambda: report.__setitem__("history", history(aws)),
                "fleet": lambda: fleet(aws, ansible, sizes, args.runs_small, args.runs_large, curve, report["fleet"], save,
                                       tuple(int(n) for n in args.curve_ours.split(",") if n)),
                "validate_logs": lambda: report.__setitem__("validate_logs", validate_logs_against_cli(aws, args, arguments)),
            }
            for name, part in parts.items():
                if name in skip:
                    continue
                aws.reset()
                # A part that fails is reported; the others still run.
                try:
                    part()
                except Exception as error:  # pylint: disable=broad-exception-caught
                    traceback.print_exc()
                    report.setdefault("errors", {})[name] = str(error)[-2000:]
                save()
                print(f"{name}: done", flush=True)
        finally:
            shutil.rmtree(ansible.tmp, ignore_errors=True)
    save()
    if "validate_logs" not in skip and report.get("validate_logs"):
        validate_logs_part.write_section(DOC, validate_logs_part.render(report["validate_logs"]))
        print("\n".join(validate_logs_part.verdict(report["validate_logs"]["rows"])))
    missing = [part for part in ("calls", "history", "fleet") if not report.get(part)]
    if missing:
        print(f"no figures for {', '.join(missing)}: docs/performance.md left as it is; figures in build/bench/results.json")
        return
    report["verdict"] = verdict(report)
    write_doc(render(report))
    print("\n".join(report["verdict"]))
    print(f"wrote {os.path.relpath(DOC, REPO_ROOT)} in {report['bench_minutes']:.1f} minutes")


if __name__ == "__main__":
    main()
