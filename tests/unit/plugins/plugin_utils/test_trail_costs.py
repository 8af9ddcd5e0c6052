"""Case tables for the cost view (plugin_utils/trail_costs.py): which copy of
management events is free and which are billed, how multi-region,
organization, read-only/write-only and stopped trails count, the estimates,
data events flagged but never guessed, Insights, and the event rates from an
event history sample."""

from __future__ import annotations

import datetime
import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.trailops.cloudtrail.plugins.filter import trail_costs as costs_filter
from ansible_collections.trailops.cloudtrail.plugins.plugin_utils import trail_costs as tc

MEMBER = "210987654321"
MANAGEMENT = "111111111111"
ALL = [{"read_write_type": "All", "include_management_events": True, "exclude_management_event_sources": [], "data_resources": []}]


def selectors(read_write_type="All", data=False):
    resources = [{"type": "AWS::S3::Object", "values": ["arn:aws:s3:::bucket/"]}] if data else []
    return [{"read_write_type": read_write_type, "include_management_events": True, "exclude_management_event_sources": [], "data_resources": resources}]


def trail(name, region="us-east-1", account=MEMBER, multi=True, org=False, logging=True, event_selectors=None, advanced=None, insights=None):
    """A trail as trail_info returns it (the fields the cost view reads)."""
    return {
        "name": name,
        "trail_arn": f"arn:aws:cloudtrail:{region}:{account}:trail/{name}",
        "home_region": region,
        "is_multi_region_trail": multi,
        "is_organization_trail": org,
        "is_logging": logging,
        "event_selectors": ALL if event_selectors is None and advanced is None else (event_selectors or []),
        "advanced_event_selectors": advanced or [],
        "insight_selectors": insights or [],
    }


ORG = trail("org-trail", account=MANAGEMENT, org=True)
OWN = trail("management-events")


def arn(t):
    return t["trail_arn"]


def items(view, t, kind):
    return [item for item in view["trails"][arn(t)]["items"] if item["kind"] == kind]


def test_the_price_table_is_data_with_its_date():
    prices = tc.load_prices()
    assert prices["prices"] == {"management_events_additional_copy": 2.0, "data_events": 0.1, "insights_events_analyzed": 0.35}
    assert prices["per_events"] == 100000 and prices["currency"] == "USD"
    datetime.date.fromisoformat(prices["checked"])
    assert prices["source"] == "https://aws.amazon.com/cloudtrail/pricing/"
    view = tc.trail_costs([OWN])
    assert view["price_date"] == prices["checked"] and view["currency"] == "USD"


def test_one_trail_is_the_free_copy():
    view = tc.trail_costs([OWN], {"us-east-1": 100})
    assert view["duplicates"] == []
    assert view["regions"]["us-east-1"] == {"management_copies": 1, "trails": [arn(OWN)], "duplicate": False, "events_per_hour": 100.0}
    assert view["trails"][arn(OWN)]["monthly_estimate"] == 0.0
    [item] = items(view, OWN, "management_copy")
    assert item["billed"] is False and item["usd"] == 0.0 and item["events_per_month"] == 73000
    assert "free" in item["note"]


def test_an_organization_trail_beside_the_members_own_trail_makes_the_own_trail_the_billed_duplicate():
    # Listed own trail first: the order of trail_info's list must not decide.
    view = tc.trail_costs([OWN, ORG], {"us-east-1": 400})
    [duplicate] = view["duplicates"]
    assert duplicate == {
        "region": "us-east-1",
        "trails": [arn(ORG), arn(OWN)],
        "billed_extra_copies": 1,
        "free_copies": [arn(ORG)],
        "billed_trails": [arn(OWN)],
        "organization_trail": True,
    }
    [own] = items(view, OWN, "management_copy")
    # 400 an hour x 730 hours = 292,000 events, at USD 2.00 per 100,000.
    assert own == {
        "kind": "management_copy",
        "billed": True,
        "events_per_month": 292000,
        "usd": 5.84,
        "note": f"an additional copy of management events in us-east-1 (the free copy: {arn(ORG)})",
        "complete": True,
    }
    assert view["trails"][arn(OWN)]["monthly_estimate"] == 5.84
    assert view["trails"][arn(ORG)]["monthly_estimate"] == 0.0 and view["trails"][arn(ORG)]["is_organization_trail"] is True


def test_a_multi_region_trail_counts_in_every_region_and_the_single_region_trail_beside_it_is_billed():
    single = trail("eu-only", region="eu-west-1", multi=False)
    view = tc.trail_costs([single, OWN], {"us-east-1": 10, "eu-west-1": 20})
    assert view["regions"]["us-east-1"]["duplicate"] is False
    assert view["regions"]["eu-west-1"]["trails"] == [arn(OWN), arn(single)]
    assert [d["region"] for d in view["duplicates"]] == ["eu-west-1"]
    assert view["trails"][arn(single)]["monthly_estimate"] == round(20 * 730 / 100000 * 2, 2)
    assert view["trails"][arn(OWN)]["monthly_estimate"] == 0.0


def test_two_single_region_trails_in_different_regions_are_both_free():
    east, west = trail("east", multi=False), trail("west", region="us-west-2", multi=False)
    view = tc.trail_costs([east, west], {"us-east-1": 10, "us-west-2": 10})
    assert view["duplicates"] == [] and all(view["trails"][arn(t)]["monthly_estimate"] == 0.0 for t in (east, west))


def test_a_trail_listed_in_every_region_read_counts_once():
    view = tc.trail_costs([OWN, dict(OWN), ORG, dict(ORG)], {"us-east-1": 10})
    assert len(view["trails"]) == 2 and view["regions"]["us-east-1"]["management_copies"] == 2


@pytest.mark.parametrize(
    "own_type, rate, billed, events",
    [
        # The organization trail records all; the member's write-only trail copies the write events.
        ("WriteOnly", {"read": 90, "write": 10}, True, 7300),
        ("ReadOnly", {"read": 90, "write": 10}, True, 65700),
        # Without the split, a read-only or write-only copy cannot be estimated.
        ("WriteOnly", 100, True, None),
        ("All", 100, True, 73000),
    ],
)
def test_read_only_and_write_only_copies_count_the_events_they_copy(own_type, rate, billed, events):
    own = trail("management-events", event_selectors=selectors(own_type))
    view = tc.trail_costs([ORG, own], {"us-east-1": rate})
    [item] = items(view, own, "management_copy")
    assert item["billed"] is billed and item["events_per_month"] == events
    assert item["usd"] == (None if events is None else round(events / 100000 * 2, 2))
    if own_type != "All":
        assert f"copy of {own_type[:-4].lower()} management events" in item["note"]


def test_a_read_only_trail_beside_a_write_only_one_is_no_duplicate():
    reads = trail("reads", event_selectors=selectors("ReadOnly"))
    writes = trail("writes", event_selectors=selectors("WriteOnly"))
    view = tc.trail_costs([reads, writes], {"us-east-1": {"read": 5, "write": 5}})
    assert view["duplicates"] == [] and view["regions"]["us-east-1"]["management_copies"] == 2
    assert all(view["trails"][arn(t)]["monthly_estimate"] == 0.0 for t in (reads, writes))


def test_advanced_selectors_on_write_management_events_count_as_write_only():
    advanced = [{"name": "writes", "field_selectors": [{"field": "eventCategory", "equals": ["Management"]}, {"field": "readOnly", "equals": ["false"]}]}]
    own = trail("management-events", advanced=advanced)
    view = tc.trail_costs([ORG, own], {"us-east-1": {"read": 30, "write": 10}})
    assert items(view, own, "management_copy")[0]["events_per_month"] == 7300


def test_a_stopped_trail_delivers_nothing_and_is_no_copy():
    stopped = trail("stopped", logging=False)
    view = tc.trail_costs([OWN, stopped], {"us-east-1": 10})
    assert view["duplicates"] == [] and view["regions"]["us-east-1"]["trails"] == [arn(OWN)]
    assert items(view, stopped, "management_copy")[0]["note"] == "not logging: delivers nothing"


def test_unknown_event_counts_flag_the_duplicate_without_an_estimate():
    view = tc.trail_costs([OWN, ORG])
    assert view["duplicates"][0]["billed_trails"] == [arn(OWN)]
    assert view["regions"]["us-east-1"]["events_per_hour"] is None
    [item] = items(view, OWN, "management_copy")
    assert item["billed"] is True and item["usd"] is None and "no event count for us-east-1" in item["note"]
    assert view["trails"][arn(OWN)]["monthly_estimate"] is None


def test_a_multi_region_copy_counted_in_a_region_without_events_is_a_partial_estimate():
    # The organization trail's home is eu-west-1 (seen there by trail_info); events were read in us-east-1 only.
    org = trail("org-trail", region="eu-west-1", account=MANAGEMENT, org=True)
    view = tc.trail_costs([OWN, org], {"us-east-1": 100})
    assert [d["region"] for d in view["duplicates"]] == ["eu-west-1", "us-east-1"]
    [item] = items(view, OWN, "management_copy")
    assert item["events_per_month"] == 73000 and item["usd"] == 1.46 and item["complete"] is False
    assert item["note"].endswith("; no event count for eu-west-1")
    assert view["trails"][arn(OWN)]["monthly_estimate"] == 1.46 and view["trails"][arn(OWN)]["estimate_complete"] is False


def test_data_events_are_flagged_and_not_estimated():
    data = trail("data", multi=False, event_selectors=selectors("All", data=True))
    view = tc.trail_costs([data], {"us-east-1": 100})
    [item] = items(view, data, "data_events")
    assert item["billed"] is True and item["events_per_month"] is None and item["usd"] is None
    assert "not estimated" in item["note"] and "not in event history" in item["note"]
    # Its management events are the free copy; the estimate says it is partial.
    assert view["trails"][arn(data)]["monthly_estimate"] is None and view["trails"][arn(data)]["estimate_complete"] is False


def test_data_events_by_advanced_selector_are_flagged():
    advanced = [{"name": "s3", "field_selectors": [{"field": "eventCategory", "equals": ["Data"]}, {"field": "resources.type", "equals": ["AWS::S3::Object"]}]}]
    data = trail("data", advanced=advanced)
    view = tc.trail_costs([data], {"us-east-1": 100})
    assert [item["kind"] for item in view["trails"][arn(data)]["items"]] == ["data_events"]


@pytest.mark.parametrize(
    "types, analyzed",
    [
        # ApiCallRateInsight analyzes write events; ApiErrorRateInsight read and write events (write twice with both).
        (["ApiCallRateInsight"], 30 * 730),
        (["ApiErrorRateInsight"], 300 * 730),
        (["ApiCallRateInsight", "ApiErrorRateInsight"], 330 * 730),
    ],
)
def test_insights_are_billed_on_the_events_they_analyze(types, analyzed):
    insights = [{"insight_type": t, "event_categories": ["Management"]} for t in types]
    own = trail("management-events", insights=insights)
    view = tc.trail_costs([own], {"us-east-1": {"read": 270, "write": 30}})
    [item] = items(view, own, "insights")
    assert item["billed"] is True and item["events_per_month"] == analyzed
    assert item["usd"] == round(analyzed / 100000 * 0.35, 2)
    assert view["trails"][arn(own)]["monthly_estimate"] == item["usd"]


def test_prices_can_be_given():
    prices = dict(tc.load_prices(), prices={"management_events_additional_copy": 1.0, "data_events": 0.1, "insights_events_analyzed": 0.35})
    view = tc.trail_costs([ORG, OWN], {"us-east-1": 100}, prices)
    assert view["trails"][arn(OWN)]["monthly_estimate"] == 0.73


@pytest.mark.parametrize(
    "args, message",
    [
        (("not a list",), "trails: a list of trails"),
        (([{"name": "x"}],), "trails[0]: each trail needs trail_arn and home_region"),
        (([OWN], {"us-east-1": -1}), "events_per_hour: us-east-1 must be a number"),
        (([OWN], {"us-east-1": {"read": "many"}}), "events_per_hour: us-east-1.read must be a number"),
        (([OWN], [1, 2]), "events_per_hour: a dict region"),
        (([OWN], None, {"prices": {}}), "prices: prices.management_events_additional_copy must be a number"),
    ],
)
def test_bad_input_names_the_parameter(args, message):
    with pytest.raises(tc.CostInputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        tc.trail_costs(*args)
    with pytest.raises(AnsibleFilterError, match="trail_costs: "):
        costs_filter.trail_costs(*args)


NOW = "2026-11-29T06:00:00+00:00"


def event(region, read_only, minutes_ago):
    at = datetime.datetime.fromisoformat(NOW) - datetime.timedelta(minutes=minutes_ago)
    return {"region": region, "read_only": read_only, "event_time": at.isoformat()}


def test_event_rates_count_read_and_write_per_region_over_the_window():
    sample = [event("us-east-1", True, 5), event("us-east-1", True, 50), event("us-east-1", False, 10), event("eu-west-1", None, 1)]
    assert tc.event_rates(sample, ["us-east-1", "eu-west-1", "ap-south-1"], 1, NOW) == {
        "us-east-1": {"read": 2.0, "write": 1.0},
        "eu-west-1": {"read": 0.0, "write": 1.0},
        "ap-south-1": {"read": 0.0, "write": 0.0},
    }


def test_a_sample_cut_at_max_events_is_a_rate_over_the_time_it_covers():
    # 4 events in the last 15 minutes, the lookup stopped at 4: 16 an hour, not 4.
    sample = [event("us-east-1", False, minutes) for minutes in (1, 5, 10, 15)]
    assert tc.event_rates(sample, ["us-east-1"], 1, NOW, max_events=4) == {"us-east-1": {"read": 0.0, "write": 16.0}}
    assert tc.event_rates(sample, ["us-east-1"], 1, NOW, max_events=5) == {"us-east-1": {"read": 0.0, "write": 4.0}}


def test_rates_feed_the_cost_view():
    rates = tc.event_rates([event("us-east-1", True, 1)] * 3 + [event("us-east-1", False, 2)], ["us-east-1"], 1, NOW)
    view = tc.trail_costs([ORG, OWN], rates)
    assert view["regions"]["us-east-1"]["events_per_hour"] == 4.0
    assert items(view, OWN, "management_copy")[0]["events_per_month"] == 4 * 730
    json.dumps(view)


def test_event_rates_refuse_a_window_of_nothing():
    with pytest.raises(AnsibleFilterError, match="event_rates: hours: "):
        costs_filter.event_rates([], ["us-east-1"], 0, NOW)
