"""validate_logs against the local AWS: logs and digests delivered by the
fidelity layer, then tampered with the way an attacker (or an accident) would,
and each finding named. The module must never write."""

from __future__ import annotations

import datetime
import gzip
import hashlib
import json
import re

import pytest

from tests.integration.setup_helpers import make_log_bucket
from tests.local_aws.fidelity.delivery import deliver
from tests.local_aws.fidelity.lookup_events import seed_events

BUCKET = "integrity-logs"
TRAIL = "audited"
HOURS = 4


def _iso(value: datetime.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def make_trail(aws, *, prefix=None, validation=True, name=TRAIL, bucket=BUCKET):
    make_log_bucket(aws, bucket, prefixes=(None, prefix) if prefix else (None,))
    cloudtrail = aws.client("cloudtrail")
    params = {"Name": name, "S3BucketName": bucket, "EnableLogFileValidation": validation}
    if prefix:
        params["S3KeyPrefix"] = prefix
    arn = cloudtrail.create_trail(**params)["TrailARN"]
    cloudtrail.start_logging(Name=name)
    return arn


def deliver_hours(aws, start: datetime.datetime, hours: int = HOURS, events_per_hour: int = 2, account_id: str = "123456789012"):
    """One flush an hour after ``start``, each after seeding that hour's events; returns the flushes."""
    flushes = []
    for hour in range(1, hours + 1):
        at = start + datetime.timedelta(hours=hour)
        events = [{"EventName": f"Hour{hour}Call{n}", "EventTime": _iso(at - datetime.timedelta(minutes=10 + n))} for n in range(events_per_hour)]
        seed_events(aws, events, account_id=account_id)
        flushes.append(deliver(aws, at=at))
    return flushes


@pytest.fixture
def delivered(aws):
    start = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) - datetime.timedelta(hours=HOURS + 1)
    make_trail(aws)
    flushes = deliver_hours(aws, start)
    return {"start": start, "flushes": flushes}


def validate(run_module, start, **extra):
    return run_module("validate_logs", dict({"trail_name": TRAIL, "start_time": _iso(start), "fail_on_invalid": False}, **extra))


def kinds(result):
    return sorted((failure["kind"], failure["s3_key"]) for failure in result["failures"])


def rewrite(aws, key, transform):
    """Put the object back changed by ``transform(uncompressed) -> uncompressed``, keeping its metadata."""
    s3 = aws.client("s3")
    got = s3.get_object(Bucket=BUCKET, Key=key)
    body = transform(gzip.decompress(got["Body"].read()))
    s3.put_object(Bucket=BUCKET, Key=key, Body=gzip.compress(body), Metadata=got["Metadata"])


def test_untouched_logs_validate_without_writing(aws, run_module, delivered):
    log_files = [key for flush in delivered["flushes"] for key in flush["log_files"]]
    digests = [key for flush in delivered["flushes"] for key in flush["digests"]]
    assert len(digests) == HOURS and len(log_files) >= HOURS

    aws.start_recording()
    result = validate(run_module, delivered["start"], fail_on_invalid=True)
    calls = aws.stop_recording()

    assert not result["failed"], result
    assert result["verdict"] == "valid"
    assert result["failures"] == []
    assert result["summary"]["digests"] == {"valid": HOURS, "invalid": 0, "missing": 0}
    assert result["summary"]["log_files"]["valid"] == len(log_files)
    assert result["summary"]["chain_gaps"] == 0
    assert [c for c in calls if c.is_write] == []
    gets = [c for c in calls if c.service == "s3" and c.method == "GET" and c.path.count("/") > 2]
    assert len(gets) == len(log_files) + len(digests)
    assert [c.action for c in calls if c.service == "cloudtrail"] == ["GetTrail", "ListPublicKeys"]


def test_check_mode_reads_the_same_and_writes_nothing(aws, run_module, delivered):
    aws.start_recording()
    result = run_module("validate_logs", {"trail_name": TRAIL, "start_time": _iso(delivered["start"])}, check=True)
    calls = aws.stop_recording()
    assert result["verdict"] == "valid" and not result["changed"]
    assert [c for c in calls if c.is_write] == []


def test_modified_log_file(aws, run_module, delivered):
    key = delivered["flushes"][1]["log_files"][0]
    rewrite(aws, key, lambda body: body.replace(b"Hour2Call0", b"Hour2CallX"))
    result = validate(run_module, delivered["start"])
    assert result["verdict"] == "invalid" and not result["failed"]
    assert kinds(result) == [("log_file_modified", key)]
    assert result["summary"]["log_files"]["modified"] == 1


def test_log_file_replaced_by_something_not_gzip(aws, run_module, delivered):
    key = delivered["flushes"][0]["log_files"][0]
    aws.client("s3").put_object(Bucket=BUCKET, Key=key, Body=b"{}")
    result = validate(run_module, delivered["start"])
    assert kinds(result) == [("log_file_modified", key)]


def test_deleted_log_file(aws, run_module, delivered):
    key = delivered["flushes"][2]["log_files"][0]
    aws.client("s3").delete_object(Bucket=BUCKET, Key=key)
    result = validate(run_module, delivered["start"])
    assert kinds(result) == [("log_file_deleted", key)]
    assert result["summary"]["log_files"]["deleted"] == 1


def test_modified_digest(aws, run_module, delivered):
    key = delivered["flushes"][1]["digests"][0]

    def drop_log_files(body):
        digest = json.loads(body)
        digest["logFiles"] = []
        return json.dumps(digest).encode()

    rewrite(aws, key, drop_log_files)
    result = validate(run_module, delivered["start"])
    assert kinds(result) == [("digest_modified", key), ("digest_signature_invalid", key)]
    assert result["summary"]["digests"]["invalid"] == 1


def test_deleted_digest(aws, run_module, delivered):
    key = delivered["flushes"][2]["digests"][0]
    aws.client("s3").delete_object(Bucket=BUCKET, Key=key)
    result = validate(run_module, delivered["start"])
    assert kinds(result) == [("digest_missing", key)]
    assert result["summary"]["digests"]["missing"] == 1


def test_digest_signed_with_the_wrong_key(aws, run_module, delivered):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    from tests.local_aws.fidelity.delivery import signing_string

    key = delivered["flushes"][1]["digests"][0]
    s3 = aws.client("s3")
    got = s3.get_object(Bucket=BUCKET, Key=key)
    raw = got["Body"].read()
    body = gzip.decompress(raw)
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = forger.sign(signing_string(json.loads(body), body), padding.PKCS1v15(), hashes.SHA256()).hex()
    s3.put_object(Bucket=BUCKET, Key=key, Body=raw, Metadata=dict(got["Metadata"], signature=forged))

    result = validate(run_module, delivered["start"])
    assert kinds(result) == [("digest_signature_invalid", key), ("digest_signature_replaced", key)]


def test_digest_that_is_not_gzip_or_json(aws, run_module, delivered):
    not_gzip = delivered["flushes"][0]["digests"][0]
    not_json = delivered["flushes"][3]["digests"][0]
    s3 = aws.client("s3")
    s3.put_object(Bucket=BUCKET, Key=not_gzip, Body=b"plain text")
    s3.put_object(Bucket=BUCKET, Key=not_json, Body=gzip.compress(b"{not json"))
    result = validate(run_module, delivered["start"])
    found = {failure["s3_key"]: failure for failure in result["failures"]}
    assert found[not_gzip]["kind"] == "digest_unreadable" and "gzip" in found[not_gzip]["detail"]
    assert found[not_json]["kind"] == "digest_unreadable" and "JSON" in found[not_json]["detail"]
    assert result["verdict"] == "invalid"


def test_gap_in_the_chain(aws, run_module):
    start = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) - datetime.timedelta(hours=6)
    make_trail(aws)
    cloudtrail = aws.client("cloudtrail")
    first = deliver_hours(aws, start, hours=2)
    cloudtrail.update_trail(Name=TRAIL, EnableLogFileValidation=False)
    deliver_hours(aws, start + datetime.timedelta(hours=2), hours=1)
    cloudtrail.update_trail(Name=TRAIL, EnableLogFileValidation=True)
    after = deliver_hours(aws, start + datetime.timedelta(hours=3), hours=2)

    result = validate(run_module, start, fail_on_invalid=True)
    # A restart is information, as the AWS CLI reports it: the task passes.
    assert not result["failed"] and result["verdict"] == "valid", result
    assert result["failures"] == []
    assert [(note["kind"], note["s3_key"]) for note in result["information"]] == [("chain_gap", after[0]["digests"][0])]
    assert first[-1]["digests"][0] in result["information"][0]["detail"]
    assert result["summary"]["chain_gaps"] == 1
    assert result["summary"]["digests"]["valid"] == 4


def test_a_chain_restart_with_a_digest_missing_before_it_is_invalid(aws, run_module):
    start = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) - datetime.timedelta(hours=6)
    make_trail(aws)
    cloudtrail = aws.client("cloudtrail")
    first = deliver_hours(aws, start, hours=3)
    cloudtrail.stop_logging(Name=TRAIL)
    cloudtrail.start_logging(Name=TRAIL)
    deliver_hours(aws, start + datetime.timedelta(hours=3), hours=2)
    middle = first[1]["digests"][0]
    aws.client("s3").delete_object(Bucket=BUCKET, Key=middle)

    result = validate(run_module, start)
    assert result["verdict"] == "invalid"
    assert kinds(result) == [("digest_missing", middle)]
    assert result["summary"]["chain_gaps"] == 1


def test_prefix_and_range(aws, run_module):
    start = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) - datetime.timedelta(hours=5)
    make_trail(aws, prefix="audit/ct")
    flushes = deliver_hours(aws, start)
    assert flushes[0]["digests"][0].startswith("audit/ct/AWSLogs/123456789012/CloudTrail-Digest/us-east-1/")
    # Only the last two digests end in this range; the first of them links to one before it.
    result = validate(run_module, start + datetime.timedelta(hours=2, minutes=30))
    assert result["verdict"] == "valid", result
    assert result["summary"]["digests"]["valid"] == 2


def test_organization_trail(aws, run_module):
    from tests.integration.fleet_helpers import make_organization

    (member,) = make_organization(aws, 1)
    org_id = aws.client("organizations").describe_organization()["Organization"]["Id"]
    make_log_bucket(aws, BUCKET)
    bucket_policy = json.loads(aws.client("s3").get_bucket_policy(Bucket=BUCKET)["Policy"])
    write = dict(bucket_policy["Statement"][1], Sid="OrgWrite", Resource=f"arn:aws:s3:::{BUCKET}/AWSLogs/{org_id}/*")
    bucket_policy["Statement"].append(write)
    aws.client("s3").put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(bucket_policy))
    cloudtrail = aws.client("cloudtrail")
    cloudtrail.create_trail(Name=TRAIL, S3BucketName=BUCKET, EnableLogFileValidation=True, IsOrganizationTrail=True, IsMultiRegionTrail=True)
    cloudtrail.start_logging(Name=TRAIL)
    start = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) - datetime.timedelta(hours=3)
    flushes = deliver_hours(aws, start, hours=2, account_id=member)
    assert any(key.startswith(f"AWSLogs/{org_id}/{member}/CloudTrail-Digest/") for key in flushes[0]["digests"])

    result = validate(run_module, start, account_ids=[member])
    assert result["verdict"] == "valid", result
    assert [scope["account_id"] for scope in result["summary"]["scopes"]] == [member]
    assert result["summary"]["log_files"]["valid"] == 2


def test_trail_without_validation_is_not_a_pass(aws, run_module):
    make_trail(aws, validation=False)
    result = validate(run_module, datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1))
    assert result["failed"] and result["verdict"] == "not_validated"
    assert "nothing to validate" in result["msg"]


def test_no_digest_in_range_is_not_a_pass(aws, run_module, delivered):
    result = validate(run_module, delivered["start"] - datetime.timedelta(days=3), end_time=_iso(delivered["start"] - datetime.timedelta(days=2)))
    assert result["failed"] and result["verdict"] == "not_validated"
    assert "nothing was validated" in result["msg"]


def test_failures_fail_the_task_by_default(aws, run_module, delivered):
    aws.client("s3").delete_object(Bucket=BUCKET, Key=delivered["flushes"][0]["log_files"][0])
    result = run_module("validate_logs", {"trail_name": TRAIL, "start_time": _iso(delivered["start"])})
    assert result["failed"] and "log_file_deleted" in result["msg"]
    assert result["verdict"] == "invalid"


@pytest.mark.parametrize(
    "params, option",
    [
        ({"start_time": "2099-01-01T00:00:00Z"}, "start_time"),
        ({"start_time": "2024-01-02T00:00:00Z", "end_time": "2024-01-01T00:00:00Z"}, "start_time"),
        ({"start_time": "2024-01-01T00:00:00Z", "end_time": "2099-01-01T00:00:00Z"}, "end_time"),
        ({"start_time": "yesterday"}, "start_time"),
        ({"start_time": "2024-01-01T00:00:00Z", "trail_name": "a..b"}, "trail_name"),
        ({"start_time": "2024-01-01T00:00:00Z", "account_ids": ["12345"]}, "account_ids"),
    ],
)
def test_bad_input_fails_before_any_call(aws, run_module, params, option):
    aws.start_recording()
    result = run_module("validate_logs", dict({"trail_name": TRAIL}, **params))
    calls = aws.stop_recording()
    assert result["failed"] and result["msg"].startswith(f"{option}:"), result
    assert calls == []


def test_unknown_trail(aws, run_module):
    result = validate(run_module, datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1))
    assert result["failed"] and result["msg"].startswith("trail_name:")


def test_unreadable_bucket(aws, run_module, delivered):
    # moto does not enforce bucket policies on the caller, so the bucket goes away instead.
    s3 = aws.client("s3")
    for key in [k for flush in delivered["flushes"] for k in flush["log_files"] + flush["digests"]]:
        s3.delete_object(Bucket=BUCKET, Key=key)
    s3.delete_bucket(Bucket=BUCKET)
    result = validate(run_module, delivered["start"])
    assert result["failed"] and "NoSuchBucket" in json.dumps(result), result
    assert result["verdict"] == "unreadable" and result["failures"] == []


def test_digest_hash_is_over_uncompressed_content(aws, delivered):
    """The fidelity layer's digests record SHA-256 of the uncompressed log file, as CloudTrail does."""
    s3 = aws.client("s3")
    digest = json.loads(gzip.decompress(s3.get_object(Bucket=BUCKET, Key=delivered["flushes"][0]["digests"][0])["Body"].read()))
    (entry,) = digest["logFiles"]
    raw = s3.get_object(Bucket=BUCKET, Key=entry["s3Object"])["Body"].read()
    assert entry["hashValue"] == hashlib.sha256(gzip.decompress(raw)).hexdigest()
    assert entry["hashValue"] != hashlib.sha256(raw).hexdigest()


class InAccount:
    """What setup_helpers needs of ``aws``, acting in a member account through its role."""

    def __init__(self, aws, account):
        self.aws, self.account = aws, account

    def client(self, service, region="us-east-1"):
        from tests.integration.fleet_helpers import account_client

        return account_client(self.aws, self.account, service, region)


def test_playbook_writes_a_verdict_per_account(aws, run_playbook, tmp_path):
    from tests.integration.fleet_helpers import make_organization, static_account, write_inventory

    clean, tampered, unvalidated, no_digest = make_organization(aws, 4)
    start = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) - datetime.timedelta(hours=4)
    flushes = {}
    for account in (clean, tampered, unvalidated, no_digest):
        member = InAccount(aws, account)
        make_log_bucket(member, f"logs-{account}", account=account)
        cloudtrail = member.client("cloudtrail")
        cloudtrail.create_trail(Name=TRAIL, S3BucketName=f"logs-{account}", EnableLogFileValidation=account != unvalidated)
        if account != no_digest:
            cloudtrail.start_logging(Name=TRAIL)
        arn = f"arn:aws:cloudtrail:us-east-1:{account}:trail/{TRAIL}"
        flushes[account] = [deliver(aws, at=start + datetime.timedelta(hours=hour), trail=arn) for hour in (1, 2)]
    deleted = flushes[tampered][0]["log_files"][0]
    InAccount(aws, tampered).client("s3").delete_object(Bucket=f"logs-{tampered}", Key=deleted)
    inventory = write_inventory(tmp_path, accounts=[static_account(a) for a in (clean, tampered, unvalidated, no_digest)], source="yaml")

    aws.start_recording()
    done = run_playbook("playbooks/validate_logs.yml", {"report_dir": str(tmp_path / "reports"), "validate_logs_hours": 5}, "-i", inventory)
    calls = aws.stop_recording()
    assert done.returncode == 0, done.stdout + done.stderr
    assert [(c.service, c.action) for c in calls if c.is_write and c.action != "AssumeRole"] == []

    report = json.loads((tmp_path / "reports" / "log_validation.json").read_text())
    accounts = report["accounts"]
    assert {account: entry["verdict"] for account, entry in accounts.items()} == {
        clean: "valid",
        tampered: "invalid",
        unvalidated: "not_validated",
        no_digest: "not_validated",
    }, done.stdout
    assert accounts[tampered]["failures"] == [
        {"kind": "log_file_deleted", "s3_key": deleted, "detail": "listed in a digest, but not in the bucket"}
    ]
    assert accounts[clean]["summary"]["trails"][0]["digests"] == {"valid": 2, "invalid": 0, "missing": 0}
    assert "nothing to validate" in accounts[unvalidated]["summary"]["message"]
    assert "nothing was validated" in accounts[no_digest]["summary"]["trails"][0]["message"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", report["generated"])


def test_playbook_unreadable_account(aws, run_playbook, tmp_path):
    from tests.integration.fleet_helpers import static_account, write_inventory

    (account,) = ["210987654321"]
    # A role that acts in another account: assume_account.yml refuses it.
    entry = static_account(account, role_arn="arn:aws:iam::123456789012:role/OrganizationAccountAccessRole")
    inventory = write_inventory(tmp_path, accounts=[entry], source="yaml")
    done = run_playbook("playbooks/validate_logs.yml", {"report_dir": str(tmp_path)}, "-i", inventory)
    assert done.returncode == 0, done.stdout + done.stderr
    verdict = json.loads((tmp_path / "log_validation.json").read_text())["accounts"][account]
    assert verdict["verdict"] == "unreadable" and "acts in account 123456789012" in verdict["summary"]["error"]


def test_multi_region_trail_validates_each_region_with_its_key(aws, run_module):
    make_log_bucket(aws, BUCKET)
    cloudtrail = aws.client("cloudtrail")
    cloudtrail.create_trail(Name=TRAIL, S3BucketName=BUCKET, EnableLogFileValidation=True, IsMultiRegionTrail=True)
    cloudtrail.start_logging(Name=TRAIL)
    start = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) - datetime.timedelta(hours=3)
    seed_events(aws, [{"EventName": "Elsewhere", "EventTime": _iso(start)}], region="eu-west-1")
    flushes = [deliver(aws, at=start + datetime.timedelta(hours=hour)) for hour in (1, 2)]
    assert any("/CloudTrail-Digest/eu-west-1/" in key for key in flushes[0]["digests"])

    aws.start_recording()
    result = validate(run_module, start)
    calls = aws.stop_recording()
    assert result["verdict"] == "valid", result
    assert [scope["region"] for scope in result["summary"]["scopes"]] == ["eu-west-1", "us-east-1"]
    assert result["summary"]["digests"]["valid"] == 4
    assert sorted(c.region for c in calls if c.action == "ListPublicKeys") == ["eu-west-1", "us-east-1"]

    only = validate(run_module, start, regions=["eu-west-1"])
    assert only["summary"]["digests"]["valid"] == 2


def test_keys_rotated_in_the_range_are_found_by_fingerprint_across_pages(aws, run_module):
    from tests.local_aws.fidelity.delivery import rotate_key, set_public_keys_page_size

    start = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) - datetime.timedelta(hours=5)
    make_trail(aws)
    rotated = [rotate_key(aws, "us-east-1", start + datetime.timedelta(hours=hour, minutes=30)) for hour in (1, 2)]
    set_public_keys_page_size(aws, 1)
    flushes = deliver_hours(aws, start)
    s3 = aws.client("s3")
    used = [
        json.loads(gzip.decompress(s3.get_object(Bucket=BUCKET, Key=flush["digests"][0])["Body"].read()))["digestPublicKeyFingerprint"] for flush in flushes
    ]
    assert used[1:] == [rotated[0]] + [rotated[1]] * 2 and used[0] not in rotated

    aws.start_recording()
    result = validate(run_module, start)
    calls = aws.stop_recording()
    assert result["verdict"] == "valid", result
    assert result["summary"]["digests"]["valid"] == HOURS
    # Three keys, one a page: one ListPublicKeys call per page.
    assert [c.action for c in calls if c.service == "cloudtrail"] == ["GetTrail"] + ["ListPublicKeys"] * 3


@pytest.mark.parametrize("denied", ["log files", "everything"])
def test_an_object_refused_over_plain_http_is_named_with_its_likely_cause(denied):
    """Over plain HTTP the bucket's deny-insecure-transport statement answers 403, as in S3:
    the finding (a log file) or the failure (a digest) names s3://bucket/key and the cause."""
    from tests.integration.conftest import ModuleRunner
    from tests.local_aws import LocalAWS

    with LocalAWS(https=False) as plain:
        start = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) - datetime.timedelta(hours=3)
        make_trail(plain)
        flushes = deliver_hours(plain, start, hours=2)
        s3 = plain.client("s3")
        policy = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])
        objects = f"arn:aws:s3:::{BUCKET}/AWSLogs/123456789012/CloudTrail/*" if denied == "log files" else f"arn:aws:s3:::{BUCKET}/*"
        deny = {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": objects}
        policy["Statement"].append(dict(deny, Condition={"Bool": {"aws:SecureTransport": "false"}}))
        s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy))

        result = ModuleRunner(plain)("validate_logs", {"trail_name": TRAIL, "start_time": _iso(start), "fail_on_invalid": False})

    if denied == "log files":
        log_files = [key for flush in flushes for key in flush["log_files"]]
        assert result["verdict"] == "invalid" and sorted(kinds(result)) == sorted(("log_file_unreadable", key) for key in log_files)
        assert result["summary"]["log_files"]["unreadable"] == len(log_files)
        detail = result["failures"][0]["detail"]
        assert detail.startswith(f"s3://{BUCKET}/{log_files[0]} cannot be read")
    else:
        assert result["failed"] and result["verdict"] == "unreadable"
        detail = result["msg"]
        assert detail.startswith(f"Cannot read the digest file s3://{BUCKET}/{flushes[0]['digests'][0]}: access denied")
    assert all(word in detail for word in ("HTTPS", "aws:SecureTransport", "s3:GetObject", "kms:Decrypt")), detail
