"""Concurrent writers on one bucket policy, under throttling: two
``bucket_policy`` runs with different ``sid_suffix`` values and a third
writer adding a statement of its own, all at the same moment, round after
round. Before issue 13, one group's statements were lost in about 1 round in
7, and a throttled PUT retried later re-sent a stale policy that dropped the
third writer's statement; every run reported success."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import boto3
from botocore.config import Config

from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.trailops.cloudtrail.plugins.module_utils import bucket_policy as bp
from ansible_collections.trailops.cloudtrail.plugins.module_utils.retries import transient_retry
from tests.integration.conftest import REPO_ROOT, _env
from tests.local_aws.fidelity.faults import fault_counts, inject_faults
from tests.local_aws.server import ACCOUNT_ID, REGION

ROUNDS = 50
GROUPS = {"TeamA": "team-a-trail", "TeamB": "team-b-trail"}
# A statement that is in the bucket before every round and must survive it.
SEEDED = {
    "Sid": "AllowConfigDelivery",
    "Effect": "Allow",
    "Principal": {"Service": "config.amazonaws.com"},
    "Action": "s3:PutObject",
    "Resource": "arn:aws:s3:::{bucket}/AWSLogs/" + ACCOUNT_ID + "/Config/*",
}


class Worker:
    """A module process that keeps running modules as it is told."""

    def __init__(self, aws):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.module_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=_env(aws, REGION, None),
            cwd=REPO_ROOT,
        )

    def start(self, module: str, params: dict) -> None:
        self.proc.stdin.write(json.dumps({"module": module, "params": params}) + "\n")
        self.proc.stdin.flush()

    def result(self) -> dict:
        line = self.proc.stdout.readline()
        assert line, "the module worker died"
        return json.loads(line)

    def stop(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def _same(left, right) -> bool:
    return not compare_policies({"Statement": [left]}, {"Statement": [right]})


def _holds(policy, statements) -> list:
    """The statements of ``statements`` that ``policy`` lacks."""
    return [s for s in statements if not any(_same(s, other) for other in bp.statements_of(policy))]


def _third_writer(client, bucket: str, statement: dict, outcome: dict) -> None:
    # Another careful tool: it, too, re-reads before each write and verifies.
    try:
        bp.ensure_bucket_policy(client, bucket, [statement], {statement["Sid"]}, check_mode=False)
        outcome["ok"] = True
    except Exception as e:  # pylint: disable=broad-except
        outcome["error"] = repr(e)


def test_two_runs_and_a_third_writer_at_once_lose_no_statement(aws):
    s3 = aws.client("s3")
    # No botocore retries: the third writer retries the way bucket_policy does.
    third_client = RetryingBotoClientWrapper(
        boto3.client(
            "s3",
            region_name=REGION,
            endpoint_url=aws.endpoint,
            verify=aws.ca_bundle,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            aws_session_token="testing",
            config=Config(retries={"total_max_attempts": 1}),
        ),
        transient_retry(),
    )
    workers = [Worker(aws) for _group in GROUPS]
    lost, misreported, failed = [], [], []
    try:
        for number in range(ROUNDS):
            bucket = f"shared-logs-{number}"
            s3.create_bucket(Bucket=bucket)
            seeded = dict(SEEDED, Resource=SEEDED["Resource"].format(bucket=bucket))
            s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [seeded]}))
            # One PUT in three is throttled, from whichever writer it comes.
            inject_faults(aws, [{"service": "s3", "action": "PutBucketPolicy", "fault": "throttle", "every": 3}])

            third = {"Sid": f"ThirdPartyDeny{number}", "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket", "Resource": f"arn:aws:s3:::{bucket}"}
            outcome: dict = {}
            for worker, (suffix, trail) in zip(workers, GROUPS.items()):
                worker.start("bucket_policy", {"bucket": bucket, "trails": [trail], "account_id": ACCOUNT_ID, "sid_suffix": suffix, "s3_key_prefix": suffix})
            writer = threading.Thread(target=_third_writer, args=(third_client, bucket, third, outcome))
            writer.start()
            results = [worker.result() for worker in workers]
            writer.join(timeout=120)
            injected = sum(rule["injected"] for rule in fault_counts(aws))
            inject_faults(aws, [])

            final = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
            expected = [seeded, third]
            for result, (suffix, trail) in zip(results, GROUPS.items()):
                if result.get("failed") or "stderr" in result:
                    failed.append((number, suffix, result.get("msg"), result.get("stderr")))
                    continue
                ours = bp.desired_statements(bucket, [f"arn:aws:cloudtrail:{REGION}:{ACCOUNT_ID}:trail/{trail}"], s3_key_prefix=suffix, sid_suffix=suffix)
                expected.extend(ours)
                # The reported policy is one that was read back: it holds this
                # run's statements, and nothing the bucket does not hold now.
                if result["changed"] is not True or _holds(result["policy"], ours) or _holds(final, bp.statements_of(result["policy"])):
                    misreported.append((number, suffix, result["policy"]))
            if not outcome.get("ok"):
                failed.append((number, "third writer", outcome.get("error")))
            missing = _holds(final, expected)
            if missing:
                lost.append((number, [s.get("Sid") for s in missing], injected))
            s3.delete_bucket_policy(Bucket=bucket)
    finally:
        for worker in workers:
            worker.stop()
    assert failed == []
    assert lost == []
    assert misreported == []
