"""The trail's KMS key part (module_utils/kms_key.py): checks, desired state
and plans as case tables; the reads and writes with a fake client that
answers as KMS does and records what it was asked."""

from __future__ import annotations

import copy
import json
from unittest.mock import MagicMock

import pytest
from botocore.exceptions import ClientError

from ansible_collections.trailops.cloudtrail.plugins.module_utils import kms_key
from ansible_collections.trailops.cloudtrail.plugins.module_utils import policy_statements as ps
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parts import KNOWN_AFTER_RUN
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parameters import ParameterError
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parts import Where

ACCOUNT = "123456789012"
WHERE = Where(ACCOUNT, "aws", "us-east-1", "management-events")
ALIAS = "alias/cloudtrail/management-events"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{KEY_ID}"
FOREIGN = {"Sid": "Auditors", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/a"}, "Action": "kms:Decrypt", "Resource": "*"}


def existing(policy=None, rotation=True, alias=ALIAS, key_state="Enabled", description="CloudTrail log files of the trail management-events"):
    """A key's state as read() returns it, with the key policy it was read from."""
    if policy is None:
        policy = ps.merge_policy(None, kms_key.desired_statements(WHERE), kms_key.creation_policy(WHERE))
    sids = set(kms_key.statement_sids(WHERE).values())
    return ps.PolicyState.of(
        policy, sids, alias=alias, key_arn=KEY_ARN, description=description, enable_key_rotation=rotation, key_state=key_state
    )


def plan_for(before, spec=None):
    spec = spec or {}
    return kms_key.plan(before, kms_key.desired(spec, WHERE), spec, WHERE)


# ---------------------------------------------------------------- check
@pytest.mark.parametrize(
    "spec, option",
    [
        ({}, None),
        ({"alias": "alias/cloudtrail/x_y-z/1"}, None),
        ({"alias": "alias/" + "a" * 250}, None),
        ({"alias": "alias/" + "a" * 251}, "kms_key_alias"),
        ({"alias": "cloudtrail/x"}, "kms_key_alias"),
        ({"alias": "alias/"}, "kms_key_alias"),
        ({"alias": "alias/with.dot"}, "kms_key_alias"),
        ({"alias": "alias/with:colon"}, "kms_key_alias"),
        ({"alias": "alias/x\n"}, "kms_key_alias"),
        ({"alias": "alias/aws/cloudtrail"}, "kms_key_alias"),
        ({"description": "d" * 8192}, None),
        ({"description": "d" * 8193}, "kms_key.description"),
    ],
)
def test_check(spec, option):
    if option is None:
        kms_key.check(spec)
        return
    with pytest.raises(ParameterError) as raised:
        kms_key.check(spec)
    assert raised.value.option == option
    assert "nothing was written" in str(raised.value)


@pytest.mark.parametrize("trail, alias", [("management-events", ALIAS), ("org.trail", "alias/cloudtrail/org-trail")])
def test_default_alias_is_always_one_kms_accepts(trail, alias):
    assert kms_key.default_alias(trail) == alias
    kms_key.check({"alias": alias})


# ---------------------------------------------------------------- desired
def test_desired_is_the_flat_normalized_state():
    desired = kms_key.desired({}, WHERE)
    assert list(desired) == ["alias", "key_arn", "description", "enable_key_rotation", "key_state", "statements"]
    assert desired["alias"] == ALIAS
    assert desired["key_arn"] == KNOWN_AFTER_RUN
    assert desired["enable_key_rotation"] is True
    assert list(desired["statements"]) == list(kms_key.statement_sids(WHERE).values())


def test_the_statements_are_the_user_guides_for_this_trail():
    encrypt, describe, decrypt = kms_key.desired_statements(WHERE)
    assert encrypt["Action"] == "kms:GenerateDataKey*"
    assert encrypt["Condition"] == {
        "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{ACCOUNT}:trail/*"},
        "StringEquals": {"aws:SourceArn": WHERE.trail_arn},
    }
    assert describe["Action"] == "kms:DescribeKey" and "Condition" not in describe
    assert decrypt["Action"] == ["kms:Decrypt", "kms:ReEncryptFrom"]
    assert decrypt["Condition"]["StringEquals"] == {"kms:CallerAccount": ACCOUNT}
    assert {s["Principal"].get("Service") for s in (encrypt, describe)} == {"cloudtrail.amazonaws.com"}


def test_two_trails_have_different_sids():
    other = Where(ACCOUNT, "aws", "us-east-1", "data-events")
    assert not set(kms_key.statement_sids(WHERE).values()) & set(kms_key.statement_sids(other).values())
    assert not ps.duplicate_sids(kms_key.desired_statements(WHERE) + kms_key.desired_statements(other))


def test_partition_follows_where():
    china = Where(ACCOUNT, "aws-cn", "cn-north-1", "t1")
    assert kms_key.creation_policy(china)["Statement"][0]["Principal"] == {"AWS": f"arn:aws-cn:iam::{ACCOUNT}:root"}
    assert kms_key.desired_statements(china)[0]["Condition"]["StringEquals"]["aws:SourceArn"].startswith("arn:aws-cn:cloudtrail:cn-north-1:")


# ---------------------------------------------------------------- plan
def test_plan_create_makes_the_key_with_its_policy_then_alias_then_rotation():
    plan = plan_for(None)
    assert plan.steps == ["CreateKey", "CreateAlias", "EnableKeyRotation"]
    assert plan.before is None
    assert plan.after == kms_key.desired({}, WHERE)
    sids = [s["Sid"] for s in plan.data["policy"]["Statement"]]
    assert sids == [kms_key.ROOT_SID, *kms_key.statement_sids(WHERE).values()]
    # The result never shows the account's root statement: it is not ours.
    assert kms_key.ROOT_SID not in plan.after["statements"]


def test_plan_no_change():
    before = existing()
    plan = plan_for(before)
    assert plan.steps == []
    assert plan.after == dict(before)


def test_plan_adds_our_statements_to_a_policy_without_them_keeping_the_rest():
    policy = {"Version": "2012-10-17", "Statement": [FOREIGN]}
    plan = plan_for(existing(policy))
    assert plan.steps == ["PutKeyPolicy"]
    assert plan.before["statements"] == {}
    assert plan.after["statements"] == kms_key.desired({}, WHERE)["statements"]


def test_plan_repairs_a_drifted_statement_and_shows_before_and_after():
    policy = ps.merge_policy(None, kms_key.desired_statements(WHERE), kms_key.creation_policy(WHERE))
    drifted = copy.deepcopy(policy)
    encrypt = kms_key.statement_sids(WHERE)["encrypt"]
    loosened = next(s for s in drifted["Statement"] if s["Sid"] == encrypt)
    loosened["Condition"]["StringEquals"]["aws:SourceArn"] = "arn:aws:cloudtrail:us-east-1:123456789012:trail/*"
    plan = plan_for(existing(drifted))
    assert plan.steps == ["PutKeyPolicy"]
    assert plan.before["statements"][encrypt] != plan.after["statements"][encrypt]
    assert plan.after["statements"][encrypt]["Condition"]["StringEquals"]["aws:SourceArn"] == WHERE.trail_arn


def test_plan_turns_rotation_on():
    plan = plan_for(existing(rotation=False))
    assert plan.steps == ["EnableKeyRotation"]
    assert (plan.before["enable_key_rotation"], plan.after["enable_key_rotation"]) == (False, True)


def test_plan_never_rewrites_the_description_of_an_existing_key():
    plan = plan_for(existing(description="shared by two trails"), {"description": "another"})
    assert plan.steps == []
    assert plan.after["description"] == "shared by two trails"


def test_plan_adopts_a_key_left_without_its_alias():
    plan = plan_for(existing(alias=None, rotation=False))
    assert plan.steps == ["CreateAlias", "EnableKeyRotation"]
    assert plan.before["alias"] is None
    assert plan.after["alias"] == ALIAS and plan.after["key_arn"] == KEY_ARN


@pytest.mark.parametrize("key_state", ["Disabled", "PendingDeletion", "PendingImport", "Unavailable"])
def test_plan_refuses_a_key_that_is_not_enabled_naming_the_alias(key_state):
    with pytest.raises(ParameterError) as raised:
        plan_for(existing(key_state=key_state, rotation=None))
    assert raised.value.option == "kms_key_alias"
    assert ALIAS in str(raised.value) and key_state in str(raised.value) and "nothing was written" in str(raised.value)


def test_plan_refuses_a_foreign_statement_under_our_sid():
    decrypt = kms_key.statement_sids(WHERE)["decrypt"]
    policy = {"Version": "2012-10-17", "Statement": [{"Sid": decrypt, "Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*"}]}
    with pytest.raises(ParameterError, match=decrypt):
        plan_for(existing(policy))


def test_plan_refuses_a_merge_over_the_key_policy_size_limit():
    big = dict(FOREIGN, Resource="x" * kms_key.MAX_KEY_POLICY_BYTES)
    with pytest.raises(ParameterError, match="over the limit of 32768"):
        plan_for(existing({"Version": "2012-10-17", "Statement": [big]}))


def test_plan_without_the_read_policy_merges_what_the_state_shows():
    before = dict(existing())
    assert plan_for(before).steps == []


def test_plan_keeps_the_key_when_it_must_not_exist():
    before = existing()
    plan = kms_key.plan(before, None, {}, WHERE)
    assert plan.steps == [] and plan.after == before


# ---------------------------------------------------------------- read and apply with a fake KMS
def not_found(operation):
    return ClientError({"Error": {"Code": "NotFoundException", "Message": "not found"}}, operation)


def meta(key_id, state="Enabled", manager="CUSTOMER", spec="SYMMETRIC_DEFAULT", created="2026-01-01"):
    return {
        "KeyId": key_id,
        "Arn": f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{key_id}",
        "KeyState": state,
        "KeyManager": manager,
        "KeySpec": spec,
        "KeyUsage": "ENCRYPT_DECRYPT",
        "Description": "d",
        "CreationDate": created,
    }


class FakeKms:
    """Answers as KMS does, from a table of keys; records every call."""

    def __init__(self, keys, aliases, tags):
        self.keys, self.aliases, self.tags = keys, aliases, tags
        self.calls = []
        self.policy = ps.merge_policy(None, kms_key.desired_statements(WHERE), kms_key.creation_policy(WHERE))

    def _call(self, name, **kwargs):
        kwargs.pop("aws_retry", None)
        self.calls.append((name, kwargs.get("KeyId")))
        return kwargs

    def describe_key(self, **kwargs):
        kwargs = self._call("DescribeKey", **kwargs)
        key_id = self.aliases.get(kwargs["KeyId"], kwargs["KeyId"])
        if key_id not in self.keys:
            raise not_found("DescribeKey")
        return {"KeyMetadata": self.keys[key_id]}

    def list_aliases(self, **kwargs):
        self._call("ListAliases", **kwargs)
        return {"Aliases": [{"AliasName": a, "TargetKeyId": k} for a, k in self.aliases.items()], "Truncated": False}

    def list_keys(self, **kwargs):
        self._call("ListKeys", **kwargs)
        return {"Keys": [{"KeyId": k} for k in self.keys], "Truncated": False}

    def list_resource_tags(self, **kwargs):
        kwargs = self._call("ListResourceTags", **kwargs)
        return {"Tags": [{"TagKey": k, "TagValue": v} for k, v in self.tags.get(kwargs["KeyId"], {}).items()], "Truncated": False}

    def get_key_policy(self, **kwargs):
        self._call("GetKeyPolicy", **kwargs)
        return {"Policy": json.dumps(self.policy)}

    def get_key_rotation_status(self, **kwargs):
        self._call("GetKeyRotationStatus", **kwargs)
        return {"KeyRotationEnabled": True}


def test_read_an_existing_key_makes_three_calls_none_of_which_fails():
    kms = FakeKms({KEY_ID: meta(KEY_ID)}, {ALIAS: KEY_ID}, {})
    state = kms_key.read(lambda service: kms, {}, WHERE)
    assert [name for name, dummy in kms.calls] == ["DescribeKey", "GetKeyPolicy", "GetKeyRotationStatus"]
    assert state["alias"] == ALIAS and state["key_arn"] == meta(KEY_ID)["Arn"]
    assert state.policy == kms.policy
    assert plan_for(state).steps == []


def test_read_without_any_key_lists_once_and_finds_nothing():
    kms = FakeKms({}, {}, {})
    assert kms_key.read(lambda service: kms, {}, WHERE) is None
    assert [name for name, dummy in kms.calls] == ["DescribeKey", "ListAliases", "ListKeys"]


def test_find_orphan_looks_closer_only_at_keys_without_an_alias_and_adopts_only_ours():
    keys = {
        "aliased": meta("aliased"),
        "ours": meta("ours", created="2026-02-01"),
        "ours-older": meta("ours-older", created="2026-01-01"),
        "other-alias": meta("other-alias"),
        "untagged": meta("untagged"),
        "deleting": meta("deleting", state="PendingDeletion"),
        "disabled": meta("disabled", state="Disabled"),
        "aws": meta("aws", manager="AWS"),
    }
    tags = {k: {kms_key.ALIAS_TAG: ALIAS} for k in ("aliased", "ours", "ours-older", "deleting", "disabled", "aws")}
    tags["other-alias"] = {kms_key.ALIAS_TAG: "alias/cloudtrail/other"}
    kms = FakeKms(keys, {"alias/other": "aliased"}, tags)
    found = kms_key.find_orphan(kms, ALIAS)
    assert found["KeyId"] == "ours-older"
    asked = kms.calls
    assert [name for name, dummy in asked].count("ListAliases") == 1
    assert ("DescribeKey", "aliased") not in asked
    # Tags are read only of Enabled customer keys.
    assert {key for name, key in asked if name == "ListResourceTags"} == {"ours", "ours-older", "other-alias", "untagged"}


def test_read_refuses_an_asymmetric_key_naming_the_alias():
    kms = FakeKms({KEY_ID: meta(KEY_ID, spec="RSA_2048")}, {ALIAS: KEY_ID}, {})
    with pytest.raises(ParameterError, match="symmetric"):
        kms_key.read(lambda service: kms, {}, WHERE)


def test_read_of_a_key_pending_deletion_does_not_ask_for_its_policy():
    kms = FakeKms({KEY_ID: meta(KEY_ID, state="PendingDeletion")}, {ALIAS: KEY_ID}, {})
    state = kms_key.read(lambda service: kms, {}, WHERE)
    assert [name for name, dummy in kms.calls] == ["DescribeKey"]
    with pytest.raises(ParameterError, match="PendingDeletion"):
        plan_for(state)


def test_apply_create_sends_the_planned_policy_tag_and_no_lockout_bypass():
    kms = MagicMock()
    kms.create_key.return_value = {"KeyMetadata": {"KeyId": KEY_ID, "Arn": KEY_ARN}}
    plan = plan_for(None)
    after = kms_key.apply(lambda service: kms, plan, WHERE)
    assert after == dict(plan.after, key_arn=KEY_ARN)
    kwargs = kms.create_key.call_args.kwargs
    assert json.loads(kwargs["Policy"]) == plan.data["policy"]
    assert kwargs["BypassPolicyLockoutSafetyCheck"] is False
    assert kwargs["Tags"] == [{"TagKey": kms_key.ALIAS_TAG, "TagValue": ALIAS}]
    kms.create_alias.assert_called_once_with(aws_retry=True, AliasName=ALIAS, TargetKeyId=KEY_ID)
    kms.enable_key_rotation.assert_called_once_with(aws_retry=True, KeyId=KEY_ID)


def test_apply_merges_into_the_policy_as_read_at_write_time():
    # Someone added a statement after the plan's read: the write keeps it.
    plan = plan_for(existing({"Version": "2012-10-17", "Statement": []}))
    kms = MagicMock()
    kms.get_key_policy.return_value = {"Policy": json.dumps({"Version": "2012-10-17", "Statement": [FOREIGN]})}
    # KMS keeps what is put; the write is read back.
    kms.put_key_policy.side_effect = lambda **kwargs: kms.get_key_policy.return_value.update(Policy=kwargs["Policy"])
    kms_key.apply(lambda service: kms, plan, WHERE)
    written = json.loads(kms.put_key_policy.call_args.kwargs["Policy"])
    assert written["Statement"][0] == FOREIGN
    assert [s["Sid"] for s in written["Statement"][1:]] == list(kms_key.statement_sids(WHERE).values())
    assert kms.put_key_policy.call_count == 1


def test_a_key_policy_write_lost_to_another_writer_is_merged_and_written_again():
    """Two trails' runs put the shared key's policy at once: the other run's
    write, merged from a read before ours, replaces ours; the read-back shows
    it, and ours is merged into theirs and written again."""
    theirs = dict(FOREIGN, Sid="OtherTrailsGrant")
    stored = {"Policy": json.dumps({"Version": "2012-10-17", "Statement": [FOREIGN]})}
    puts = []

    def put_key_policy(**kwargs):
        puts.append(json.loads(kwargs["Policy"]))
        # The first write is lost: the other writer's lands right after it.
        stored["Policy"] = json.dumps({"Version": "2012-10-17", "Statement": [FOREIGN, theirs]}) if len(puts) == 1 else kwargs["Policy"]

    kms = MagicMock()
    kms.get_key_policy.side_effect = lambda **kwargs: dict(stored)
    kms.put_key_policy.side_effect = put_key_policy
    kms_key.settle_key_policy(kms, KEY_ID, ALIAS, WHERE, pause=lambda seconds: None)
    assert len(puts) == 2
    final = [s["Sid"] for s in json.loads(stored["Policy"])["Statement"]]
    assert final[:2] == [FOREIGN["Sid"], "OtherTrailsGrant"]
    assert set(kms_key.statement_sids(WHERE).values()) <= set(final)


def test_a_key_policy_that_never_keeps_our_statements_fails_naming_the_key():
    kms = MagicMock()
    kms.get_key_policy.return_value = {"Policy": json.dumps({"Version": "2012-10-17", "Statement": [FOREIGN]})}
    with pytest.raises(kms_key.AnsibleKmsKeyError, match="still lacks this trail's statements after 8 writes"):
        kms_key.settle_key_policy(kms, KEY_ID, ALIAS, WHERE, pause=lambda seconds: None)
    assert kms.put_key_policy.call_count == kms_key.KEY_POLICY_ATTEMPTS


def test_apply_waits_for_a_new_key_kms_does_not_find_yet():
    # KMS is eventually consistent: CreateAlias right after CreateKey may not find the key.
    kms = MagicMock()
    kms.create_key.return_value = {"KeyMetadata": {"KeyId": KEY_ID, "Arn": KEY_ARN}}
    kms.create_alias.side_effect = [not_found("CreateAlias"), {}]
    after = kms_key.apply(lambda service: kms, plan_for(None), WHERE)
    assert after["key_arn"] == KEY_ARN
    assert kms.create_alias.call_count == 2
    assert kms.create_key.call_count == 1


def test_a_new_key_that_lost_its_alias_to_another_run_is_scheduled_for_deletion():
    """Two accounts' runs make the log archive's shared key at once: the one
    whose CreateAlias finds the alias taken schedules its own unused key for
    deletion and says so, for the caller to read the part again."""
    kms = MagicMock()
    kms.create_key.return_value = {"KeyMetadata": {"KeyId": KEY_ID, "Arn": KEY_ARN}}
    kms.create_alias.side_effect = ClientError({"Error": {"Code": "AlreadyExistsException", "Message": "exists"}}, "CreateAlias")
    with pytest.raises(kms_key.KeyAliasTaken):
        kms_key.apply(lambda service: kms, plan_for(None), WHERE)
    kms.schedule_key_deletion.assert_called_once_with(aws_retry=True, KeyId=KEY_ID, PendingWindowInDays=7)
    kms.enable_key_rotation.assert_not_called()


def test_a_new_key_policy_names_the_account_that_owns_the_key():
    """A log archive's key: the root statement is the archive's, the trail's grant the member's."""
    archive = Where(ACCOUNT, "aws", "us-east-1", "management-events", owner="210987654321")
    policy = kms_key.creation_policy(archive)
    assert policy["Statement"][0]["Principal"] == {"AWS": "arn:aws:iam::210987654321:root"}
    encrypt = kms_key.desired_statements(archive)[0]
    assert encrypt["Condition"]["StringEquals"] == {"aws:SourceArn": WHERE.trail_arn}
