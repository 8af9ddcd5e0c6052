"""Advanced field values CloudTrail refuses (eventCategory, readOnly,
resources.type): the event_selectors module refuses them before any call,
naming the option and the allowed values, and leaves the trail as it was; the
values the reference lists reach CloudTrail and are read back."""

from __future__ import annotations

import pytest

from tests.integration.setup_helpers import make_log_bucket

TRAIL = "values-trail"


@pytest.fixture
def trail(aws):
    make_log_bucket(aws, "values-logs")
    aws.client("cloudtrail").create_trail(Name=TRAIL, S3BucketName="values-logs")
    return TRAIL


def selectors(*fields):
    return [{"name": "values", "field_selectors": list(fields)}]


@pytest.mark.parametrize(
    "fields, message",
    [
        (
            [{"field": "eventCategory", "equals": ["Bogus"]}],
            "advanced_event_selectors[0].field_selectors[0].equals: eventCategory of a trail's advanced selector is "
            "one of Management, Data, NetworkActivity, not 'Bogus'",
        ),
        (
            [{"field": "eventCategory", "equals": ["Management"]}, {"field": "readOnly", "equals": ["maybe"]}],
            "advanced_event_selectors[0].field_selectors[1].equals: readOnly of a trail's advanced selector is one of true, false, not 'maybe'",
        ),
        (
            [{"field": "eventCategory", "equals": ["Data"]}, {"field": "resources.type", "equals": ["AWS::Nope::Thing"]}],
            "advanced_event_selectors[0].field_selectors[1].equals: resources.type of a trail's advanced selector is one of the 175 "
            "data event resource types CloudTrail lists",
        ),
    ],
)
def test_refused_before_any_call(aws, run_module, trail, fields, message):
    before = aws.client("cloudtrail").get_event_selectors(TrailName=trail)
    aws.start_recording()
    result = run_module("event_selectors", {"trail_name": trail, "advanced_event_selectors": selectors(*fields)})
    calls = aws.stop_recording()
    assert result["failed"] and message in result["msg"], result.get("msg")
    assert calls == []
    after = aws.client("cloudtrail").get_event_selectors(TrailName=trail)
    assert after.get("EventSelectors") == before.get("EventSelectors") and "AdvancedEventSelectors" not in after


def test_listed_values_reach_cloudtrail(aws, run_module, trail):
    fields = [
        {"field": "eventCategory", "equals": ["Data"]},
        {"field": "resources.type", "equals": ["AWS::SNS::Topic"]},
        {"field": "readOnly", "equals": ["false"]},
    ]
    result = run_module("event_selectors", {"trail_name": trail, "advanced_event_selectors": selectors(*fields)})
    assert result.get("changed") and not result["failed"], result.get("msg")
    (stored,) = aws.client("cloudtrail").get_event_selectors(TrailName=trail)["AdvancedEventSelectors"]
    assert {f["Field"]: f["Equals"] for f in stored["FieldSelectors"]} == {
        "eventCategory": ["Data"],
        "resources.type": ["AWS::SNS::Topic"],
        "readOnly": ["false"],
    }
