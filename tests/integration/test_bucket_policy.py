"""trailops.cloudtrail.bucket_policy against the local AWS: the policy read
back with boto3, and the calls the server received."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.local_aws.policies import cloudtrail_bucket_policy
from tests.local_aws.server import ACCOUNT_ID, REGION

BUCKET = "trail-logs"
TRAIL = "management-events"
TRAIL_ARN = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT_ID}:trail/{TRAIL}"
OTHER_ACCOUNT = "210987654321"
OTHER_TRAIL_ARN = f"arn:aws:cloudtrail:eu-west-1:{OTHER_ACCOUNT}:trail/security"
ORG_ID = "o-abcdefghij"

ACL_CHECK = "AWSCloudTrailAclCheck20150319"
WRITE = "AWSCloudTrailWrite20150319"
DENY = "AWSCloudTrailDenyInsecureTransport20150319"

# Another service's grant, with a condition: it must survive every run as is.
FOREIGN = {
    "Sid": "AllowConfigDelivery",
    "Effect": "Allow",
    "Principal": {"Service": "config.amazonaws.com"},
    "Action": ["s3:PutObject"],
    "Resource": f"arn:aws:s3:::{BUCKET}/AWSLogs/{ACCOUNT_ID}/Config/*",
    "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "AWS:SourceAccount": ACCOUNT_ID}},
}


def params(**overrides):
    base = {"bucket": BUCKET, "trails": [TRAIL], "account_id": ACCOUNT_ID}
    base.update(overrides)
    return base


def read_policy(aws, bucket=BUCKET):
    try:
        return json.loads(aws.client("s3").get_bucket_policy(Bucket=bucket)["Policy"])
    except ClientError as e:
        if e.response["Error"]["Code"] == "NoSuchBucketPolicy":
            return None
        raise


def by_sid(policy):
    return {statement["Sid"]: statement for statement in policy["Statement"]}


def writes(calls):
    return [c for c in calls if c.is_write]


@pytest.fixture
def bucket(aws):
    aws.client("s3").create_bucket(Bucket=BUCKET)
    return BUCKET


def put_policy(aws, policy, bucket=BUCKET):
    aws.client("s3").put_bucket_policy(Bucket=bucket, Policy=policy if isinstance(policy, str) else json.dumps(policy))


def test_apply_then_second_run_is_one_read(aws, bucket, run_module):
    result = run_module("bucket_policy", params())
    assert result["changed"] is True, result
    policy = read_policy(aws)
    assert result["policy"] == policy
    statements = by_sid(policy)
    assert set(statements) == {ACL_CHECK, WRITE}
    assert statements[ACL_CHECK]["Action"] == "s3:GetBucketAcl"
    assert statements[ACL_CHECK]["Resource"] == f"arn:aws:s3:::{BUCKET}"
    assert statements[ACL_CHECK]["Condition"] == {"StringEquals": {"aws:SourceArn": TRAIL_ARN}}
    assert statements[WRITE]["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert statements[WRITE]["Resource"] == f"arn:aws:s3:::{BUCKET}/AWSLogs/{ACCOUNT_ID}/*"
    assert statements[WRITE]["Condition"] == {
        "StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": TRAIL_ARN}
    }

    assert result["statements"] == policy["Statement"]

    aws.start_recording()
    again = run_module("bucket_policy", params(), diff=True)
    calls = aws.stop_recording()
    assert again["changed"] is False, again
    assert writes(calls) == []
    assert [(c.service, c.method) for c in calls] == [("s3", "GET")]
    assert again["diff"]["before"] == again["diff"]["after"] == policy
    assert read_policy(aws) == policy


def test_name_without_account_costs_one_sts_call(aws, bucket, run_module):
    first = run_module("bucket_policy", {"bucket": BUCKET, "trails": [TRAIL]})
    assert first["changed"] is True, first
    assert by_sid(read_policy(aws))[ACL_CHECK]["Condition"]["StringEquals"]["aws:SourceArn"] == TRAIL_ARN

    aws.start_recording()
    again = run_module("bucket_policy", {"bucket": BUCKET, "trails": [TRAIL]})
    calls = aws.stop_recording()
    assert again["changed"] is False
    assert sorted((c.service, c.action) for c in calls if c.service != "s3") == [("sts", "GetCallerIdentity")]
    assert len([c for c in calls if c.service == "s3"]) == 1
    assert writes(calls) == []

    aws.start_recording()
    by_arn = run_module("bucket_policy", {"bucket": BUCKET, "trails": [TRAIL_ARN]})
    calls = aws.stop_recording()
    assert by_arn["changed"] is False
    assert [c.service for c in calls] == ["s3"]


def test_check_mode_writes_nothing_and_predicts(aws, bucket, run_module):
    put_policy(aws, {"Version": "2012-10-17", "Statement": [FOREIGN]})
    aws.start_recording()
    predicted = run_module("bucket_policy", params(deny_insecure_transport=True), check=True, diff=True)
    calls = aws.stop_recording()
    assert predicted["changed"] is True
    assert writes(calls) == []
    assert read_policy(aws) == {"Version": "2012-10-17", "Statement": [FOREIGN]}
    assert predicted["diff"]["before"] == {"Version": "2012-10-17", "Statement": [FOREIGN]}
    assert predicted["diff"]["after"] == predicted["policy"]

    applied = run_module("bucket_policy", params(deny_insecure_transport=True), diff=True)
    assert applied["changed"] is True
    assert applied["policy"] == predicted["policy"]
    assert read_policy(aws) == predicted["policy"]
    assert applied["diff"] == predicted["diff"]


def test_foreign_statement_survives_apply_update_and_absent(aws, bucket, run_module):
    original = {"Version": "2012-10-17", "Id": "team-policy", "Statement": [FOREIGN]}
    put_policy(aws, original)

    run_module("bucket_policy", params())
    policy = read_policy(aws)
    assert policy["Id"] == "team-policy"
    assert policy["Statement"][0] == FOREIGN
    assert set(by_sid(policy)) == {FOREIGN["Sid"], ACL_CHECK, WRITE}

    updated = run_module("bucket_policy", params(s3_key_prefix="cloudtrail", trails=[TRAIL, OTHER_TRAIL_ARN]))
    assert updated["changed"] is True
    policy = read_policy(aws)
    assert by_sid(policy)[FOREIGN["Sid"]] == FOREIGN
    assert by_sid(policy)[WRITE]["Resource"] == [
        f"arn:aws:s3:::{BUCKET}/cloudtrail/AWSLogs/{ACCOUNT_ID}/*",
        f"arn:aws:s3:::{BUCKET}/cloudtrail/AWSLogs/{OTHER_ACCOUNT}/*",
    ]

    removed = run_module("bucket_policy", {"bucket": BUCKET, "state": "absent"})
    assert removed["changed"] is True
    assert removed["statements"] == []
    assert read_policy(aws) == original

    aws.start_recording()
    again = run_module("bucket_policy", {"bucket": BUCKET, "state": "absent"})
    calls = aws.stop_recording()
    assert again["changed"] is False
    assert writes(calls) == []


def test_reordered_policy_makes_no_write(aws, bucket, run_module):
    run_module("bucket_policy", params(trails=[TRAIL, OTHER_TRAIL_ARN], deny_insecure_transport=True))
    policy = read_policy(aws)
    # Same policy, statements and lists in another order and another layout.
    reordered = {"Statement": list(reversed(policy["Statement"])), "Version": policy["Version"]}
    for statement in reordered["Statement"]:
        if isinstance(statement["Resource"], list):
            statement["Resource"] = list(reversed(statement["Resource"]))
    put_policy(aws, json.dumps(reordered, indent=4))

    aws.start_recording()
    result = run_module("bucket_policy", params(trails=[OTHER_TRAIL_ARN, TRAIL], deny_insecure_transport=True))
    calls = aws.stop_recording()
    assert result["changed"] is False
    assert writes(calls) == []


def test_absent_with_only_our_statements_deletes_the_policy(aws, bucket, run_module):
    run_module("bucket_policy", params(deny_insecure_transport=True))
    assert read_policy(aws) is not None

    result = run_module("bucket_policy", {"bucket": BUCKET, "state": "absent"}, diff=True)
    assert result["changed"] is True
    assert result["policy"] == {}
    assert result["diff"]["after"] == {}
    assert read_policy(aws) is None


def test_adopts_user_guide_statements(aws, bucket, run_module):
    # As the console writes it for an organization trail: no SourceArn, and
    # the write Sid twice.
    guide = cloudtrail_bucket_policy(BUCKET, ACCOUNT_ID)
    assert [s["Sid"] for s in guide["Statement"]] == [ACL_CHECK, WRITE]
    org_write = dict(guide["Statement"][1], Resource=f"arn:aws:s3:::{BUCKET}/AWSLogs/{ORG_ID}/*")
    guide["Statement"] += [org_write, FOREIGN]
    put_policy(aws, guide)
    result = run_module("bucket_policy", params(organization_id=ORG_ID))
    assert result["changed"] is True
    policy = read_policy(aws)
    assert [s["Sid"] for s in policy["Statement"]] == [ACL_CHECK, WRITE, FOREIGN["Sid"]]
    assert policy["Statement"][2] == FOREIGN
    assert by_sid(policy)[ACL_CHECK]["Condition"] == {"StringEquals": {"aws:SourceArn": TRAIL_ARN}}


def test_organization_trail(aws, bucket, run_module):
    result = run_module("bucket_policy", params(organization_id=ORG_ID, s3_key_prefix="org/"))
    assert result["changed"] is True
    write = by_sid(read_policy(aws))[WRITE]
    assert write["Resource"] == [
        f"arn:aws:s3:::{BUCKET}/org/AWSLogs/{ACCOUNT_ID}/*",
        f"arn:aws:s3:::{BUCKET}/org/AWSLogs/{ORG_ID}/*",
    ]
    assert write["Condition"]["StringEquals"]["aws:SourceArn"] == TRAIL_ARN


def test_deny_insecure_transport_on_and_off(aws, bucket, run_module):
    run_module("bucket_policy", params(deny_insecure_transport=True))
    deny = by_sid(read_policy(aws))[DENY]
    assert deny == {
        "Sid": DENY,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }

    result = run_module("bucket_policy", params(deny_insecure_transport=False))
    assert result["changed"] is True
    assert set(by_sid(read_policy(aws))) == {ACL_CHECK, WRITE}


def test_several_trails_and_independent_groups_share_a_bucket(aws, bucket, run_module):
    second = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT_ID}:trail/data-events"
    run_module("bucket_policy", params(trails=[TRAIL, "data-events"]))
    team_b = run_module("bucket_policy", params(trails=["team-b"], s3_key_prefix="team-b", sid_suffix="TeamB"))
    assert team_b["changed"] is True

    policy = by_sid(read_policy(aws))
    assert set(policy) == {ACL_CHECK, WRITE, "AWSCloudTrailAclCheckTeamB", "AWSCloudTrailWriteTeamB"}
    assert policy[ACL_CHECK]["Condition"]["StringEquals"]["aws:SourceArn"] == sorted([TRAIL_ARN, second])
    assert policy["AWSCloudTrailWriteTeamB"]["Resource"] == f"arn:aws:s3:::{BUCKET}/team-b/AWSLogs/{ACCOUNT_ID}/*"

    # Each group is idempotent on its own and removed on its own.
    assert run_module("bucket_policy", params(trails=["data-events", TRAIL]))["changed"] is False
    run_module("bucket_policy", {"bucket": BUCKET, "sid_suffix": "TeamB", "state": "absent"})
    assert set(by_sid(read_policy(aws))) == {ACL_CHECK, WRITE}


def test_invalid_json_policy_fails_and_is_untouched(aws, bucket, run_module):
    broken = '{"Version": "2012-10-17", "Statement": ['
    put_policy(aws, broken)
    for state_params in (params(), {"bucket": BUCKET, "state": "absent"}):
        aws.start_recording()
        result = run_module("bucket_policy", state_params)
        calls = aws.stop_recording()
        assert result["failed"] is True
        assert "not valid JSON" in result["msg"] and result["msg"].startswith("bucket:")
        assert writes(calls) == []
    assert aws.client("s3").get_bucket_policy(Bucket=BUCKET)["Policy"] == broken


def test_policy_over_the_size_limit_is_not_written(aws, bucket, run_module):
    # Just under 20 KB of foreign statements: ours would take it over 20 KB.
    crowded = {
        "Version": "2012-10-17",
        "Statement": [dict(FOREIGN, Sid=f"Foreign{i}", Resource=f"arn:aws:s3:::{BUCKET}/{'k' * 100}/{i}/*") for i in range(56)],
    }
    put_policy(aws, crowded)
    aws.start_recording()
    result = run_module("bucket_policy", params())
    calls = aws.stop_recording()
    assert result["failed"] is True
    assert result["msg"].startswith("bucket:") and "20480" in result["msg"]
    assert writes(calls) == []
    assert read_policy(aws) == crowded


def test_missing_bucket_fails_naming_bucket(aws, run_module):
    aws.start_recording()
    result = run_module("bucket_policy", params(bucket="no-such-bucket"))
    calls = aws.stop_recording()
    assert result["failed"] is True
    assert "bucket" in result["msg"] and "no-such-bucket" in result["msg"]
    assert writes(calls) == []


@pytest.mark.parametrize(
    "bad, parameter",
    [
        ({"bucket": "Bad_Bucket"}, "bucket:"),
        ({"trails": []}, "trails:"),
        ({"trails": ["a"]}, "trails:"),
        ({"trails": ["my..trail"]}, "trails:"),
        ({"trails": ["arn:aws:cloudtrail:us-east-1:12:trail/x"]}, "trails:"),
        ({"account_id": "1234"}, "account_id:"),
        ({"organization_id": "abc"}, "organization_id:"),
        ({"s3_key_prefix": "/logs"}, "s3_key_prefix:"),
        ({"s3_key_prefix": "p" * 201}, "s3_key_prefix:"),
        ({"sid_suffix": "team-b"}, "sid_suffix:"),
    ],
)
def test_bad_input_fails_before_any_call(aws, bucket, run_module, bad, parameter):
    aws.start_recording()
    result = run_module("bucket_policy", params(**bad))
    calls = aws.stop_recording()
    assert result["failed"] is True
    assert result["msg"].startswith(parameter), result["msg"]
    assert calls == []


def create_trail_error(cloudtrail, name, **kwargs):
    try:
        cloudtrail.create_trail(Name=name, S3BucketName=BUCKET, **kwargs)
    except ClientError as e:
        return e.response["Error"]["Code"]
    return None


def test_create_trail_needs_the_policy(aws, bucket, run_module):
    """The fidelity layer makes CreateTrail check the bucket policy as
    CloudTrail does."""
    cloudtrail = aws.client("cloudtrail")
    assert create_trail_error(cloudtrail, TRAIL) == "InsufficientS3BucketPolicyException"

    assert run_module("bucket_policy", params())["changed"] is True
    trail = cloudtrail.create_trail(Name=TRAIL, S3BucketName=BUCKET)
    assert trail["TrailARN"] == TRAIL_ARN
    # aws:SourceArn restricts the grant to the trails named.
    assert create_trail_error(cloudtrail, "not-granted") == "InsufficientS3BucketPolicyException"


def test_create_trail_with_prefix_and_tls_only(aws, bucket, run_module):
    cloudtrail = aws.client("cloudtrail")
    put_policy(aws, {"Version": "2012-10-17", "Statement": [FOREIGN]})
    run_module("bucket_policy", params(trails=[TRAIL, "second", "third"], s3_key_prefix="logs", deny_insecure_transport=True))
    # The write is granted under the prefix only.
    assert create_trail_error(cloudtrail, TRAIL) == "InsufficientS3BucketPolicyException"
    assert create_trail_error(cloudtrail, TRAIL, S3KeyPrefix="logs") is None
    assert create_trail_error(cloudtrail, "second", S3KeyPrefix="logs") is None

    # Without our statements, a trail that was granted can no longer be created.
    run_module("bucket_policy", {"bucket": BUCKET, "state": "absent"})
    assert read_policy(aws) == {"Version": "2012-10-17", "Statement": [FOREIGN]}
    assert create_trail_error(cloudtrail, "third", S3KeyPrefix="logs") == "InsufficientS3BucketPolicyException"


# ---------------------------------------------------------------- issue 13
def test_a_write_is_read_back_and_the_result_is_what_was_read(aws, bucket, run_module):
    put_policy(aws, {"Version": "2012-10-17", "Statement": [FOREIGN]})
    aws.start_recording()
    result = run_module("bucket_policy", params())
    calls = aws.stop_recording()
    assert result["changed"] is True, result
    # Read, write, read back.
    assert [(c.service, c.method) for c in calls] == [("s3", "GET"), ("s3", "PUT"), ("s3", "GET")]
    assert result["policy"] == read_policy(aws)
    assert by_sid(result["policy"])["AllowConfigDelivery"] == FOREIGN


@pytest.mark.parametrize(
    "misused",
    [
        # AWS Config's grant and a third party's Deny, under our Sids.
        dict(FOREIGN, Sid=WRITE),
        {"Sid": ACL_CHECK, "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket", "Resource": f"arn:aws:s3:::{BUCKET}"},
    ],
    ids=["config-grant", "deny"],
)
def test_our_sid_on_someone_elses_statement_fails_and_is_untouched(aws, bucket, run_module, misused):
    policy = {"Version": "2012-10-17", "Statement": [misused]}
    put_policy(aws, policy)
    aws.start_recording()
    result = run_module("bucket_policy", params())
    calls = aws.stop_recording()
    assert result["failed"] is True, result
    assert result["msg"].startswith("sid_suffix:") and repr(misused["Sid"]) in result["msg"]
    assert writes(calls) == []
    assert read_policy(aws) == policy


def test_size_check_measures_the_bytes_sent(aws, bucket, run_module):
    # Foreign statements such that the merged policy fits in 20 KB as compact
    # JSON but not as json.dumps writes it by default: what is sent must fit.
    statements = [dict(FOREIGN, Sid=f"Foreign{i}", Resource=f"arn:aws:s3:::{BUCKET}/{'k' * 100}/{i}/*") for i in range(53)]
    put_policy(aws, {"Version": "2012-10-17", "Statement": statements})
    result = run_module("bucket_policy", params())
    assert result["changed"] is True, result
    sent = aws.client("s3").get_bucket_policy(Bucket=BUCKET)["Policy"]
    merged = json.loads(sent)
    assert len(merged["Statement"]) == 55
    assert len(sent.encode()) <= 20480 < len(json.dumps(merged).encode()), len(sent.encode())
