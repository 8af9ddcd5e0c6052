"""The `trail_info` module against the local AWS: trails made with boto3,
described by the module, compared with what boto3 reads back."""

from __future__ import annotations

import pytest

from tests.integration.setup_helpers import make_log_bucket
from tests.local_aws.server import ACCOUNT_ID, REGION

OTHER_REGION = "eu-west-1"
BUCKET = "trailops-info-logs"


def writes(calls) -> list:
    return [c for c in calls if c.is_write]


@pytest.fixture
def bucket(aws) -> str:
    return make_log_bucket(aws, BUCKET, prefixes=(None, "second"))


def create(aws, name: str, *, region: str = REGION, tags: dict | None = None, **settings) -> str:
    client = aws.client("cloudtrail", region)
    params = dict(Name=name, S3BucketName=BUCKET, **settings)
    if tags:
        params["TagsList"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    return client.create_trail(**params)["TrailARN"]


def by_name(result) -> dict[str, dict]:
    assert result["failed"] is False, result
    assert result["changed"] is False
    return {trail["name"]: trail for trail in result["trails"]}


def test_no_trails(aws, run_module):
    assert run_module("trail_info", {})["trails"] == []


def test_every_trail_with_status_selectors_and_tags(aws, run_module, bucket):
    first = create(aws, "first-trail", tags={"team": "security"}, IsMultiRegionTrail=True, EnableLogFileValidation=True)
    second = create(aws, "second-trail", S3KeyPrefix="second")
    cloudtrail = aws.client("cloudtrail")
    cloudtrail.start_logging(Name=first)
    cloudtrail.put_event_selectors(
        TrailName=second,
        EventSelectors=[
            {
                "ReadWriteType": "WriteOnly",
                "IncludeManagementEvents": True,
                "DataResources": [{"Type": "AWS::S3::Object", "Values": [f"arn:aws:s3:::{BUCKET}/"]}],
            }
        ],
    )
    cloudtrail.put_insight_selectors(TrailName=first, InsightSelectors=[{"InsightType": "ApiCallRateInsight"}])

    aws.start_recording()
    trails = by_name(run_module("trail_info", {}, check=True))
    calls = aws.stop_recording()
    assert writes(calls) == []
    assert [c.action for c in calls if c.action == "ListTags"] == ["ListTags"]

    assert set(trails) == {"first-trail", "second-trail"}
    one, two = trails["first-trail"], trails["second-trail"]
    assert (one["trail_arn"], one["home_region"], one["is_multi_region_trail"]) == (first, REGION, True)
    assert (one["is_logging"], one["log_file_validation_enabled"], one["tags"]) == (True, True, {"team": "security"})
    assert [s["insight_type"] for s in one["insight_selectors"]] == ["ApiCallRateInsight"]
    assert one["has_insight_selectors"] is True
    assert (two["is_logging"], two["s3_key_prefix"], two["tags"], two["insight_selectors"]) == (False, "second", {}, [])
    (selector,) = two["event_selectors"]
    assert selector["read_write_type"] == "WriteOnly"
    assert selector["data_resources"][0]["type"] == "AWS::S3::Object"
    assert two["advanced_event_selectors"] == []
    assert two["has_custom_event_selectors"] is True


def test_named_trails_by_name_and_arn(aws, run_module, bucket):
    create(aws, "first-trail")
    second = create(aws, "second-trail")
    create(aws, "third-trail")

    trails = by_name(run_module("trail_info", {"trail_names": ["first-trail", second, "missing-trail"]}))
    assert set(trails) == {"first-trail", "second-trail"}


def test_same_shape_as_trail_module(aws, run_module, bucket):
    created = run_module("trail", {"name": "shaped-trail", "s3_bucket_name": bucket, "tags": {"a": "1"}})
    (described,) = run_module("trail_info", {"names": ["shaped-trail"]})["trails"]
    assert {key: described[key] for key in created["trail"]} == created["trail"]


def test_shadow_trail_read_through_its_home_region(aws, run_module, bucket):
    arn = create(aws, "global-trail", tags={"scope": "all"}, IsMultiRegionTrail=True)
    aws.client("cloudtrail").start_logging(Name=arn)

    aws.start_recording()
    trails = by_name(run_module("trail_info", {}, region=OTHER_REGION))
    calls = aws.stop_recording()
    shadow = trails["global-trail"]
    assert (shadow["trail_arn"], shadow["home_region"]) == (arn, REGION)
    assert (shadow["is_logging"], shadow["tags"]) == (True, {"scope": "all"})
    assert {c.region for c in calls if c.action in ("ListTags", "GetTrailStatus", "GetEventSelectors")} == {REGION}

    assert by_name(run_module("trail_info", {"include_shadow_trails": False}, region=OTHER_REGION)) == {}


def test_invalid_name_fails_before_any_call(aws, run_module):
    aws.start_recording()
    result = run_module("trail_info", {"trail_names": ["ok-name", "bad..name"]})
    calls = aws.stop_recording()
    assert result["failed"] is True
    assert result["msg"].startswith("trail_names: 'bad..name'"), result["msg"]
    assert calls == []


def test_account_in_arns(aws, run_module, bucket):
    create(aws, "arn-trail")
    (trail,) = run_module("trail_info", {})["trails"]
    assert trail["trail_arn"] == f"arn:aws:cloudtrail:{REGION}:{ACCOUNT_ID}:trail/arn-trail"
