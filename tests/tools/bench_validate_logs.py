"""validate_logs against ``aws cloudtrail validate-logs``: wall time, calls and
peak memory of each, on the same bucket, with and without S3 latency.

    .venv/bin/python -m tests.tools.bench_validate_logs --aws-cli build/awscli-venv/bin/aws \\
        --sizes 1000,10000 --latency-ms 0,30 --runs 3,1

For each N (a fresh local AWS each): one trail with log file validation, N log
files of 20 events each delivered as CloudTrail does (a log file every flush, a
digest every 12 flushes: five-minute deliveries, hourly digests). Then, for each
added latency (the local AWS's latency fault rule on every S3 call), both
readers run alternately on the same bucket and range, the first to go taking
turns:

* ours: the validate_logs module as Ansible runs it on localhost (a Python
  process reading its arguments from a JSON file);
* theirs: the AWS CLI's ``cloudtrail validate-logs``, the reference client.

Each run is checked (both must find every digest and log file valid), its calls
counted on the server's recorder, and its peak resident memory read from the
kernel (``wait4``) for that one process. ``bench/run.py`` calls ``measure()``
for ``make bench``; this entry point prints JSON lines. Not part of ``make
test``: timing is no test.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable, Optional

from tests.conftest import COLLECTIONS, REPO_ROOT
from tests.integration.setup_helpers import make_log_bucket
from tests.local_aws import LocalAWS
from tests.local_aws.fidelity.delivery import deliver
from tests.local_aws.fidelity.lookup_events import seed_events

TRAIL = "bench-trail"
BUCKET = "bench-logs"
REGION = "us-east-1"
EVENTS_PER_FILE = 20
FILES_PER_DIGEST = 12
CLI_RATIO = re.compile(r"^(\d+)/(\d+) (digest|log) files valid", re.MULTILINE)


def _iso(value: datetime.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def populate(aws: LocalAWS, n_files: int) -> tuple[str, datetime.datetime, datetime.datetime]:
    """(trail ARN, start, end) of a trail with ``n_files`` log files in range."""
    make_log_bucket(aws, BUCKET)
    cloudtrail = aws.client("cloudtrail", REGION)
    arn = cloudtrail.create_trail(Name=TRAIL, S3BucketName=BUCKET, EnableLogFileValidation=True)["TrailARN"]
    cloudtrail.start_logging(Name=TRAIL)
    n_digests = -(-n_files // FILES_PER_DIGEST)
    start = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0, second=0) - datetime.timedelta(hours=n_digests + 1)
    at = start
    for index in range(n_files):
        at = start + datetime.timedelta(minutes=5 * (index + 1))
        events = [{"EventName": f"Call{index}x{n}", "EventTime": _iso(at - datetime.timedelta(seconds=n))} for n in range(EVENTS_PER_FILE)]
        seed_events(aws, events)
        last_of_hour = (index + 1) % FILES_PER_DIGEST == 0 or index == n_files - 1
        deliver(aws, at=at, digest=last_of_hour)
    # The range ends at the last delivery (not "now"): both readers see the same
    # digests, and the AWS CLI's look one hour past the end finds nothing more.
    return arn, start, at + datetime.timedelta(minutes=1)


def run_measured(command: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run ``command``; its wall time, exit code, output and the peak resident
    memory of that process alone (``wait4``'s rusage, not all children's)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        began = time.perf_counter()
        proc = subprocess.Popen(command, stdout=out, stderr=err, env=env, cwd=REPO_ROOT)  # pylint: disable=consider-using-with
        _pid, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - began
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return {"seconds": seconds, "rc": proc.returncode, "stdout": out.read().decode(), "stderr": err.read().decode(),
                # Linux reports ru_maxrss in KiB.
                "peak_mib": usage.ru_maxrss / 1024}


def env_for(aws: LocalAWS, collections: str) -> dict[str, str]:
    env = dict(os.environ, **aws.env(REGION))
    env["PYTHONPATH"] = os.pathsep.join([collections, REPO_ROOT])
    return env


def ours(aws: LocalAWS, arn: str, start: datetime.datetime, end: datetime.datetime, collections: str,
         max_concurrency: Optional[int]) -> dict[str, Any]:
    args: dict[str, Any] = {"trail_name": arn, "start_time": _iso(start), "end_time": _iso(end)}
    if max_concurrency is not None:
        args["max_concurrency"] = max_concurrency
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": args}, handle)
    try:
        run = run_measured([sys.executable, "-m", "ansible_collections.trailops.cloudtrail.plugins.modules.validate_logs", handle.name],
                           env_for(aws, collections))
    finally:
        os.unlink(handle.name)
    try:
        result = json.loads(run["stdout"])
    except ValueError:
        raise RuntimeError(f"validate_logs printed no result (rc={run['rc']}): {run['stdout'][-2000:]} {run['stderr'][-2000:]}")
    if result.get("verdict") != "valid":
        raise RuntimeError(f"validate_logs: {result.get('verdict')}: {result.get('msg')} {result.get('failures', [])[:3]}")
    return {"seconds": run["seconds"], "peak_mib": run["peak_mib"], "digests": result["summary"]["digests"]["valid"],
            "log_files": result["summary"]["log_files"]["valid"]}


def theirs(aws: LocalAWS, aws_cli: str, arn: str, start: datetime.datetime, end: datetime.datetime) -> dict[str, Any]:
    run = run_measured([aws_cli, "cloudtrail", "validate-logs", "--region", REGION, "--trail-arn", arn,
                        "--start-time", _iso(start), "--end-time", _iso(end)], env_for(aws, COLLECTIONS))
    found = {kind: (int(valid), int(total)) for valid, total, kind in CLI_RATIO.findall(run["stdout"])}
    if run["rc"] != 0 or "digest" not in found or "log" not in found or any(valid != total for valid, total in found.values()):
        raise RuntimeError(f"aws cloudtrail validate-logs (rc={run['rc']}): {run['stdout'][-2000:]} {run['stderr'][-2000:]}")
    return {"seconds": run["seconds"], "peak_mib": run["peak_mib"], "digests": found["digest"][0], "log_files": found["log"][0]}


def set_latency(aws: LocalAWS, milliseconds: int) -> None:
    """Every S3 call answered ``milliseconds`` later (the local AWS's latency rule)."""
    from tests.local_aws.fidelity.faults import clear_faults, inject_faults

    clear_faults(aws)
    if milliseconds:
        inject_faults(aws, [{"service": "s3", "action": "*", "fault": "latency", "delay": milliseconds / 1000}])


def counted(aws: LocalAWS, action: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    aws.start_recording()
    result = action()
    calls = aws.stop_recording()
    result["calls"] = len(calls)
    result["writes"] = sum(1 for call in calls if call.is_write)
    if result["writes"]:
        raise RuntimeError(f"a reader wrote: {[call for call in calls if call.is_write][:3]}")
    return result


def spread(samples: list[float]) -> dict[str, Any]:
    return {"median": statistics.median(samples), "min": min(samples), "max": max(samples), "runs": len(samples)}


def measure(aws_cli: str, sizes: list[int], latencies_ms: list[int], runs: list[int], collections: str = COLLECTIONS,
            max_concurrency: Optional[int] = None, aws: Optional[LocalAWS] = None,
            progress: Callable[[dict[str, Any]], None] = lambda row: None) -> list[dict[str, Any]]:
    """One row per (N, latency): both sides' seconds, calls and peak memory, and the ratios."""
    rows = []
    for n_files, n_runs in zip(sizes, runs + [runs[-1]] * (len(sizes) - len(runs))):
        own = aws is None
        local = LocalAWS().start() if own else aws
        try:
            local.reset()
            began = time.perf_counter()
            arn, start, end = populate(local, n_files)
            setup = time.perf_counter() - began
            for latency in latencies_ms:
                set_latency(local, latency)
                sides: dict[str, list[dict[str, Any]]] = {"ours": [], "aws_cli": []}
                run_side = {
                    "ours": lambda: counted(local, lambda: ours(local, arn, start, end, collections, max_concurrency)),
                    "aws_cli": lambda: counted(local, lambda: theirs(local, aws_cli, arn, start, end)),
                }
                for index in range(n_runs):
                    # Alternately, the first to go taking turns: neither always reads a warmer server.
                    for side in (("ours", "aws_cli") if index % 2 == 0 else ("aws_cli", "ours")):
                        sides[side].append(run_side[side]())
                set_latency(local, 0)
                row: dict[str, Any] = {"log_files": n_files, "latency_ms": latency, "setup_seconds": round(setup, 1)}
                for side, samples in sides.items():
                    found = {(s["digests"], s["log_files"]) for s in samples}
                    if len(found) != 1:
                        raise RuntimeError(f"{side} found different counts across runs: {found}")
                    row[side] = {"seconds": spread([s["seconds"] for s in samples]), "calls": samples[0]["calls"],
                                 "peak_mib": max(s["peak_mib"] for s in samples), "digests": samples[0]["digests"],
                                 "valid_log_files": samples[0]["log_files"]}
                if row["ours"]["valid_log_files"] != n_files or row["aws_cli"]["valid_log_files"] != n_files:
                    raise RuntimeError(f"not every log file was validated: {row}")
                row["ratio"] = row["ours"]["seconds"]["median"] / row["aws_cli"]["seconds"]["median"]
                rows.append(row)
                progress(row)
        finally:
            if own:
                local.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.tools.bench_validate_logs")
    parser.add_argument("--aws-cli", default=os.path.join(REPO_ROOT, "build", "awscli-venv", "bin", "aws"))
    parser.add_argument("--sizes", default="1000,10000", help="log files, comma-separated")
    parser.add_argument("--latency-ms", default="0,30", help="added latency per S3 call, comma-separated")
    parser.add_argument("--runs", default="3,1", help="runs of each side per size (the last repeats)")
    parser.add_argument("--max-concurrency", type=int, help="validate_logs' pool size (default: the module's)")
    parser.add_argument("--collections", default=COLLECTIONS, help="the ansible_collections tree to run the module from")
    parser.add_argument("--json", help="also write the rows to this file as they come")
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []

    def progress(row: dict[str, Any]) -> None:
        rows.append(row)
        print(json.dumps(row), flush=True)
        if args.json:
            with open(args.json, "w", encoding="utf-8") as handle:
                json.dump(rows, handle, indent=1)

    measure(args.aws_cli, [int(n) for n in args.sizes.split(",")], [int(n) for n in args.latency_ms.split(",")],
            [int(n) for n in args.runs.split(",")], args.collections, args.max_concurrency, progress=progress)


if __name__ == "__main__":
    main()
