"""Case tables for the pure part of the event_selectors module: normalization,
the wire format both ways, CloudTrail's limits, the Insights prerequisites and
the plan."""

from __future__ import annotations

import pytest

from ansible_collections.trailops.cloudtrail.plugins.module_utils import event_selectors as es

MGMT = {"name": "Management events", "field_selectors": [{"field": "eventCategory", "equals": ["Management"]}]}


def basic(**kwargs):
    return es.normalize_selection([kwargs], None)


def advanced(*selectors):
    return es.normalize_selection(None, list(selectors))


def field(name, **operators):
    return dict({"field": name}, **operators)


def s3_data(operator, count):
    """An advanced selector for S3 object data events with ``count`` ARN prefixes under ``operator``."""
    return {
        "field_selectors": [
            field("eventCategory", equals=["Data"]),
            field("resources.type", equals=["AWS::S3::Object"]),
            field("resources.ARN", **{operator: s3_values(count)}),
        ]
    }


def s3_values(count):
    return [f"arn:aws:s3:::bucket-{n}/" for n in range(count)]


# -- trail names ------------------------------------------------------------
@pytest.mark.parametrize(
    "trail_name, fragment",
    [
        ("my-trail", None),
        ("a.b_c-d", None),
        ("arn:aws:cloudtrail:eu-west-1:123456789012:trail/my-trail", None),
        ("arn:aws-us-gov:cloudtrail:us-gov-west-1:123456789012:trail/t1.x", None),
        ("ab", "3 to 128"),
        ("x" * 129, "3 to 128"),
        ("my-_trail", "not a valid trail name"),
        ("my..trail", "not a valid trail name"),
        ("-trail", "not a valid trail name"),
        ("trail-", "not a valid trail name"),
        ("192.168.5.4", "IP address"),
        ("my trail", "not a valid trail name"),
        ("arn:aws:s3:::bucket", "not a trail ARN"),
        ("arn:aws:cloudtrail:eu-west-1:123456789012:eventdatastore/x", "not a trail ARN"),
        ("arn:aws:cloudtrail:eu-west-1:123456789012:trail/a", "not a trail ARN"),
    ],
)
def test_trail_name_problem(trail_name, fragment):
    problem = es.trail_name_problem(trail_name)
    if fragment is None:
        assert problem is None
    else:
        assert problem.startswith("trail_name: ") and fragment in problem


@pytest.mark.parametrize(
    "value, region",
    [
        ("arn:aws:cloudtrail:eu-west-1:123456789012:trail/t", "eu-west-1"),
        ("arn:aws-cn:cloudtrail:cn-north-1:123456789012:trail/t", "cn-north-1"),
        ("my-trail", None),
    ],
)
def test_trail_home_region(value, region):
    assert es.trail_home_region(value) == region


# -- normalization: order never matters, defaults filled in -----------------
@pytest.mark.parametrize(
    "left, right",
    [
        # CloudTrail's defaults
        (basic(), basic(read_write_type="All", include_management_events=True, exclude_management_event_sources=[], data_resources=[])),
        # value order and duplicates
        (
            basic(data_resources=[{"type": "AWS::S3::Object", "values": ["arn:aws:s3:::b/", "arn:aws:s3:::a/"]}]),
            basic(data_resources=[{"type": "AWS::S3::Object", "values": ["arn:aws:s3:::a/", "arn:aws:s3:::b/", "arn:aws:s3:::a/"]}]),
        ),
        # data resource order
        (
            basic(data_resources=[{"type": "AWS::S3::Object", "values": ["x"]}, {"type": "AWS::Lambda::Function", "values": ["y"]}]),
            basic(data_resources=[{"type": "AWS::Lambda::Function", "values": ["y"]}, {"type": "AWS::S3::Object", "values": ["x"]}]),
        ),
        (
            basic(exclude_management_event_sources=["rdsdata.amazonaws.com", "kms.amazonaws.com"]),
            basic(exclude_management_event_sources=["kms.amazonaws.com", "rdsdata.amazonaws.com"]),
        ),
        # selector order
        (
            es.normalize_selection([{"read_write_type": "ReadOnly"}, {"read_write_type": "WriteOnly"}], None),
            es.normalize_selection([{"read_write_type": "WriteOnly"}, {"read_write_type": "ReadOnly"}], None),
        ),
        # advanced: selector order, field order, value order, empty operators, missing name
        (
            advanced(MGMT, {"field_selectors": [field("eventCategory", equals=["Data"]), field("eventName", starts_with=["Put", "Get"])]}),
            advanced(
                {"name": "", "field_selectors": [field("eventName", starts_with=["Get", "Put"], ends_with=[]), field("eventCategory", equals=["Data"])]},
                MGMT,
            ),
        ),
    ],
)
def test_equal_after_normalization(left, right):
    assert left == right


@pytest.mark.parametrize(
    "left, right",
    [
        (basic(), basic(read_write_type="WriteOnly")),
        (basic(), basic(include_management_events=False)),
        (basic(), basic(exclude_management_event_sources=["kms.amazonaws.com"])),
        (basic(), advanced(MGMT)),
        (advanced(MGMT), advanced(dict(MGMT, name="other"))),
        (advanced({"field_selectors": [field("eventName", equals=["a"])]}), advanced({"field_selectors": [field("eventName", not_equals=["a"])]})),
    ],
)
def test_different_after_normalization(left, right):
    assert left != right


@pytest.mark.parametrize(
    "given, normalized",
    [
        ({"insight_type": "ApiCallRateInsight"}, {"insight_type": "ApiCallRateInsight", "event_categories": ["Management"]}),
        (
            {"insight_type": "ApiErrorRateInsight", "event_categories": ["Management", "Data"]},
            {"insight_type": "ApiErrorRateInsight", "event_categories": ["Data", "Management"]},
        ),
        ({"insight_type": "ApiCallRateInsight", "event_categories": []}, {"insight_type": "ApiCallRateInsight", "event_categories": ["Management"]}),
    ],
)
def test_normalize_insight_selector(given, normalized):
    assert es.normalize_insight_selector(given) == normalized


# -- wire format both ways --------------------------------------------------
@pytest.mark.parametrize(
    "selection",
    [
        basic(),
        basic(
            read_write_type="ReadOnly",
            include_management_events=False,
            exclude_management_event_sources=["kms.amazonaws.com"],
            data_resources=[{"type": "AWS::DynamoDB::Table", "values": ["arn:aws:dynamodb:us-east-1:123456789012:table/t"]}],
        ),
        advanced(
            MGMT,
            {"name": "", "field_selectors": [field("eventCategory", equals=["Data"]), field("resources.ARN", starts_with=["a"], not_ends_with=["b"])]},
        ),
    ]
    + [es.desired_selection({"preset": name}) for name in sorted(es.PRESETS)],
)
def test_round_trip_through_the_wire_format(selection):
    api = es.selection_to_api(selection)
    assert len(api) == 1, "PutEventSelectors takes exactly one kind of selector"
    assert es.selection_from_api(api) == selection


def test_wire_format_leaves_out_empty_name_and_operators():
    api = es.selection_to_api(advanced({"field_selectors": [field("eventCategory", equals=["Management"], not_equals=[])]}))
    assert api == {"AdvancedEventSelectors": [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}]}


@pytest.mark.parametrize(
    "insights, api",
    [
        ([], []),
        ([{"insight_type": "ApiCallRateInsight"}], [{"InsightType": "ApiCallRateInsight"}]),
        (
            [{"insight_type": "ApiErrorRateInsight", "event_categories": ["Data"]}],
            [{"InsightType": "ApiErrorRateInsight", "EventCategories": ["Data"]}],
        ),
    ],
)
def test_insights_wire_format(insights, api):
    normalized = es.normalize_insights(insights)
    assert es.insights_to_api(normalized) == api
    assert es.insights_from_api(api) == normalized


def test_selection_from_api_with_nothing():
    assert es.selection_from_api({"TrailARN": "arn"}) == {"event_selectors": [], "advanced_event_selectors": []}


# -- what the user asks for -------------------------------------------------
@pytest.mark.parametrize(
    "params, expected",
    [
        ({"preset": None, "event_selectors": None, "advanced_event_selectors": None}, None),
        ({"preset": None, "event_selectors": [{}], "advanced_event_selectors": None}, basic()),
        ({"preset": "management_events", "event_selectors": None, "advanced_event_selectors": None}, basic()),
        ({"preset": None, "event_selectors": None, "advanced_event_selectors": [MGMT]}, advanced(MGMT)),
    ],
)
def test_desired_selection(params, expected):
    assert es.desired_selection(params) == expected


@pytest.mark.parametrize("preset", sorted(es.PRESETS))
def test_presets_are_valid_and_keep_management_events(preset):
    data = es.PRESETS[preset]
    assert len(data) == 1
    assert es.parameter_problems(dict(data, trail_name="my-trail")) == []
    assert "write" in es.logged_management_events(es.desired_selection({"preset": preset}))


def test_preset_data_is_not_mutated():
    selection = es.desired_selection({"preset": "cis_benchmark"})
    selection["event_selectors"][0]["data_resources"].clear()
    assert es.desired_selection({"preset": "cis_benchmark"})["event_selectors"][0]["data_resources"]


# -- CloudTrail's limits ----------------------------------------------------
def problems_of(**params):
    return es.parameter_problems(dict({"trail_name": "my-trail"}, **params))


@pytest.mark.parametrize(
    "params, fragment",
    [
        ({"event_selectors": []}, "event_selectors: give at least one"),
        ({"event_selectors": [{}] * 6}, "at most 5 basic event selectors, 6 given"),
        (
            {"event_selectors": [{"data_resources": [{"type": "AWS::S3::Object", "values": s3_values(126)}]}] * 2},
            "at most 250 data resource values in all, 252 given",
        ),
        ({"event_selectors": [{"data_resources": [{"type": "AWS::EC2::Snapshot", "values": ["x"]}]}]}, "event_selectors[0].data_resources[0].type"),
        ({"event_selectors": [{"data_resources": [{"type": "AWS::S3::Object", "values": []}]}]}, "data_resources[0].values: give at least one"),
        ({"event_selectors": [{"exclude_management_event_sources": ["s3.amazonaws.com"]}]}, "exclude_management_event_sources: CloudTrail can exclude only"),
        ({"advanced_event_selectors": []}, "advanced_event_selectors: give at least one"),
        (
            {"advanced_event_selectors": [{"field_selectors": [field("eventCategory", equals=["Data"]), field("eventname", equals=["x"])]}]},
            "'eventname' is not a field",
        ),
        ({"advanced_event_selectors": [{"field_selectors": [field("eventName", equals=["x"])]}]}, "requires an eventCategory field selector"),
        ({"advanced_event_selectors": [{"field_selectors": [field("eventCategory")]}]}, "field_selectors[0]: give at least one operator"),
        ({"advanced_event_selectors": [{"field_selectors": [field("eventCategory", equals=["Data"])]}]}, "requires a field selector on resources.type"),
        ({"advanced_event_selectors": [{"field_selectors": [field("eventCategory", equals=["NetworkActivity"])]}]}, "requires a field selector on eventSource"),
        ({"advanced_event_selectors": [{"field_selectors": [field("eventCategory", equals=["Insight"])]}]}, "not 'Insight'"),
        ({"advanced_event_selectors": [{"field_selectors": [field("eventCategory", not_equals=["Data"])]}]}, "only the equals operator on eventCategory"),
        ({"advanced_event_selectors": [{"field_selectors": [field("eventCategory", equals=["Data"]), field("readOnly", starts_with=["t"])]}]}, "on readOnly"),
        (
            {
                "advanced_event_selectors": [
                    {"field_selectors": [field("eventCategory", equals=["Data"]), field("eventName", equals=["a"]), field("eventName", equals=["b"])]}
                ]
            },
            "field 'eventName' appears more than once",
        ),
        ({"advanced_event_selectors": [{"field_selectors": [field("eventCategory", equals=[""])]}]}, "1 to 2048 characters"),
        ({"advanced_event_selectors": [{"name": "n" * 1001, "field_selectors": [field("eventCategory", equals=["Data"])]}]}, ".name: at most 1000"),
        (
            {
                "advanced_event_selectors": [
                    s3_data("starts_with", 249),
                    s3_data("not_starts_with", 248),
                ]
            },
            "at most 500 condition values in all its advanced selectors, 501 given",
        ),
        ({"insight_selectors": [{"insight_type": "ApiCallRateInsight"}, {"insight_type": "ApiCallRateInsight"}]}, "ApiCallRateInsight appears more than once"),
        ({"trail_name": "x"}, "trail_name: "),
    ],
)
def test_parameter_problems(params, fragment):
    problems = problems_of(**params)
    assert any(fragment in problem for problem in problems), problems


@pytest.mark.parametrize(
    "params",
    [
        {"event_selectors": [{}] * 5},
        {"event_selectors": [{"data_resources": [{"type": "AWS::S3::Object", "values": s3_values(125)}]}] * 2},
        {
            "advanced_event_selectors": [
                s3_data("starts_with", 248),
                s3_data("not_starts_with", 248),
            ]
        },
        {"insight_selectors": []},
        {"insight_selectors": [{"insight_type": "ApiCallRateInsight"}, {"insight_type": "ApiErrorRateInsight", "event_categories": ["Data"]}]},
    ],
)
def test_at_the_limits_is_fine(params):
    assert problems_of(**params) == []


# -- Insights prerequisites -------------------------------------------------
@pytest.mark.parametrize(
    "selection, logged",
    [
        (basic(), {"read", "write"}),
        (basic(read_write_type="ReadOnly"), {"read"}),
        (basic(read_write_type="WriteOnly"), {"write"}),
        (basic(include_management_events=False), set()),
        (es.normalize_selection([{"read_write_type": "ReadOnly"}, {"read_write_type": "WriteOnly"}], None), {"read", "write"}),
        (advanced(MGMT), {"read", "write"}),
        (advanced({"field_selectors": [field("eventCategory", equals=["Management"]), field("readOnly", equals=["true"])]}), {"read"}),
        (advanced({"field_selectors": [field("eventCategory", equals=["Management"]), field("readOnly", equals=["false"])]}), {"write"}),
        (advanced({"field_selectors": [field("eventCategory", equals=["Data"]), field("resources.type", equals=["AWS::S3::Object"])]}), set()),
        # a trail nobody has put selectors on logs CloudTrail's default
        ({"event_selectors": [], "advanced_event_selectors": []}, {"read", "write"}),
    ],
)
def test_logged_management_events(selection, logged):
    assert es.logged_management_events(selection) == logged


@pytest.mark.parametrize(
    "insights, selection, fragment",
    [
        ([{"insight_type": "ApiCallRateInsight"}], basic(), None),
        ([{"insight_type": "ApiErrorRateInsight"}], basic(read_write_type="ReadOnly"), None),
        ([{"insight_type": "ApiCallRateInsight"}], basic(read_write_type="ReadOnly"), "ApiCallRateInsight needs write management events"),
        ([{"insight_type": "ApiErrorRateInsight"}], basic(include_management_events=False), "ApiErrorRateInsight needs read or write"),
        (
            [{"insight_type": "ApiCallRateInsight"}],
            advanced({"field_selectors": [field("eventCategory", equals=["Management"]), field("readOnly", equals=["true"])]}),
            "ApiCallRateInsight needs write management events",
        ),
        ([{"insight_type": "ApiCallRateInsight", "event_categories": ["Data"]}], basic(), "on Data events needs data events logged"),
        ([{"insight_type": "ApiCallRateInsight", "event_categories": ["Data"]}], es.desired_selection({"preset": "all_s3_data_events"}), None),
        ([{"insight_type": "ApiErrorRateInsight", "event_categories": ["Data"]}], es.desired_selection({"preset": "cis_benchmark"}), None),
        ([], basic(include_management_events=False), None),
    ],
)
def test_insight_prerequisite_problems(insights, selection, fragment):
    problems = es.insight_prerequisite_problems(es.normalize_insights(insights), selection, "the given event selectors")
    if fragment is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problems[0].startswith("insight_selectors: ") and fragment in problems[0]
        assert "the given event selectors" in problems[0]


# -- the plan ---------------------------------------------------------------
CALL = es.normalize_insights([{"insight_type": "ApiCallRateInsight"}])


@pytest.mark.parametrize(
    "current, desired, current_insights, desired_insights, writes, first",
    [
        (basic(), None, None, None, (False, False), False),
        (basic(), basic(), None, None, (False, False), False),
        (basic(), basic(read_write_type="WriteOnly"), None, None, (True, False), False),
        (basic(), advanced(MGMT), None, None, (True, False), False),
        (basic(), None, [], CALL, (False, True), False),
        (basic(), None, CALL, CALL, (False, False), False),
        (basic(), basic(read_write_type="ReadOnly"), CALL, [], (True, True), True),
        (basic(read_write_type="ReadOnly"), basic(), [], CALL, (True, True), False),
    ],
)
def test_plan(current, desired, current_insights, desired_insights, writes, first):
    steps = es.plan(current, desired, current_insights, desired_insights)
    assert (steps["put_event_selectors"], steps["put_insight_selectors"]) == writes
    assert steps["changed"] == any(writes)
    assert steps["put_insights_first"] == first
    assert steps["after"]["event_selectors"] == (desired or current)["event_selectors"]
    assert ("insight_selectors" in steps["after"]) == (desired_insights is not None)
    assert ("insight_selectors" in steps["before"]) == (desired_insights is not None)
    if desired_insights is not None:
        assert steps["after"]["insight_selectors"] == desired_insights
        assert steps["before"]["insight_selectors"] == (current_insights or [])
    assert (steps["before"] == steps["after"]) == (not steps["changed"])


# -- finding the trail ------------------------------------------------------
HOME_ARN = "arn:aws:cloudtrail:us-east-1:123456789012:trail/t1"


class FakeCloudTrail:
    """Answers GetEventSelectors for the names and ARNs it knows, TrailNotFoundException otherwise."""

    def __init__(self, known, trails=()):
        self.known = known
        self.trails = list(trails)
        self.calls = []

    def get_event_selectors(self, aws_retry, TrailName):
        from botocore.exceptions import ClientError

        self.calls.append(("GetEventSelectors", TrailName))
        if TrailName not in self.known:
            raise ClientError({"Error": {"Code": "TrailNotFoundException", "Message": "Unknown trail"}}, "GetEventSelectors")
        return {"TrailARN": HOME_ARN, "EventSelectors": [{"ReadWriteType": "All"}], "ResponseMetadata": {}}

    def describe_trails(self, aws_retry, **params):
        self.calls.append(("DescribeTrails", params.get("trailNameList")))
        return {"trailList": self.trails}


@pytest.mark.parametrize(
    "known, trails, found, calls",
    [
        # by name, answered with the ARN: one call
        ({"t1"}, [], True, [("GetEventSelectors", "t1")]),
        # a shadow trail that does not answer to its name: found among the region's trails, read by ARN
        (
            {HOME_ARN},
            [{"Name": "t1", "TrailARN": HOME_ARN}],
            True,
            [("GetEventSelectors", "t1"), ("DescribeTrails", None), ("GetEventSelectors", HOME_ARN)],
        ),
        ({HOME_ARN}, [{"Name": "other", "TrailARN": "arn:aws:cloudtrail:us-east-1:123456789012:trail/other"}], False, None),
        (set(), [], False, None),
    ],
)
def test_find_trail_by_name(known, trails, found, calls):
    client = FakeCloudTrail(known, trails)
    result = es.find_trail(client, "t1")
    if not found:
        assert result is None
        return
    arn, response = result
    assert arn == HOME_ARN
    assert "ResponseMetadata" not in response
    assert es.selection_from_api(response) == basic()
    assert client.calls == calls


def test_find_trail_by_arn_never_lists_trails():
    client = FakeCloudTrail(set(), [{"Name": "t1", "TrailARN": HOME_ARN}])
    assert es.find_trail(client, HOME_ARN) is None
    assert client.calls == [("GetEventSelectors", HOME_ARN)]


def test_put_errors_become_cloudtrail_errors():
    from botocore.exceptions import ClientError
    from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import AnsibleCloudTrailError

    class Refusing:
        def put_event_selectors(self, **kwargs):
            raise ClientError({"Error": {"Code": "InvalidHomeRegionException", "Message": "home region"}}, "PutEventSelectors")

        def put_insight_selectors(self, **kwargs):
            raise ClientError({"Error": {"Code": "InvalidInsightSelectorsException", "Message": "no"}}, "PutInsightSelectors")

    with pytest.raises(AnsibleCloudTrailError, match="put event selectors"):
        es.put_event_selectors(Refusing(), HOME_ARN, basic())
    with pytest.raises(AnsibleCloudTrailError, match="put insight selectors"):
        es.put_insight_selectors(Refusing(), HOME_ARN, CALL)
