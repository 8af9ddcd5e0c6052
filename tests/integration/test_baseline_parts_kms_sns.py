"""The baseline's KMS key and SNS topic parts (module_utils/kms_key.py,
sns_topic.py) against the local AWS: each run is read → plan → apply as the
baseline module makes it, and the real state is read back with plain boto3."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from botocore.exceptions import ClientError

from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.trailops.cloudtrail.plugins.module_utils import kms_key
from ansible_collections.trailops.cloudtrail.plugins.module_utils import sns_topic
from ansible_collections.trailops.cloudtrail.plugins.module_utils.retries import transient_retry
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parts import KNOWN_AFTER_RUN
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parameters import ParameterError
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parts import Where
from tests.conftest import REPO_ROOT
from tests.local_aws.policies import cloudtrail_bucket_policy
from tests.local_aws.server import ACCOUNT_ID, REGION

WHERE = Where(ACCOUNT_ID, "aws", REGION, "management-events")
OTHER_TRAIL = Where(ACCOUNT_ID, "aws", REGION, "data-events")
ALIAS = "alias/cloudtrail/management-events"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:cloudtrail-management-events"

# An administrator's own grants: they must come through every run as they are.
FOREIGN_KEY_STATEMENT = {
    "Sid": "AllowSecurityAuditors",
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:role/auditors"},
    "Action": ["kms:Decrypt", "kms:DescribeKey"],
    "Resource": "*",
}
FOREIGN_TOPIC_STATEMENT = {
    "Sid": "AllowAlarmsToPublish",
    "Effect": "Allow",
    "Principal": {"Service": "cloudwatch.amazonaws.com"},
    "Action": "SNS:Publish",
    "Resource": TOPIC_ARN,
}


@pytest.fixture
def client_for(aws):
    """Clients as the baseline module makes them: the collection's retry
    policy, each call made with ``aws_retry=True``."""
    clients = {}

    def make(service):
        if service not in clients:
            clients[service] = RetryingBotoClientWrapper(aws.client(service), transient_retry())
        return clients[service]

    return make


def run(part, client_for, spec, where=WHERE, check=False):
    """One run of a part: read, plan, and (unless check) apply."""
    before = part.read(client_for, spec, where)
    plan = part.plan(before, part.desired(spec, where), spec, where)
    if plan.changed and not check:
        plan.after = part.apply(client_for, plan, where)
    return plan


def key_policy(aws, key_id):
    return json.loads(aws.client("kms").get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])


def topic_policy(aws, arn=TOPIC_ARN):
    return json.loads(aws.client("sns").get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])


def by_sid(policy):
    return {statement.get("Sid"): statement for statement in policy["Statement"]}


def keys_tagged_for(aws, alias):
    kms = aws.client("kms")
    found = []
    for key in kms.list_keys()["Keys"]:
        tags = {t["TagKey"]: t["TagValue"] for t in kms.list_resource_tags(KeyId=key["KeyId"])["Tags"]}
        if tags.get(kms_key.ALIAS_TAG) == alias:
            found.append(key["KeyId"])
    return found


def writes(calls):
    return [call.action for call in calls if call.is_write]


# ---------------------------------------------------------------- KMS key
def test_kms_key_check_mode_writes_nothing_and_predicts_the_run(aws, client_for):
    aws.start_recording()
    predicted = run(kms_key, client_for, {}, check=True)
    assert writes(aws.stop_recording()) == []
    assert predicted.steps == ["CreateKey", "CreateAlias", "EnableKeyRotation"]
    assert predicted.after["key_arn"] == KNOWN_AFTER_RUN
    assert aws.client("kms").list_keys()["Keys"] == []

    aws.start_recording()
    made = run(kms_key, client_for, {})
    calls = aws.stop_recording()
    # No key in the account: the alias is missing, and no key lacks one.
    assert [call.action for call in calls] == ["DescribeKey", "ListAliases", "ListKeys", "CreateKey", "CreateAlias", "EnableKeyRotation"]
    assert made.after == dict(predicted.after, key_arn=made.after["key_arn"])

    kms = aws.client("kms")
    meta = kms.describe_key(KeyId=ALIAS)["KeyMetadata"]
    assert meta["Arn"] == made.after["key_arn"]
    assert meta["Description"] == "CloudTrail log files of the trail management-events"
    assert meta["KeySpec"] == "SYMMETRIC_DEFAULT"
    assert kms.get_key_rotation_status(KeyId=meta["KeyId"])["KeyRotationEnabled"] is True
    statements = by_sid(key_policy(aws, meta["KeyId"]))
    assert set(statements) == {kms_key.ROOT_SID, *kms_key.statement_sids(WHERE).values()}
    assert statements[kms_key.ROOT_SID]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}
    assert keys_tagged_for(aws, ALIAS) == [meta["KeyId"]]


def test_kms_key_second_run_reads_three_times_without_error_and_writes_nothing(aws, client_for):
    first = run(kms_key, client_for, {})

    aws.start_recording()
    second = run(kms_key, client_for, {})
    calls = aws.stop_recording()
    assert second.steps == []
    assert second.before == second.after == first.after
    assert [call.action for call in calls] == ["DescribeKey", "GetKeyPolicy", "GetKeyRotationStatus"]
    assert aws.error_responses() == []


def test_kms_key_keeps_a_foreign_statement_and_repairs_its_own(aws, client_for):
    key_arn = run(kms_key, client_for, {}).after["key_arn"]
    encrypt_sid = kms_key.statement_sids(WHERE)["encrypt"]
    policy = key_policy(aws, key_arn)
    # Someone adds a grant and loosens CloudTrail's: ours must come back, theirs stay.
    policy["Statement"].append(FOREIGN_KEY_STATEMENT)
    for statement in policy["Statement"]:
        if statement["Sid"] == encrypt_sid:
            del statement["Condition"]["StringEquals"]
    aws.client("kms").put_key_policy(KeyId=key_arn, PolicyName="default", Policy=json.dumps(policy))

    drift = run(kms_key, client_for, {}, check=True)
    assert drift.steps == ["PutKeyPolicy"]
    assert "StringEquals" not in drift.before["statements"][encrypt_sid]["Condition"]
    assert drift.after["statements"][encrypt_sid]["Condition"]["StringEquals"] == {"aws:SourceArn": WHERE.trail_arn}
    assert "AllowSecurityAuditors" not in drift.before["statements"]

    repaired = run(kms_key, client_for, {})
    assert repaired.after == drift.after
    statements = by_sid(key_policy(aws, key_arn))
    assert statements["AllowSecurityAuditors"] == FOREIGN_KEY_STATEMENT
    assert statements[encrypt_sid]["Condition"]["StringEquals"] == {"aws:SourceArn": WHERE.trail_arn}
    assert kms_key.ROOT_SID in statements
    assert run(kms_key, client_for, {}).steps == []


def test_two_trails_share_one_key_each_with_its_own_statements(aws, client_for):
    spec = {"alias": "alias/cloudtrail/shared"}
    key_arn = run(kms_key, client_for, spec).after["key_arn"]
    second = run(kms_key, client_for, spec, where=OTHER_TRAIL)
    assert second.steps == ["PutKeyPolicy"]
    assert second.after["key_arn"] == key_arn
    statements = by_sid(key_policy(aws, key_arn))
    assert set(kms_key.statement_sids(WHERE).values()) <= set(statements)
    assert set(kms_key.statement_sids(OTHER_TRAIL).values()) <= set(statements)
    assert run(kms_key, client_for, spec).steps == []
    assert run(kms_key, client_for, spec, where=OTHER_TRAIL).steps == []


def test_a_failed_create_alias_then_a_rerun_leaves_exactly_one_key(aws, client_for):
    kms = client_for("kms")
    real_create_alias = kms.client.create_alias
    failures = []

    def create_alias_failing_once(**kwargs):
        if not failures:
            failures.append(kwargs)
            raise ClientError({"Error": {"Code": "KMSInternalException", "Message": "injected"}}, "CreateAlias")
        return real_create_alias(**kwargs)

    kms.client.create_alias = create_alias_failing_once
    with pytest.raises(kms_key.AnsibleKmsKeyError):
        run(kms_key, client_for, {})
    assert failures
    (orphan,) = keys_tagged_for(aws, ALIAS)

    again = run(kms_key, client_for, {}, check=True)
    assert again.before["alias"] is None
    assert again.before["key_arn"].endswith(orphan)
    assert again.steps == ["CreateAlias", "EnableKeyRotation"]

    adopted = run(kms_key, client_for, {})
    assert adopted.after == again.after
    assert keys_tagged_for(aws, ALIAS) == [orphan]
    assert aws.client("kms").describe_key(KeyId=ALIAS)["KeyMetadata"]["KeyId"] == orphan
    assert run(kms_key, client_for, {}).steps == []


def test_a_key_of_another_alias_or_without_our_tag_is_never_adopted(aws, client_for):
    kms = aws.client("kms")
    untagged = kms.create_key(Description="someone's key")["KeyMetadata"]["KeyId"]
    other = kms.create_key(Tags=[{"TagKey": kms_key.ALIAS_TAG, "TagValue": "alias/cloudtrail/other"}])["KeyMetadata"]["KeyId"]
    made = run(kms_key, client_for, {})
    assert made.steps == ["CreateKey", "CreateAlias", "EnableKeyRotation"]
    assert made.after["key_arn"].rsplit("/", 1)[1] not in (untagged, other)


@pytest.mark.parametrize("put_aside", ["disable_key", "schedule_key_deletion"])
def test_a_disabled_or_deleted_key_is_refused_naming_the_alias(aws, client_for, put_aside):
    key_id = run(kms_key, client_for, {}).after["key_arn"].rsplit("/", 1)[1]
    getattr(aws.client("kms"), put_aside)(KeyId=key_id)
    aws.start_recording()
    with pytest.raises(ParameterError) as raised:
        run(kms_key, client_for, {})
    assert writes(aws.stop_recording()) == []
    assert raised.value.option == "kms_key_alias"
    assert ALIAS in str(raised.value) and "nothing was written" in str(raised.value)


def test_a_foreign_statement_under_our_sid_is_refused_untouched(aws, client_for):
    key_arn = run(kms_key, client_for, {}).after["key_arn"]
    decrypt_sid = kms_key.statement_sids(WHERE)["decrypt"]
    policy = key_policy(aws, key_arn)
    policy["Statement"] = [s for s in policy["Statement"] if s["Sid"] != decrypt_sid]
    policy["Statement"].append({"Sid": decrypt_sid, "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*"})
    aws.client("kms").put_key_policy(KeyId=key_arn, PolicyName="default", Policy=json.dumps(policy))
    with pytest.raises(ParameterError, match=decrypt_sid):
        run(kms_key, client_for, {})
    assert by_sid(key_policy(aws, key_arn))[decrypt_sid]["Effect"] == "Deny"


# ---------------------------------------------------------------- SNS topic
def test_sns_topic_check_mode_writes_nothing_then_one_create_call(aws, client_for):
    aws.start_recording()
    predicted = run(sns_topic, client_for, {}, check=True)
    assert writes(aws.stop_recording()) == []
    assert predicted.steps == ["CreateTopic"]
    assert aws.client("sns").list_topics()["Topics"] == []

    aws.start_recording()
    made = run(sns_topic, client_for, {})
    assert [call.action for call in aws.stop_recording()] == ["GetTopicAttributes", "CreateTopic"]
    assert made.after == predicted.after

    attributes = aws.client("sns").get_topic_attributes(TopicArn=TOPIC_ARN)["Attributes"]
    assert attributes["DisplayName"] == "CloudTrail management-events"
    statements = by_sid(json.loads(attributes["Policy"]))
    # SNS's default statement stays beside ours.
    assert set(statements) == {sns_topic.DEFAULT_STATEMENT_SID, sns_topic.statement_sid(WHERE)}
    assert statements[sns_topic.statement_sid(WHERE)]["Condition"] == {"StringEquals": {"aws:SourceArn": WHERE.trail_arn}}


def test_sns_topic_second_run_is_one_read_without_error(aws, client_for):
    first = run(sns_topic, client_for, {})
    aws.start_recording()
    second = run(sns_topic, client_for, {})
    calls = aws.stop_recording()
    assert second.steps == []
    assert second.before == second.after == first.after
    assert [call.action for call in calls] == ["GetTopicAttributes"]
    assert aws.error_responses() == []


def test_sns_topic_keeps_a_foreign_statement_and_repairs_its_own(aws, client_for):
    run(sns_topic, client_for, {})
    ours = sns_topic.statement_sid(WHERE)
    policy = topic_policy(aws)
    policy["Statement"] = [s for s in policy["Statement"] if s["Sid"] != ours] + [FOREIGN_TOPIC_STATEMENT]
    aws.client("sns").set_topic_attributes(TopicArn=TOPIC_ARN, AttributeName="Policy", AttributeValue=json.dumps(policy))
    aws.client("sns").set_topic_attributes(TopicArn=TOPIC_ARN, AttributeName="DisplayName", AttributeValue="renamed")

    drift = run(sns_topic, client_for, {}, check=True)
    assert drift.steps == ["SetTopicAttributes", "SetTopicAttributes"]
    assert drift.before["statements"] == {} and drift.before["display_name"] == "renamed"

    aws.start_recording()
    repaired = run(sns_topic, client_for, {})
    assert writes(aws.stop_recording()) == ["SetTopicAttributes", "SetTopicAttributes"]
    assert repaired.after == drift.after
    statements = by_sid(topic_policy(aws))
    assert statements["AllowAlarmsToPublish"] == FOREIGN_TOPIC_STATEMENT
    assert sns_topic.DEFAULT_STATEMENT_SID in statements and ours in statements
    assert run(sns_topic, client_for, {}).steps == []


def test_an_existing_topic_given_by_arn_gets_only_the_statement(aws, client_for):
    arn = aws.client("sns").create_topic(Name="security-alerts", Attributes={"DisplayName": "Security"})["TopicArn"]
    spec = {"name": arn}
    made = run(sns_topic, client_for, spec)
    assert made.steps == ["SetTopicAttributes"]
    assert "display_name" not in made.after
    attributes = aws.client("sns").get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["DisplayName"] == "Security"
    assert set(by_sid(json.loads(attributes["Policy"]))) == {sns_topic.DEFAULT_STATEMENT_SID, sns_topic.statement_sid(WHERE)}
    assert run(sns_topic, client_for, spec).steps == []


def test_a_missing_topic_given_by_arn_is_refused_before_any_write(aws, client_for):
    aws.start_recording()
    with pytest.raises(ParameterError, match="never created"):
        run(sns_topic, client_for, {"name": f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:absent"})
    assert writes(aws.stop_recording()) == []


# ---------------------------------------------------------------- CloudTrail accepts them
def test_cloudtrail_accepts_the_key_and_the_topic_as_made(aws, client_for):
    """The fidelity layer checks key and topic policies as CloudTrail does
    (InsufficientEncryptionPolicyException, InsufficientSnsTopicPolicyException)."""
    key_arn = run(kms_key, client_for, {}).after["key_arn"]
    topic = run(sns_topic, client_for, {}).after["topic_arn"]
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="trail-logs")
    s3.put_bucket_policy(Bucket="trail-logs", Policy=json.dumps(cloudtrail_bucket_policy("trail-logs", ACCOUNT_ID, trail_arns=[WHERE.trail_arn])))
    trail = aws.client("cloudtrail").create_trail(Name=WHERE.trail_name, S3BucketName="trail-logs", KmsKeyId=key_arn, SnsTopicName=topic)
    assert trail["KmsKeyId"] == key_arn
    assert trail["SnsTopicARN"] == topic


AWS_CLI = os.path.join(REPO_ROOT, "build", "awscli-venv", "bin", "aws")


def cli(aws, *args):
    """The AWS CLI (the reference client) against the local AWS, as JSON."""
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    env.update(aws.env(REGION))
    command = [AWS_CLI, *args, "--endpoint-url", aws.endpoint, "--output", "json"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.skipif(not os.path.exists(AWS_CLI), reason="the AWS CLI venv is missing: make build/awscli-venv/.installed")
def test_the_aws_cli_reads_the_state_the_parts_report(aws, client_for):
    key = run(kms_key, client_for, {}).after
    topic = run(sns_topic, client_for, {}).after

    meta = cli(aws, "kms", "describe-key", "--key-id", key["alias"])["KeyMetadata"]
    assert (meta["Arn"], meta["Description"], meta["KeyState"]) == (key["key_arn"], key["description"], key["key_state"])
    assert cli(aws, "kms", "get-key-rotation-status", "--key-id", meta["KeyId"])["KeyRotationEnabled"] is key["enable_key_rotation"]
    policy = json.loads(cli(aws, "kms", "get-key-policy", "--key-id", meta["KeyId"], "--policy-name", "default")["Policy"])
    assert {sid: s for sid, s in by_sid(policy).items() if sid in key["statements"]} == key["statements"]

    attributes = cli(aws, "sns", "get-topic-attributes", "--topic-arn", topic["topic_arn"])["Attributes"]
    assert attributes["DisplayName"] == topic["display_name"]
    assert {sid: s for sid, s in by_sid(json.loads(attributes["Policy"])).items() if sid in topic["statements"]} == topic["statements"]
