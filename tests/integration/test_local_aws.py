"""The local AWS itself: the recorder counts what the server received, and it
speaks HTTPS, so a bucket policy that denies insecure transport holds as in AWS."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import urllib.error
import urllib.request

import botocore.exceptions
import pytest

from tests.local_aws import LocalAWS, tls


def test_recorder_names_calls_by_service_and_action(aws):
    s3 = aws.client("s3")
    cloudtrail = aws.client("cloudtrail")
    aws.start_recording()
    s3.create_bucket(Bucket="recorded")
    cloudtrail.describe_trails()
    calls = aws.stop_recording()

    assert [(c.service, c.action, c.is_write) for c in calls] == [
        ("s3", "PUT /recorded", True),
        ("cloudtrail", "DescribeTrails", False),
    ]


def test_reset_wipes_state(aws):
    aws.client("s3").create_bucket(Bucket="wiped")
    aws.reset()
    assert aws.client("s3").list_buckets()["Buckets"] == []


# -- the answers: error responses counted on the server ---------------------


def test_error_responses_name_the_call_its_status_and_aws_error_code(aws):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="no-policy-here")
    aws.start_recording()
    s3.list_buckets()
    with pytest.raises(botocore.exceptions.ClientError):
        s3.get_bucket_policy(Bucket="no-policy-here")
    with pytest.raises(botocore.exceptions.ClientError):
        aws.client("cloudtrail").get_trail(Name="missing-trail")
    with pytest.raises(botocore.exceptions.ClientError):
        aws.client("sns").get_topic_attributes(TopicArn="arn:aws:sns:us-east-1:123456789012:missing")
    calls = aws.stop_recording()

    # Four requests received; the successful ListBuckets is not an error.
    assert len(calls) == 4
    assert aws.error_responses() == [
        ("s3", "GetBucketPolicy", 404, "NoSuchBucketPolicy"),
        ("cloudtrail", "GetTrail", 400, "TrailNotFoundException"),
        ("sns", "GetTopicAttributes", 404, "NotFound"),
    ]


def test_error_responses_follow_the_recording(aws):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="no-policy-here")

    def missing_policy() -> None:
        with pytest.raises(botocore.exceptions.ClientError):
            s3.get_bucket_policy(Bucket="no-policy-here")

    missing_policy()  # before any recording: not kept
    aws.start_recording()
    missing_policy()
    aws.stop_recording()
    missing_policy()  # after the recording stopped: not kept
    assert aws.error_responses() == [("s3", "GetBucketPolicy", 404, "NoSuchBucketPolicy")]

    aws.start_recording()  # a new recording starts empty
    assert aws.error_responses() == []
    missing_policy()
    aws.reset()
    assert aws.error_responses() == []


def test_error_responses_include_what_the_fault_rules_answer(aws):
    """The answers are kept outermost: a throttled call is an error response too."""
    from botocore.config import Config

    from tests.local_aws.fidelity.faults import inject_faults

    inject_faults(aws, [{"service": "cloudtrail", "action": "DescribeTrails", "fault": "throttle", "limit": 1}])
    aws.start_recording()
    aws.client("cloudtrail", config=Config(retries={"mode": "standard", "max_attempts": 3})).describe_trails()
    calls = aws.stop_recording()

    assert [c.action for c in calls] == ["DescribeTrails", "DescribeTrails"]
    assert aws.error_responses() == [("cloudtrail", "DescribeTrails", 400, "ThrottlingException")]


# -- HTTPS, as every AWS endpoint ------------------------------------------

DENY_INSECURE = {
    "Sid": "AWSCloudTrailDenyInsecureTransport",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": ["arn:aws:s3:::guarded-logs", "arn:aws:s3:::guarded-logs/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


def _guarded_bucket(server: LocalAWS) -> None:
    s3 = server.client("s3")
    s3.create_bucket(Bucket="guarded-logs")
    s3.put_object(Bucket="guarded-logs", Key="AWSLogs/123456789012/CloudTrail/log.json.gz", Body=b"{}")
    s3.put_bucket_policy(Bucket="guarded-logs", Policy=json.dumps({"Version": "2012-10-17", "Statement": [DENY_INSECURE]}))


def test_the_server_speaks_https_with_a_certificate_its_ca_signed(aws):
    assert aws.endpoint.startswith("https://127.0.0.1:")
    assert aws.env()["AWS_CA_BUNDLE"] == aws.ca_bundle == tls.CA_FILE
    with tls.urlopen(aws.endpoint + "/moto-api/data.json", timeout=10) as response:
        assert response.status == 200
    # A client that does not trust the CA is refused, as for any unknown certificate.
    with pytest.raises(urllib.error.URLError) as refused:
        urllib.request.urlopen(aws.endpoint + "/moto-api/data.json", timeout=10, context=ssl.create_default_context(cafile=None, cadata=None))
    assert isinstance(refused.value.reason, ssl.SSLCertVerificationError)


def test_a_child_process_trusts_the_server_through_aws_ca_bundle(aws):
    """What run_module, run_playbook and `python -m tests.local_aws run` hand on."""
    aws.client("s3").create_bucket(Bucket="seen-by-child")
    script = "import boto3; print([b['Name'] for b in boto3.client('s3').list_buckets()['Buckets']])"
    env = dict(os.environ, **aws.env())
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "['seen-by-child']"


def test_deny_insecure_transport_lets_https_through(aws):
    _guarded_bucket(aws)
    s3 = aws.client("s3")
    body = s3.get_object(Bucket="guarded-logs", Key="AWSLogs/123456789012/CloudTrail/log.json.gz")["Body"].read()
    assert body == b"{}"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="guarded-logs")["Contents"]] == ["AWSLogs/123456789012/CloudTrail/log.json.gz"]


def test_deny_insecure_transport_refuses_plain_http():
    """As S3 does: the bucket's explicit Deny on aws:SecureTransport=false answers 403."""
    with LocalAWS(https=False) as plain:
        assert plain.endpoint.startswith("http://")
        s3 = plain.client("s3")
        s3.create_bucket(Bucket="open-logs")
        s3.put_object(Bucket="open-logs", Key="log.json.gz", Body=b"{}")
        _guarded_bucket(plain)
        # Only object writes are refused here, so the listing can show what a refused write left.
        s3.create_bucket(Bucket="write-guarded")
        write_only = dict(DENY_INSECURE, Action="s3:PutObject", Resource="arn:aws:s3:::write-guarded/*")
        s3.put_bucket_policy(Bucket="write-guarded", Policy=json.dumps({"Version": "2012-10-17", "Statement": [write_only]}))
        plain.start_recording()
        for call in (
            lambda: s3.get_object(Bucket="guarded-logs", Key="AWSLogs/123456789012/CloudTrail/log.json.gz"),
            lambda: s3.list_objects_v2(Bucket="guarded-logs"),
            lambda: s3.put_object(Bucket="write-guarded", Key="more.json.gz", Body=b"{}"),
        ):
            with pytest.raises(botocore.exceptions.ClientError) as denied:
                call()
            assert denied.value.response["Error"]["Code"] == "AccessDenied"
            assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        calls = plain.stop_recording()
        # Refused calls reached the server (counted once each: 403 is not retried) ...
        assert [(c.method, c.path) for c in calls] == [
            ("GET", "/guarded-logs/AWSLogs/123456789012/CloudTrail/log.json.gz"),
            ("GET", "/guarded-logs"),
            ("PUT", "/write-guarded/more.json.gz"),
        ]
        # ... and the refused write wrote nothing; calls the policies do not deny still answer.
        assert "Contents" not in s3.list_objects_v2(Bucket="write-guarded")
        assert s3.get_object(Bucket="open-logs", Key="log.json.gz")["Body"].read() == b"{}"


def test_validate_logs_after_fleet_reads_logs_that_deny_insecure_transport(aws, run_playbook, tmp_path):
    """Issue 14: every account of fleet.yml was `unreadable`, its bucket's
    deny-insecure-transport statement refusing GetObject. Over HTTPS it reads."""
    import datetime

    from tests.integration.fleet_helpers import account_client, make_organization, static_account, write_inventory
    from tests.local_aws.fidelity.delivery import deliver

    accounts = make_organization(aws, 2)
    inventory = write_inventory(tmp_path, accounts=[static_account(a) for a in accounts], source="yaml")
    applied = run_playbook("playbooks/fleet.yml", {"log_bucket_deny_insecure_transport": True}, "-i", inventory)
    assert applied.returncode == 0, applied.stdout[-4000:] + applied.stderr[-2000:]

    start = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) - datetime.timedelta(hours=3)
    delivered = {}
    for account in accounts:
        (trail,) = account_client(aws, account, "cloudtrail").describe_trails()["trailList"]
        assert trail["LogFileValidationEnabled"]
        statements = json.loads(account_client(aws, account, "s3").get_bucket_policy(Bucket=trail["S3BucketName"])["Policy"])["Statement"]
        assert any(s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}} for s in statements)
        delivered[account] = [deliver(aws, at=start + datetime.timedelta(hours=hour), trail=trail["TrailARN"]) for hour in (1, 2)]
        assert all(flush["digests"] for flush in delivered[account])

    done = run_playbook("playbooks/validate_logs.yml", {"report_dir": str(tmp_path / "reports"), "validate_logs_hours": 4}, "-i", inventory)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    report = json.loads((tmp_path / "reports" / "log_validation.json").read_text())
    verdicts = {account: entry["verdict"] for account, entry in report["accounts"].items()}
    assert set(verdicts) == set(accounts)
    assert "unreadable" not in verdicts.values(), report
