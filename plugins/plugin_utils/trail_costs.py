# -*- coding: utf-8 -*-

# Copyright: Contributors to the trailops.cloudtrail project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What an account's trails cost, from the trails ``trail_info`` returns and
the management events per hour that event history shows: which trail holds
the free copy of management events in each region, which copies are billed,
and the month's estimate per trail (documentation: plugins/filter/trail_costs.yml,
docs/fleet.md "What the trails cost").

Every function is pure. The prices are data (``cloudtrail_prices.json``, with
the date they were checked), not constants here. No maintained library
estimates CloudTrail's charges from a trail's settings (the console,
amazon.aws and Terraform do not), hence this module.

The rules, from CloudTrail's pricing page and user guide:

- The first copy of management events in each account and region is free;
  every further copy is billed. Billing counts events, not trails: a trail
  that records only write events and another that records only read events
  deliver each event once, and nothing is billed.
- Which copy is "the first" is not said by AWS for a given pair of trails. We
  order the copies: organization trails first (a member cannot change them:
  the copy it can remove is its own), then multi-region trails (the user
  guide's example bills the single-region trail beside a multi-region one),
  then single-region trails, ties by ARN. So an organization trail beside a
  member's own trail makes the member's trail the billed duplicate.
- Every copy of data events is billed, the first included; data events are not
  in event history, so they are flagged and never guessed.
- Insights is billed per trail on the management events it analyzes:
  ApiCallRateInsight the write events, ApiErrorRateInsight read and write
  events (write events twice when both types are on).
"""

from __future__ import annotations

import datetime
import json
import os
from typing import Any
from typing import Iterable
from typing import Mapping
from typing import Optional
from typing import Union

from ansible_collections.trailops.cloudtrail.plugins.module_utils.event_selectors import logged_management_events
from ansible_collections.trailops.cloudtrail.plugins.module_utils.event_selectors import logs_data_events

PRICES_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cloudtrail_prices.json")
PRICE_KEYS = ("management_events_additional_copy", "data_events", "insights_events_analyzed")
ACCESS = ("read", "write")
# The management events each Insights type analyzes (user guide, Costs for Insights events).
INSIGHT_ANALYZES = {"ApiCallRateInsight": frozenset({"write"}), "ApiErrorRateInsight": frozenset({"read", "write"})}

Number = Union[int, float]
# A region's management events per hour: "all", and "read"/"write" when known.
Rate = dict[str, Optional[float]]


class CostInputError(ValueError):
    """Input the cost view cannot use; the message names the parameter."""


# -- the price table ------------------------------------------------------------
def load_prices(path: str = PRICES_FILE) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return check_prices(json.load(handle))


def check_prices(prices: Any) -> dict[str, Any]:
    """A price table shaped like cloudtrail_prices.json, or CostInputError naming what is wrong."""
    if not isinstance(prices, Mapping):
        raise CostInputError(f"prices: a price table (a dict like cloudtrail_prices.json) is needed, got {type(prices).__name__}")
    table = prices.get("prices")
    if not isinstance(table, Mapping):
        raise CostInputError("prices: the table needs 'prices', a dict of " + ", ".join(PRICE_KEYS))
    for key in PRICE_KEYS:
        value = table.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise CostInputError(f"prices: prices.{key} must be a number of at least 0, got {value!r}")
    for key in ("per_events", "hours_per_month"):
        value = prices.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise CostInputError(f"prices: {key} must be a number greater than 0, got {value!r}")
    return dict(prices)


# -- the event rates ---------------------------------------------------------------
def _count(value: Any, where: str) -> Optional[float]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise CostInputError(f"events_per_hour: {where} must be a number of at least 0 or null, got {value!r}")
    return float(value)


def normalize_rates(events_per_hour: Optional[Mapping[str, Any]]) -> dict[str, Rate]:
    """Each region's rate as {"all", "read", "write"}; a plain number is "all"
    with the split unknown; a region given as null (unknown) is left out."""
    if events_per_hour is None:
        return {}
    if not isinstance(events_per_hour, Mapping):
        raise CostInputError(f"events_per_hour: a dict region -> management events per hour is needed, got {type(events_per_hour).__name__}")
    rates: dict[str, Rate] = {}
    for region, value in events_per_hour.items():
        if isinstance(value, Mapping):
            read, write = _count(value.get("read"), f"{region}.read"), _count(value.get("write"), f"{region}.write")
            total = _count(value.get("all"), f"{region}.all")
            if total is None and read is not None and write is not None:
                total = read + write
            rate: Rate = {"all": total, "read": read, "write": write}
        else:
            count = _count(value, str(region))
            if count is None:
                continue
            rate = {"all": count, "read": None, "write": None}
        if any(v is not None for v in rate.values()):
            rates[str(region)] = rate
    return rates


def utc_time(value: Any) -> datetime.datetime:
    """An event time (ISO 8601, or a datetime) in UTC; a time without a zone is UTC."""
    if isinstance(value, datetime.datetime):
        parsed = value
    else:
        parsed = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.astimezone(datetime.timezone.utc)


def event_rates(
    events: Iterable[Mapping[str, Any]],
    regions: Iterable[str],
    hours: Number,
    now: Union[str, datetime.datetime],
    max_events: Optional[int] = None,
) -> dict[str, dict[str, float]]:
    """Management events per hour, read and write, per region, from a sample
    of event history (the ``event_history`` lookup's events over the last
    ``hours``). A sample cut at ``max_events`` (the lookup keeps the newest,
    across regions) covers only the time since its oldest event, so the rate
    is taken over that span. An event without ``read_only`` counts as write."""
    if isinstance(hours, bool) or not isinstance(hours, (int, float)) or hours <= 0:
        raise CostInputError(f"hours: the sampled window in hours must be greater than 0, got {hours!r}")
    sample = list(events)
    span = float(hours)
    if max_events and len(sample) >= max_events and sample:
        oldest = min(utc_time(event["event_time"]) for event in sample)
        # A burst within the same minute would give an absurd rate; a minute is the floor.
        span = min(span, max((utc_time(now) - oldest).total_seconds() / 3600, 1 / 60))
    counts = {region: {"read": 0, "write": 0} for region in regions}
    for event in sample:
        region = event.get("region")
        if region in counts:
            counts[region]["read" if event.get("read_only") is True else "write"] += 1
    return {region: {access: round(n / span, 2) for access, n in split.items()} for region, split in counts.items()}


# -- what a trail records ---------------------------------------------------------
def _selection(trail: Mapping[str, Any]) -> dict[str, list]:
    return {
        "event_selectors": list(trail.get("event_selectors") or []),
        "advanced_event_selectors": list(trail.get("advanced_event_selectors") or []),
    }


def recorded_management(trail: Mapping[str, Any]) -> frozenset[str]:
    """The management events ("read", "write") the trail delivers; none while it is not logging."""
    if trail.get("is_logging") is False:
        return frozenset()
    return frozenset(logged_management_events(_selection(trail)))


def records_data_events(trail: Mapping[str, Any]) -> bool:
    return trail.get("is_logging") is not False and logs_data_events(_selection(trail))


def copy_order(trail: Mapping[str, Any]) -> tuple[bool, bool, str]:
    """Sort key of the copies of a region: which one we count as the free one (module docstring)."""
    return (not trail.get("is_organization_trail"), not trail.get("is_multi_region_trail"), str(trail.get("trail_arn")))


def trail_regions(trail: Mapping[str, Any], regions: Iterable[str]) -> list[str]:
    """The regions of ``regions`` where the trail records: all of them for a multi-region trail, else its home region."""
    if trail.get("is_multi_region_trail"):
        return sorted(regions)
    return [trail["home_region"]]


def _checked_trails(trails: Any) -> list[Mapping[str, Any]]:
    """The trails, once each by ARN (trail_info lists a multi-region trail in every region read)."""
    if not isinstance(trails, (list, tuple)):
        raise CostInputError(f"trails: a list of trails as trailops.cloudtrail.trail_info returns them is needed, got {type(trails).__name__}")
    unique: dict[str, Mapping[str, Any]] = {}
    for index, trail in enumerate(trails):
        if not isinstance(trail, Mapping) or not trail.get("trail_arn") or not trail.get("home_region"):
            raise CostInputError(f"trails[{index}]: each trail needs trail_arn and home_region (trail_info's trails)")
        unique.setdefault(str(trail["trail_arn"]), trail)
    return sorted(unique.values(), key=copy_order)


def _events(rate: Optional[Rate], accesses: Iterable[str]) -> Optional[float]:
    """Events per hour of those kinds (read, write) in a region, or None when not known."""
    accesses = frozenset(accesses)
    if not accesses:
        return 0.0
    if rate is None:
        return None
    if accesses == frozenset(ACCESS):
        return rate["all"]
    return rate[next(iter(accesses))]


def _usd(events_per_month: Optional[int], price: float, prices: Mapping[str, Any]) -> Optional[float]:
    return None if events_per_month is None else round(events_per_month / prices["per_events"] * price, 2)


def _per_month(per_hour: Optional[float], prices: Mapping[str, Any]) -> Optional[int]:
    return None if per_hour is None else int(round(per_hour * prices["hours_per_month"]))


def _sum_known(values: Iterable[Optional[float]]) -> tuple[Optional[float], list[int]]:
    """The sum of the known values (None if none is known), and the indexes of the unknown ones."""
    values = list(values)
    known = [v for v in values if v is not None]
    return (sum(known) if known else None), [i for i, v in enumerate(values) if v is None]


# -- the plan of copies ---------------------------------------------------------
def region_copies(trails: list[Mapping[str, Any]], regions: Iterable[str]) -> dict[str, dict[str, list[str]]]:
    """Per region, per kind of management event, the ARNs of the trails that
    deliver it, in copy order: the first is the free copy, the rest are billed."""
    copies: dict[str, dict[str, list[str]]] = {region: {access: [] for access in ACCESS} for region in regions}
    for trail in trails:
        recorded = recorded_management(trail)
        for region in trail_regions(trail, copies):
            for access in ACCESS:
                if access in recorded:
                    copies[region][access].append(trail["trail_arn"])
    return copies


def _management_item(trail, copies, rates, prices) -> Optional[dict[str, Any]]:
    recorded = recorded_management(trail)
    if not recorded:
        if trail.get("is_logging") is False and logged_management_events(_selection(trail)):
            return {"kind": "management_copy", "billed": False, "events_per_month": 0, "usd": 0.0, "note": "not logging: delivers nothing", "complete": True}
        return None
    arn = trail["trail_arn"]
    billed: dict[str, frozenset[str]] = {}
    free: list[str] = []
    for region in trail_regions(trail, copies):
        extra = frozenset(access for access in recorded if copies[region][access][0] != arn)
        if extra:
            billed[region] = extra
        else:
            free.append(region)
    price = prices["prices"]["management_events_additional_copy"]
    if not billed:
        per_hour, dummy = _sum_known(_events(rates.get(region), recorded) for region in free)
        return {
            "kind": "management_copy",
            "billed": False,
            "events_per_month": _per_month(per_hour, prices),
            "usd": 0.0,
            "note": "the first copy of management events in " + ", ".join(free) + ": free",
            "complete": True,
        }
    regions = sorted(billed)
    per_hour, unknown = _sum_known(_events(rates.get(region), billed[region]) for region in regions)
    firsts = sorted({copies[region][access][0] for region in regions for access in billed[region]})
    kinds = set(billed.values())
    only = next(iter(kinds)) if len(kinds) == 1 else frozenset(ACCESS)
    which = f"{next(iter(only))} " if len(only) == 1 else ""
    note = f"an additional copy of {which}management events in " + ", ".join(regions) + " (the free copy: " + ", ".join(firsts) + ")"
    if unknown:
        note += "; no event count for " + ", ".join(regions[i] for i in unknown)
    events_per_month = _per_month(per_hour, prices)
    return {
        "kind": "management_copy",
        "billed": True,
        "events_per_month": events_per_month,
        "usd": _usd(events_per_month, price, prices),
        "note": note,
        "complete": not unknown,
    }


def _insights_item(trail, copies, rates, prices) -> Optional[dict[str, Any]]:
    selectors = [s for s in trail.get("insight_selectors") or [] if s.get("insight_type")]
    if not selectors or trail.get("is_logging") is False:
        return None
    recorded = recorded_management(trail)
    regions = trail_regions(trail, copies)
    per_region: list[Optional[float]] = []
    for region in regions:
        total: Optional[float] = 0.0
        for selector in selectors:
            if "Management" not in (selector.get("event_categories") or ["Management"]):
                continue
            analyzed = _events(rates.get(region), INSIGHT_ANALYZES.get(selector["insight_type"], frozenset()) & recorded)
            total = None if total is None or analyzed is None else total + analyzed
        per_region.append(total)
    per_hour, unknown = _sum_known(per_region)
    types = ", ".join(sorted(s["insight_type"] for s in selectors))
    note = f"Insights ({types}) on the management events it records in " + ", ".join(regions)
    if unknown:
        note += "; no event count for " + ", ".join(regions[i] for i in unknown)
    on_data = any("Data" in (s.get("event_categories") or []) for s in selectors)
    if on_data:
        note += "; Insights on data events: not estimated (data events are not in event history)"
    events_per_month = _per_month(per_hour, prices)
    return {
        "kind": "insights",
        "billed": True,
        "events_per_month": events_per_month,
        "usd": _usd(events_per_month, prices["prices"]["insights_events_analyzed"], prices),
        "note": note,
        "complete": not unknown and not on_data,
    }


def _data_item(trail, prices) -> Optional[dict[str, Any]]:
    if not records_data_events(trail):
        return None
    price = prices["prices"]["data_events"]
    return {
        "kind": "data_events",
        "billed": True,
        "events_per_month": None,
        "usd": None,
        "note": (
            "records data events: not estimated (data events are not in event history); "
            f"every copy is billed, {prices['currency']} {price} per {prices['per_events']:,}"
        ),
        "complete": False,
    }


def trail_costs(trails: Any, events_per_hour: Optional[Mapping[str, Any]] = None, prices: Optional[Mapping[str, Any]] = None) -> dict[str, Any]:
    """The cost view of ONE account's trails (``trail_info``'s ``trails``,
    organization trails seen from a member included), with ``events_per_hour``
    a dict region -> management events per hour (a number, or
    {"read": n, "write": n}; missing or null: unknown)."""
    prices = load_prices() if prices is None else check_prices(prices)
    ordered = _checked_trails(trails)
    rates = normalize_rates(events_per_hour)
    regions = sorted(set(rates) | {trail["home_region"] for trail in ordered})
    copies = region_copies(ordered, regions)

    by_trail: dict[str, dict[str, Any]] = {}
    for trail in ordered:
        found = (_management_item(trail, copies, rates, prices), _data_item(trail, prices), _insights_item(trail, copies, rates, prices))
        items = [item for item in found if item]
        billed = [item["usd"] for item in items if item["billed"]]
        total, dummy = _sum_known(billed)
        by_trail[trail["trail_arn"]] = {
            "name": trail.get("name"),
            "is_organization_trail": bool(trail.get("is_organization_trail")),
            "monthly_estimate": 0.0 if not billed else (None if total is None else round(total, 2)),
            "estimate_complete": all(item["complete"] for item in items if item["billed"]),
            "items": items,
        }

    summary: dict[str, dict[str, Any]] = {}
    duplicates = []
    for region in regions:
        kinds = copies[region]
        arns = [trail["trail_arn"] for trail in ordered if trail["trail_arn"] in kinds["read"] + kinds["write"]]
        extra = max(len(kinds["read"]), len(kinds["write"]), 1) - 1
        rate = rates.get(region)
        summary[region] = {
            "management_copies": len(arns),
            "trails": arns,
            "duplicate": extra > 0,
            "events_per_hour": None if rate is None else rate["all"],
        }
        if extra:
            duplicates.append({
                "region": region,
                "trails": arns,
                "billed_extra_copies": extra,
                "free_copies": [arn for arn in arns if arn in kinds["read"][:1] + kinds["write"][:1]],
                "billed_trails": [arn for arn in arns if arn in kinds["read"][1:] + kinds["write"][1:]],
                "organization_trail": any(trail["trail_arn"] in arns and trail.get("is_organization_trail") for trail in ordered),
            })
    return {
        "price_date": prices.get("checked"),
        "price_source": prices.get("source"),
        "currency": prices.get("currency", "USD"),
        "regions": summary,
        "trails": by_trail,
        "duplicates": duplicates,
    }
