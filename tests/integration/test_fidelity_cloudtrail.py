"""The CloudTrail fidelity layer answers as CloudTrail does (tested through boto3)."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.local_aws.server import ACCOUNT_ID
from tests.local_aws.policies import cloudtrail_bucket_policy, cloudtrail_kms_key_policy, cloudtrail_sns_topic_policy

HOME = "us-east-1"
OTHER = "eu-west-1"
BUCKET = "trail-logs"
SECOND = "second-bucket"


def error_code(excinfo: pytest.ExceptionInfo) -> str:
    return excinfo.value.response["Error"]["Code"]


def make_bucket(aws, account_id: str, name: str = BUCKET, **policy_args) -> str:
    s3 = aws.client("s3", HOME)
    s3.create_bucket(Bucket=name)
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps(cloudtrail_bucket_policy(name, account_id, **policy_args)))
    return name


def trail_arn(account_id: str, name: str, region: str = HOME) -> str:
    return f"arn:aws:cloudtrail:{region}:{account_id}:trail/{name}"


@pytest.fixture
def ct(aws, account_id):
    make_bucket(aws, account_id)
    return aws.client("cloudtrail", HOME)


@pytest.fixture
def ct_other(aws):
    return aws.client("cloudtrail", OTHER)


@pytest.fixture
def multi(ct, account_id) -> str:
    ct.create_trail(Name="org-trail", S3BucketName=BUCKET, IsMultiRegionTrail=True)
    return trail_arn(account_id, "org-trail")


# -- 1. CreateTrail: uniqueness, limit, names --------------------------------


def test_create_trail_with_existing_name_fails_and_keeps_the_trail(ct, aws, account_id):
    ct.create_trail(Name="main", S3BucketName=BUCKET, EnableLogFileValidation=True)
    make_bucket(aws, account_id, "other-logs")
    with pytest.raises(ClientError) as exc:
        ct.create_trail(Name="main", S3BucketName="other-logs")
    assert error_code(exc) == "TrailAlreadyExistsException"
    trail = ct.get_trail(Name="main")["Trail"]
    assert (trail["S3BucketName"], trail["LogFileValidationEnabled"]) == (BUCKET, True)


def test_create_trail_with_name_of_multi_region_trail_in_another_region_fails(multi, ct_other):
    with pytest.raises(ClientError) as exc:
        ct_other.create_trail(Name="org-trail", S3BucketName=BUCKET)
    assert error_code(exc) == "TrailAlreadyExistsException"


def test_sixth_trail_in_a_region_fails(ct):
    for index in range(5):
        ct.create_trail(Name=f"trail-{index}", S3BucketName=BUCKET)
    with pytest.raises(ClientError) as exc:
        ct.create_trail(Name="trail-5", S3BucketName=BUCKET)
    assert error_code(exc) == "MaximumNumberOfTrailsExceededException"
    assert len(ct.describe_trails()["trailList"]) == 5


def test_multi_region_trail_counts_in_every_region(multi, ct_other):
    for index in range(4):
        ct_other.create_trail(Name=f"local-{index}", S3BucketName=BUCKET)
    with pytest.raises(ClientError) as exc:
        ct_other.create_trail(Name="local-4", S3BucketName=BUCKET)
    assert error_code(exc) == "MaximumNumberOfTrailsExceededException"


@pytest.mark.parametrize(
    "name",
    ["ab", "a" * 129, "-trail", "trail-", "my-_trail", "my..trail", "my--trail", "my trail", "trail/1", "192.168.5.4"],
)
def test_invalid_trail_names_are_refused(ct, name):
    with pytest.raises(ClientError) as exc:
        ct.create_trail(Name=name, S3BucketName=BUCKET)
    assert error_code(exc) == "InvalidTrailNameException"
    assert ct.describe_trails()["trailList"] == []


@pytest.mark.parametrize("name", ["abc", "a" * 128, "My.Trail-1_x", "1.2.3"])
def test_valid_trail_names_are_accepted(ct, name):
    ct.create_trail(Name=name, S3BucketName=BUCKET)
    assert ct.get_trail(Name=name)["Trail"]["Name"] == name


# -- 2. DescribeTrails ------------------------------------------------------


def test_describe_trails_honours_names_and_arns(ct, ct_other, multi, account_id):
    ct.create_trail(Name="home-only", S3BucketName=BUCKET)
    ct_other.create_trail(Name="far-only", S3BucketName=BUCKET)

    def names(client, **kwargs):
        return sorted(t["Name"] for t in client.describe_trails(**kwargs)["trailList"])

    assert names(ct, trailNameList=["home-only"]) == ["home-only"]
    assert names(ct, trailNameList=["far-only", "missing"]) == []
    assert names(ct, trailNameList=[trail_arn(account_id, "far-only", OTHER)]) == ["far-only"]
    # a multi-region trail's name is not one of the other region's own trails
    assert names(ct_other, trailNameList=["org-trail"]) == []
    assert names(ct_other, trailNameList=[multi]) == ["org-trail"]
    assert names(ct_other) == ["far-only", "org-trail"]
    assert names(ct_other, includeShadowTrails=False) == ["far-only"]
    shadow = ct_other.describe_trails()["trailList"]
    assert {t["Name"]: t["HomeRegion"] for t in shadow} == {"far-only": OTHER, "org-trail": HOME}


# -- 3. DeleteTrail ---------------------------------------------------------


def test_delete_missing_trail_fails(ct):
    with pytest.raises(ClientError) as exc:
        ct.delete_trail(Name="missing")
    assert error_code(exc) == "TrailNotFoundException"


def test_delete_by_arn_removes_trail_and_tags(ct, account_id):
    arn = trail_arn(account_id, "main")
    ct.create_trail(Name="main", S3BucketName=BUCKET, TagsList=[{"Key": "team", "Value": "sec"}])
    ct.delete_trail(Name=arn)
    assert ct.describe_trails()["trailList"] == []
    ct.create_trail(Name="main", S3BucketName=BUCKET)
    assert ct.list_tags(ResourceIdList=[arn])["ResourceTagList"][0]["TagsList"] == []


def test_delete_from_another_region_fails(multi, ct, ct_other):
    with pytest.raises(ClientError) as exc:
        ct_other.delete_trail(Name="org-trail")
    assert error_code(exc) == "InvalidHomeRegionException"
    assert ct.get_trail(Name=multi)["Trail"]["Name"] == "org-trail"


# -- 4. reads anywhere, writes at home --------------------------------------


@pytest.mark.parametrize("by_arn", [False, True])
def test_reads_work_from_any_region(multi, ct, ct_other, by_arn):
    ct.add_tags(ResourceId=multi, TagsList=[{"Key": "team", "Value": "sec"}])
    ct.put_insight_selectors(TrailName=multi, InsightSelectors=[{"InsightType": "ApiCallRateInsight"}])
    name = multi if by_arn else "org-trail"
    trail = ct_other.get_trail(Name=name)["Trail"]
    assert (trail["TrailARN"], trail["HomeRegion"]) == (multi, HOME)
    assert ct_other.get_trail_status(Name=name)["IsLogging"] is False
    assert ct_other.get_event_selectors(TrailName=name)["TrailARN"] == multi
    assert ct_other.get_insight_selectors(TrailName=name)["InsightSelectors"] == [{"InsightType": "ApiCallRateInsight"}]
    assert ct_other.list_tags(ResourceIdList=[name])["ResourceTagList"] == [{"ResourceId": multi, "TagsList": [{"Key": "team", "Value": "sec"}]}]


def test_single_region_trail_of_another_region_is_found_by_arn_only(ct, ct_other, account_id):
    ct_other.create_trail(Name="far-only", S3BucketName=BUCKET)
    with pytest.raises(ClientError) as exc:
        ct.get_trail(Name="far-only")
    assert error_code(exc) == "TrailNotFoundException"
    assert ct.get_trail(Name=trail_arn(account_id, "far-only", OTHER))["Trail"]["HomeRegion"] == OTHER


WRITES_OUTSIDE_HOME = {
    "UpdateTrail": lambda c, t: c.update_trail(Name=t, EnableLogFileValidation=True),
    "DeleteTrail": lambda c, t: c.delete_trail(Name=t),
    "StartLogging": lambda c, t: c.start_logging(Name=t),
    "StopLogging": lambda c, t: c.stop_logging(Name=t),
    "PutEventSelectors": lambda c, t: c.put_event_selectors(TrailName=t, EventSelectors=[{"ReadWriteType": "WriteOnly"}]),
    "PutInsightSelectors": lambda c, t: c.put_insight_selectors(TrailName=t, InsightSelectors=[]),
    "AddTags": lambda c, t: c.add_tags(ResourceId=t, TagsList=[{"Key": "k", "Value": "v"}]),
}


@pytest.mark.parametrize("call", sorted(WRITES_OUTSIDE_HOME))
def test_writes_outside_the_home_region_fail(multi, ct, ct_other, call):
    before = ct.get_trail(Name=multi)["Trail"]
    with pytest.raises(ClientError) as exc:
        WRITES_OUTSIDE_HOME[call](ct_other, multi)
    assert error_code(exc) == "InvalidHomeRegionException"
    assert ct.get_trail(Name=multi)["Trail"] == before
    assert ct.get_trail_status(Name=multi)["IsLogging"] is False
    assert ct.list_tags(ResourceIdList=[multi])["ResourceTagList"][0]["TagsList"] == []


def test_remove_tags_is_not_bound_to_the_home_region(multi, ct, ct_other):
    # the API reference restricts AddTags, not RemoveTags, to the home region
    ct.add_tags(ResourceId=multi, TagsList=[{"Key": "team", "Value": "sec"}])
    ct_other.remove_tags(ResourceId=multi, TagsList=[{"Key": "team"}])
    assert ct.list_tags(ResourceIdList=[multi])["ResourceTagList"][0]["TagsList"] == []


# -- 5./6. event selectors --------------------------------------------------

DEFAULT_SELECTOR = {"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": [], "ExcludeManagementEventSources": []}
S3_DATA = {"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::bucket/"]}
ADVANCED_MANAGEMENT = {"Name": "mgmt", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}


def test_new_trail_logs_all_management_events(ct):
    ct.create_trail(Name="main", S3BucketName=BUCKET)
    selectors = ct.get_event_selectors(TrailName="main")
    assert selectors["EventSelectors"] == [DEFAULT_SELECTOR]
    assert "AdvancedEventSelectors" not in selectors
    trail = ct.get_trail(Name="main")["Trail"]
    assert (trail["HasCustomEventSelectors"], trail["HasInsightSelectors"]) == (False, False)


def test_switching_basic_advanced_basic_keeps_exactly_what_was_put(ct):
    ct.create_trail(Name="main", S3BucketName=BUCKET)
    ct.put_event_selectors(TrailName="main", EventSelectors=[{"ReadWriteType": "WriteOnly", "DataResources": [S3_DATA]}])
    basic = dict(DEFAULT_SELECTOR, ReadWriteType="WriteOnly", DataResources=[S3_DATA])
    assert ct.get_event_selectors(TrailName="main")["EventSelectors"] == [basic]
    assert ct.get_trail(Name="main")["Trail"]["HasCustomEventSelectors"] is True

    ct.put_event_selectors(TrailName="main", AdvancedEventSelectors=[ADVANCED_MANAGEMENT])
    selectors = ct.get_event_selectors(TrailName="main")
    assert selectors["AdvancedEventSelectors"] == [ADVANCED_MANAGEMENT]
    assert "EventSelectors" not in selectors
    assert ct.get_trail(Name="main")["Trail"]["HasCustomEventSelectors"] is True

    ct.put_event_selectors(TrailName="main", EventSelectors=[{}])
    selectors = ct.get_event_selectors(TrailName="main")
    assert selectors["EventSelectors"] == [DEFAULT_SELECTOR]
    assert "AdvancedEventSelectors" not in selectors
    assert ct.get_trail(Name="main")["Trail"]["HasCustomEventSelectors"] is False


def test_basic_and_advanced_together_fail(ct):
    ct.create_trail(Name="main", S3BucketName=BUCKET)
    with pytest.raises(ClientError) as exc:
        ct.put_event_selectors(TrailName="main", EventSelectors=[{}], AdvancedEventSelectors=[ADVANCED_MANAGEMENT])
    assert error_code(exc) == "InvalidParameterCombinationException"
    assert ct.get_event_selectors(TrailName="main")["EventSelectors"] == [DEFAULT_SELECTOR]


def _field(name, **operators):
    return dict({"Field": name}, **operators)


INVALID_SELECTORS = {
    "six basic selectors": {"EventSelectors": [{}] * 6},
    "no basic selector": {"EventSelectors": []},
    "bad ReadWriteType": {"EventSelectors": [{"ReadWriteType": "read-only"}]},
    "advanced type in basic": {"EventSelectors": [{"DataResources": [{"Type": "AWS::S3Outposts::Object", "Values": ["arn:aws:s3-outposts"]}]}]},
    "251 data resources": {
        "EventSelectors": [{"DataResources": [{"Type": "AWS::S3::Object", "Values": [f"arn:aws:s3:::b{i}/" for i in range(251)]}]}]
    },
    "wildcard data resource": {"EventSelectors": [{"DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::*"]}]}]},
    "data resource of another service": {"EventSelectors": [{"DataResources": [{"Type": "AWS::Lambda::Function", "Values": ["arn:aws:s3"]}]}]},
    "bad excluded source": {"EventSelectors": [{"ExcludeManagementEventSources": ["s3.amazonaws.com"]}]},
    "unknown field": {"AdvancedEventSelectors": [{"FieldSelectors": [_field("eventCategory", Equals=["Data"]), _field("bucket", Equals=["x"])]}]},
    "no eventCategory": {"AdvancedEventSelectors": [{"FieldSelectors": [_field("eventSource", NotEquals=["kms.amazonaws.com"])]}]},
    "data without resources.type": {"AdvancedEventSelectors": [{"FieldSelectors": [_field("eventCategory", Equals=["Data"])]}]},
    # Values the API reference (AdvancedFieldSelector) fixes.
    "eventCategory Bogus": {"AdvancedEventSelectors": [{"FieldSelectors": [_field("eventCategory", Equals=["Bogus"])]}]},
    "eventCategory of event data stores": {"AdvancedEventSelectors": [{"FieldSelectors": [_field("eventCategory", Equals=["Insight"])]}]},
    "readOnly maybe": {
        "AdvancedEventSelectors": [{"FieldSelectors": [_field("eventCategory", Equals=["Management"]), _field("readOnly", Equals=["maybe"])]}]
    },
    "resources.type AWS::Nope::Thing": {
        "AdvancedEventSelectors": [{"FieldSelectors": [_field("eventCategory", Equals=["Data"]), _field("resources.type", Equals=["AWS::Nope::Thing"])]}]
    },
    "resources.type with StartsWith": {
        "AdvancedEventSelectors": [{"FieldSelectors": [_field("eventCategory", Equals=["Data"]), _field("resources.type", StartsWith=["AWS::S3"])]}]
    },
    "501 values": {
        "AdvancedEventSelectors": [
            {
                "FieldSelectors": [
                    _field("eventCategory", Equals=["Data"]),
                    _field("resources.type", Equals=["AWS::S3::Object"]),
                    _field("resources.ARN", StartsWith=[f"arn:aws:s3:::b{i}/" for i in range(499)]),
                ]
            }
        ]
    },
}


@pytest.mark.parametrize("case", sorted(INVALID_SELECTORS))
def test_invalid_event_selectors_are_refused(ct, case):
    ct.create_trail(Name="main", S3BucketName=BUCKET)
    with pytest.raises(ClientError) as exc:
        ct.put_event_selectors(TrailName="main", **INVALID_SELECTORS[case])
    assert error_code(exc) == "InvalidEventSelectorsException"
    assert ct.get_event_selectors(TrailName="main")["EventSelectors"] == [DEFAULT_SELECTOR]


def test_data_resource_values_of_the_user_guide_are_accepted(ct, account_id):
    ct.create_trail(Name="main", S3BucketName=BUCKET)
    resources = [
        {"Type": "AWS::S3::Object", "Values": ["arn:aws:s3", "arn:aws:s3:::bucket/", "arn:aws:s3:::bucket/prefix"]},
        {"Type": "AWS::Lambda::Function", "Values": ["arn:aws:lambda", f"arn:aws:lambda:{HOME}:{account_id}:function:fn"]},
        {"Type": "AWS::DynamoDB::Table", "Values": ["arn:aws:dynamodb", f"arn:aws:dynamodb:{HOME}:{account_id}:table/t"]},
    ]
    ct.put_event_selectors(TrailName="main", EventSelectors=[{"DataResources": resources}])
    assert ct.get_event_selectors(TrailName="main")["EventSelectors"][0]["DataResources"] == resources


@pytest.mark.parametrize("resource_type", ["AWS::S3::Object", "AWS::S3Express::Object", "AWS::SNS::Topic", "AWS::DynamoDB::Stream"])
def test_advanced_resource_types_the_user_guide_lists_are_accepted(ct, resource_type):
    ct.create_trail(Name="main", S3BucketName=BUCKET)
    fields = [_field("eventCategory", Equals=["Data"]), _field("resources.type", Equals=[resource_type]), _field("readOnly", Equals=["false"])]
    ct.put_event_selectors(TrailName="main", AdvancedEventSelectors=[{"Name": "data", "FieldSelectors": fields}])
    assert ct.get_event_selectors(TrailName="main")["AdvancedEventSelectors"][0]["FieldSelectors"] == fields


def test_limits_themselves_are_accepted(ct):
    ct.create_trail(Name="main", S3BucketName=BUCKET)
    values = [f"arn:aws:s3:::b{i}/" for i in range(250)]
    ct.put_event_selectors(TrailName="main", EventSelectors=[{"DataResources": [{"Type": "AWS::S3::Object", "Values": values}]}] + [{}] * 4)
    assert len(ct.get_event_selectors(TrailName="main")["EventSelectors"]) == 5
    fields = [
        _field("eventCategory", Equals=["Data"]),
        _field("resources.type", Equals=["AWS::S3::Object"]),
        _field("resources.ARN", StartsWith=values + values[:248]),
    ]
    ct.put_event_selectors(TrailName="main", AdvancedEventSelectors=[{"Name": "s3", "FieldSelectors": fields}])
    assert ct.get_event_selectors(TrailName="main")["AdvancedEventSelectors"][0]["FieldSelectors"] == fields


# -- 7. insight selectors ---------------------------------------------------


def test_insight_selectors_replace_and_empty_turns_insights_off(ct):
    ct.create_trail(Name="main", S3BucketName=BUCKET)
    with pytest.raises(ClientError) as exc:
        ct.get_insight_selectors(TrailName="main")
    assert error_code(exc) == "InsightNotEnabledException"
    ct.put_insight_selectors(TrailName="main", InsightSelectors=[{"InsightType": "ApiCallRateInsight"}])
    ct.put_insight_selectors(TrailName="main", InsightSelectors=[{"InsightType": "ApiErrorRateInsight"}])
    assert ct.get_insight_selectors(TrailName="main")["InsightSelectors"] == [{"InsightType": "ApiErrorRateInsight"}]
    assert ct.get_trail(Name="main")["Trail"]["HasInsightSelectors"] is True
    ct.put_insight_selectors(TrailName="main", InsightSelectors=[])
    with pytest.raises(ClientError) as exc:
        ct.get_insight_selectors(TrailName="main")
    assert error_code(exc) == "InsightNotEnabledException"
    assert ct.get_trail(Name="main")["Trail"]["HasInsightSelectors"] is False


READ_ONLY_ADVANCED = {"FieldSelectors": [_field("eventCategory", Equals=["Management"]), _field("readOnly", Equals=["true"])]}
WRITE_ONLY_ADVANCED = {"FieldSelectors": [_field("eventCategory", Equals=["Management"]), _field("readOnly", Equals=["false"])]}


@pytest.mark.parametrize(
    "selectors, insight, accepted",
    [
        ({"EventSelectors": [{"ReadWriteType": "ReadOnly"}]}, "ApiCallRateInsight", False),
        ({"EventSelectors": [{"ReadWriteType": "ReadOnly"}]}, "ApiErrorRateInsight", True),
        ({"EventSelectors": [{"ReadWriteType": "WriteOnly"}]}, "ApiCallRateInsight", True),
        ({"EventSelectors": [{"IncludeManagementEvents": False, "DataResources": [S3_DATA]}]}, "ApiErrorRateInsight", False),
        ({"AdvancedEventSelectors": [READ_ONLY_ADVANCED]}, "ApiCallRateInsight", False),
        ({"AdvancedEventSelectors": [WRITE_ONLY_ADVANCED]}, "ApiCallRateInsight", True),
        ({"AdvancedEventSelectors": [ADVANCED_MANAGEMENT]}, "ApiCallRateInsight", True),
    ],
)
def test_insight_prerequisites(ct, selectors, insight, accepted):
    ct.create_trail(Name="main", S3BucketName=BUCKET)
    ct.put_event_selectors(TrailName="main", **selectors)
    if accepted:
        ct.put_insight_selectors(TrailName="main", InsightSelectors=[{"InsightType": insight}])
        assert ct.get_insight_selectors(TrailName="main")["InsightSelectors"] == [{"InsightType": insight}]
        return
    with pytest.raises(ClientError) as exc:
        ct.put_insight_selectors(TrailName="main", InsightSelectors=[{"InsightType": insight}])
    assert error_code(exc) == "InvalidInsightSelectorsException"
    assert ct.get_trail(Name="main")["Trail"]["HasInsightSelectors"] is False


# -- 8. tags ----------------------------------------------------------------


def test_tags_by_name_or_arn_and_removal_by_key(ct, account_id):
    arn = trail_arn(account_id, "main")
    ct.create_trail(Name="main", S3BucketName=BUCKET, TagsList=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    by_name = ct.list_tags(ResourceIdList=["main"])["ResourceTagList"]
    by_arn = ct.list_tags(ResourceIdList=[arn])["ResourceTagList"]
    assert by_name == by_arn == [{"ResourceId": arn, "TagsList": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]}]
    ct.remove_tags(ResourceId=arn, TagsList=[{"Key": "a"}])
    assert ct.list_tags(ResourceIdList=[arn])["ResourceTagList"][0]["TagsList"] == [{"Key": "b", "Value": "2"}]


@pytest.mark.parametrize("call", ["add_tags", "remove_tags", "list_tags"])
def test_tags_of_a_missing_trail_fail(ct, account_id, call):
    arn = trail_arn(account_id, "missing")
    tags = [{"Key": "a", "Value": "1"}]
    with pytest.raises(ClientError) as exc:
        if call == "list_tags":
            ct.list_tags(ResourceIdList=[arn])
        else:
            getattr(ct, call)(ResourceId=arn, TagsList=tags)
    assert error_code(exc) == "ResourceNotFoundException"


def test_at_most_50_tags(ct, account_id):
    arn = trail_arn(account_id, "main")
    ct.create_trail(Name="main", S3BucketName=BUCKET, TagsList=[{"Key": f"k{i}", "Value": "v"} for i in range(49)])
    ct.add_tags(ResourceId=arn, TagsList=[{"Key": "k0", "Value": "new"}, {"Key": "k49", "Value": "v"}])
    with pytest.raises(ClientError) as exc:
        ct.add_tags(ResourceId=arn, TagsList=[{"Key": "k50", "Value": "v"}])
    assert error_code(exc) == "TagsLimitExceededException"
    tags = ct.list_tags(ResourceIdList=[arn])["ResourceTagList"][0]["TagsList"]
    assert len(tags) == 50 and {"Key": "k0", "Value": "new"} in tags
    with pytest.raises(ClientError) as exc:
        ct.create_trail(Name="other", S3BucketName=BUCKET, TagsList=[{"Key": f"k{i}", "Value": "v"} for i in range(51)])
    assert error_code(exc) == "TagsLimitExceededException"


# -- 9. delivery settings ---------------------------------------------------


def test_missing_bucket(ct):
    with pytest.raises(ClientError) as exc:
        ct.create_trail(Name="main", S3BucketName="no-such-bucket")
    assert error_code(exc) == "S3BucketDoesNotExistException"


def _policy_cases(account_id):
    good = cloudtrail_bucket_policy(SECOND, account_id)
    without_acl = dict(good, Statement=good["Statement"][1:])
    other_principal = json.loads(json.dumps(good).replace("cloudtrail.amazonaws.com", "config.amazonaws.com"))
    wildcard_write = json.loads(json.dumps(good).replace(f"AWSLogs/{account_id}/*", "*"))
    return {
        "no policy": (None, None, False),
        "user guide policy": (good, None, True),
        "user guide policy, prefix not covered": (good, "logs", False),
        "prefix covered": (cloudtrail_bucket_policy(SECOND, account_id, prefix="logs"), "logs", True),
        "no ACL check": (without_acl, None, False),
        "another service": (other_principal, None, False),
        "wildcard resource": (wildcard_write, "any/prefix", True),
        "SourceArn of this trail": (cloudtrail_bucket_policy(SECOND, account_id, trail_arns=[trail_arn(account_id, "main")]), None, True),
        "SourceArn of another trail": (cloudtrail_bucket_policy(SECOND, account_id, trail_arns=[trail_arn(account_id, "other")]), None, False),
        "another account": (cloudtrail_bucket_policy(SECOND, "210987654321"), None, False),
    }


@pytest.mark.parametrize("case", sorted(_policy_cases(ACCOUNT_ID)))
def test_bucket_policy_must_let_cloudtrail_write(ct, aws, account_id, case):
    policy, prefix, accepted = _policy_cases(account_id)[case]
    s3 = aws.client("s3", HOME)
    s3.create_bucket(Bucket=SECOND)
    if policy:
        s3.put_bucket_policy(Bucket=SECOND, Policy=json.dumps(policy))
    params = dict(Name="main", S3BucketName=SECOND, **({"S3KeyPrefix": prefix} if prefix else {}))
    if accepted:
        assert ct.create_trail(**params)["S3BucketName"] == SECOND
        return
    with pytest.raises(ClientError) as exc:
        ct.create_trail(**params)
    assert error_code(exc) == "InsufficientS3BucketPolicyException"
    assert ct.describe_trails()["trailList"] == []


def test_update_trail_checks_the_bucket_policy_for_a_new_prefix(ct):
    ct.create_trail(Name="main", S3BucketName=BUCKET)
    with pytest.raises(ClientError) as exc:
        ct.update_trail(Name="main", S3KeyPrefix="logs")
    assert error_code(exc) == "InsufficientS3BucketPolicyException"
    assert "S3KeyPrefix" not in ct.get_trail(Name="main")["Trail"]


@pytest.fixture
def kms_key(aws, account_id):
    kms = aws.client("kms", HOME)
    key = kms.create_key(Policy=json.dumps(cloudtrail_kms_key_policy(account_id)))["KeyMetadata"]
    kms.create_alias(AliasName="alias/trail", TargetKeyId=key["KeyId"])
    return key


@pytest.mark.parametrize("form", ["key id", "key arn", "alias name", "alias arn"])
def test_kms_key_in_any_form_is_stored_as_key_arn(ct, kms_key, account_id, form):
    given = {
        "key id": kms_key["KeyId"],
        "key arn": kms_key["Arn"],
        "alias name": "alias/trail",
        "alias arn": f"arn:aws:kms:{HOME}:{account_id}:alias/trail",
    }[form]
    assert ct.create_trail(Name="main", S3BucketName=BUCKET, KmsKeyId=given)["KmsKeyId"] == kms_key["Arn"]
    assert ct.get_trail(Name="main")["Trail"]["KmsKeyId"] == kms_key["Arn"]
    ct.update_trail(Name="main", KmsKeyId=given)
    assert ct.get_trail(Name="main")["Trail"]["KmsKeyId"] == kms_key["Arn"]


def test_kms_key_must_exist_and_let_cloudtrail_encrypt(ct, aws):
    for missing in ("alias/none", "11111111-2222-3333-4444-555555555555"):
        with pytest.raises(ClientError) as exc:
            ct.create_trail(Name="main", S3BucketName=BUCKET, KmsKeyId=missing)
        assert error_code(exc) == "KmsKeyNotFoundException"
    default_policy_key = aws.client("kms", HOME).create_key()["KeyMetadata"]["Arn"]
    with pytest.raises(ClientError) as exc:
        ct.create_trail(Name="main", S3BucketName=BUCKET, KmsKeyId=default_policy_key)
    assert error_code(exc) == "InsufficientEncryptionPolicyException"
    assert ct.describe_trails()["trailList"] == []


@pytest.fixture
def log_group(aws, account_id):
    aws.client("logs", HOME).create_log_group(logGroupName="trail-group")
    return f"arn:aws:logs:{HOME}:{account_id}:log-group:trail-group:*"


def test_cloudwatch_logs_group_and_role_go_together(ct, aws, log_group, account_id):
    role = f"arn:aws:iam::{account_id}:role/trail-to-logs"
    missing_group = log_group.replace("trail-group", "no-group")
    cases = [
        ({"CloudWatchLogsLogGroupArn": log_group}, "InvalidCloudWatchLogsRoleArnException"),
        ({"CloudWatchLogsRoleArn": role}, "InvalidCloudWatchLogsLogGroupArnException"),
        ({"CloudWatchLogsLogGroupArn": missing_group, "CloudWatchLogsRoleArn": role}, "InvalidCloudWatchLogsLogGroupArnException"),
        ({"CloudWatchLogsLogGroupArn": log_group, "CloudWatchLogsRoleArn": "trail-to-logs"}, "InvalidCloudWatchLogsRoleArnException"),
    ]
    for params, code in cases:
        with pytest.raises(ClientError) as exc:
            ct.create_trail(Name="main", S3BucketName=BUCKET, **params)
        assert error_code(exc) == code, params
    trail = ct.create_trail(Name="main", S3BucketName=BUCKET, CloudWatchLogsLogGroupArn=log_group, CloudWatchLogsRoleArn=role)
    assert (trail["CloudWatchLogsLogGroupArn"], trail["CloudWatchLogsRoleArn"]) == (log_group, role)
    # the pair goes together in each request, also when only one of them changes
    aws.client("logs", HOME).create_log_group(logGroupName="new-group")
    for params, code in [
        ({"CloudWatchLogsLogGroupArn": log_group.replace("trail-group", "new-group")}, "InvalidCloudWatchLogsRoleArnException"),
        ({"CloudWatchLogsRoleArn": role + "-2"}, "InvalidCloudWatchLogsLogGroupArnException"),
    ]:
        with pytest.raises(ClientError) as exc:
            ct.update_trail(Name="main", **params)
        assert error_code(exc) == code, params
    stored = ct.get_trail(Name="main")["Trail"]
    assert (stored["CloudWatchLogsLogGroupArn"], stored["CloudWatchLogsRoleArn"]) == (log_group, role)


@pytest.fixture
def topic(aws):
    sns = aws.client("sns", HOME)
    arn = sns.create_topic(Name="trail-topic")["TopicArn"]
    sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=json.dumps(cloudtrail_sns_topic_policy(arn)))
    return arn


@pytest.mark.parametrize("by_arn", [False, True])
def test_sns_topic_by_name_or_arn(ct, topic, by_arn):
    trail = ct.create_trail(Name="main", S3BucketName=BUCKET, SnsTopicName=topic if by_arn else "trail-topic")
    assert (trail["SnsTopicARN"], trail["SnsTopicName"]) == (topic, "trail-topic")
    stored = ct.get_trail(Name="main")["Trail"]
    assert (stored["SnsTopicARN"], stored["SnsTopicName"]) == (topic, "trail-topic")


def test_sns_topic_must_exist_and_let_cloudtrail_publish(ct, aws):
    with pytest.raises(ClientError) as exc:
        ct.create_trail(Name="main", S3BucketName=BUCKET, SnsTopicName="no-topic")
    assert error_code(exc) == "InsufficientSnsTopicPolicyException"
    aws.client("sns", HOME).create_topic(Name="default-policy")
    with pytest.raises(ClientError) as exc:
        ct.create_trail(Name="main", S3BucketName=BUCKET, SnsTopicName="default-policy")
    assert error_code(exc) == "InsufficientSnsTopicPolicyException"
    assert ct.describe_trails()["trailList"] == []


def test_organization_trail_needs_the_management_account_and_the_organization_folder(ct, aws, account_id):
    with pytest.raises(ClientError) as exc:
        ct.create_trail(Name="org", S3BucketName=BUCKET, IsOrganizationTrail=True)
    assert error_code(exc) == "OrganizationsNotInUseException"
    organizations = aws.client("organizations", HOME)
    org_id = organizations.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    with pytest.raises(ClientError) as exc:
        ct.create_trail(Name="org", S3BucketName=BUCKET, IsOrganizationTrail=True)
    assert error_code(exc) == "InsufficientS3BucketPolicyException"
    make_bucket(aws, account_id, "org-logs", organization_id=org_id)
    assert ct.create_trail(Name="org", S3BucketName="org-logs", IsOrganizationTrail=True)["IsOrganizationTrail"] is True
    with pytest.raises(ClientError) as exc:
        ct.update_trail(Name="org", S3BucketName=BUCKET)
    assert error_code(exc) == "InsufficientS3BucketPolicyException"
    ct.create_trail(Name="single", S3BucketName=BUCKET)
    with pytest.raises(ClientError) as exc:
        ct.update_trail(Name="single", IsOrganizationTrail=True)
    assert error_code(exc) == "InsufficientS3BucketPolicyException"
    assert ct.get_trail(Name="single")["Trail"]["IsOrganizationTrail"] is False


def test_organization_trail_from_a_member_account_fails(aws):
    organizations = aws.client("organizations", HOME)
    organizations.create_organization(FeatureSet="ALL")
    member = organizations.create_account(AccountName="member", Email="member@example.com")["CreateAccountStatus"]["AccountId"]
    credentials = aws.client("sts", HOME).assume_role(RoleArn=f"arn:aws:iam::{member}:role/admin", RoleSessionName="fidelity")["Credentials"]
    keys = {
        "aws_access_key_id": credentials["AccessKeyId"],
        "aws_secret_access_key": credentials["SecretAccessKey"],
        "aws_session_token": credentials["SessionToken"],
    }
    aws.client("s3", HOME, **keys).create_bucket(Bucket="member-own-logs")
    aws.client("s3", HOME, **keys).put_bucket_policy(Bucket="member-own-logs", Policy=json.dumps(cloudtrail_bucket_policy("member-own-logs", member)))
    member_ct = aws.client("cloudtrail", HOME, **keys)
    with pytest.raises(ClientError) as exc:
        member_ct.create_trail(Name="org", S3BucketName="member-own-logs", IsOrganizationTrail=True)
    assert error_code(exc) == "NotOrganizationMasterAccountException"
    assert member_ct.create_trail(Name="own", S3BucketName="member-own-logs")["TrailARN"] == trail_arn(member, "own")


def _account_keys(aws, account: str) -> dict[str, str]:
    credentials = aws.client("sts", HOME).assume_role(RoleArn=f"arn:aws:iam::{account}:role/admin", RoleSessionName="fidelity")["Credentials"]
    return {
        "aws_access_key_id": credentials["AccessKeyId"],
        "aws_secret_access_key": credentials["SecretAccessKey"],
        "aws_session_token": credentials["SessionToken"],
    }


def test_a_member_account_sees_the_organization_trails_as_shadow_trails(ct, aws, account_id):
    organizations = aws.client("organizations", HOME)
    org_id = organizations.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    member = organizations.create_account(AccountName="member", Email="member@example.com")["CreateAccountStatus"]["AccountId"]
    make_bucket(aws, account_id, "org-logs", organization_id=org_id)
    ct.create_trail(Name="org-all-regions", S3BucketName="org-logs", IsOrganizationTrail=True, IsMultiRegionTrail=True)
    ct.create_trail(Name="org-home-only", S3BucketName="org-logs", IsOrganizationTrail=True)
    ct.create_trail(Name="management-only", S3BucketName=BUCKET)
    member_keys = _account_keys(aws, member)

    seen = {t["Name"]: t for t in aws.client("cloudtrail", HOME, **member_keys).describe_trails()["trailList"]}
    assert sorted(seen) == ["org-all-regions", "org-home-only"]
    assert seen["org-all-regions"]["TrailARN"] == trail_arn(account_id, "org-all-regions")
    assert seen["org-all-regions"]["IsOrganizationTrail"] is True and seen["org-all-regions"]["HomeRegion"] == HOME
    # A single-region organization trail is in its home region only; shadow trails are left out on request.
    assert [t["Name"] for t in aws.client("cloudtrail", OTHER, **member_keys).describe_trails()["trailList"]] == ["org-all-regions"]
    assert aws.client("cloudtrail", HOME, **member_keys).describe_trails(includeShadowTrails=False)["trailList"] == []
    # The member reads its status by ARN (GetTrailStatus: a member gives the organization trail's full ARN).
    status = aws.client("cloudtrail", HOME, **member_keys).get_trail_status(Name=trail_arn(account_id, "org-all-regions"))
    assert status["IsLogging"] is False
    # The management account lists its own trails once; an account outside the organization sees none of them.
    assert sorted(t["Name"] for t in ct.describe_trails()["trailList"]) == ["management-only", "org-all-regions", "org-home-only"]
    assert aws.client("cloudtrail", HOME, **_account_keys(aws, "999988887777")).describe_trails()["trailList"] == []


def test_multi_region_trail_must_include_global_events(ct):
    with pytest.raises(ClientError) as exc:
        ct.create_trail(Name="main", S3BucketName=BUCKET, IsMultiRegionTrail=True, IncludeGlobalServiceEvents=False)
    assert error_code(exc) == "InvalidParameterCombinationException"
    ct.create_trail(Name="main", S3BucketName=BUCKET, IsMultiRegionTrail=True)
    with pytest.raises(ClientError) as exc:
        ct.update_trail(Name="main", IncludeGlobalServiceEvents=False)
    assert error_code(exc) == "InvalidParameterCombinationException"
    assert ct.get_trail(Name="main")["Trail"]["IncludeGlobalServiceEvents"] is True


def test_update_trail_applies_only_given_fields_and_empty_strings_clear(ct, aws, account_id, kms_key, topic, log_group):
    role = f"arn:aws:iam::{account_id}:role/trail-to-logs"
    aws.client("s3", HOME).put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(cloudtrail_bucket_policy(BUCKET, account_id, prefix="logs")))
    ct.create_trail(
        Name="main",
        S3BucketName=BUCKET,
        S3KeyPrefix="logs",
        SnsTopicName=topic,
        KmsKeyId="alias/trail",
        CloudWatchLogsLogGroupArn=log_group,
        CloudWatchLogsRoleArn=role,
    )
    ct.update_trail(Name="main", EnableLogFileValidation=True)
    trail = ct.get_trail(Name="main")["Trail"]
    assert trail["LogFileValidationEnabled"] is True
    assert (trail["S3KeyPrefix"], trail["SnsTopicARN"], trail["KmsKeyId"]) == ("logs", topic, kms_key["Arn"])
    assert (trail["CloudWatchLogsLogGroupArn"], trail["CloudWatchLogsRoleArn"]) == (log_group, role)

    make_bucket(aws, account_id, "new-logs")
    ct.update_trail(
        Name=trail_arn(account_id, "main"),
        S3BucketName="new-logs",
        S3KeyPrefix="",
        SnsTopicName="",
        KmsKeyId="",
        CloudWatchLogsLogGroupArn="",
        CloudWatchLogsRoleArn="",
    )
    trail = ct.get_trail(Name="main")["Trail"]
    assert trail["S3BucketName"] == "new-logs"
    cleared = {"S3KeyPrefix", "SnsTopicName", "SnsTopicARN", "KmsKeyId", "CloudWatchLogsLogGroupArn", "CloudWatchLogsRoleArn"}
    assert cleared & set(trail) == set()
    assert trail["LogFileValidationEnabled"] is True


def test_update_missing_trail_fails(ct):
    with pytest.raises(ClientError) as exc:
        ct.update_trail(Name="missing", EnableLogFileValidation=True)
    assert error_code(exc) == "TrailNotFoundException"


# -- the recorder counts refused calls too ------------------------------------


def test_refused_calls_are_recorded(aws, ct):
    aws.start_recording()
    with pytest.raises(ClientError):
        ct.delete_trail(Name="missing")
    ct.describe_trails()
    calls = aws.stop_recording()
    assert [(c.service, c.action, c.is_write) for c in calls] == [("cloudtrail", "DeleteTrail", True), ("cloudtrail", "DescribeTrails", False)]
