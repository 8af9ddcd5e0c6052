"""Case tables for module_utils/policy_statements.py: CloudTrail's statements
merged by Sid into a policy others write to."""

from __future__ import annotations

import copy
import json

import pytest

from ansible_collections.trailops.cloudtrail.plugins.module_utils import kms_key
from ansible_collections.trailops.cloudtrail.plugins.module_utils import policy_statements as ps
from ansible_collections.trailops.cloudtrail.plugins.module_utils import sns_topic

OURS = {
    "Sid": "AWSCloudTrailSNSPolicyabc",
    "Effect": "Allow",
    "Principal": {"Service": "cloudtrail.amazonaws.com"},
    "Action": "SNS:Publish",
    "Resource": "arn:aws:sns:us-east-1:123456789012:t",
    "Condition": {"StringEquals": {"aws:SourceArn": "arn:aws:cloudtrail:us-east-1:123456789012:trail/a"}},
}
FOREIGN = {"Sid": "Alarms", "Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "SNS:Publish", "Resource": "*"}
NO_SID = {"Effect": "Deny", "Principal": "*", "Action": "SNS:DeleteTopic", "Resource": "*"}
DEFAULT = {"Sid": "__default_statement_ID", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "SNS:Subscribe", "Resource": "*"}
BASE = {"Version": "2008-10-17", "Id": "base", "Statement": [DEFAULT]}


def policy(*statements, **top):
    document = {"Version": "2012-10-17", "Statement": list(statements)}
    document.update(top)
    return document


def changed(statement, **overrides):
    updated = copy.deepcopy(statement)
    updated.update(overrides)
    return updated


# ---------------------------------------------------------------- merge
@pytest.mark.parametrize(
    "current, expected",
    [
        pytest.param(None, BASE["Statement"] + [OURS], id="no policy: the base, then ours"),
        pytest.param(policy(FOREIGN), [FOREIGN, OURS], id="ours appended after a foreign one"),
        pytest.param(policy(FOREIGN, NO_SID), [FOREIGN, NO_SID, OURS], id="a statement without Sid is kept"),
        pytest.param(policy(changed(OURS, Resource="*"), FOREIGN), [OURS, FOREIGN], id="ours replaced where it stands"),
        pytest.param(policy(OURS, FOREIGN, changed(OURS, Resource="x")), [OURS, FOREIGN], id="a Sid twice collapses into one"),
        pytest.param(policy(), [OURS], id="an empty policy"),
    ],
)
def test_merge_keeps_every_foreign_statement_and_replaces_only_ours(current, expected):
    merged = ps.merge_policy(current, [OURS], BASE)
    assert merged["Statement"] == expected


def test_merge_keeps_the_documents_own_version_and_id():
    merged = ps.merge_policy(policy(FOREIGN, Id="mine", Version="2008-10-17"), [OURS], BASE)
    assert (merged["Version"], merged["Id"]) == ("2008-10-17", "mine")


def test_merge_of_a_single_statement_object():
    merged = ps.merge_policy({"Version": "2012-10-17", "Statement": FOREIGN}, [OURS], BASE)
    assert merged["Statement"] == [FOREIGN, OURS]


def test_merge_does_not_mutate_its_input():
    current = policy(FOREIGN, changed(OURS, Resource="*"))
    snapshot = copy.deepcopy(current)
    ps.merge_policy(current, [OURS], BASE)
    assert current == snapshot


def test_merge_is_idempotent_and_keeps_an_equal_statement_as_found():
    # AWS may give back "Action" as a list; that is the same grant, left as found.
    found = changed(OURS, Action=["SNS:Publish"])
    current = policy(FOREIGN, found)
    merged = ps.merge_policy(current, [OURS], BASE)
    assert merged == current
    assert not ps.policy_differs(current, merged)
    assert ps.merge_policy(merged, [OURS], BASE) == merged


@pytest.mark.parametrize(
    "current, differs",
    [
        (None, True),
        (policy(FOREIGN), True),
        (policy(changed(OURS, Condition={})), True),
        (policy(OURS), False),
        (policy(json.loads(json.dumps(OURS, indent=4))), False),
        (policy(changed(OURS, Principal={"Service": ["cloudtrail.amazonaws.com"]})), False),
    ],
)
def test_policy_differs_compares_semantically(current, differs):
    merged = ps.merge_policy(current, [OURS], BASE)
    assert ps.policy_differs(current, merged) is differs


# ---------------------------------------------------------------- Sid collisions
@pytest.mark.parametrize(
    "found, misused",
    [
        (OURS, False),
        (changed(OURS, Resource="*", Condition={}), False),
        (changed(OURS, Action=["sns:publish"]), False),
        (changed(OURS, Effect="Deny"), True),
        (changed(OURS, Principal={"Service": "events.amazonaws.com"}), True),
        (changed(OURS, Principal="*"), True),
        (changed(OURS, Action=["SNS:Publish", "SNS:Subscribe"]), True),
    ],
)
def test_a_statement_under_our_sid_must_be_our_kind_of_grant(found, misused):
    problem = ps.sid_misuse_error(policy(FOREIGN, found), [OURS], "topic policy")
    assert (problem is not None) is misused
    if misused:
        assert OURS["Sid"] in problem and "nothing was written" in problem


def test_wildcard_principal_spellings_are_the_same_grant():
    wanted = {"Sid": "x", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*"}
    assert ps.is_same_grant(changed(wanted, Principal="*"), wanted)


def test_duplicate_sids():
    assert ps.duplicate_sids([OURS, FOREIGN, OURS]) == [OURS["Sid"]]
    assert ps.duplicate_sids([OURS, FOREIGN]) == []


# ---------------------------------------------------------------- display
def test_owned_statements_show_only_ours_by_sid_in_sid_order():
    second = changed(OURS, Sid="AWSCloudTrailA")
    shown = ps.owned_statements(policy(FOREIGN, OURS, NO_SID, second, changed(OURS, Resource="x")), {OURS["Sid"], "AWSCloudTrailA"})
    assert list(shown) == ["AWSCloudTrailA", OURS["Sid"]]
    assert shown[OURS["Sid"]] == OURS


def test_view_shows_a_matching_statement_as_found_and_a_drifted_one_as_wanted():
    found = changed(OURS, Action=["SNS:Publish"])
    assert ps.view({OURS["Sid"]: found}, [OURS]) == {OURS["Sid"]: found}
    assert ps.view({OURS["Sid"]: changed(OURS, Condition={})}, [OURS]) == {OURS["Sid"]: OURS}
    assert ps.view({}, [OURS]) == {OURS["Sid"]: OURS}


# ---------------------------------------------------------------- documents and size
@pytest.mark.parametrize("text", ["not json", "[]", '{"Statement": "x"}', '"text"'])
def test_a_policy_that_is_no_policy_document_is_refused(text):
    with pytest.raises(ps.PolicyDocumentError, match="left untouched"):
        ps.parse_policy(text, "key policy")


@pytest.mark.parametrize("text", [None, ""])
def test_no_policy_text_is_no_policy(text):
    assert ps.parse_policy(text, "topic policy") is None


def test_serialize_is_compact():
    assert ps.serialize_policy({"a": [1, 2]}) == '{"a":[1,2]}'


@pytest.mark.parametrize("limit, what", [(kms_key.MAX_KEY_POLICY_BYTES, "key policy"), (sns_topic.MAX_TOPIC_POLICY_BYTES, "topic policy")])
def test_size_limit_is_measured_on_the_text_sent(limit, what):
    def padded(total):
        document = policy(changed(FOREIGN, Resource=""))
        document["Statement"][0]["Resource"] = "x" * (total - len(ps.serialize_policy(document)))
        assert len(ps.serialize_policy(document)) == total
        return document

    assert ps.size_error(padded(limit), limit, what) is None
    problem = ps.size_error(padded(limit + 1), limit, what)
    assert f"{limit + 1} bytes" in problem and str(limit) in problem and what in problem


def test_documented_limits():
    # KMS: CreateKey/PutKeyPolicy "32 kilobytes (32768 bytes)"; SNS: "30 kb" (policy quotas).
    assert kms_key.MAX_KEY_POLICY_BYTES == 32768
    assert sns_topic.MAX_TOPIC_POLICY_BYTES == 30720


# ---------------------------------------------------------------- Sid suffix
@pytest.mark.parametrize(
    "name, arn, expected_prefix",
    [
        ("management-events", "arn:aws:cloudtrail:us-east-1:123456789012:trail/management-events", "managementevents"),
        ("a.b_c", "arn:aws:cloudtrail:us-east-1:123456789012:trail/a.b_c", "abc"),
        ("x" * 128, "arn:aws:cloudtrail:us-east-1:123456789012:trail/" + "x" * 128, "x" * 40),
    ],
)
def test_trail_sid_suffix_is_letters_and_digits_and_eight_hex_of_the_arn(name, arn, expected_prefix):
    suffix = ps.trail_sid_suffix(name, arn)
    assert suffix.startswith(expected_prefix) and len(suffix) == len(expected_prefix) + 8
    assert suffix.isalnum()


def test_the_same_name_in_another_region_gets_another_suffix():
    east = ps.trail_sid_suffix("t", "arn:aws:cloudtrail:us-east-1:123456789012:trail/t")
    west = ps.trail_sid_suffix("t", "arn:aws:cloudtrail:us-west-2:123456789012:trail/t")
    assert east != west


# ---------------------------------------------------------------- merge_checked: the plan's and the write's one question
DENY_UNDER_OUR_SID = changed(OURS, Effect="Deny")


@pytest.mark.parametrize(
    "current, limit, merged, problem",
    [
        (None, 30 * 1024, dict(BASE, Statement=[DEFAULT, OURS]), None),
        (policy(FOREIGN), 30 * 1024, policy(FOREIGN, OURS), None),
        # Already there, formatted differently: nothing to write.
        (policy(FOREIGN, changed(OURS, Action=["SNS:Publish"])), 30 * 1024, None, None),
        (policy(DENY_UNDER_OUR_SID), 30 * 1024, None, "is not CloudTrail's grant"),
        (policy(FOREIGN), 100, policy(FOREIGN, OURS), "over the limit of 100"),
    ],
    ids=["no policy yet", "appended", "already there", "our Sid misused", "too large"],
)
def test_merge_checked_says_what_to_write_or_why_not(current, limit, merged, problem):
    found, why = ps.merge_checked(current, [OURS], BASE, limit, "topic policy of t")
    assert found == merged
    assert (why is None) if problem is None else (problem in why)


def test_a_state_read_from_a_policy_shows_our_statements_and_keeps_the_policy_unseen():
    read = policy(FOREIGN, OURS)
    state = ps.PolicyState.of(read, {OURS["Sid"]}, name="t")
    assert state == {"name": "t", "statements": {OURS["Sid"]: OURS}}
    assert ps.read_policy(state, "2008-10-17") is read
    # A state without the policy (as a diff shows it) stands for our statements alone.
    assert ps.read_policy(dict(state), "2008-10-17") == {"Version": "2008-10-17", "Statement": [OURS]}
