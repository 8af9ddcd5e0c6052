"""The drift report names the desired and the actual value of every kind of
out-of-band change issue 11 lists: a bucket setting, each of the bucket
policy's two statements, the key policy, the topic policy, the log group's
retention, a trail setting, the event selectors, Insights, and logging
stopped.

One organization member per kind (and one left alone) gets the full baseline
from fleet.yml (KMS key, SNS topic, CloudWatch Logs, selectors and Insights);
then each member is changed out of band in its own way, and one
drift_report.yml --check finds exactly those, writing nothing.
"""

from __future__ import annotations

import json
import os

import pytest

from tests.integration.fleet_helpers import account_client, make_organization, write_inventory
from tests.integration.test_fleet import ansible_playbook, output, writes
from tests.local_aws.server import ACCOUNT_ID

TRAIL = "management-events"
ALIAS = f"alias/cloudtrail/{TRAIL}"
TOPIC = f"cloudtrail-{TRAIL}"
LOG_GROUP = f"aws-cloudtrail-logs-{TRAIL}"
BASELINE = {
    "fleet_region": "us-east-1",
    "trail_kms_key_create": True,
    "trail_sns_topic_create": True,
    "trail_cloudwatch_logs_create": True,
    "trail_cloudwatch_logs_retention_days": 365,
    "trail_event_selectors_preset": "management_events",
    "trail_insight_selectors": [{"insight_type": "ApiCallRateInsight"}],
}


def _bucket(client) -> str:
    return client("cloudtrail").get_trail(Name=TRAIL)["Trail"]["S3BucketName"]


def _without_statement(policy: dict, drop) -> dict:
    return dict(policy, Statement=[s for s in policy["Statement"] if not drop(s)])


def suspend_versioning(client):
    client("s3").put_bucket_versioning(Bucket=_bucket(client), VersioningConfiguration={"Status": "Suspended"})


def _edit_bucket_policy(client, edit):
    s3 = client("s3")
    bucket = _bucket(client)
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(edit(json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]))))


def drop_acl_check(client):
    _edit_bucket_policy(client, lambda p: _without_statement(p, lambda s: s.get("Sid", "").startswith("AWSCloudTrailAclCheck")))


def loosen_write(client):
    def edit(policy):
        for statement in policy["Statement"]:
            if statement.get("Sid", "").startswith("AWSCloudTrailWrite"):
                statement.pop("Condition", None)
        return policy

    _edit_bucket_policy(client, edit)


def drop_key_statements(client):
    kms = client("kms")
    key = kms.describe_key(KeyId=ALIAS)["KeyMetadata"]["KeyId"]
    policy = json.loads(kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"])
    cloudtrail = {"Service": "cloudtrail.amazonaws.com"}
    kms.put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps(_without_statement(policy, lambda s: s.get("Principal") == cloudtrail)))


def drop_topic_statement(client):
    sns = client("sns")
    (arn,) = [t["TopicArn"] for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(f":{TOPIC}")]
    policy = json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])
    cloudtrail = {"Service": "cloudtrail.amazonaws.com"}
    sns.set_topic_attributes(
        TopicArn=arn, AttributeName="Policy", AttributeValue=json.dumps(_without_statement(policy, lambda s: s.get("Principal") == cloudtrail))
    )


def shorten_retention(client):
    client("logs").put_retention_policy(logGroupName=LOG_GROUP, retentionInDays=7)


def turn_off_validation(client):
    client("cloudtrail").update_trail(Name=TRAIL, EnableLogFileValidation=False)


def narrow_selectors(client):
    client("cloudtrail").put_event_selectors(TrailName=TRAIL, EventSelectors=[{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}])


def turn_off_insights(client):
    client("cloudtrail").put_insight_selectors(TrailName=TRAIL, InsightSelectors=[])


def stop_logging(client):
    client("cloudtrail").stop_logging(Name=TRAIL)


def statement_of(prefix):
    return lambda item: item["setting"].startswith(f"statement {prefix}")


# kind: (out-of-band change, resource of the item (a callable of the bucket name),
#        which item, its desired value's test, its actual value's test)
KINDS = {
    "bucket setting": (suspend_versioning, lambda b: f"bucket {b}", lambda i: i["setting"] == "versioning", lambda d: d is True, lambda a: a is False),
    "bucket policy ACL check statement": (
        drop_acl_check,
        lambda b: f"bucket {b} policy",
        statement_of("AWSCloudTrailAclCheck"),
        lambda d: d["Action"] == "s3:GetBucketAcl",
        lambda a: a is None,
    ),
    "bucket policy write statement": (
        loosen_write,
        lambda b: f"bucket {b} policy",
        statement_of("AWSCloudTrailWrite"),
        lambda d: "Condition" in d,
        lambda a: a is not None and "Condition" not in a,
    ),
    "key policy": (drop_key_statements, lambda b: f"kms key {ALIAS}", statement_of(""), lambda d: d is not None, lambda a: a is None),
    "topic policy": (
        drop_topic_statement,
        lambda b: f"sns topic {TOPIC}",
        statement_of(""),
        lambda d: d["Action"].lower() == "sns:publish",
        lambda a: a is None,
    ),
    "retention": (shorten_retention, lambda b: f"log group {LOG_GROUP}", lambda i: i["setting"] == "retention_days", lambda d: d == 365, lambda a: a == 7),
    "trail setting": (
        turn_off_validation,
        lambda b: f"trail {TRAIL}",
        lambda i: i["setting"] == "log_file_validation_enabled",
        lambda d: d is True,
        lambda a: a is False,
    ),
    "selectors": (
        narrow_selectors,
        lambda b: f"trail {TRAIL} selectors",
        lambda i: i["setting"] == "event_selectors",
        lambda d: [s["read_write_type"] for s in d] == ["All"],
        lambda a: [s["read_write_type"] for s in a] == ["WriteOnly"],
    ),
    "insights": (
        turn_off_insights,
        lambda b: f"trail {TRAIL} selectors",
        lambda i: i["setting"] == "insight_selectors",
        lambda d: [s["insight_type"] for s in d] == ["ApiCallRateInsight"],
        lambda a: a == [],
    ),
    "logging stopped": (stop_logging, lambda b: f"trail {TRAIL}", lambda i: i["setting"] == "is_logging", lambda d: d is True, lambda a: a is False),
}


@pytest.fixture(scope="module")
def drifted(local_aws_server, tmp_path_factory):
    """Every member with the full baseline, then changed out of band, one kind each."""
    aws = local_aws_server
    aws.reset()
    tmp_path = tmp_path_factory.mktemp("drift-kinds")
    members = make_organization(aws, len(KINDS) + 1)
    inventory = write_inventory(tmp_path, aws, options={"exclude_accounts": [ACCOUNT_ID]})
    applied = ansible_playbook(aws, "playbooks/fleet.yml", [inventory], "-f", "10", "-e", json.dumps(BASELINE))
    assert applied.returncode == 0, output(applied)
    by_kind = dict(zip(KINDS, members))
    for kind, account in by_kind.items():
        KINDS[kind][0](lambda service, account=account: account_client(aws, account, service))
    yield aws, tmp_path, inventory, by_kind, members[-1]
    aws.reset()


@pytest.fixture(scope="module")
def report(drifted):
    aws, tmp_path, inventory, by_kind, dummy = drifted
    report_dir = str(tmp_path / "reports")
    aws.start_recording()
    proc = ansible_playbook(aws, "playbooks/drift_report.yml", [inventory], "-f", "10", "--check", "-e", json.dumps(dict(BASELINE, report_dir=report_dir)))
    calls = aws.stop_recording()
    assert proc.returncode == 0, output(proc)
    assert writes(calls) == []
    with open(os.path.join(report_dir, "drift_report.json"), encoding="utf-8") as handle:
        accounts = {account["account_id"]: account for account in json.load(handle)["accounts"]}
    with open(os.path.join(report_dir, "drift_report.md"), encoding="utf-8") as handle:
        markdown = handle.read()
    return accounts, markdown


@pytest.mark.parametrize("kind", list(KINDS))
def test_drift_report_names_desired_and_actual(drifted, report, kind):
    aws, dummy, dummy_inventory, by_kind, dummy_clean = drifted
    accounts, markdown = report
    account = by_kind[kind]
    dummy_change, resource, which, desired_ok, actual_ok = KINDS[kind]
    bucket = _bucket(lambda service: account_client(aws, account, service))
    entry = accounts[account]
    assert entry["status"] == "drifted", entry
    found = [item for item in entry["drift"] if item["resource"] == resource(bucket) and which(item)]
    assert found, entry["drift"]
    for item in found:
        assert desired_ok(item["desired"]) and actual_ok(item["actual"]), item
        assert f"| {item['resource']} | {item['setting']} | `{json.dumps(item['desired'])}`" in markdown


def test_the_account_left_alone_is_clean(drifted, report):
    dummy_aws, dummy, dummy_inventory, dummy_by_kind, clean = drifted
    accounts, markdown = report
    assert accounts[clean]["status"] == "clean" and accounts[clean]["drift"] == [], accounts[clean]
    assert accounts[clean]["trails"] == [{"name": TRAIL, "home_region": "us-east-1", "trail_arn": f"arn:aws:cloudtrail:us-east-1:{clean}:trail/{TRAIL}"}]
