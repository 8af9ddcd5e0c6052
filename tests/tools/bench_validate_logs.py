"""How long validate_logs takes and how much memory it holds, for N log files.

    .venv/bin/python -m tests.tools.bench_validate_logs 100 1000

For each N: a local AWS, one trail with log file validation, N log files of
20 events each delivered as CloudTrail does (a log file every flush, a digest
every 12 flushes: five-minute deliveries, hourly digests). Then:

* the validation in this process (module_utils, the same functions the module
  runs) under tracemalloc: wall time and peak Python memory;
* the module as ansible runs it (a child process): wall time, and the number of
  calls the server received.

A peak that stays flat from 100 to 1,000 files is what "bounded memory" means.
Not part of ``make test``: timing is no test.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc

from tests.conftest import COLLECTIONS, REPO_ROOT
from tests.integration.setup_helpers import make_log_bucket
from tests.local_aws import LocalAWS
from tests.local_aws.fidelity.delivery import deliver
from tests.local_aws.fidelity.lookup_events import seed_events

TRAIL = "bench-trail"
BUCKET = "bench-logs"
EVENTS_PER_FILE = 20
FILES_PER_DIGEST = 12


def _iso(value: datetime.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def populate(aws: LocalAWS, n_files: int) -> datetime.datetime:
    make_log_bucket(aws, BUCKET)
    cloudtrail = aws.client("cloudtrail")
    cloudtrail.create_trail(Name=TRAIL, S3BucketName=BUCKET, EnableLogFileValidation=True)
    cloudtrail.start_logging(Name=TRAIL)
    n_digests = -(-n_files // FILES_PER_DIGEST)
    start = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) - datetime.timedelta(hours=n_digests + 1)
    for index in range(n_files):
        at = start + datetime.timedelta(minutes=5 * (index + 1))
        events = [{"EventName": f"Call{index}x{n}", "EventTime": _iso(at - datetime.timedelta(seconds=n))} for n in range(EVENTS_PER_FILE)]
        seed_events(aws, events)
        last_of_hour = (index + 1) % FILES_PER_DIGEST == 0 or index == n_files - 1
        deliver(aws, at=at, digest=last_of_hour)
    return start


def validate_in_process(aws: LocalAWS, start: datetime.datetime) -> dict:
    sys.path.insert(0, COLLECTIONS)
    from ansible_collections.trailops.cloudtrail.plugins.module_utils import validate_logs as vl

    s3 = aws.client("s3")
    cloudtrail = aws.client("cloudtrail")
    end = datetime.datetime.now(datetime.timezone.utc)
    # The module's clients retry; these plain ones need an aws_retry-tolerant shim.
    s3_calls = _NoRetry(s3)
    tracemalloc.start()
    began = time.perf_counter()
    report = vl.Report()
    keys = {}

    def public_keys():
        if not keys:
            for key in cloudtrail.list_public_keys(StartTime=start, EndTime=end)["PublicKeyList"]:
                keys[key["Fingerprint"]] = key["Value"]
        return keys

    folder = vl.digest_folder(vl.account_root(None, "123456789012"), "us-east-1")
    vl.validate_scope(s3_calls, report, BUCKET, folder, TRAIL, "us-east-1", start, end, public_keys)
    seconds = time.perf_counter() - began
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    summary = report.summary(start, end)
    return {"seconds": round(seconds, 2), "peak_mib": round(peak / 2**20, 2), "summary": summary, "failures": len(report.failures)}


class _NoRetry:
    """Drops ``aws_retry`` (what AWSRetry's client wrapper consumes) for a plain boto3 client."""

    def __init__(self, client) -> None:
        self._client = client

    def __getattr__(self, name):
        method = getattr(self._client, name)

        def call(*args, aws_retry=False, **kwargs):
            return method(*args, **kwargs)

        return call


def validate_with_module(aws: LocalAWS, start: datetime.datetime) -> dict:
    env = dict(os.environ, **aws.env())
    env["PYTHONPATH"] = os.pathsep.join([COLLECTIONS, REPO_ROOT])
    args = {"ANSIBLE_MODULE_ARGS": {"trail_name": TRAIL, "start_time": _iso(start)}}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(args, handle)
    aws.start_recording()
    began = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "ansible_collections.trailops.cloudtrail.plugins.modules.validate_logs", handle.name],
            capture_output=True, text=True, env=env, check=False,
        )
    finally:
        os.unlink(handle.name)
    seconds = time.perf_counter() - began
    calls = aws.stop_recording()
    result = json.loads(proc.stdout)
    return {"seconds": round(seconds, 2), "verdict": result.get("verdict"), "calls": len(calls), "writes": len([c for c in calls if c.is_write])}


def main(sizes: list[int]) -> None:
    rows = []
    for n_files in sizes:
        with LocalAWS() as aws:
            aws.reset()
            began = time.perf_counter()
            start = populate(aws, n_files)
            setup = time.perf_counter() - began
            in_process = validate_in_process(aws, start)
            module = validate_with_module(aws, start)
        assert in_process["summary"]["log_files"]["valid"] == n_files and in_process["failures"] == 0, in_process
        assert module["verdict"] == "valid" and module["writes"] == 0, module
        rows.append({"log_files": n_files, "digests": in_process["summary"]["digests"]["valid"], "setup_seconds": round(setup, 1),
                     "validate_seconds": in_process["seconds"], "peak_mib": in_process["peak_mib"],
                     "module_seconds": module["seconds"], "module_calls": module["calls"]})
        print(json.dumps(rows[-1]), flush=True)


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [100, 1000])
