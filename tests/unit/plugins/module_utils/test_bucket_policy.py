"""Case tables for the pure functions of module_utils/bucket_policy.py."""

from __future__ import annotations

import copy
import json

import pytest

from ansible_collections.trailops.cloudtrail.plugins.module_utils import bucket_policy as bp
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parameters import ParameterError
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parts import Where

ACCOUNT = "123456789012"
ARN_A = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/a-trail"
ARN_B = "arn:aws:cloudtrail:eu-west-1:210987654321:trail/b-trail"
OWNED = set(bp.owned_sids().values())
FOREIGN = {
    "Sid": "Foreign",
    "Effect": "Allow",
    "Principal": {"Service": "config.amazonaws.com"},
    "Action": "s3:PutObject",
    "Resource": "arn:aws:s3:::b/*",
    "Condition": {"StringEquals": {"AWS:SourceAccount": ACCOUNT}},
}
NO_SID = {"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket", "Resource": "arn:aws:s3:::b"}


def valid(**overrides):
    params = {
        "bucket": "trail-logs",
        "trails": ["a-trail"],
        "account_id": None,
        "s3_key_prefix": None,
        "organization_id": None,
        "deny_insecure_transport": False,
        "sid_suffix": bp.DEFAULT_SID_SUFFIX,
        "state": "present",
    }
    params.update(overrides)
    return params


@pytest.mark.parametrize(
    "overrides, parameter",
    [
        ({}, None),
        ({"trails": [ARN_A, ARN_B, "x.y_z-1"]}, None),
        ({"state": "absent", "trails": None}, None),
        ({"sid_suffix": ""}, None),
        ({"s3_key_prefix": "logs/"}, None),
        ({"s3_key_prefix": "a/b"}, None),
        ({"account_id": ACCOUNT, "organization_id": "o-abcdefghij"}, None),
        ({"bucket": "ab"}, "bucket"),
        ({"bucket": "UPPER"}, "bucket"),
        ({"bucket": "ends-"}, "bucket"),
        ({"trails": None}, "trails"),
        ({"trails": []}, "trails"),
        ({"trails": ["ab"]}, "trails"),
        ({"trails": ["x" * 129]}, "trails"),
        ({"trails": ["-trail"]}, "trails"),
        ({"trails": ["my-_trail"]}, "trails"),
        ({"trails": ["my trail"]}, "trails"),
        ({"trails": ["192.168.1.1"]}, "trails"),
        ({"trails": ["arn:aws:s3:::bucket"]}, "trails"),
        ({"trails": ["arn:aws:cloudtrail:us-east-1:123:trail/abc"]}, "trails"),
        ({"trails": ["arn:aws:cloudtrail:us-east-1:123456789012:trail/a..b"]}, "trails"),
        ({"account_id": "12345678901a"}, "account_id"),
        ({"organization_id": "o-SHORT"}, "organization_id"),
        ({"s3_key_prefix": "/logs"}, "s3_key_prefix"),
        ({"s3_key_prefix": "p" * 201}, "s3_key_prefix"),
        ({"sid_suffix": "team-b"}, "sid_suffix"),
        ({"sid_suffix": "x" * 65}, "sid_suffix"),
        ({"sid_suffix": "bad suffix", "state": "absent"}, "sid_suffix"),
    ],
)
def test_validate_params_names_the_parameter(overrides, parameter):
    if parameter is None:
        bp.validate_params(valid(**overrides))
        return
    with pytest.raises(ParameterError) as raised:
        bp.validate_params(valid(**overrides))
    assert raised.value.option == parameter and str(raised.value).startswith(f"{parameter}: ")


@pytest.mark.parametrize(
    "trails, region, account, expected",
    [
        (["a-trail"], "us-east-1", ACCOUNT, [ARN_A]),
        ([ARN_B, "a-trail", ARN_A], "us-east-1", ACCOUNT, sorted([ARN_A, ARN_B])),
        ([ARN_B], None, None, [ARN_B]),
        (["t-cn"], "cn-north-1", ACCOUNT, [f"arn:aws-cn:cloudtrail:cn-north-1:{ACCOUNT}:trail/t-cn"]),
        (["t-gov"], "us-gov-west-1", ACCOUNT, [f"arn:aws-us-gov:cloudtrail:us-gov-west-1:{ACCOUNT}:trail/t-gov"]),
    ],
)
def test_resolve_trail_arns(trails, region, account, expected):
    assert bp.resolve_trail_arns(trails, region, account) == expected


def test_resolve_trail_arns_needs_account_for_names():
    with pytest.raises(ValueError):
        bp.resolve_trail_arns(["a-trail"], "us-east-1", None)


@pytest.mark.parametrize(
    "trails, expected",
    [([ARN_A], False), (["a-trail"], True), ([ARN_A, "b-trail"], True)],
)
def test_trails_needing_account(trails, expected):
    assert bp.trails_needing_account(trails) is expected


@pytest.mark.parametrize(
    "kwargs, acl_source, write_resource",
    [
        ({}, ARN_A, f"arn:aws:s3:::bkt/AWSLogs/{ACCOUNT}/*"),
        ({"s3_key_prefix": "p/q/"}, ARN_A, f"arn:aws:s3:::bkt/p/q/AWSLogs/{ACCOUNT}/*"),
        ({"s3_key_prefix": ""}, ARN_A, f"arn:aws:s3:::bkt/AWSLogs/{ACCOUNT}/*"),
        (
            {"organization_id": "o-abcdefghij"},
            ARN_A,
            [f"arn:aws:s3:::bkt/AWSLogs/{ACCOUNT}/*", "arn:aws:s3:::bkt/AWSLogs/o-abcdefghij/*"],
        ),
        (
            {"trail_arns": [ARN_A, ARN_B]},
            sorted([ARN_B, ARN_A]),
            [f"arn:aws:s3:::bkt/AWSLogs/{ACCOUNT}/*", "arn:aws:s3:::bkt/AWSLogs/210987654321/*"],
        ),
    ],
)
def test_desired_statements(kwargs, acl_source, write_resource):
    kwargs = dict({"bucket": "bkt", "trail_arns": [ARN_A]}, **kwargs)
    acl_check, write = bp.desired_statements(**kwargs)
    assert acl_check["Sid"] == "AWSCloudTrailAclCheck20150319"
    assert acl_check["Action"] == "s3:GetBucketAcl"
    assert acl_check["Resource"] == "arn:aws:s3:::bkt"
    assert acl_check["Condition"] == {"StringEquals": {"aws:SourceArn": acl_source}}
    assert write["Sid"] == "AWSCloudTrailWrite20150319"
    assert write["Action"] == "s3:PutObject"
    assert write["Resource"] == write_resource
    assert write["Condition"]["StringEquals"] == {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": acl_source}
    assert {s["Principal"]["Service"] for s in (acl_check, write)} == {"cloudtrail.amazonaws.com"}


def test_desired_statements_deny_and_suffix():
    statements = bp.desired_statements("bkt", [ARN_A], deny_insecure_transport=True, sid_suffix="TeamB")
    assert [s["Sid"] for s in statements] == ["AWSCloudTrailAclCheckTeamB", "AWSCloudTrailWriteTeamB", "AWSCloudTrailDenyInsecureTransportTeamB"]
    deny = statements[2]
    assert deny["Effect"] == "Deny" and deny["Principal"] == "*"
    assert deny["Resource"] == ["arn:aws:s3:::bkt", "arn:aws:s3:::bkt/*"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_desired_statements_take_the_partition_of_the_trails():
    arn = f"arn:aws-cn:cloudtrail:cn-north-1:{ACCOUNT}:trail/t"
    acl_check, write = bp.desired_statements("bkt", [arn])
    assert acl_check["Resource"] == "arn:aws-cn:s3:::bkt"
    assert write["Resource"] == f"arn:aws-cn:s3:::bkt/AWSLogs/{ACCOUNT}/*"


@pytest.mark.parametrize(
    "text, expected",
    [
        (None, None),
        ('{"Version": "2012-10-17", "Statement": []}', {"Version": "2012-10-17", "Statement": []}),
        ('{"Statement": {"Sid": "One"}}', {"Statement": {"Sid": "One"}}),
    ],
)
def test_parse_policy(text, expected):
    assert bp.parse_policy(text) == expected


@pytest.mark.parametrize("text", ["{", "not json", "[]", '"text"', '{"Statement": "x"}'])
def test_parse_policy_rejects(text):
    with pytest.raises(bp.InvalidBucketPolicyError) as error:
        bp.parse_policy(text)
    assert error.value.message.startswith("bucket: ")


DESIRED = bp.desired_statements("b", [ARN_A])
ACL, WRITE = DESIRED
OLD_ACL = dict(ACL, Condition={})
OLD_WRITE = dict(WRITE, Resource="arn:aws:s3:::b/*")


@pytest.mark.parametrize(
    "current, desired, expected_statements",
    [
        # No policy yet: ours alone.
        (None, DESIRED, [ACL, WRITE]),
        # Foreign statements (with and without a Sid) stay first, untouched.
        ({"Statement": [FOREIGN, NO_SID]}, DESIRED, [FOREIGN, NO_SID, ACL, WRITE]),
        # Ours are replaced where they are.
        ({"Statement": [OLD_WRITE, FOREIGN, OLD_ACL]}, DESIRED, [WRITE, FOREIGN, ACL]),
        # A single-statement policy (Statement as an object).
        ({"Statement": FOREIGN}, DESIRED, [FOREIGN, ACL, WRITE]),
        # A duplicated owned Sid collapses into one statement.
        ({"Statement": [OLD_WRITE, OLD_WRITE, FOREIGN]}, DESIRED, [WRITE, FOREIGN, ACL]),
        # Absent: only ours go.
        ({"Statement": [OLD_ACL, FOREIGN, WRITE]}, [], [FOREIGN]),
        # A Sid that only looks like ours is not ours.
        ({"Statement": [dict(FOREIGN, Sid="AWSCloudTrailWrite")]}, [], [dict(FOREIGN, Sid="AWSCloudTrailWrite")]),
    ],
)
def test_merge_policy(current, desired, expected_statements):
    before = copy.deepcopy(current)
    merged = bp.merge_policy(current, desired, OWNED)
    assert merged["Statement"] == expected_statements
    assert current == before


def test_merge_policy_keeps_policy_level_keys_and_defaults_version():
    merged = bp.merge_policy({"Version": "2008-10-17", "Id": "mine", "Statement": [FOREIGN]}, DESIRED, OWNED)
    assert (merged["Version"], merged["Id"]) == ("2008-10-17", "mine")
    assert bp.merge_policy(None, DESIRED, OWNED)["Version"] == "2012-10-17"


@pytest.mark.parametrize("current", [None, {"Statement": [ACL, WRITE]}, {"Version": "2012-10-17", "Statement": []}])
def test_merge_policy_nothing_left_means_no_policy(current):
    assert bp.merge_policy(current, [], OWNED) is None


REORDERED = json.loads(json.dumps({"Statement": [dict(reversed(list(WRITE.items()))), FOREIGN, ACL], "Version": "2012-10-17"}))


@pytest.mark.parametrize(
    "current, after, expected",
    [
        (None, None, None),
        (None, {"Statement": [ACL]}, "put"),
        ({"Statement": [ACL]}, None, "delete"),
        ({"Version": "2012-10-17", "Statement": [FOREIGN, ACL, WRITE]}, REORDERED, None),
        ({"Version": "2012-10-17", "Statement": [FOREIGN, ACL, OLD_WRITE]}, REORDERED, "put"),
        (
            {"Statement": [dict(ACL, Condition={"StringEquals": {"aws:SourceArn": [ARN_B, ARN_A]}})]},
            {"Statement": [dict(ACL, Condition={"StringEquals": {"aws:SourceArn": [ARN_A, ARN_B]}})]},
            None,
        ),
    ],
)
def test_plan(current, after, expected):
    assert bp.plan(current, after) == expected


@pytest.mark.parametrize(
    "prefix, expected",
    [(None, ""), ("", ""), ("logs", "logs"), ("logs/", "logs"), ("a/b//", "a/b")],
)
def test_normalize_s3_key_prefix(prefix, expected):
    assert bp.normalize_s3_key_prefix(prefix) == expected


def test_owned_statements_picks_ours_only():
    policy = {"Statement": [FOREIGN, ACL, NO_SID, WRITE]}
    assert bp.owned_statements(policy, OWNED) == [ACL, WRITE]
    assert bp.owned_statements(None, OWNED) == []


@pytest.mark.parametrize(
    "policy, too_big",
    [
        (None, False),
        ({"Statement": [ACL, WRITE]}, False),
        ({"Statement": [dict(FOREIGN, Sid=f"S{i}", Resource="arn:aws:s3:::b/" + "k" * 100) for i in range(200)]}, True),
    ],
)
def test_policy_size_error(policy, too_big):
    error = bp.policy_size_error(None if policy is None else bp.serialize_policy(policy))
    assert (error is not None) is too_big
    if too_big:
        assert error.startswith("bucket: ")


def test_size_is_measured_on_the_bytes_sent():
    # json.dumps's default separators add a space after every ':' and ',':
    # a policy just under the limit as sent is over it as json.dumps writes it.
    statements = [dict(FOREIGN, Sid=f"S{i}") for i in range(70)]
    compact = bp.serialize_policy({"Statement": statements})
    pad = dict(FOREIGN, Sid="Pad", Resource="arn:aws:s3:::b/" + "p" * (bp.MAX_POLICY_BYTES - len(compact) - 300))
    policy = {"Statement": statements + [pad]}
    body = bp.serialize_policy(policy)
    assert json.loads(body) == policy
    assert len(body.encode()) <= bp.MAX_POLICY_BYTES < len(json.dumps(policy).encode())
    assert bp.policy_size_error(body) is None
    assert "20480" in bp.policy_size_error(bp.serialize_policy({"Statement": statements + [pad, pad]}))


@pytest.mark.parametrize(
    "statement, misused",
    [
        (ACL, False),
        (WRITE, False),
        # The console's second write for organization trails: still CloudTrail's grant.
        (dict(WRITE, Resource=["arn:aws:s3:::b/AWSLogs/o-abcdefghij/*"]), False),
        (dict(WRITE, Action=["s3:PutObject"], Principal={"Service": ["cloudtrail.amazonaws.com"]}), False),
        # AWS Config's grant under our Sid.
        (dict(FOREIGN, Sid=WRITE["Sid"]), True),
        # Someone's Deny under our Sid.
        (dict(NO_SID, Sid=ACL["Sid"]), True),
        (dict(WRITE, Action=["s3:PutObject", "s3:DeleteObject"]), True),
        (dict(ACL, Principal={"AWS": "*"}), True),
        (
            {
                "Sid": "AWSCloudTrailDenyInsecureTransport20150319",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": "arn:aws:s3:::b",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
            False,
        ),
        ({"Sid": "AWSCloudTrailDenyInsecureTransport20150319", "Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}, True),
    ],
)
def test_sid_misuse_error_names_the_sid(statement, misused):
    error = bp.sid_misuse_error({"Statement": [FOREIGN, statement]}, OWNED)
    assert (error is not None) is misused
    if misused:
        assert repr(statement["Sid"]) in error and error.startswith("sid_suffix: ")


def test_missing_statements_compare_semantically():
    reordered = dict(WRITE, Condition={"StringEquals": dict(reversed(list(WRITE["Condition"]["StringEquals"].items())))})
    assert bp.missing_statements({"Statement": [reordered, FOREIGN]}, [WRITE, FOREIGN]) == []
    assert bp.missing_statements({"Statement": [WRITE]}, [WRITE, FOREIGN]) == [FOREIGN]
    assert bp.missing_statements(None, [FOREIGN]) == [FOREIGN]


# ---------------------------------------------------------------- the write loop
class SlowDown(Exception):
    pass


class FakeS3:
    """A bucket policy store whose writes can be throttled, and whose other
    writers act at chosen moments (``on_put``: before the Nth PUT lands)."""

    def __init__(self, policy=None, throttle=(), on_put=None, after_put=None):
        from botocore.exceptions import ClientError

        self._error = lambda code: ClientError({"Error": {"Code": code, "Message": code}}, "PutBucketPolicy")
        self.text = None if policy is None else json.dumps(policy)
        self.throttle = set(throttle)
        self.on_put = on_put or {}
        self.after_put = after_put or {}
        self.puts = []
        self.gets = 0

    def get_bucket_policy(self, Bucket, aws_retry=False):
        self.gets += 1
        if self.text is None:
            raise self._error("NoSuchBucketPolicy")
        return {"Policy": self.text}

    def put_bucket_policy(self, Bucket, Policy):
        number = len(self.puts) + 1
        self.puts.append(Policy)
        if number in self.on_put:
            self.text = json.dumps(self.on_put[number](self.policy))
        if number in self.throttle:
            raise self._error("SlowDown")
        self.text = Policy
        if number in self.after_put:
            self.text = json.dumps(self.after_put[number](self.policy))

    def delete_bucket_policy(self, Bucket):
        self.text = None

    @property
    def policy(self):
        return None if self.text is None else json.loads(self.text)


def _ensure(fake, desired=None, check_mode=False):
    return bp.ensure_bucket_policy(fake, "b", DESIRED if desired is None else desired, OWNED, check_mode, pause=lambda seconds: None)


def _with(policy, statement):
    return dict(policy or {"Version": "2012-10-17"}, Statement=bp.statements_of(policy) + [statement])


def test_no_change_is_one_read_and_no_write():
    fake = FakeS3({"Version": "2012-10-17", "Statement": [FOREIGN, ACL, WRITE]})
    changed, before, after = _ensure(fake)
    assert (changed, fake.gets, fake.puts) == (False, 1, [])
    assert before == after == fake.policy


def test_a_throttled_write_is_merged_again_from_a_fresh_read():
    # While our first PUT is throttled, another writer adds a Deny: the retry
    # must carry it, not re-send the policy merged before it existed.
    third = dict(NO_SID, Sid="ThirdPartyDeny")
    fake = FakeS3({"Version": "2012-10-17", "Statement": [FOREIGN]}, throttle={1}, on_put={1: lambda p: _with(p, third)})
    changed, before, after = _ensure(fake)
    assert changed is True
    assert len(fake.puts) == 2
    assert third in json.loads(fake.puts[1])["Statement"]
    assert bp.missing_statements(fake.policy, [FOREIGN, third, ACL, WRITE]) == []
    assert after == fake.policy


def test_a_write_lost_to_another_writer_is_written_again_and_the_result_is_read_back():
    # Right after our PUT a stale writer puts back the old policy plus its own statement.
    theirs = dict(FOREIGN, Sid="OtherTeam")
    fake = FakeS3({"Version": "2012-10-17", "Statement": [FOREIGN]}, after_put={1: lambda p: {"Version": "2012-10-17", "Statement": [FOREIGN, theirs]}})
    changed, _before, after = _ensure(fake)
    assert changed is True and len(fake.puts) == 2
    assert after == fake.policy
    assert bp.missing_statements(after, [FOREIGN, theirs, ACL, WRITE]) == []


def test_a_foreign_statement_removed_by_someone_else_is_named_not_re_added():
    fake = FakeS3({"Version": "2012-10-17", "Statement": [FOREIGN]}, after_put={1: lambda p: _with(None, ACL) | {"Statement": [ACL, WRITE]}})
    with pytest.raises(bp.InvalidBucketPolicyError) as raised:
        _ensure(fake)
    assert "Foreign" in raised.value.message
    assert len(fake.puts) == 1
    assert FOREIGN not in fake.policy["Statement"]


def test_misused_sid_fails_before_any_write():
    fake = FakeS3({"Version": "2012-10-17", "Statement": [dict(FOREIGN, Sid=ACL["Sid"])]})
    with pytest.raises(bp.InvalidBucketPolicyError) as raised:
        _ensure(fake)
    assert ACL["Sid"] in raised.value.message
    assert fake.puts == []


def test_always_throttled_gives_up_bounded_and_says_why():
    fake = FakeS3(None, throttle=set(range(1, 100)))
    with pytest.raises(bp.InvalidBucketPolicyError) as raised:
        _ensure(fake)
    assert len(fake.puts) == bp.MAX_WRITE_ATTEMPTS
    assert "transient" in raised.value.message
    assert fake.policy is None


def test_check_mode_predicts_without_writing():
    fake = FakeS3({"Version": "2012-10-17", "Statement": [FOREIGN]})
    changed, before, after = _ensure(fake, check_mode=True)
    assert (changed, fake.puts) == (True, [])
    assert after["Statement"] == [FOREIGN, ACL, WRITE]


# -- the part the baseline and the log_bucket module share -------------------
PART_WHERE = Where(ACCOUNT, "aws", "us-east-1", "a-trail")


def part_spec(**given):
    spec = {"bucket": "b", "state": "present", "trails": [ARN_A], "sid_suffix": bp.DEFAULT_SID_SUFFIX,
            "option_names": {"bucket": "s3_bucket_name", "sid_suffix": "s3_bucket_name"}}
    spec.update(given)
    return spec


def test_the_part_adds_the_trails_statements_beside_a_foreign_one():
    foreign = {"Sid": "Theirs", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject", "Resource": "*"}
    plan = bp.BucketPolicyPart.plan({"Version": "2012-10-17", "Statement": [foreign]}, part_spec(), PART_WHERE)
    assert plan.steps == [bp.PUT_STEP] and plan.before is None
    assert sorted(plan.after["statements"]) == sorted(OWNED - {f"AWSCloudTrailDenyInsecureTransport{bp.DEFAULT_SID_SUFFIX}"})


def test_the_part_removes_only_its_statements_for_state_absent():
    current = {"Version": "2012-10-17", "Statement": bp.desired_statements("b", [ARN_A])}
    plan = bp.BucketPolicyPart.plan(current, part_spec(state="absent"), PART_WHERE)
    assert plan.steps == [bp.DELETE_STEP] and plan.after is None


def test_a_bucket_about_to_be_deleted_takes_its_policy_with_it():
    current = {"Version": "2012-10-17", "Statement": bp.desired_statements("b", [ARN_A])}
    plan = bp.BucketPolicyPart.plan(current, part_spec(state="absent"), PART_WHERE, bucket_deleted=True)
    assert plan.steps == [bp.WITH_THE_BUCKET] and plan.after is None
    # Nothing for the part itself to write.
    assert bp.BucketPolicyPart.apply(None, plan, part_spec(state="absent"), PART_WHERE) is None


def test_the_parts_refusals_name_the_callers_option():
    misuse = {"Sid": f"AWSCloudTrailWrite{bp.DEFAULT_SID_SUFFIX}", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}
    with pytest.raises(ParameterError) as raised:
        bp.BucketPolicyPart.plan({"Version": "2012-10-17", "Statement": [misuse]}, part_spec(), PART_WHERE)
    assert raised.value.option == "s3_bucket_name" and "is not CloudTrail's grant" in raised.value.message
