# -*- coding: utf-8 -*-

# Copyright: Contributors to the trailops.cloudtrail project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A trail's event selectors and insight selectors, for the ``event_selectors`` module.

The pure part: turn what CloudTrail returns and what the user asks for into the
same normalized snake_case form (sorted wherever CloudTrail ignores order, so a
reordered list is not a change), check CloudTrail's service limits and the
Insights prerequisites, and decide which Put* calls close the difference.
The rest: one wrapper per CloudTrail call this module needs beyond the shared
ones in ``cloudtrail.py``.
"""

from __future__ import annotations

import copy
import json
from typing import Any
from typing import Optional


from ansible_collections.trailops.cloudtrail.plugins.module_utils.advanced_fields import ADVANCED_FIELD_RULES
from ansible_collections.trailops.cloudtrail.plugins.module_utils.advanced_fields import allowed_values_text
from ansible_collections.trailops.cloudtrail.plugins.module_utils.advanced_fields import unknown_values
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import CloudTrailErrorHandler
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parameters import ParameterError
from ansible_collections.trailops.cloudtrail.plugins.module_utils.retries import transient_retry
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import describe_trails
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import get_event_selectors
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import get_insight_selectors
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import home_region_client
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import home_region_of
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import trail_reference_error

# CloudTrail quotas (user guide, "Quotas in AWS CloudTrail"; API reference, PutEventSelectors).
BASIC_SELECTORS_MAX = 5
DATA_RESOURCES_MAX = 250
ADVANCED_VALUES_MAX = 500
SELECTOR_NAME_MAX = 1000
OPERATOR_VALUE_MAX = 2048

READ_WRITE_TYPES = ("All", "ReadOnly", "WriteOnly")
# Basic selectors log data events of these types only; the rest need advanced selectors.
BASIC_RESOURCE_TYPES = ("AWS::DynamoDB::Table", "AWS::Lambda::Function", "AWS::S3::Object")
EXCLUDABLE_EVENT_SOURCES = ("kms.amazonaws.com", "rdsdata.amazonaws.com")

# The event record fields a trail's advanced selectors may filter on, those
# CloudTrail accepts only with Equals, and their allowed values: one table
# (advanced_fields.py, which says which version of the API reference it follows).
ADVANCED_FIELDS = tuple(sorted(ADVANCED_FIELD_RULES))
EQUALS_ONLY_FIELDS = tuple(name for name, rule in ADVANCED_FIELD_RULES.items() if rule.equals_only)
# The event categories a trail's advanced selectors select, and the field each
# one requires besides eventCategory (API reference, AdvancedEventSelector).
EVENT_CATEGORY_REQUIRED_FIELDS = {"Management": None, "Data": "resources.type", "NetworkActivity": "eventSource"}

# (module option, API member) of an advanced field selector's operators.
OPERATORS: tuple[tuple[str, str], ...] = (
    ("equals", "Equals"),
    ("starts_with", "StartsWith"),
    ("ends_with", "EndsWith"),
    ("not_equals", "NotEquals"),
    ("not_starts_with", "NotStartsWith"),
    ("not_ends_with", "NotEndsWith"),
)

INSIGHT_TYPES = ("ApiCallRateInsight", "ApiErrorRateInsight")
INSIGHT_EVENT_CATEGORIES = ("Data", "Management")
# PutInsightSelectors without EventCategories means management events.
DEFAULT_INSIGHT_EVENT_CATEGORIES = ["Management"]

# What a trail logs before anyone puts selectors on it: CloudTrail's default.
DEFAULT_EVENT_SELECTOR: dict[str, Any] = {
    "read_write_type": "All",
    "include_management_events": True,
    "exclude_management_event_sources": [],
    "data_resources": [],
}

_MANAGEMENT = {"eventCategory": ["Management"]}

# Named selector sets, in the module's own option format, so they take the
# same normalization and checks as selectors written out by hand. Each keeps
# management events, because a preset replaces every selector on the trail.
PRESETS: dict[str, dict[str, list[dict[str, Any]]]] = {
    # CloudTrail's default for a new trail: every management event, no data events.
    "management_events": {
        "event_selectors": [
            {"read_write_type": "All", "include_management_events": True},
        ],
    },
    # Write management events only: the cheapest set that still records every change.
    "management_write_events": {
        "event_selectors": [
            {"read_write_type": "WriteOnly", "include_management_events": True},
        ],
    },
    "all_s3_data_events": {
        "advanced_event_selectors": [
            {"name": "Management events", "field_selectors": [{"field": "eventCategory", "equals": ["Management"]}]},
            {
                "name": "All S3 object data events",
                "field_selectors": [
                    {"field": "eventCategory", "equals": ["Data"]},
                    {"field": "resources.type", "equals": ["AWS::S3::Object"]},
                ],
            },
        ],
    },
    "all_lambda_invocations": {
        "advanced_event_selectors": [
            {"name": "Management events", "field_selectors": [{"field": "eventCategory", "equals": ["Management"]}]},
            {
                "name": "All Lambda invocations",
                "field_selectors": [
                    {"field": "eventCategory", "equals": ["Data"]},
                    {"field": "resources.type", "equals": ["AWS::Lambda::Function"]},
                ],
            },
        ],
    },
    # CIS AWS Foundations Benchmark v1.4.0 (and later), recommendations 3.1
    # (read and write management events), 3.10 and 3.11 (S3 object-level
    # logging of write and read events for all buckets), written as the
    # benchmark's remediation writes it: one basic selector, "arn:aws:s3".
    "cis_benchmark": {
        "event_selectors": [
            {
                "read_write_type": "All",
                "include_management_events": True,
                "data_resources": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3"]}],
            },
        ],
    },
}


# -- the trail --------------------------------------------------------------
def trail_name_problem(trail_name: str) -> Optional[str]:
    """Why ``trail_name`` is neither a valid trail name nor a trail ARN, or ``None``."""
    return trail_reference_error(trail_name, "trail_name")


def trail_home_region(trail_arn: str) -> Optional[str]:
    """The region a trail ARN names: the trail's home region, where every write must go."""
    return home_region_of({"TrailARN": trail_arn})


# -- normalization ----------------------------------------------------------
def _sorted_unique(values: Optional[list[str]]) -> list[str]:
    return sorted(set(values or []))


def _sorted_dicts(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))


def normalize_event_selector(selector: dict[str, Any]) -> dict[str, Any]:
    """A basic selector in the module's option format, order-free and with CloudTrail's defaults filled in."""
    read_write_type = selector.get("read_write_type")
    include = selector.get("include_management_events")
    data_resources = [
        {"type": resource.get("type"), "values": _sorted_unique(resource.get("values"))}
        for resource in selector.get("data_resources") or []
    ]
    return {
        "read_write_type": "All" if read_write_type is None else read_write_type,
        "include_management_events": True if include is None else bool(include),
        "exclude_management_event_sources": _sorted_unique(selector.get("exclude_management_event_sources")),
        "data_resources": _sorted_dicts(data_resources),
    }


def normalize_advanced_event_selector(selector: dict[str, Any]) -> dict[str, Any]:
    """An advanced selector in the module's option format; empty operators dropped, values sorted."""
    field_selectors = []
    for field_selector in selector.get("field_selectors") or []:
        normalized: dict[str, Any] = {"field": field_selector.get("field")}
        for option, dummy in OPERATORS:
            if field_selector.get(option):
                normalized[option] = _sorted_unique(field_selector[option])
        field_selectors.append(normalized)
    return {"name": selector.get("name") or "", "field_selectors": _sorted_dicts(field_selectors)}


def normalize_insight_selector(selector: dict[str, Any]) -> dict[str, Any]:
    return {
        "insight_type": selector.get("insight_type"),
        "event_categories": _sorted_unique(selector.get("event_categories") or DEFAULT_INSIGHT_EVENT_CATEGORIES),
    }


def normalize_selection(event_selectors: Optional[list], advanced_event_selectors: Optional[list]) -> dict[str, list]:
    """The event selection (basic and advanced selectors) in normalized form."""
    return {
        "event_selectors": _sorted_dicts([normalize_event_selector(s) for s in event_selectors or []]),
        "advanced_event_selectors": _sorted_dicts([normalize_advanced_event_selector(s) for s in advanced_event_selectors or []]),
    }


def normalize_insights(insight_selectors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted((normalize_insight_selector(s) for s in insight_selectors), key=lambda s: s["insight_type"])


# -- CloudTrail's wire format <-> ours --------------------------------------
def selection_from_api(response: dict[str, Any]) -> dict[str, list]:
    """The normalized event selection from a GetEventSelectors answer."""
    basic = [
        {
            "read_write_type": selector.get("ReadWriteType"),
            "include_management_events": selector.get("IncludeManagementEvents"),
            "exclude_management_event_sources": selector.get("ExcludeManagementEventSources"),
            "data_resources": [
                {"type": resource.get("Type"), "values": resource.get("Values")} for resource in selector.get("DataResources") or []
            ],
        }
        for selector in response.get("EventSelectors") or []
    ]
    advanced = [
        {
            "name": selector.get("Name"),
            "field_selectors": [
                dict({"field": field.get("Field")}, **{option: field.get(member) for option, member in OPERATORS})
                for field in selector.get("FieldSelectors") or []
            ],
        }
        for selector in response.get("AdvancedEventSelectors") or []
    ]
    return normalize_selection(basic, advanced)


def insights_from_api(insight_selectors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return normalize_insights(
        [{"insight_type": s.get("InsightType"), "event_categories": s.get("EventCategories")} for s in insight_selectors]
    )


def selection_to_api(selection: dict[str, list]) -> dict[str, list]:
    """PutEventSelectors parameters for a normalized selection: exactly one of the two kinds."""
    if selection["advanced_event_selectors"]:
        advanced = []
        for selector in selection["advanced_event_selectors"]:
            api: dict[str, Any] = {
                "FieldSelectors": [
                    dict({"Field": field["field"]}, **{member: field[option] for option, member in OPERATORS if field.get(option)})
                    for field in selector["field_selectors"]
                ]
            }
            if selector["name"]:
                api["Name"] = selector["name"]
            advanced.append(api)
        return {"AdvancedEventSelectors": advanced}
    return {
        "EventSelectors": [
            {
                "ReadWriteType": selector["read_write_type"],
                "IncludeManagementEvents": selector["include_management_events"],
                "ExcludeManagementEventSources": selector["exclude_management_event_sources"],
                "DataResources": [{"Type": r["type"], "Values": r["values"]} for r in selector["data_resources"]],
            }
            for selector in selection["event_selectors"]
        ]
    }


def insights_to_api(insights: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """PutInsightSelectors parameters; the default event category is left implicit, as CloudTrail does."""
    api = []
    for selector in insights:
        entry: dict[str, Any] = {"InsightType": selector["insight_type"]}
        if selector["event_categories"] != DEFAULT_INSIGHT_EVENT_CATEGORIES:
            entry["EventCategories"] = selector["event_categories"]
        api.append(entry)
    return api


# -- what the user asks for -------------------------------------------------
def desired_selection(params: dict[str, Any]) -> Optional[dict[str, list]]:
    """The normalized selection the parameters ask for, or ``None`` when they leave selectors alone."""
    if params.get("preset"):
        preset = copy.deepcopy(PRESETS[params["preset"]])
        return normalize_selection(preset.get("event_selectors"), preset.get("advanced_event_selectors"))
    if params.get("event_selectors") is not None or params.get("advanced_event_selectors") is not None:
        return normalize_selection(params.get("event_selectors"), params.get("advanced_event_selectors"))
    return None


def _count_values(field_selector: dict[str, Any]) -> int:
    return sum(len(field_selector.get(option) or []) for option, dummy in OPERATORS)


def event_selector_problems(event_selectors: list[dict[str, Any]]) -> list[str]:
    """Why CloudTrail would refuse these basic selectors (module option format)."""
    if not event_selectors:
        return ["event_selectors: give at least one selector (omit the option to leave the trail's selectors alone)"]
    problems = []
    if len(event_selectors) > BASIC_SELECTORS_MAX:
        problems.append(f"event_selectors: a trail has at most {BASIC_SELECTORS_MAX} basic event selectors, {len(event_selectors)} given")
    total = 0
    for index, selector in enumerate(event_selectors):
        where = f"event_selectors[{index}]"
        if selector.get("read_write_type") not in (None,) + READ_WRITE_TYPES:
            problems.append(f"{where}.read_write_type: one of {', '.join(READ_WRITE_TYPES)}, not {selector['read_write_type']!r}")
        for source in selector.get("exclude_management_event_sources") or []:
            if source not in EXCLUDABLE_EVENT_SOURCES:
                problems.append(
                    f"{where}.exclude_management_event_sources: CloudTrail can exclude only {', '.join(EXCLUDABLE_EVENT_SOURCES)}, not {source!r}"
                )
        for r_index, resource in enumerate(selector.get("data_resources") or []):
            r_where = f"{where}.data_resources[{r_index}]"
            if resource.get("type") not in BASIC_RESOURCE_TYPES:
                problems.append(
                    f"{r_where}.type: basic event selectors log data events of {', '.join(BASIC_RESOURCE_TYPES)} only, "
                    f"not {resource.get('type')!r} (use advanced_event_selectors for other resource types)"
                )
            if not resource.get("values"):
                problems.append(f"{r_where}.values: give at least one ARN or ARN prefix")
            total += len(resource.get("values") or [])
    if total > DATA_RESOURCES_MAX:
        problems.append(f"event_selectors: a trail has at most {DATA_RESOURCES_MAX} data resource values in all, {total} given")
    return problems


def advanced_event_selector_problems(advanced_event_selectors: list[dict[str, Any]]) -> list[str]:
    """Why CloudTrail would refuse these advanced selectors (module option format)."""
    if not advanced_event_selectors:
        return ["advanced_event_selectors: give at least one selector (omit the option to leave the trail's selectors alone)"]
    problems = []
    total = 0
    for index, selector in enumerate(advanced_event_selectors):
        where = f"advanced_event_selectors[{index}]"
        if len(selector.get("name") or "") > SELECTOR_NAME_MAX:
            problems.append(f"{where}.name: at most {SELECTOR_NAME_MAX} characters")
        field_selectors = selector.get("field_selectors") or []
        if not field_selectors:
            problems.append(f"{where}.field_selectors: give at least one field selector")
        fields = [field.get("field") for field in field_selectors]
        if "eventCategory" not in fields:
            problems.append(f"{where}.field_selectors: CloudTrail requires an eventCategory field selector in every advanced selector")
        for field in field_selectors:
            if field.get("field") != "eventCategory":
                continue
            for category in field.get("equals") or []:
                # Unknown categories are reported with the other fixed values below.
                if EVENT_CATEGORY_REQUIRED_FIELDS.get(category) and EVENT_CATEGORY_REQUIRED_FIELDS[category] not in fields:
                    problems.append(
                        f"{where}.field_selectors: CloudTrail requires a field selector on {EVENT_CATEGORY_REQUIRED_FIELDS[category]} "
                        f"in an advanced selector for eventCategory {category}"
                    )
        for f_index, field in enumerate(field_selectors):
            f_where = f"{where}.field_selectors[{f_index}]"
            name = field.get("field")
            if name not in ADVANCED_FIELDS:
                problems.append(f"{f_where}.field: {name!r} is not a field trails filter on (one of {', '.join(ADVANCED_FIELDS)})")
            elif fields.count(name) > 1 and fields.index(name) == f_index:
                problems.append(f"{where}.field_selectors: field {name!r} appears more than once; put all its conditions in one field selector")
            used = [option for option, dummy in OPERATORS if field.get(option)]
            if not used:
                problems.append(f"{f_where}: give at least one operator ({', '.join(option for option, dummy in OPERATORS)}) with values")
            if name in EQUALS_ONLY_FIELDS and set(used) - {"equals"}:
                problems.append(f"{f_where}: CloudTrail allows only the equals operator on {name}, not {', '.join(sorted(set(used) - {'equals'}))}")
            refused = unknown_values(name, field.get("equals") or [])
            if refused:
                problems.append(
                    f"{f_where}.equals: {name} of a trail's advanced selector is {allowed_values_text(name)}, "
                    f"not {', '.join(repr(value) for value in refused)}"
                )
            for option in used:
                for value in field[option]:
                    if not 1 <= len(value) <= OPERATOR_VALUE_MAX:
                        problems.append(f"{f_where}.{option}: each value has 1 to {OPERATOR_VALUE_MAX} characters")
                        break
            total += _count_values(field)
    if total > ADVANCED_VALUES_MAX:
        problems.append(
            f"advanced_event_selectors: a trail has at most {ADVANCED_VALUES_MAX} condition values in all its advanced selectors, {total} given"
        )
    return problems


def insight_selector_problems(insight_selectors: list[dict[str, Any]]) -> list[str]:
    problems = []
    types = [selector.get("insight_type") for selector in insight_selectors]
    for index, selector in enumerate(insight_selectors):
        where = f"insight_selectors[{index}]"
        if selector.get("insight_type") not in INSIGHT_TYPES:
            problems.append(f"{where}.insight_type: one of {', '.join(INSIGHT_TYPES)}, not {selector.get('insight_type')!r}")
        elif types.count(selector["insight_type"]) > 1 and types.index(selector["insight_type"]) == index:
            problems.append(f"insight_selectors: {selector['insight_type']} appears more than once")
        for category in selector.get("event_categories") or []:
            if category not in INSIGHT_EVENT_CATEGORIES:
                problems.append(f"{where}.event_categories: one of {', '.join(INSIGHT_EVENT_CATEGORIES)}, not {category!r}")
    return problems


def parameter_problems(params: dict[str, Any]) -> list[str]:
    """Everything wrong with the parameters that can be told without asking AWS."""
    problems = []
    problem = trail_name_problem(params["trail_name"])
    if problem:
        problems.append(problem)
    if params.get("event_selectors") is not None:
        problems.extend(event_selector_problems(params["event_selectors"]))
    if params.get("advanced_event_selectors") is not None:
        problems.extend(advanced_event_selector_problems(params["advanced_event_selectors"]))
    if params.get("insight_selectors") is not None:
        problems.extend(insight_selector_problems(params["insight_selectors"]))
    return problems


def validate_params(params: dict[str, Any]) -> None:
    """``ParameterError`` for everything ``parameter_problems`` finds, in one
    message: a playbook with several broken selectors learns of all of them
    in one run. The error names the first problem's option."""
    problems = parameter_problems(params)
    if problems:
        raise ParameterError.of(problems)


# -- Insights prerequisites -------------------------------------------------
def effective_selection(selection: dict[str, list]) -> dict[str, list]:
    """What a selection logs: a trail that reports no selectors at all logs CloudTrail's default."""
    if not selection["event_selectors"] and not selection["advanced_event_selectors"]:
        return {"event_selectors": [dict(DEFAULT_EVENT_SELECTOR)], "advanced_event_selectors": []}
    return selection


def logged_management_events(selection: dict[str, list]) -> set[str]:
    """Which management events (``read``, ``write``) a normalized selection logs."""
    logged: set[str] = set()
    selection = effective_selection(selection)
    for selector in selection["event_selectors"]:
        if selector["include_management_events"]:
            if selector["read_write_type"] in ("All", "ReadOnly"):
                logged.add("read")
            if selector["read_write_type"] in ("All", "WriteOnly"):
                logged.add("write")
    for selector in selection["advanced_event_selectors"]:
        fields = {field["field"]: field for field in selector["field_selectors"]}
        if "Management" not in fields.get("eventCategory", {}).get("equals", []):
            continue
        read_only = fields.get("readOnly")
        if read_only is None:
            logged.update(("read", "write"))
            continue
        values = {value.lower() for value in read_only.get("equals", [])}
        if "true" in values:
            logged.add("read")
        if "false" in values:
            logged.add("write")
    return logged


def logs_data_events(selection: dict[str, list]) -> bool:
    selection = effective_selection(selection)
    if any(selector["data_resources"] for selector in selection["event_selectors"]):
        return True
    for selector in selection["advanced_event_selectors"]:
        for field in selector["field_selectors"]:
            if field["field"] == "eventCategory" and "Data" in field.get("equals", []):
                return True
    return False


def insight_prerequisite_problems(insights: list[dict[str, Any]], selection: dict[str, list], source: str) -> list[str]:
    """Insights types whose events the selection does not log.

    ``source`` names where the selection came from, for the message: the
    parameters, or the trail's current selectors.
    """
    problems = []
    management = logged_management_events(selection)
    for selector in insights:
        insight_type = selector["insight_type"]
        if "Management" in selector["event_categories"]:
            if insight_type == "ApiCallRateInsight" and "write" not in management:
                problems.append(
                    f"insight_selectors: ApiCallRateInsight needs write management events logged, and {source} log none "
                    "(a basic selector with include_management_events true and read_write_type All or WriteOnly, "
                    "or an advanced selector on eventCategory Management whose readOnly is absent or false)"
                )
            if insight_type == "ApiErrorRateInsight" and not management:
                problems.append(
                    f"insight_selectors: ApiErrorRateInsight needs read or write management events logged, and {source} log none"
                )
        if "Data" in selector["event_categories"] and not logs_data_events(selection):
            problems.append(f"insight_selectors: {insight_type} on Data events needs data events logged, and {source} log none")
    return problems


# -- the plan ---------------------------------------------------------------
def plan(
    current_selection: dict[str, list],
    desired: Optional[dict[str, list]],
    current_insights: Optional[list[dict[str, Any]]],
    desired_insights: Optional[list[dict[str, Any]]],
) -> dict[str, Any]:
    """Which Put* calls to make, and the state before and after, all normalized.

    ``put_insights_first`` is true when Insights are being turned off, so the
    Insights that need the old selectors go before those selectors do.
    """
    before: dict[str, Any] = dict(current_selection)
    after: dict[str, Any] = dict(desired if desired is not None else current_selection)
    if desired_insights is not None:
        before["insight_selectors"] = current_insights or []
        after["insight_selectors"] = desired_insights
    put_selectors = desired is not None and desired != current_selection
    put_insights = desired_insights is not None and desired_insights != (current_insights or [])
    return {
        "before": before,
        "after": after,
        "put_event_selectors": put_selectors,
        "put_insight_selectors": put_insights,
        "put_insights_first": put_insights and not desired_insights,
        "changed": put_selectors or put_insights,
    }


# -- CloudTrail calls -------------------------------------------------------
def find_trail(client, trail_name: str) -> Optional[tuple[str, dict[str, Any]]]:
    """(trail ARN, GetEventSelectors answer) of the trail, or ``None``.

    By name, GetEventSelectors answers with the ARN, so no GetTrail is needed.
    Should a multi-region trail of another home region not answer to its name
    here, it is looked for among the region's shadow trails and read by ARN.
    """
    response = get_event_selectors(client, trail_name)
    if response is None and not trail_name.startswith("arn:"):
        for trail in describe_trails(client):
            if trail.get("Name") == trail_name and trail.get("TrailARN"):
                response = get_event_selectors(client, trail["TrailARN"])
                break
    if response is None:
        return None
    return response.get("TrailARN") or trail_name, response


@CloudTrailErrorHandler.common_error_handler("put event selectors")
def put_event_selectors(client, trail_arn: str, selection: dict[str, list]) -> None:
    client.put_event_selectors(aws_retry=True, TrailName=trail_arn, **selection_to_api(selection))


@CloudTrailErrorHandler.common_error_handler("put insight selectors")
def put_insight_selectors(client, trail_arn: str, insights: list[dict[str, Any]]) -> None:
    client.put_insight_selectors(aws_retry=True, TrailName=trail_arn, InsightSelectors=insights_to_api(insights))


# -- the event_selectors module's run -----------------------------------------
def run(module) -> dict[str, Any]:
    """Bring the trail's selectors and Insights to the module's parameters
    (already checked with ``validate_params``); the module's result. Raises
    ``ParameterError`` before any call when Insights lack the events they
    need; in check mode no write is made and the result is the prediction."""
    params = module.params
    desired = desired_selection(params)
    desired_insights = normalize_insights(params["insight_selectors"]) if params["insight_selectors"] is not None else None
    if desired is not None and desired_insights:
        problems = insight_prerequisite_problems(desired_insights, desired, "the given event selectors")
        if problems:
            raise ParameterError.of(problems)

    trail_name = params["trail_name"]
    region_client = module.client("cloudtrail", retry_decorator=transient_retry())
    # A trail ARN names its home region: read there too, and no lookup is needed.
    client = home_region_client(module, region_client, module.region, {"HomeRegion": trail_home_region(trail_name)})
    found = find_trail(client, trail_name)
    if found is None:
        region = trail_home_region(trail_name) or module.region
        module.fail_json(msg=f"trail_name: no trail {trail_name!r} in {region} (name a trail of another region by its ARN)")
    trail_arn, response = found
    home_region = trail_home_region(trail_arn) or module.region
    if client is region_client:
        client = home_region_client(module, region_client, module.region, {"HomeRegion": home_region})
    current = selection_from_api(response)

    current_insights = None
    if desired_insights is not None:
        if desired is None and desired_insights:
            problems = insight_prerequisite_problems(desired_insights, current, "the trail's current event selectors")
            if problems:
                module.fail_json(msg="; ".join(problems))
        current_insights = insights_from_api(get_insight_selectors(client, trail_arn))

    steps = plan(current, desired, current_insights, desired_insights)
    if not module.check_mode:
        if steps["put_insights_first"]:
            put_insight_selectors(client, trail_arn, desired_insights)
        if steps["put_event_selectors"]:
            put_event_selectors(client, trail_arn, desired)
        if steps["put_insight_selectors"] and not steps["put_insights_first"]:
            put_insight_selectors(client, trail_arn, desired_insights)

    result = dict(changed=steps["changed"], trail_arn=trail_arn, home_region=home_region, **steps["after"])
    if module._diff:
        result["diff"] = {"before": steps["before"], "after": steps["after"]}
    return result


# -- the modules' options ---------------------------------------------------
_VALUES = dict(type="list", elements="str")


def selector_argument_spec() -> dict[str, Any]:
    """The options that describe a trail's selectors and Insights, shared by
    the event_selectors and baseline modules."""
    field_selector = dict(
        field=dict(type="str", required=True),
        equals=_VALUES,
        starts_with=_VALUES,
        ends_with=_VALUES,
        not_equals=_VALUES,
        not_starts_with=_VALUES,
        not_ends_with=_VALUES,
    )
    return dict(
        preset=dict(type="str", choices=sorted(PRESETS)),
        event_selectors=dict(
            type="list",
            elements="dict",
            options=dict(
                read_write_type=dict(type="str", choices=list(READ_WRITE_TYPES), default="All"),
                include_management_events=dict(type="bool", default=True),
                exclude_management_event_sources=dict(type="list", elements="str"),
                data_resources=dict(
                    type="list",
                    elements="dict",
                    options=dict(
                        type=dict(type="str", required=True),
                        values=dict(type="list", elements="str", required=True),
                    ),
                ),
            ),
        ),
        advanced_event_selectors=dict(
            type="list",
            elements="dict",
            options=dict(
                name=dict(type="str"),
                field_selectors=dict(type="list", elements="dict", required=True, options=field_selector),
            ),
        ),
        insight_selectors=dict(
            type="list",
            elements="dict",
            options=dict(
                insight_type=dict(type="str", required=True, choices=list(INSIGHT_TYPES)),
                event_categories=dict(type="list", elements="str", choices=list(INSIGHT_EVENT_CATEGORIES)),
            ),
        ),
    )
