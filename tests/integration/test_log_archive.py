"""The log-archive pattern (docs/fleet.md, "A central log archive"): the log
bucket, its policy and the KMS key live in a log-archive account, and either
each member account's own trail or one organization trail in the management
account delivers there. On the local AWS's Organizations; state is read back
with boto3 in the account that owns it, writes are counted on the recorder.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.integration.fleet_helpers import ROLE_ARN_TEMPLATE, account_client, make_organization, write_inventory
from tests.integration.test_fleet import ansible_playbook, recap
from tests.local_aws.fidelity.delivery import deliver
from tests.local_aws.server import ACCOUNT_ID, REGION

TRAIL = "management-events"
BUCKET = "org-cloudtrail-archive"
KEY_ALIAS = "alias/cloudtrail/management-events"
FOREIGN_SID = "LogArchiveAuditors"


def writes(calls) -> list:
    # AssumeRole only reads credentials; every run needs one per account.
    return [(c.service, c.action) for c in calls if c.is_write and c.action != "AssumeRole"]


def trail_arn(account: str) -> str:
    return f"arn:aws:cloudtrail:{REGION}:{account}:trail/{TRAIL}"


def member_params(account: str, archive: str, **more) -> dict:
    return dict(
        name=TRAIL,
        account_id=account,
        assume_role_arn=ROLE_ARN_TEMPLATE.format(account_id=account),
        log_archive_role_arn=ROLE_ARN_TEMPLATE.format(account_id=archive),
        log_archive_account_id=archive,
        s3_bucket_name=BUCKET,
        kms_key_create=True,
        **more,
    )


def run_at_once(run_module, params: list[dict], **kwargs) -> list[dict]:
    """Every run at the same time, as a fleet's forks do."""
    with ThreadPoolExecutor(max_workers=len(params)) as pool:
        return list(pool.map(lambda p: run_module("baseline", p, **kwargs), params))


def bucket_policy(aws, archive: str) -> dict:
    return json.loads(account_client(aws, archive, "s3").get_bucket_policy(Bucket=BUCKET)["Policy"])


def key_policy(aws, archive: str) -> dict:
    kms = account_client(aws, archive, "kms")
    key_id = kms.describe_key(KeyId=KEY_ALIAS)["KeyMetadata"]["KeyId"]
    return json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])


def source_arns(statement: dict) -> set[str]:
    value = statement.get("Condition", {}).get("StringEquals", {}).get("aws:SourceArn", [])
    return {value} if isinstance(value, str) else set(value)


def granted_trails(policy: dict, action: str) -> set[str]:
    """The trails the policy's statements for ``action`` name in aws:SourceArn."""
    found: set[str] = set()
    for statement in policy["Statement"]:
        actions = statement.get("Action")
        if action in (actions if isinstance(actions, list) else [actions]):
            found |= source_arns(statement)
    return found


def write_resources(policy: dict) -> set[str]:
    found: set[str] = set()
    for statement in policy["Statement"]:
        if statement.get("Action") == "s3:PutObject" and statement.get("Effect") == "Allow":
            resource = statement["Resource"]
            found |= {resource} if isinstance(resource, str) else set(resource)
    return found


def add_foreign_statements(aws, archive: str) -> None:
    """An auditor's statement in both policies, which no run may drop."""
    s3 = account_client(aws, archive, "s3")
    policy = bucket_policy(aws, archive)
    policy["Statement"].append(
        {
            "Sid": FOREIGN_SID,
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{archive}:root"},
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{BUCKET}/*",
        }
    )
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy))
    kms = account_client(aws, archive, "kms")
    key_id = kms.describe_key(KeyId=KEY_ALIAS)["KeyMetadata"]["KeyId"]
    policy = key_policy(aws, archive)
    policy["Statement"].append(
        {"Sid": FOREIGN_SID, "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{archive}:root"}, "Action": "kms:Decrypt", "Resource": "*"}
    )
    kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=json.dumps(policy))


@pytest.fixture
def org(aws):
    """The log-archive account and six members of an organization."""
    archive, *members = make_organization(aws, 7)
    return archive, members


# ---------------------------------------------------------------------------
# Per-member trails into the archive
# ---------------------------------------------------------------------------
def test_member_trails_deliver_into_the_archive_bucket_and_key(aws, run_module, org):
    archive, members = org
    first, second = members[:3], members[3:]

    # Three accounts at once from nothing: they race to make the bucket and the key.
    made = run_at_once(run_module, [member_params(m, archive) for m in first])
    assert [r.get("msg") for r in made if r["failed"]] == []
    add_foreign_statements(aws, archive)
    # Three more at once, merging into the same two policies as each other.
    more = run_at_once(run_module, [member_params(m, archive) for m in second])
    assert [r.get("msg") for r in more if r["failed"]] == []

    # The bucket and the key are the archive's, not the members'.
    assert BUCKET in [b["Name"] for b in account_client(aws, archive, "s3").list_buckets()["Buckets"]]
    for member in members:
        assert BUCKET not in [b["Name"] for b in account_client(aws, member, "s3").list_buckets()["Buckets"]]
    key_arn = account_client(aws, archive, "kms").describe_key(KeyId=KEY_ALIAS)["KeyMetadata"]["Arn"]
    assert key_arn.split(":")[4] == archive
    # The race left one key in use; a key made by a run that lost it is pending deletion.
    kms = account_client(aws, archive, "kms")
    states = [kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]["KeyState"] for k in kms.list_keys()["Keys"]]
    assert states.count("Enabled") == 1, states

    # The bucket policy grants exactly the six trails, each under its own account's prefix, and the auditor survives.
    policy = bucket_policy(aws, archive)
    expected = {trail_arn(m) for m in members}
    assert granted_trails(policy, "s3:PutObject") == expected
    assert granted_trails(policy, "s3:GetBucketAcl") == expected
    assert write_resources(policy) == {f"arn:aws:s3:::{BUCKET}/AWSLogs/{m}/*" for m in members}
    assert FOREIGN_SID in [s.get("Sid") for s in policy["Statement"]]
    # So does the key policy, whose root statement is the archive's.
    policy = key_policy(aws, archive)
    assert granted_trails(policy, "kms:GenerateDataKey*") == expected
    assert FOREIGN_SID in [s.get("Sid") for s in policy["Statement"]]
    roots = [s["Principal"]["AWS"] for s in policy["Statement"] if s.get("Action") == "kms:*"]
    assert roots == [f"arn:aws:iam::{archive}:root"]

    # Each member's trail is in the member, delivering to the archive, encrypted with its key.
    for member in members:
        (found,) = account_client(aws, member, "cloudtrail").describe_trails(trailNameList=[TRAIL])["trailList"]
        assert found["TrailARN"] == trail_arn(member)
        assert found["S3BucketName"] == BUCKET and found["KmsKeyId"] == key_arn
    keys = deliver(aws)["log_files"]
    for member in members:
        assert any(key.startswith(f"AWSLogs/{member}/CloudTrail/{REGION}/") for key in keys), (member, keys[:5])
    listed = account_client(aws, archive, "s3").list_objects_v2(Bucket=BUCKET, Prefix="AWSLogs/")["Contents"]
    assert {obj["Key"].split("/")[1] for obj in listed} == set(members)


def test_second_run_changes_nothing_and_a_changed_member_is_drift(aws, run_module, org):
    archive, members = org
    members = members[:3]
    run_at_once(run_module, [member_params(m, archive) for m in members])

    aws.start_recording()
    again = run_at_once(run_module, [member_params(m, archive) for m in members])
    calls = aws.stop_recording()
    assert [r["changed"] for r in again] == [False] * 3, [r.get("changed_parts") or r.get("msg") for r in again]
    assert writes(calls) == []
    assert aws.error_responses() == []

    # A member's grant removed from the archive's policy, another member's trail stopped.
    s3 = account_client(aws, archive, "s3")
    policy = bucket_policy(aws, archive)
    policy["Statement"] = [s for s in policy["Statement"] if trail_arn(members[0]) not in source_arns(s)]
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy))
    account_client(aws, members[1], "cloudtrail").stop_logging(Name=TRAIL)

    aws.start_recording()
    checked = run_at_once(run_module, [member_params(m, archive) for m in members], check=True, diff=True)
    calls = aws.stop_recording()
    assert writes(calls) == []
    assert [r["changed_parts"] for r in checked] == [["bucket_policy"], ["trail"], []]
    # The repair puts the grant back; the other members' grants were kept.
    run_module("baseline", member_params(members[0], archive))
    assert granted_trails(bucket_policy(aws, archive), "s3:PutObject") == {trail_arn(m) for m in members}


# ---------------------------------------------------------------------------
# One organization trail into the archive
# ---------------------------------------------------------------------------
def org_trail_params(archive: str, organization_id: str) -> dict:
    return dict(
        name=TRAIL,
        account_id=ACCOUNT_ID,
        is_organization_trail=True,
        organization_id=organization_id,
        log_archive_role_arn=ROLE_ARN_TEMPLATE.format(account_id=archive),
        s3_bucket_name=BUCKET,
        kms_key_create=True,
    )


def test_an_organization_trail_delivers_every_member_into_the_archive(aws, run_module, org):
    archive, members = org
    organization_id = aws.client("organizations").describe_organization()["Organization"]["Id"]
    made = run_module("baseline", org_trail_params(archive, organization_id))
    assert not made["failed"], made.get("msg")

    org_trail = trail_arn(ACCOUNT_ID)
    policy = bucket_policy(aws, archive)
    assert granted_trails(policy, "s3:PutObject") == {org_trail}
    assert write_resources(policy) == {f"arn:aws:s3:::{BUCKET}/AWSLogs/{ACCOUNT_ID}/*", f"arn:aws:s3:::{BUCKET}/AWSLogs/{organization_id}/*"}
    assert granted_trails(key_policy(aws, archive), "kms:GenerateDataKey*") == {org_trail}
    (found,) = aws.client("cloudtrail").describe_trails(trailNameList=[TRAIL])["trailList"]
    assert found["IsOrganizationTrail"] is True and found["S3BucketName"] == BUCKET

    # Members' events land under the organization's prefix.
    for member in members[:2]:
        account_client(aws, member, "cloudtrail").describe_trails()
    keys = deliver(aws)["log_files"]
    for member in members[:2]:
        assert any(key.startswith(f"AWSLogs/{organization_id}/{member}/CloudTrail/") for key in keys), (member, keys[:5])

    aws.start_recording()
    again = run_module("baseline", org_trail_params(archive, organization_id))
    calls = aws.stop_recording()
    assert again["changed"] is False, again.get("changed_parts")
    assert writes(calls) == [] and aws.error_responses() == []


# ---------------------------------------------------------------------------
# Refusals, before any call
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "given, message",
    [
        ({"log_archive_role_arn": "arn:aws:iam::123:role/x"}, "log_archive_role_arn: not an IAM role ARN"),
        ({"log_archive_account_id": "210987654321"}, "log_archive_account_id: set without log_archive_role_arn"),
        (
            {"log_archive_role_arn": ROLE_ARN_TEMPLATE.format(account_id="210987654321"), "log_archive_account_id": "210987654322"},
            "log_archive_role_arn: is a role of another account than log_archive_account_id",
        ),
        (
            {"log_archive_role_arn": ROLE_ARN_TEMPLATE.format(account_id="210987654321"), "state": "absent", "s3_bucket_delete": True},
            "s3_bucket_delete: true while log_archive_role_arn is set",
        ),
    ],
)
def test_wrong_archive_options_fail_before_any_call(aws, run_module, given, message):
    aws.start_recording()
    failed = run_module("baseline", dict(name=TRAIL, **given))
    assert aws.stop_recording() == []
    assert failed["failed"] and failed["msg"].startswith(message), failed["msg"]


# ---------------------------------------------------------------------------
# The fleet: fleet.yml and drift_report.yml with the archive variables
# ---------------------------------------------------------------------------
def run_fleet(aws, playbook: str, inventory: str, variables: dict, *args: str):
    return ansible_playbook(aws, playbook, [inventory], "-f", "4", "-e", json.dumps(variables), *args)


def drift_statuses(report_dir) -> dict[str, str]:
    with open(report_dir / "drift_report.json", encoding="utf-8") as handle:
        return {a["account_id"]: a["status"] for a in json.load(handle)["accounts"]}


def test_the_fleet_delivers_every_member_into_the_archive_and_the_drift_report_finds_a_changed_member(aws, org, tmp_path):
    archive, members = org
    members = members[:4]
    inventory = write_inventory(tmp_path, aws, options={"exclude_accounts": [ACCOUNT_ID, archive, *org[1][4:]]}, name="members")
    variables = {"fleet_log_archive_account_id": archive, "trail_s3_bucket_name": BUCKET, "trail_kms_key_create": True, "drift_costs": False}

    applied = run_fleet(aws, "playbooks/fleet.yml", inventory, variables)
    hosts = recap(applied)
    assert {host: hosts[host]["failed"] for host in members} == {host: 0 for host in members}, applied.stdout[-4000:]
    assert granted_trails(bucket_policy(aws, archive), "s3:PutObject") == {trail_arn(m) for m in members}
    assert granted_trails(key_policy(aws, archive), "kms:GenerateDataKey*") == {trail_arn(m) for m in members}

    aws.start_recording()
    again = run_fleet(aws, "playbooks/fleet.yml", inventory, variables)
    calls = aws.stop_recording()
    assert {host: recap(again)[host]["changed"] for host in members} == {host: 0 for host in members}, again.stdout[-4000:]
    assert writes(calls) == [] and aws.error_responses() == []

    report_dir = tmp_path / "reports"
    clean = run_fleet(aws, "playbooks/drift_report.yml", inventory, dict(variables, report_dir=str(report_dir)), "--check")
    assert clean.returncode == 0, clean.stdout[-4000:]
    assert drift_statuses(report_dir) == {m: "clean" for m in members}

    account_client(aws, members[2], "cloudtrail").stop_logging(Name=TRAIL)
    aws.start_recording()
    drift = run_fleet(aws, "playbooks/drift_report.yml", inventory, dict(variables, report_dir=str(report_dir)), "--check")
    calls = aws.stop_recording()
    assert drift.returncode == 0 and writes(calls) == []
    assert drift_statuses(report_dir) == dict({m: "clean" for m in members}, **{members[2]: "drifted"})


def test_the_fleet_makes_one_organization_trail_in_the_management_account(aws, org, tmp_path):
    archive, members = org
    organization_id = aws.client("organizations").describe_organization()["Organization"]["Id"]
    inventory = write_inventory(tmp_path, aws, options={"exclude_accounts": [archive, *members[1:]]}, name="org")
    variables = {
        "fleet_organization_trail": True,
        "fleet_management_account_id": ACCOUNT_ID,
        "trail_organization_id": organization_id,
        "fleet_log_archive_account_id": archive,
        "trail_s3_bucket_name": BUCKET,
    }
    applied = run_fleet(aws, "playbooks/fleet.yml", inventory, variables)
    hosts = recap(applied)
    # The management account gets the organization trail; a member gets none and fails alone, saying why.
    assert hosts[ACCOUNT_ID]["failed"] == 0 and hosts[members[0]]["failed"] == 1, applied.stdout[-4000:]
    assert "only the management account fleet_management_account_id" in applied.stdout
    # The member sees only the organization trail (CloudTrail lists it in every member), none of its own.
    assert [t["TrailARN"] for t in account_client(aws, members[0], "cloudtrail").describe_trails()["trailList"]] == [trail_arn(ACCOUNT_ID)]
    (found,) = aws.client("cloudtrail").describe_trails(trailNameList=[TRAIL])["trailList"]
    assert found["IsOrganizationTrail"] is True and found["S3BucketName"] == BUCKET
    policy = bucket_policy(aws, archive)
    assert granted_trails(policy, "s3:PutObject") == {trail_arn(ACCOUNT_ID)}
    assert f"arn:aws:s3:::{BUCKET}/AWSLogs/{organization_id}/*" in write_resources(policy)
