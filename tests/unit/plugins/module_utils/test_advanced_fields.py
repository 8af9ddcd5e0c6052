"""The advanced field table and the checks built on it: only the values the API
reference fixes (eventCategory, readOnly, resources.type) are refused, each
with the option's path and the allowed values; every other field takes any value."""

from __future__ import annotations

import pytest

from ansible_collections.trailops.cloudtrail.plugins.module_utils import advanced_fields as af
from ansible_collections.trailops.cloudtrail.plugins.module_utils import event_selectors as es


def selector(*fields):
    return {"trail_name": "audit-trail", "advanced_event_selectors": [{"field_selectors": list(fields)}]}


def field(name, **operators):
    return dict({"field": name}, **operators)


DATA = field("eventCategory", equals=["Data"])


@pytest.mark.parametrize(
    "params, message",
    [
        (
            selector(field("eventCategory", equals=["Bogus"])),
            "advanced_event_selectors[0].field_selectors[0].equals: eventCategory of a trail's advanced selector is "
            "one of Management, Data, NetworkActivity, not 'Bogus'",
        ),
        (
            selector(field("eventCategory", equals=["Management"]), field("readOnly", equals=["maybe"])),
            "advanced_event_selectors[0].field_selectors[1].equals: readOnly of a trail's advanced selector is one of true, false, not 'maybe'",
        ),
        (
            selector(DATA, field("resources.type", equals=["AWS::Nope::Thing"])),
            "advanced_event_selectors[0].field_selectors[1].equals: resources.type of a trail's advanced selector is "
            "one of the 175 data event resource types CloudTrail lists",
        ),
        # Case matters to CloudTrail: the reference spells them exactly.
        (selector(DATA, field("resources.type", equals=["aws::s3::object"])), "not 'aws::s3::object'"),
        (selector(field("eventCategory", equals=["Management"]), field("readOnly", equals=["True"])), "not 'True'"),
    ],
)
def test_values_the_reference_fixes_are_checked(params, message):
    problems = es.parameter_problems(params)
    assert any(message in problem for problem in problems), problems


@pytest.mark.parametrize(
    "fields",
    [
        (field("eventCategory", equals=["Management"]), field("readOnly", equals=["true"])),
        (field("eventCategory", equals=["Management"]), field("readOnly", equals=["false"])),
        (DATA, field("resources.type", equals=["AWS::S3::Object"])),
        (DATA, field("resources.type", equals=["AWS::DynamoDB::Table", "AWS::Lambda::Function"])),
        # Types only advanced selectors can log, from the user guide's table.
        (DATA, field("resources.type", equals=["AWS::S3Express::Object"])),
        (DATA, field("resources.type", equals=["AWS::SNS::Topic"]), field("eventName", equals=["Publish"])),
        (field("eventCategory", equals=["NetworkActivity"]), field("eventSource", equals=["s3.amazonaws.com"])),
        # Fields the reference leaves open take any value: CloudTrail's own error speaks for them.
        (DATA, field("resources.type", equals=["AWS::S3::Object"]), field("eventName", equals=["AnyNameAtAll"])),
        (DATA, field("resources.type", equals=["AWS::S3::Object"]), field("resources.ARN", starts_with=["arn:aws:s3:::b/"])),
        (DATA, field("resources.type", equals=["AWS::S3::Object"]), field("userIdentity.arn", not_equals=["arn:aws:iam::1:role/x"])),
        (field("eventCategory", equals=["NetworkActivity"]), field("eventSource", equals=["x"]), field("vpcEndpointId", equals=["vpce-1"])),
    ],
)
def test_accepted_values_pass(fields):
    assert es.parameter_problems(selector(*fields)) == []


def test_one_table_names_the_fields_and_their_rules():
    assert set(es.ADVANCED_FIELDS) == set(af.ADVANCED_FIELD_RULES)
    assert set(es.EQUALS_ONLY_FIELDS) == {"eventCategory", "readOnly", "resources.type"}
    assert [name for name, rule in af.ADVANCED_FIELD_RULES.items() if rule.values is not None] == ["eventCategory", "readOnly", "resources.type"]
    # The categories the table allows are those whose companion fields event_selectors knows.
    assert set(af.ADVANCED_FIELD_RULES["eventCategory"].values) == set(es.EVENT_CATEGORY_REQUIRED_FIELDS)


def test_resource_types_are_well_formed_and_unique():
    types = af.DATA_RESOURCE_TYPES
    assert len(types) == len(set(types)) == 175
    assert all(t.startswith("AWS::") and t.count("::") == 2 and " " not in t for t in types)
    # The three basic selector types are also advanced ones.
    assert set(es.BASIC_RESOURCE_TYPES) <= set(types)


@pytest.mark.parametrize(
    "name, values, refused",
    [
        ("readOnly", ["true", "no"], ["no"]),
        ("eventCategory", ["Insight"], ["Insight"]),  # event data stores only
        ("eventName", ["anything"], []),
        ("noSuchField", ["x"], []),  # the field name check reports it
    ],
)
def test_unknown_values(name, values, refused):
    assert af.unknown_values(name, values) == refused
