"""Case tables for the log bucket planner (module_utils/log_bucket.py): the
rules of the log_bucket role, without AWS, plus the reads against a fake client."""

from __future__ import annotations

import hashlib

import pytest
from botocore.exceptions import ClientError

from ansible_collections.trailops.cloudtrail.plugins.module_utils import log_bucket as lb
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parameters import ParameterError
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parts import Where

ACCOUNT = "123456789012"
OTHER = "210987654321"
WHERE = Where(ACCOUNT, "aws", "us-east-1", "")
ARN = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/t-one"
OWNED_STATE = {
    "encryption": "AES256",
    "kms_key_id": None,
    "versioning": True,
    "public_access_block": True,
    "object_ownership": "BucketOwnerEnforced",
    "created_by": "log_bucket",
}
FOLDERS = ("CloudTrail", "CloudTrail-Digest", "CloudTrail-Insight")


def spec(**overrides):
    base = {"name": "trail-logs", "state": "present", "trails": [ARN], "lifecycle_storage_class": "GLACIER", "sid_suffix": "20150319"}
    base.update(overrides)
    return base


def planned(before, **overrides):
    given = spec(**overrides)
    return lb.plan(before, lb.desired(given, WHERE), given, WHERE)


# ---------------------------------------------------------------- check
@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"name": "Bad_Name"}, "name: invalid character"),
        ({"trails": []}, "trails: must name at least one trail when state is present"),
        ({"encryption": "AES256", "kms_key_id": "k"}, "kms_key_id: is set but encryption is AES256: SSE-S3 takes no key"),
        ({"encryption": "DES"}, "encryption: must be one of AES256, aws:kms"),
        ({"object_ownership": "Mine"}, "object_ownership: must be one of"),
        ({"delete": True}, "delete: is true but state is present: the bucket is deleted only with state absent"),
        ({"lifecycle_transition_days": 90, "lifecycle_expiration_days": 30}, "lifecycle_expiration_days: must be greater than lifecycle_transition_days"),
        ({"lifecycle_transition_days": 30, "lifecycle_expiration_days": 30}, "lifecycle_expiration_days: must be greater than"),
        ({"lifecycle_transition_days": 0}, "lifecycle_transition_days: must be a positive number of days"),
        ({"lifecycle_expiration_days": -1}, "lifecycle_expiration_days: must be a positive number of days"),
        ({"lifecycle_storage_class": "TAPE"}, "lifecycle_storage_class: must be one of"),
        ({"trails": ["no good"]}, "trails: 'no good' is not a valid trail name"),
        ({"account_id": "42"}, "account_id: an AWS account id is 12 digits"),
        ({"organization_id": "org-1"}, "organization_id: an organization id is 'o-'"),
        ({"s3_key_prefix": "/logs"}, "s3_key_prefix: must not start with '/'"),
        ({"sid_suffix": "a-b"}, "sid_suffix: only ASCII letters and digits"),
        (
            {"delete": True, "option_names": {"delete": "log_bucket_delete", "state": "log_bucket_state"}},
            "log_bucket_delete: is true but log_bucket_state is present",
        ),
    ],
)
def test_check_names_the_option_and_the_rule(overrides, message):
    with pytest.raises(ParameterError) as raised:
        lb.check(spec(**overrides), WHERE)
    assert str(raised.value).startswith(message) or message in str(raised.value), str(raised.value)
    assert "nothing was written" in str(raised.value).lower()


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"state": "absent", "trails": []},
        {"state": "absent", "delete": True, "trails": []},
        {"encryption": "", "kms_key_id": "", "object_ownership": ""},
        {"kms_key_id": "arn:aws:kms:us-east-1:123456789012:key/k"},
        {"lifecycle_transition_days": 30, "lifecycle_expiration_days": 365, "lifecycle_storage_class": "DEEP_ARCHIVE"},
    ],
)
def test_check_accepts_what_the_role_accepts(overrides):
    lb.check(spec(**overrides), WHERE)


# ---------------------------------------------------------------- desired
def test_an_owned_bucket_gets_the_secure_defaults():
    wanted = lb.desired(spec(), WHERE)
    assert {key: wanted[key] for key in OWNED_STATE} == OWNED_STATE


@pytest.mark.parametrize(
    "overrides, expected",
    [
        ({"kms_key_id": "k"}, {"encryption": "aws:kms", "kms_key_id": "k"}),
        ({"encryption": "aws:kms"}, {"encryption": "aws:kms", "kms_key_id": None}),
        ({"versioning": False, "public_access_block": False}, {"versioning": False, "public_access_block": False}),
        ({"object_ownership": "ObjectWriter"}, {"object_ownership": "ObjectWriter"}),
    ],
)
def test_an_owned_bucket_takes_what_the_options_say(overrides, expected):
    wanted = lb.desired(spec(**overrides), WHERE)
    assert {key: wanted[key] for key in expected} == expected


def test_an_adopted_bucket_asks_only_for_what_options_name():
    assert lb.desired(spec(existing=True), WHERE) == {"lifecycle": lb.wanted_rules(spec(existing=True), WHERE)}
    wanted = lb.desired(spec(existing=True, versioning=True, kms_key_id="k"), WHERE)
    assert {key: value for key, value in wanted.items() if key != "lifecycle"} == {"encryption": "aws:kms", "kms_key_id": "k", "versioning": True}


def test_absent_asks_for_nothing_and_delete_for_no_bucket():
    assert lb.desired(spec(state="absent"), WHERE) == {}
    assert lb.desired(spec(state="absent", delete=True), WHERE) is None


# ---------------------------------------------------------------- lifecycle prefixes
@pytest.mark.parametrize(
    "overrides, prefixes",
    [
        ({}, [f"AWSLogs/{ACCOUNT}/{folder}/" for folder in FOLDERS]),
        ({"s3_key_prefix": "audit/"}, [f"audit/AWSLogs/{ACCOUNT}/{folder}/" for folder in FOLDERS]),
        ({"trails": ["t-one"], "account_id": OTHER}, [f"AWSLogs/{OTHER}/{folder}/" for folder in FOLDERS]),
        (
            {"trails": [ARN, f"arn:aws:cloudtrail:eu-west-1:{OTHER}:trail/b"]},
            [f"AWSLogs/{account}/{folder}/" for account in (ACCOUNT, OTHER) for folder in FOLDERS],
        ),
        ({"organization_id": "o-abcdefghij"}, [f"AWSLogs/{ACCOUNT}/{folder}/" for folder in FOLDERS] + ["AWSLogs/o-abcdefghij/"]),
    ],
)
def test_lifecycle_rules_cover_only_cloudtrails_prefixes(overrides, prefixes):
    assert lb.cloudtrail_prefixes(spec(**overrides), WHERE) == prefixes


def test_rule_ids_name_the_prefix_or_its_sha256_when_long():
    assert lb.rule_id("AWSLogs/1/CloudTrail/") == "trailops-cloudtrail:AWSLogs/1/CloudTrail/"
    long_prefix = "p" * 201
    assert lb.rule_id(long_prefix) == "trailops-cloudtrail:" + hashlib.sha256(long_prefix.encode()).hexdigest()
    assert lb.rule_id("p" * 200) == "trailops-cloudtrail:" + "p" * 200


def test_wanted_rules_remove_the_legacy_rule_and_carry_the_days():
    wanted = lb.wanted_rules(spec(lifecycle_transition_days=30, lifecycle_expiration_days=365), WHERE)
    assert wanted.pop("trailops-cloudtrail-logs") is None
    assert len(wanted) == 3
    for identifier, rule in wanted.items():
        assert identifier == "trailops-cloudtrail:" + rule["prefix"]
        assert (rule["transition_days"], rule["storage_class"], rule["expiration_days"]) == (30, "GLACIER", 365)
    only_expiry = lb.wanted_rules(spec(lifecycle_expiration_days=365), WHERE)
    assert {(r["transition_days"], r["storage_class"]) for r in only_expiry.values() if r} == {(None, None)}
    assert set(lb.wanted_rules(spec(), WHERE).values()) == {None}


def test_merged_rules_keep_every_other_rule_as_read():
    foreign = {"ID": "team", "Filter": {"Prefix": "backups/"}, "Status": "Enabled", "Expiration": {"Days": 7}}
    other_trail = {"ID": "trailops-cloudtrail:other/AWSLogs/1/CloudTrail/", "Filter": {"Prefix": "other/"}, "Status": "Enabled"}
    legacy = {"ID": "trailops-cloudtrail-logs", "Filter": {"Prefix": "AWSLogs/"}, "Status": "Enabled"}
    rule = {"prefix": "AWSLogs/1/CloudTrail/", "transition_days": None, "storage_class": None, "expiration_days": 30}
    merged = lb.merged_lifecycle_rules([foreign, other_trail, legacy], {"trailops-cloudtrail-logs": None, "trailops-cloudtrail:AWSLogs/1/CloudTrail/": rule})
    assert merged == [
        foreign,
        other_trail,
        {"ID": "trailops-cloudtrail:AWSLogs/1/CloudTrail/", "Filter": {"Prefix": "AWSLogs/1/CloudTrail/"}, "Status": "Enabled", "Expiration": {"Days": 30}},
    ]


# ---------------------------------------------------------------- plan
def test_a_new_bucket_is_created_tagged_and_set():
    part = planned(None)
    assert part.before is None
    assert part.after == OWNED_STATE
    assert part.steps == [
        "CreateBucket", "PutBucketTagging", "PutPublicAccessBlock", "PutBucketOwnershipControls", "PutBucketEncryption", "PutBucketVersioning"
    ]


def test_a_new_bucket_with_lifecycle_rules_is_marked_for_the_next_read():
    part = planned(None, lifecycle_expiration_days=30)
    assert part.after["created_by"] == "log_bucket:lifecycle"
    assert len(part.after["lifecycle"]) == 3
    assert part.steps[-1] == "PutBucketLifecycleConfiguration"


def test_a_bucket_that_matches_needs_no_write():
    part = planned(dict(OWNED_STATE))
    assert part.steps == [] and not part.changed and part.after == part.before


@pytest.mark.parametrize(
    "drift, step",
    [
        ({"versioning": False}, "PutBucketVersioning"),
        ({"public_access_block": False}, "PutPublicAccessBlock"),
        ({"object_ownership": "ObjectWriter"}, "PutBucketOwnershipControls"),
        ({"encryption": None}, "PutBucketEncryption"),
        ({"created_by": "log_bucket:lifecycle", "lifecycle": {}}, "PutBucketTagging"),
    ],
)
def test_each_drifted_setting_is_one_write(drift, step):
    part = planned(dict(OWNED_STATE, **drift))
    assert part.steps == [step]
    assert {key: part.after[key] for key in OWNED_STATE} == OWNED_STATE


def test_an_existing_bucket_without_the_tag_is_never_taken_over():
    with pytest.raises(ParameterError) as raised:
        planned(dict(OWNED_STATE, created_by=None, encryption="aws:kms"))
    assert str(raised.value).startswith("existing: is false but the bucket trail-logs already exists and was not created by trailops.cloudtrail")
    assert "its encryption is aws:kms" in str(raised.value)


def test_an_adopted_bucket_must_exist():
    with pytest.raises(ParameterError, match="existing: is true but no bucket trail-logs \\(the name given\\) exists where these credentials look"):
        planned(None, existing=True)


def test_an_adopted_bucket_that_is_missing_names_the_callers_options_and_the_archive_role():
    names = {"existing": "s3_bucket_existing", "name": "s3_bucket_name", "archive_role": "log_archive_role_arn"}
    with pytest.raises(ParameterError) as raised:
        planned(None, existing=True, option_names=names)
    assert str(raised.value).startswith("s3_bucket_existing: is true but no bucket trail-logs (the s3_bucket_name given) exists")
    assert "a central log archive) is managed through a role there, log_archive_role_arn" in str(raised.value)


def test_an_adopted_bucket_setting_that_would_change_fails():
    with pytest.raises(ParameterError) as raised:
        planned({"versioning": False}, existing=True, versioning=True)
    assert str(raised.value).startswith("versioning: would change the adopted bucket's versioning from False to True")


def test_an_adopted_bucket_gets_no_setting_write_and_no_tag():
    part = planned({"versioning": True}, existing=True, versioning=True)
    assert part.steps == [] and part.after == {"versioning": True}
    part = planned({"lifecycle": {}}, existing=True, lifecycle_expiration_days=30)
    assert part.steps == ["PutBucketLifecycleConfiguration"]
    assert "created_by" not in part.after


@pytest.mark.parametrize(
    "overrides, refused",
    [
        ({}, True),
        ({"encryption": "AES256"}, True),
        ({"encryption_downgrade": True}, False),
        ({"kms_key_id": "other-key"}, False),
        ({"encryption": "aws:kms"}, False),
    ],
)
def test_sse_kms_is_never_downgraded_unless_asked(overrides, refused):
    before = dict(OWNED_STATE, encryption="aws:kms", kms_key_id="the-key")
    if refused:
        with pytest.raises(ParameterError, match="^encryption_downgrade: is false but the bucket trail-logs is encrypted with SSE-KMS"):
            planned(before, **overrides)
    else:
        planned(before, **overrides)


def test_lifecycle_rules_of_other_prefixes_are_kept_and_the_legacy_rule_removed():
    other = {"prefix": "other/AWSLogs/1/CloudTrail/", "transition_days": None, "storage_class": None, "expiration_days": 9}
    legacy = {"prefix": "AWSLogs/", "transition_days": None, "storage_class": None, "expiration_days": 90}
    rules = {"trailops-cloudtrail:other/AWSLogs/1/CloudTrail/": other, "trailops-cloudtrail-logs": legacy}
    before = dict(OWNED_STATE, created_by="log_bucket:lifecycle", lifecycle=rules)
    part = planned(before, lifecycle_expiration_days=30)
    assert part.steps == ["PutBucketLifecycleConfiguration"]
    assert "trailops-cloudtrail-logs" not in part.after["lifecycle"]
    assert part.after["lifecycle"]["trailops-cloudtrail:other/AWSLogs/1/CloudTrail/"] == other
    assert len(part.after["lifecycle"]) == 4
    assert part.data["lifecycle"]["trailops-cloudtrail-logs"] is None


def test_dropping_the_lifecycle_options_removes_our_rules_and_the_mark():
    rules = planned(None, lifecycle_expiration_days=30).after["lifecycle"]
    part = planned(dict(OWNED_STATE, created_by="log_bucket:lifecycle", lifecycle=rules))
    assert part.steps == ["PutBucketTagging", "PutBucketLifecycleConfiguration"]
    assert part.after["created_by"] == "log_bucket" and "lifecycle" not in part.after


def test_state_absent_without_delete_leaves_the_bucket_alone():
    part = lb.plan(dict(OWNED_STATE), {}, spec(state="absent"), WHERE)
    assert part.steps == [] and part.after == OWNED_STATE


# ---------------------------------------------------------------- delete
OURS = [{"Key": f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2026/01/01/x.json.gz", "VersionId": "1"},
        {"Key": f"AWSLogs/o-abcdefghij/{ACCOUNT}/CloudTrail-Digest/us-east-1/d.json.gz", "VersionId": "2"}]


def test_delete_takes_every_version_of_cloudtrails_own_files():
    part = lb.plan_delete(dict(OWNED_STATE), spec(state="absent", delete=True), OURS)
    assert part.steps == ["DeleteObjects", "DeleteBucket"] and part.after is None
    assert part.data["objects"] == OURS
    assert lb.plan_delete(dict(OWNED_STATE), spec(state="absent", delete=True), []).steps == ["DeleteBucket"]


def test_delete_is_only_when_asked_and_only_of_a_bucket_that_exists():
    assert lb.plan_delete(dict(OWNED_STATE), spec(state="absent"), OURS).steps == []
    assert lb.plan_delete(None, spec(state="absent", delete=True), []).steps == []


@pytest.mark.parametrize(
    "before, overrides, message",
    [
        (dict(OWNED_STATE), {"existing": True}, "delete: is true but the bucket trail-logs is adopted (existing is true)"),
        (dict(OWNED_STATE, created_by=None), {}, "it has no trailops.cloudtrail:created-by tag, so trailops.cloudtrail did not create it"),
    ],
)
def test_an_adopted_bucket_is_never_deleted(before, overrides, message):
    with pytest.raises(ParameterError) as raised:
        lb.plan_delete(before, spec(state="absent", delete=True, **overrides), OURS)
    assert message in str(raised.value) and "Nothing was deleted" in str(raised.value)


@pytest.mark.parametrize(
    "key",
    [
        f"AWSLogs/{ACCOUNT}/Config/us-east-1/snapshot.json.gz",
        "backups/db.dump",
        f"audit/AWSLogs/{ACCOUNT}/CloudTrail/x.json.gz",
    ],
)
def test_delete_refuses_a_bucket_holding_anything_else(key):
    with pytest.raises(ParameterError) as raised:
        lb.plan_delete(dict(OWNED_STATE), spec(state="absent", delete=True), OURS + [{"Key": key, "VersionId": "9"}])
    assert "holds 1 objects outside CloudTrail's own prefixes" in str(raised.value) and key in str(raised.value)


def test_with_a_key_prefix_only_the_prefixed_files_are_cloudtrails():
    prefixed = [{"Key": f"audit/AWSLogs/{ACCOUNT}/CloudTrail-Insight/x.json.gz", "VersionId": "1"}]
    assert lb.plan_delete(dict(OWNED_STATE), spec(state="absent", delete=True, s3_key_prefix="audit"), prefixed).steps[-1] == "DeleteBucket"


# ---------------------------------------------------------------- read
def _error(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": 404}}, operation)


class FakeS3:
    """Answers as S3 does for one bucket (or none), counting the calls."""

    def __init__(self, bucket=None):
        self.bucket = bucket
        self.calls: list[str] = []

    def _answer(self, name: str, key: str, missing_code: str):
        self.calls.append(name)
        if self.bucket is None:
            raise _error("NoSuchBucket", name)
        if key not in self.bucket:
            raise _error(missing_code, name)
        return self.bucket[key]

    def get_bucket_tagging(self, aws_retry, Bucket):
        return {"TagSet": [{"Key": k, "Value": v} for k, v in self._answer("GetBucketTagging", "tags", "NoSuchTagSet").items()]}

    def get_bucket_encryption(self, aws_retry, Bucket):
        return {"ServerSideEncryptionConfiguration": self._answer("GetBucketEncryption", "encryption", "ServerSideEncryptionConfigurationNotFoundError")}

    def get_bucket_versioning(self, aws_retry, Bucket):
        return self._answer("GetBucketVersioning", "versioning", "never")

    def get_public_access_block(self, aws_retry, Bucket):
        return {"PublicAccessBlockConfiguration": self._answer("GetPublicAccessBlock", "pab", "NoSuchPublicAccessBlockConfiguration")}

    def get_bucket_ownership_controls(self, aws_retry, Bucket):
        return {"OwnershipControls": self._answer("GetBucketOwnershipControls", "ownership", "OwnershipControlsNotFoundError")}

    def get_bucket_lifecycle_configuration(self, aws_retry, Bucket):
        return {"Rules": self._answer("GetBucketLifecycleConfiguration", "rules", "NoSuchLifecycleConfiguration")}


OWNED_BUCKET = {
    "tags": {"trailops.cloudtrail:created-by": "log_bucket", "team": "sec"},
    "encryption": {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
    "versioning": {"Status": "Enabled"},
    "pab": {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True},
    "ownership": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
}


def _read(fake, **overrides):
    return lb.read(lambda service: fake, spec(**overrides), WHERE)


def test_read_of_an_owned_bucket_that_matches_asks_no_question_that_errs():
    fake = FakeS3(OWNED_BUCKET)
    assert _read(fake) == OWNED_STATE
    reads = ["GetBucketTagging", "GetBucketEncryption", "GetBucketVersioning", "GetPublicAccessBlock", "GetBucketOwnershipControls"]
    assert sorted(fake.calls) == sorted(reads)


def test_read_tells_a_missing_bucket_from_the_first_answers():
    fake = FakeS3(None)
    assert _read(fake) is None
    assert "HeadBucket" not in fake.calls


def test_the_lifecycle_is_read_only_when_asked_or_marked():
    rule = {"ID": "trailops-cloudtrail:AWSLogs/1/CloudTrail/", "Filter": {"Prefix": "AWSLogs/1/CloudTrail/"}, "Status": "Enabled", "Expiration": {"Days": 5}}
    foreign = {"ID": "team", "Filter": {"Prefix": "x/"}, "Status": "Enabled", "Expiration": {"Days": 5}}
    fake = FakeS3(dict(OWNED_BUCKET, rules=[rule, foreign]))
    assert "lifecycle" not in _read(fake)
    assert "GetBucketLifecycleConfiguration" not in fake.calls

    asked = _read(fake, lifecycle_expiration_days=5)
    assert list(asked["lifecycle"]) == [rule["ID"]]

    marked = FakeS3(dict(OWNED_BUCKET, rules=[rule], tags={"trailops.cloudtrail:created-by": "log_bucket:lifecycle"}))
    assert list(_read(marked)["lifecycle"]) == [rule["ID"]]


def test_an_adopted_bucket_is_read_only_for_what_options_name():
    fake = FakeS3({"versioning": {}})
    assert _read(fake, existing=True) == {}
    assert fake.calls == ["GetBucketVersioning"]
    fake = FakeS3(dict(OWNED_BUCKET))
    assert _read(fake, existing=True, object_ownership="BucketOwnerEnforced") == {"object_ownership": "BucketOwnerEnforced"}
    assert fake.calls == ["GetBucketOwnershipControls"]


def test_state_absent_reads_the_tag_only_to_delete():
    fake = FakeS3(OWNED_BUCKET)
    assert _read(fake, state="absent", trails=[]) == {}
    assert fake.calls == ["GetBucketVersioning"]
    fake = FakeS3(OWNED_BUCKET)
    assert _read(fake, state="absent", delete=True, trails=[]) == {"created_by": "log_bucket"}
    assert fake.calls == ["GetBucketTagging"]


class _DeniedS3:
    """An S3 client of an account that may not read another account's bucket."""

    def get_bucket_versioning(self, **kwargs):
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "GetBucketVersioning")


def test_a_bucket_the_credentials_may_not_read_is_named_with_the_way_to_reach_it():
    given = spec(existing=True, option_names={"name": "s3_bucket_name", "archive_role": "log_archive_role_arn"})
    with pytest.raises(ParameterError) as raised:
        lb.read(lambda service: _DeniedS3(), given, WHERE)
    assert str(raised.value).startswith("s3_bucket_name: the bucket trail-logs exists but these credentials may not read it (AccessDenied)")
    assert "log_archive_role_arn" in str(raised.value)
