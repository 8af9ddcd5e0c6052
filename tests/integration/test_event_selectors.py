"""The event_selectors module against the local AWS: what it writes is read back
with boto3, and the calls it makes are counted with the server's recorder."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from ansible_collections.trailops.cloudtrail.plugins.module_utils import event_selectors as es
from tests.integration.setup_helpers import make_log_bucket

MODULE = "event_selectors"
TRAIL = "selectors-trail"
OTHER_REGION = "us-west-2"

MANAGEMENT = {"name": "Management events", "field_selectors": [{"field": "eventCategory", "equals": ["Management"]}]}
S3_WRITES = {
    "name": "S3 writes",
    "field_selectors": [
        {"field": "eventCategory", "equals": ["Data"]},
        {"field": "resources.type", "equals": ["AWS::S3::Object"]},
        {"field": "readOnly", "equals": ["false"]},
        {"field": "resources.ARN", "starts_with": ["arn:aws:s3:::b-bucket/", "arn:aws:s3:::a-bucket/"]},
    ],
}
DATA = {"field": "eventCategory", "equals": ["Data"]}
S3_TYPE = {"field": "resources.type", "equals": ["AWS::S3::Object"]}
BASIC = [
    {
        "read_write_type": "All",
        "include_management_events": True,
        "exclude_management_event_sources": ["kms.amazonaws.com"],
        "data_resources": [
            {"type": "AWS::S3::Object", "values": ["arn:aws:s3:::b-bucket/", "arn:aws:s3:::a-bucket/"]},
            {"type": "AWS::Lambda::Function", "values": ["arn:aws:lambda"]},
        ],
    },
    {"read_write_type": "ReadOnly", "include_management_events": False, "data_resources": [{"type": "AWS::DynamoDB::Table", "values": ["arn:aws:dynamodb"]}]},
]


def reordered_basic():
    """BASIC with every list CloudTrail reads as a set in another order."""
    selectors = [dict(s) for s in reversed(BASIC)]
    for selector in selectors:
        selector["data_resources"] = [dict(r, values=list(reversed(r["values"]))) for r in reversed(selector["data_resources"])]
    return selectors


@pytest.fixture
def trail(aws):
    """A single-region trail in the default region; its ARN."""
    cloudtrail = aws.client("cloudtrail")
    make_log_bucket(aws, "selectors-logs")
    return cloudtrail.create_trail(Name=TRAIL, S3BucketName="selectors-logs")["TrailARN"]


@pytest.fixture
def multi_region_trail(aws):
    cloudtrail = aws.client("cloudtrail")
    make_log_bucket(aws, "selectors-logs")
    return cloudtrail.create_trail(Name=TRAIL, S3BucketName="selectors-logs", IsMultiRegionTrail=True)["TrailARN"]


def read_selection(aws, trail_arn, region="us-east-1"):
    return es.selection_from_api(aws.client("cloudtrail", region).get_event_selectors(TrailName=trail_arn))


def read_insights(aws, trail_arn, region="us-east-1"):
    try:
        answer = aws.client("cloudtrail", region).get_insight_selectors(TrailName=trail_arn)
    except ClientError as e:
        assert e.response["Error"]["Code"] == "InsightNotEnabledException"
        return []
    return es.insights_from_api(answer.get("InsightSelectors") or [])


def writes(calls):
    return [c for c in calls if c.is_write]


def cloudtrail_actions(calls):
    return [c.action for c in calls if c.service == "cloudtrail"]


def run_recorded(aws, run_module, params, **kwargs):
    aws.start_recording()
    result = run_module(MODULE, params, **kwargs)
    return result, aws.stop_recording()


# -- basic selectors: apply, no change, check mode, diff --------------------
def test_basic_selectors_apply_then_no_change(aws, run_module, trail):
    result = run_module(MODULE, {"trail_name": TRAIL, "event_selectors": BASIC})
    assert not result["failed"], result
    assert result["changed"] is True
    assert result["trail_arn"] == trail
    assert result["home_region"] == "us-east-1"
    expected = es.normalize_selection(BASIC, None)
    assert read_selection(aws, trail) == expected
    assert result["event_selectors"] == expected["event_selectors"]
    assert result["advanced_event_selectors"] == []

    again, calls = run_recorded(aws, run_module, {"trail_name": TRAIL, "event_selectors": reordered_basic()})
    assert not again["failed"], again
    assert again["changed"] is False
    assert writes(calls) == []
    assert cloudtrail_actions(calls) == ["GetEventSelectors"]
    assert len(calls) <= 2
    assert again["event_selectors"] == expected["event_selectors"]


def test_check_mode_writes_nothing_and_predicts(aws, run_module, trail):
    before = read_selection(aws, trail)
    params = {"trail_name": trail, "advanced_event_selectors": [MANAGEMENT, S3_WRITES], "insight_selectors": [{"insight_type": "ApiCallRateInsight"}]}

    predicted, calls = run_recorded(aws, run_module, params, check=True, diff=True)
    assert not predicted["failed"], predicted
    assert predicted["changed"] is True
    assert writes(calls) == []
    assert read_selection(aws, trail) == before
    assert read_insights(aws, trail) == []
    assert predicted["diff"]["before"] == dict(before, insight_selectors=[])
    assert predicted["diff"]["after"] == {
        "event_selectors": [],
        "advanced_event_selectors": predicted["advanced_event_selectors"],
        "insight_selectors": predicted["insight_selectors"],
    }

    applied = run_module(MODULE, params, diff=True)
    assert applied["changed"] is True
    assert applied["diff"] == predicted["diff"]
    real = {
        "event_selectors": [],
        "advanced_event_selectors": read_selection(aws, trail)["advanced_event_selectors"],
        "insight_selectors": read_insights(aws, trail),
    }
    assert predicted["diff"]["after"] == real
    for key in ("trail_arn", "home_region", "event_selectors", "advanced_event_selectors", "insight_selectors"):
        assert predicted[key] == applied[key]

    # check mode on a trail that already matches: no change, no write, empty diff
    unchanged, calls = run_recorded(aws, run_module, params, check=True, diff=True)
    assert unchanged["changed"] is False
    assert writes(calls) == []
    assert unchanged["diff"]["before"] == unchanged["diff"]["after"] == real


# -- switching kinds ---------------------------------------------------------
def test_switch_basic_advanced_basic(aws, run_module, trail):
    steps = [
        ({"event_selectors": BASIC}, es.normalize_selection(BASIC, None)),
        ({"advanced_event_selectors": [MANAGEMENT, S3_WRITES]}, es.normalize_selection(None, [MANAGEMENT, S3_WRITES])),
        ({"event_selectors": [{"read_write_type": "WriteOnly"}]}, es.normalize_selection([{"read_write_type": "WriteOnly"}], None)),
    ]
    for params, expected in steps:
        result = run_module(MODULE, dict(params, trail_name=TRAIL))
        assert not result["failed"], result
        assert result["changed"] is True
        assert read_selection(aws, trail) == expected
        answer = aws.client("cloudtrail").get_event_selectors(TrailName=trail)
        # exactly one kind is left, as asked
        assert bool(answer.get("EventSelectors")) != bool(answer.get("AdvancedEventSelectors"))


def test_omitted_event_selectors_are_left_alone(aws, run_module, trail):
    assert run_module(MODULE, {"trail_name": TRAIL, "event_selectors": BASIC})["changed"] is True
    result, calls = run_recorded(aws, run_module, {"trail_name": TRAIL, "insight_selectors": [{"insight_type": "ApiErrorRateInsight"}]})
    assert result["changed"] is True
    assert [c.action for c in writes(calls)] == ["PutInsightSelectors"]
    assert read_selection(aws, trail) == es.normalize_selection(BASIC, None)


# -- Insights -----------------------------------------------------------------
def test_insights_on_no_change_off_and_left_alone(aws, run_module, trail):
    both = [{"insight_type": "ApiErrorRateInsight"}, {"insight_type": "ApiCallRateInsight", "event_categories": ["Management"]}]
    on = run_module(MODULE, {"trail_name": TRAIL, "insight_selectors": both})
    assert not on["failed"], on
    assert on["changed"] is True
    assert read_insights(aws, trail) == es.normalize_insights(both)
    assert on["insight_selectors"] == es.normalize_insights(both)

    again, calls = run_recorded(aws, run_module, {"trail_name": TRAIL, "insight_selectors": list(reversed(both))})
    assert again["changed"] is False
    assert writes(calls) == []
    assert sorted(cloudtrail_actions(calls)) == ["GetEventSelectors", "GetInsightSelectors"]

    # omitted: Insights stay on while the selectors change
    changed = run_module(MODULE, {"trail_name": TRAIL, "preset": "management_write_events"})
    assert changed["changed"] is True
    assert "insight_selectors" not in changed
    assert read_insights(aws, trail) == es.normalize_insights(both)

    off, calls = run_recorded(aws, run_module, {"trail_name": TRAIL, "insight_selectors": []})
    assert off["changed"] is True
    assert off["insight_selectors"] == []
    assert [c.action for c in writes(calls)] == ["PutInsightSelectors"]
    assert read_insights(aws, trail) == []

    off_again, calls = run_recorded(aws, run_module, {"trail_name": TRAIL, "insight_selectors": []})
    assert off_again["changed"] is False
    assert writes(calls) == []


def test_insights_and_selectors_together(aws, run_module, trail):
    """Insights turned off while the selectors lose what they needed: Insights go first."""
    params = {"trail_name": TRAIL, "preset": "management_events", "insight_selectors": [{"insight_type": "ApiCallRateInsight"}]}
    assert run_module(MODULE, params)["changed"] is True
    result, calls = run_recorded(
        aws, run_module, {"trail_name": TRAIL, "event_selectors": [{"read_write_type": "ReadOnly"}], "insight_selectors": []}
    )
    assert not result["failed"], result
    assert [c.action for c in writes(calls)] == ["PutInsightSelectors", "PutEventSelectors"]
    assert read_insights(aws, trail) == []
    assert read_selection(aws, trail) == es.normalize_selection([{"read_write_type": "ReadOnly"}], None)


def test_insights_on_together_with_the_selectors_they_need(aws, run_module, trail):
    """Insights turned on with selectors that newly log what they need: the selectors go first."""
    assert run_module(MODULE, {"trail_name": TRAIL, "event_selectors": [{"read_write_type": "ReadOnly"}]})["changed"] is True
    params = {"trail_name": TRAIL, "preset": "management_write_events", "insight_selectors": [{"insight_type": "ApiCallRateInsight"}]}
    result, calls = run_recorded(aws, run_module, params)
    assert not result["failed"], result
    assert [c.action for c in writes(calls)] == ["PutEventSelectors", "PutInsightSelectors"]
    assert read_insights(aws, trail) == es.normalize_insights([{"insight_type": "ApiCallRateInsight"}])
    assert read_selection(aws, trail) == es.desired_selection({"preset": "management_write_events"})


# -- presets ------------------------------------------------------------------
@pytest.mark.parametrize("preset", sorted(es.PRESETS))
def test_presets(aws, run_module, trail, preset):
    result = run_module(MODULE, {"trail_name": TRAIL, "preset": preset})
    assert not result["failed"], result
    expected = es.desired_selection({"preset": preset})
    assert read_selection(aws, trail) == expected
    assert {k: result[k] for k in expected} == expected

    again, calls = run_recorded(aws, run_module, {"trail_name": TRAIL, "preset": preset})
    assert again["changed"] is False
    assert writes(calls) == []


# -- bad input: a message naming the parameter, and no write ------------------
def many_values(count):
    return [f"arn:aws:s3:::bucket-{n}/" for n in range(count)]


BAD_INPUT = [
    ("both kinds", {"event_selectors": [{}], "advanced_event_selectors": [MANAGEMENT]}, "event_selectors"),
    ("preset and selectors", {"preset": "cis_benchmark", "event_selectors": [{}]}, "preset"),
    ("six basic selectors", {"event_selectors": [{}] * 6}, "event_selectors: a trail has at most 5"),
    (
        "251 data resources",
        {"event_selectors": [{"data_resources": [{"type": "AWS::S3::Object", "values": many_values(251)}]}]},
        "at most 250 data resource values",
    ),
    (
        "501 condition values",
        {
            "advanced_event_selectors": [
                {"field_selectors": [{"field": "eventCategory", "equals": ["Data"]}, S3_TYPE, {"field": "resources.ARN", "starts_with": many_values(499)}]}
            ]
        },
        "advanced_event_selectors: a trail has at most 500",
    ),
    (
        "unknown field",
        {"advanced_event_selectors": [{"field_selectors": [DATA, S3_TYPE, {"field": "bucketName", "equals": ["b"]}]}]},
        "advanced_event_selectors[0].field_selectors[2].field",
    ),
    (
        "unknown resource type",
        {"event_selectors": [{"data_resources": [{"type": "AWS::S3::Bucket", "values": ["arn:aws:s3"]}]}]},
        "event_selectors[0].data_resources[0].type",
    ),
    (
        "call-rate Insights without write management events",
        {"event_selectors": [{"read_write_type": "ReadOnly"}], "insight_selectors": [{"insight_type": "ApiCallRateInsight"}]},
        "insight_selectors: ApiCallRateInsight needs write management events",
    ),
    (
        "error-rate Insights without management events",
        {"advanced_event_selectors": [S3_WRITES], "insight_selectors": [{"insight_type": "ApiErrorRateInsight"}]},
        "insight_selectors: ApiErrorRateInsight needs read or write",
    ),
    (
        "data events without a resource type",
        {"advanced_event_selectors": [{"field_selectors": [{"field": "eventCategory", "equals": ["Data"]}]}]},
        "advanced_event_selectors[0].field_selectors: CloudTrail requires a field selector on resources.type",
    ),
    ("bad trail name", {"trail_name": "my..trail", "event_selectors": [{}]}, "trail_name: "),
    ("missing trail", {"trail_name": "no-such-trail", "event_selectors": [{}]}, "trail_name: no trail 'no-such-trail'"),
    (
        "missing trail by ARN",
        {"trail_name": "arn:aws:cloudtrail:us-east-1:123456789012:trail/no-such-trail", "event_selectors": [{}]},
        "trail_name: no trail",
    ),
]


@pytest.mark.parametrize("params, fragment", [case[1:] for case in BAD_INPUT], ids=[case[0] for case in BAD_INPUT])
def test_bad_input_fails_without_writing(aws, run_module, trail, params, fragment):
    before = read_selection(aws, trail)
    result, calls = run_recorded(aws, run_module, dict({"trail_name": TRAIL}, **params))
    assert result["failed"] is True
    assert fragment in result["msg"], result["msg"]
    assert writes(calls) == []
    assert read_selection(aws, trail) == before


def test_bad_input_is_caught_before_any_call(aws, run_module, trail):
    result, calls = run_recorded(aws, run_module, {"trail_name": TRAIL, "event_selectors": [{}] * 6})
    assert result["failed"] is True
    assert calls == []


def test_insights_prerequisite_against_current_selectors(aws, run_module, trail):
    assert run_module(MODULE, {"trail_name": TRAIL, "event_selectors": [{"read_write_type": "ReadOnly"}]})["changed"] is True
    result, calls = run_recorded(aws, run_module, {"trail_name": TRAIL, "insight_selectors": [{"insight_type": "ApiCallRateInsight"}]})
    assert result["failed"] is True
    assert "insight_selectors: ApiCallRateInsight needs write management events" in result["msg"]
    assert "the trail's current event selectors" in result["msg"]
    assert writes(calls) == []
    assert read_insights(aws, trail) == []


# -- home region --------------------------------------------------------------
@pytest.mark.parametrize("by", ["name", "arn"])
def test_multi_region_trail_from_another_region(aws, run_module, multi_region_trail, by):
    name = TRAIL if by == "name" else multi_region_trail
    params = {"trail_name": name, "preset": "all_s3_data_events", "insight_selectors": [{"insight_type": "ApiCallRateInsight"}]}
    result, calls = run_recorded(aws, run_module, params, region=OTHER_REGION)
    assert not result["failed"], result
    assert result["changed"] is True
    assert result["trail_arn"] == multi_region_trail
    assert result["home_region"] == "us-east-1"
    assert {c.region for c in writes(calls)} == {"us-east-1"}
    assert read_selection(aws, multi_region_trail) == es.desired_selection({"preset": "all_s3_data_events"})
    assert read_insights(aws, multi_region_trail) == es.normalize_insights([{"insight_type": "ApiCallRateInsight"}])

    again, calls = run_recorded(aws, run_module, params, region=OTHER_REGION)
    assert again["changed"] is False
    assert writes(calls) == []
    if by == "arn":
        # the ARN names the home region: every call goes there, none to look the trail up
        assert sorted(cloudtrail_actions(calls)) == ["GetEventSelectors", "GetInsightSelectors"]
        assert {c.region for c in calls} == {"us-east-1"}


# -- through ansible-playbook ---------------------------------------------------
PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/trailops.cloudtrail.aws:
      region: us-east-1
  tasks:
    - name: What the CIS benchmark asks for, with call-rate Insights (check mode)
      trailops.cloudtrail.event_selectors: &cis
        trail_name: selectors-trail
        preset: cis_benchmark
        insight_selectors:
          - insight_type: ApiCallRateInsight
      check_mode: true
      register: predicted
    - name: The same, for real
      trailops.cloudtrail.event_selectors: *cis
      register: applied
    - name: The same again changes nothing
      trailops.cloudtrail.event_selectors: *cis
      register: again
    - ansible.builtin.assert:
        that:
          - predicted is changed
          - applied is changed
          - again is not changed
          - predicted.event_selectors == applied.event_selectors == again.event_selectors
          - predicted.insight_selectors == again.insight_selectors
"""


def test_playbook_with_the_action_group(aws, run_playbook, trail, tmp_path):
    playbook = tmp_path / "event_selectors.yml"
    playbook.write_text(PLAYBOOK)
    # The action group's defaults, not the environment, give the region.
    result = run_playbook(str(playbook), env={"AWS_REGION": "", "AWS_DEFAULT_REGION": ""})
    assert result.returncode == 0, result.stdout + result.stderr
    assert read_selection(aws, trail) == es.desired_selection({"preset": "cis_benchmark"})
    assert read_insights(aws, trail) == es.normalize_insights([{"insight_type": "ApiCallRateInsight"}])
