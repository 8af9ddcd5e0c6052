"""LookupEvents in the local AWS, read with boto3: the calls the server received
come back as CloudTrail-shaped events of the caller's account and region, with
CloudTrail's filters, paging, time window, errors and optional throttle."""

from __future__ import annotations

import datetime
import json

import botocore.config
import pytest
from botocore.exceptions import ClientError

from tests.integration.seeded_events import NOW, WINDOW, ago, around_the_window, newest_first, one_of_each
from tests.integration.setup_helpers import make_log_bucket
from tests.local_aws.fidelity.lookup_events import LOOKUP_ATTRIBUTE_KEYS, seed_events, set_throttle
from tests.local_aws.server import ACCOUNT_ID, REGION

OTHER_ACCOUNT = "111111111111"


def all_events(client, **params) -> list[dict]:
    events = []
    for page in client.get_paginator("lookup_events").paginate(**params):
        events.extend(page["Events"])
    return events


def no_retries(aws, region: str = REGION, **credentials):
    """A client that shows every error as it comes (no SDK retries, no client-side validation)."""
    import boto3

    creds = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    creds.update(credentials)
    config = botocore.config.Config(retries={"total_max_attempts": 1}, parameter_validation=False)
    return boto3.client("cloudtrail", region_name=region, endpoint_url=aws.endpoint, verify=aws.ca_bundle, config=config, **creds)


def error_code(excinfo) -> str:
    return excinfo.value.response["Error"]["Code"]


def test_calls_become_events_with_caller_and_parameters(aws):
    make_log_bucket(aws, "fidelity-logs")
    cloudtrail = aws.client("cloudtrail")
    cloudtrail.create_trail(Name="fidelity-trail", S3BucketName="fidelity-logs")
    with pytest.raises(ClientError):
        cloudtrail.get_trail(Name="no-such-trail")
    caller = aws.client("sts").get_caller_identity()

    events = all_events(cloudtrail, LookupAttributes=[{"AttributeKey": "EventSource", "AttributeValue": "cloudtrail.amazonaws.com"}])
    assert [e["EventName"] for e in events] == ["GetTrail", "CreateTrail"]
    failed, created = events
    assert created["Username"] == caller["Arn"].rsplit("/", 1)[-1]
    assert created["AccessKeyId"] == "testing"
    assert created["ReadOnly"] == "false" and failed["ReadOnly"] == "true"
    assert created["Resources"] == [
        {"ResourceType": "AWS::CloudTrail::Trail", "ResourceName": "fidelity-trail"},
        {"ResourceType": "AWS::S3::Bucket", "ResourceName": "fidelity-logs"},
    ]
    record = json.loads(created["CloudTrailEvent"])
    assert record["requestParameters"] == {"name": "fidelity-trail", "s3BucketName": "fidelity-logs"}
    # moto's STS names the caller arn:aws:sts::...:user/moto; an IAM user's ARN is IAM's.
    assert record["userIdentity"]["arn"] == f"arn:aws:iam::{ACCOUNT_ID}:user/{caller['Arn'].rsplit('/', 1)[-1]}"
    assert record["userIdentity"]["accessKeyId"] == "testing"
    assert (record["awsRegion"], record["recipientAccountId"], record["eventID"]) == (REGION, ACCOUNT_ID, created["EventId"])
    assert "errorCode" not in record
    failure = json.loads(failed["CloudTrailEvent"])
    assert failure["errorCode"] == "TrailNotFoundException"
    assert "no-such-trail" in failure["errorMessage"]


def test_bucket_calls_are_recorded_and_object_calls_are_not(aws):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="object-bucket")
    s3.put_object(Bucket="object-bucket", Key="a/b.txt", Body=b"data")
    s3_source = [{"AttributeKey": "EventSource", "AttributeValue": "s3.amazonaws.com"}]
    names = [e["EventName"] for e in all_events(aws.client("cloudtrail"), LookupAttributes=s3_source)]
    assert names == ["CreateBucket"]


def test_lookup_events_calls_are_not_recorded(aws):
    cloudtrail = aws.client("cloudtrail")
    cloudtrail.describe_trails()
    for _attempt in range(3):
        cloudtrail.lookup_events()
    assert [e["EventName"] for e in all_events(cloudtrail)] == ["DescribeTrails"]


def test_assumed_role_events_belong_to_the_role_account_and_session(aws):
    credentials = aws.client("sts").assume_role(RoleArn=f"arn:aws:iam::{OTHER_ACCOUNT}:role/deployer", RoleSessionName="alice")["Credentials"]
    keys = {
        "aws_access_key_id": credentials["AccessKeyId"],
        "aws_secret_access_key": credentials["SecretAccessKey"],
        "aws_session_token": credentials["SessionToken"],
    }
    other = aws.client("cloudtrail", **keys)
    other.describe_trails()

    (event,) = all_events(other)
    assert (event["EventName"], event["Username"], event["AccessKeyId"]) == ("DescribeTrails", "alice", credentials["AccessKeyId"])
    record = json.loads(event["CloudTrailEvent"])
    assert record["userIdentity"]["type"] == "AssumedRole"
    assert record["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"] == f"arn:aws:iam::{OTHER_ACCOUNT}:role/deployer"
    assert record["recipientAccountId"] == OTHER_ACCOUNT
    # The first account sees its AssumeRole call and nothing the role did.
    assert [e["EventName"] for e in all_events(aws.client("cloudtrail"))] == ["AssumeRole"]


def test_event_time_is_the_records_whole_second_so_an_end_time_equal_to_it_finds_it(aws):
    cloudtrail = aws.client("cloudtrail")
    cloudtrail.describe_trails()
    (event,) = all_events(cloudtrail)
    record_time = json.loads(event["CloudTrailEvent"])["eventTime"]
    at = datetime.datetime.strptime(record_time, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    assert event["EventTime"] == at and event["EventTime"].microsecond == 0
    assert [e["EventId"] for e in all_events(cloudtrail, StartTime=at, EndTime=at)] == [event["EventId"]]
    assert [e["EventId"] for e in all_events(cloudtrail, EndTime=at)] == [event["EventId"]]


def test_events_of_one_second_keep_their_order(aws):
    cloudtrail = aws.client("cloudtrail")
    for name in ("first-trail-x", "second-trail", "third-trail"):
        with pytest.raises(ClientError):
            cloudtrail.get_trail(Name=name)
    events = all_events(cloudtrail)
    names = [json.loads(e["CloudTrailEvent"])["requestParameters"]["name"] for e in events]
    assert names == ["third-trail", "second-trail", "first-trail-x"]
    assert [e["EventId"] for e in all_events(cloudtrail, MaxResults=1)] == [e["EventId"] for e in events]


def test_iam_user_identity_is_an_iam_arn(aws):
    cloudtrail = aws.client("cloudtrail")
    cloudtrail.describe_trails()
    identity = json.loads(all_events(cloudtrail)[0]["CloudTrailEvent"])["userIdentity"]
    assert identity["type"] == "IAMUser"
    assert identity["arn"] == f"arn:aws:iam::{ACCOUNT_ID}:user/{identity['userName']}"
    assert "sessionContext" not in identity


def test_assumed_role_events_carry_the_session_context(aws):
    credentials = aws.client("sts").assume_role(RoleArn=f"arn:aws:iam::{OTHER_ACCOUNT}:role/auditor", RoleSessionName="bob")["Credentials"]
    other = aws.client(
        "cloudtrail",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    other.describe_trails()
    (event,) = all_events(other)
    record = json.loads(event["CloudTrailEvent"])
    identity = record["userIdentity"]
    context = identity["sessionContext"]
    assert identity["arn"] == f"arn:aws:sts::{OTHER_ACCOUNT}:assumed-role/auditor/bob"
    assert context["sessionIssuer"] == {
        "type": "Role",
        "principalId": identity["principalId"].split(":", 1)[0],
        "arn": f"arn:aws:iam::{OTHER_ACCOUNT}:role/auditor",
        "accountId": OTHER_ACCOUNT,
        "userName": "auditor",
    }
    assert identity["principalId"].endswith(":bob")
    assert context["webIdFederationData"] == {}
    assert context["attributes"]["mfaAuthenticated"] == "false"
    created = datetime.datetime.strptime(context["attributes"]["creationDate"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    # The session began when AssumeRole answered, at or before the call it made.
    assert abs((credentials["Expiration"] - datetime.timedelta(hours=1)) - created) <= datetime.timedelta(seconds=2)
    assert created <= event["EventTime"]


def test_response_elements_of_cloudtrail_writes(aws, account_id):
    make_log_bucket(aws, "answers-logs")
    cloudtrail = aws.client("cloudtrail")
    created = cloudtrail.create_trail(Name="answers", S3BucketName="answers-logs")
    cloudtrail.describe_trails()
    with pytest.raises(ClientError):
        cloudtrail.create_trail(Name="answers", S3BucketName="answers-logs")
    source = [{"AttributeKey": "EventSource", "AttributeValue": "cloudtrail.amazonaws.com"}]
    failed, described, create = [json.loads(e["CloudTrailEvent"]) for e in all_events(cloudtrail, LookupAttributes=source)]
    assert (create["eventName"], described["eventName"], failed["eventName"]) == ("CreateTrail", "DescribeTrails", "CreateTrail")
    elements = create["responseElements"]
    assert elements["name"] == "answers" and elements["s3BucketName"] == "answers-logs"
    assert elements["trailARN"] == created["TrailARN"] == f"arn:aws:cloudtrail:{REGION}:{account_id}:trail/answers"
    # CloudTrail writes null for reads and for failed calls.
    assert described["responseElements"] is None and failed["responseElements"] is None


def test_events_are_kept_per_region_and_iam_goes_to_us_east_1(aws):
    aws.client("cloudtrail", "eu-west-1").describe_trails()
    aws.client("iam", "eu-west-1").create_user(UserName="someone")
    assert [e["EventName"] for e in all_events(aws.client("cloudtrail", "eu-west-1"))] == ["DescribeTrails"]
    (create_user,) = all_events(aws.client("cloudtrail"))
    assert (create_user["EventName"], create_user["EventSource"]) == ("CreateUser", "iam.amazonaws.com")
    assert create_user["Resources"] == [{"ResourceType": "AWS::IAM::User", "ResourceName": "someone"}]


@pytest.mark.parametrize(
    "key, value, expected",
    [
        ("EventName", "StopLogging", ["StopLogging"]),
        ("Username", "bob", ["GetBucketPolicy"]),
        ("AccessKeyId", "AKIACAROL", ["Decrypt"]),
        ("ReadOnly", "true", ["Decrypt", "GetBucketPolicy"]),
        ("ReadOnly", "false", ["StopLogging"]),
        ("EventSource", "kms.amazonaws.com", ["Decrypt"]),
        ("ResourceType", "AWS::S3::Bucket", ["GetBucketPolicy"]),
        ("ResourceName", "main", ["StopLogging"]),
        ("EventName", "Nothing", []),
    ],
)
def test_each_lookup_attribute_filters(aws, key, value, expected):
    seed_events(aws, one_of_each())
    events = all_events(aws.client("cloudtrail"), LookupAttributes=[{"AttributeKey": key, "AttributeValue": value}])
    assert [e["EventName"] for e in events] == expected


def test_event_id_filter(aws):
    seed_events(aws, one_of_each())
    cloudtrail = aws.client("cloudtrail")
    wanted = all_events(cloudtrail)[1]
    assert all_events(cloudtrail, LookupAttributes=[{"AttributeKey": "EventId", "AttributeValue": wanted["EventId"]}]) == [wanted]


def test_lookup_attribute_keys_are_cloudtrails():
    assert set(LOOKUP_ATTRIBUTE_KEYS) == {"EventId", "EventName", "ReadOnly", "Username", "ResourceType", "ResourceName", "EventSource", "AccessKeyId"}


def test_paging_600_events_is_complete_and_newest_first(aws):
    seed_events(aws, newest_first(600))
    cloudtrail = aws.client("cloudtrail")
    pages = list(cloudtrail.get_paginator("lookup_events").paginate(PaginationConfig={"PageSize": 50}))
    assert len(pages) == 12 and all(len(page["Events"]) == 50 for page in pages)
    assert "NextToken" not in pages[-1]
    names = [e["EventName"] for page in pages for e in page["Events"]]
    assert names == [f"Call{i:04d}" for i in range(600)]
    times = [e["EventTime"] for page in pages for e in page["Events"]]
    assert times == sorted(times, reverse=True)


def test_paging_is_stable_while_new_events_arrive(aws):
    seed_events(aws, newest_first(120, "Old"))
    cloudtrail = aws.client("cloudtrail")
    first = cloudtrail.lookup_events(MaxResults=50)
    aws.client("cloudtrail").describe_trails()  # a newer event lands between pages
    second = cloudtrail.lookup_events(MaxResults=50, NextToken=first["NextToken"])
    third = cloudtrail.lookup_events(MaxResults=50, NextToken=second["NextToken"])
    names = [e["EventName"] for page in (first, second, third) for e in page["Events"]]
    assert names == [f"Old{i:04d}" for i in range(120)]


def test_next_token_must_repeat_the_parameters(aws):
    seed_events(aws, [dict(event, EventName="Same") for event in newest_first(60)])
    cloudtrail = no_retries(aws)
    first = cloudtrail.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "Same"}])
    with pytest.raises(ClientError) as excinfo:
        cloudtrail.lookup_events(NextToken=first["NextToken"])
    assert error_code(excinfo) == "InvalidNextTokenException"
    with pytest.raises(ClientError) as excinfo:
        cloudtrail.lookup_events(NextToken="garbage")
    assert error_code(excinfo) == "InvalidNextTokenException"


@pytest.mark.parametrize(
    "params, code",
    [
        (
            {"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "A"}, {"AttributeKey": "Username", "AttributeValue": "b"}]},
            "InvalidLookupAttributesException",
        ),
        ({"LookupAttributes": [{"AttributeKey": "Region", "AttributeValue": "us-east-1"}]}, "InvalidLookupAttributesException"),
        ({"MaxResults": 0}, "InvalidMaxResultsException"),
        ({"MaxResults": 51}, "InvalidMaxResultsException"),
        ({"StartTime": NOW, "EndTime": NOW - datetime.timedelta(hours=1)}, "InvalidTimeRangeException"),
        ({"EventCategory": "data"}, "InvalidEventCategoryException"),
    ],
)
def test_bad_requests_get_cloudtrails_errors(aws, params, code):
    with pytest.raises(ClientError) as excinfo:
        no_retries(aws).lookup_events(**params)
    assert error_code(excinfo) == code


def test_time_window_is_inclusive_and_90_days_long(aws):
    seed_events(aws, around_the_window())
    cloudtrail = aws.client("cloudtrail")
    window = all_events(cloudtrail, StartTime=WINDOW[0], EndTime=WINDOW[1])
    assert [e["EventName"] for e in window] == ["AtEnd", "Inside", "AtStart"]
    assert [e["EventName"] for e in all_events(cloudtrail)] == ["After", "AtEnd", "Inside", "AtStart", "Before"]


def test_insight_events_only_with_event_category_insight(aws):
    seed_events(
        aws,
        [{"EventName": "CreateTrail", "EventTime": ago(minutes=3)}, {"EventName": "StopLogging", "EventCategory": "Insight", "EventTime": ago(minutes=2)}],
    )
    cloudtrail = aws.client("cloudtrail")
    assert [e["EventName"] for e in all_events(cloudtrail)] == ["CreateTrail"]
    assert [e["EventName"] for e in all_events(cloudtrail, EventCategory="insight")] == ["StopLogging"]


def test_throttle_is_per_account_and_region_and_reset_clears_it(aws):
    seed_events(aws, [{"EventName": "One", "EventTime": ago(minutes=1)}])
    set_throttle(aws, 2)
    east = no_retries(aws)
    codes = []
    for _attempt in range(4):
        try:
            east.lookup_events()
            codes.append("ok")
        except ClientError as error:
            codes.append(error.response["Error"]["Code"])
    # A full bucket allows a burst of 2, then the rate.
    assert codes[:2] == ["ok", "ok"] and "ThrottlingException" in codes[2:]
    no_retries(aws, "eu-west-1").lookup_events()  # another region has its own bucket
    aws.reset()
    for _attempt in range(4):
        east.lookup_events()
    assert all_events(aws.client("cloudtrail")) == []
