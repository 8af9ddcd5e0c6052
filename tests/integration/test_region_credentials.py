"""Region and credentials reach every module the way Ansible users set them
(issue 12): module_defaults of group/trailops.cloudtrail.aws for every module
and role, fleet_region for the fleet, the account meant for every write, and
trail ARNs checked against the caller before any write."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT
from tests.integration.conftest import _env
from tests.integration.fleet_helpers import account_client, make_organization, static_account, write_inventory
from tests.local_aws.fidelity.sts_credentials import CREDENTIALS_PATH
from tests.local_aws.server import ACCOUNT_ID

GROUP_REGION = "eu-west-1"
SHELL_REGION = "us-east-1"
FLEET_TRAIL = "management-events"
# IAM is global: its calls are signed for us-east-1 whatever the task's region.
GLOBAL_SERVICES = {"iam"}


def access_key_accounts(aws) -> dict[str, str]:
    """Access key id -> the account it acts in: the management account's test
    key, and every key the local AWS's STS has issued."""
    issued = json.loads(aws._get(CREDENTIALS_PATH))
    return dict({"testing": ACCOUNT_ID}, **{entry["access_key_id"]: entry["account_id"] for entry in issued})


def regional_calls(calls):
    return [c for c in calls if c.service not in GLOBAL_SERVICES and c.service]


def readme_snippet() -> str:
    with open(os.path.join(REPO_ROOT, "README.md"), encoding="utf-8") as handle:
        readme = handle.read()
    section = readme.split("## Using it", 1)[1]
    return re.search(r"```yaml\n(.*?)```", section, re.S).group(1)


def source_arns(policy: dict) -> set[str]:
    return {
        arn
        for statement in policy["Statement"]
        for arn in [statement.get("Condition", {}).get("StringEquals", {}).get("aws:SourceArn")]
        if arn
    }


def test_group_region_reaches_every_module_and_role(aws, run_playbook, tmp_path):
    result_file = tmp_path / "result.json"
    aws.start_recording()
    run = run_playbook(
        "tests/integration/playbooks/region_group.yml",
        {"group_region": GROUP_REGION, "result_file": str(result_file)},
        region=SHELL_REGION,
    )
    calls = aws.stop_recording()
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]

    strays = sorted({(c.service, c.action, c.region) for c in regional_calls(calls) if c.region != GROUP_REGION})
    assert strays == []
    assert {c.service for c in calls} >= {"sts", "s3", "cloudtrail", "kms", "sns"}

    trails = aws.client("cloudtrail", GROUP_REGION).describe_trails(includeShadowTrails=False)["trailList"]
    assert [(t["Name"], t["HomeRegion"]) for t in trails] == [("region-trail", GROUP_REGION)]
    assert aws.client("cloudtrail", SHELL_REGION).describe_trails(includeShadowTrails=False)["trailList"] == []
    trail = trails[0]
    assert trail["TrailARN"] == f"arn:aws:cloudtrail:{GROUP_REGION}:{ACCOUNT_ID}:trail/region-trail"
    assert f":{GROUP_REGION}:" in trail["SnsTopicARN"] and f":{GROUP_REGION}:" in trail["KmsKeyId"]

    s3 = aws.client("s3", GROUP_REGION)
    policy = json.loads(s3.get_bucket_policy(Bucket=trail["S3BucketName"])["Policy"])
    assert source_arns(policy) == {trail["TrailARN"]}
    assert s3.get_bucket_location(Bucket=trail["S3BucketName"])["LocationConstraint"] == GROUP_REGION
    rules = s3.get_bucket_lifecycle_configuration(Bucket=trail["S3BucketName"])["Rules"]
    assert rules and {rule["Expiration"]["Days"] for rule in rules} == {365}

    selectors = aws.client("cloudtrail", GROUP_REGION).get_event_selectors(TrailName=trail["TrailARN"])
    assert [s["ReadWriteType"] for s in selectors["EventSelectors"]] == ["WriteOnly"]

    returned = json.loads(result_file.read_text())
    assert [t["trail_arn"] for t in returned["info"]["trails"]] == [trail["TrailARN"]]
    assert returned["validate"].get("trail_arn") == trail["TrailARN"], returned["validate"]


def test_readme_snippet_verbatim_puts_the_trail_in_its_region(aws, run_playbook, tmp_path):
    aws.client("s3", GROUP_REGION).create_bucket(Bucket="my-cloudtrail-logs", CreateBucketConfiguration={"LocationConstraint": GROUP_REGION})
    playbook = tmp_path / "readme.yml"
    playbook.write_text(readme_snippet())
    assert "region: " + GROUP_REGION in playbook.read_text()

    aws.start_recording()
    run = run_playbook(str(playbook), None, region=SHELL_REGION)
    calls = aws.stop_recording()
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]

    assert sorted({(c.service, c.action, c.region) for c in regional_calls(calls) if c.region != GROUP_REGION}) == []
    trails = aws.client("cloudtrail", GROUP_REGION).describe_trails(includeShadowTrails=False)["trailList"]
    assert [(t["Name"], t["HomeRegion"]) for t in trails] == [("management-events", GROUP_REGION)]
    assert aws.client("cloudtrail", SHELL_REGION).describe_trails(includeShadowTrails=False)["trailList"] == []
    policy = json.loads(aws.client("s3").get_bucket_policy(Bucket="my-cloudtrail-logs")["Policy"])
    assert source_arns(policy) == {f"arn:aws:cloudtrail:{GROUP_REGION}:{ACCOUNT_ID}:trail/management-events"}


# -- the fleet ----------------------------------------------------------------
def fleet_env(aws, *, drop: tuple[str, ...] = (), **extra: str) -> dict[str, str]:
    env = _env(aws, SHELL_REGION, dict({"ANSIBLE_PYTHON_INTERPRETER": sys.executable}, **extra))
    for name in drop:
        env.pop(name, None)
    return env


def run_fleet(aws, inventory: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "playbooks/fleet.yml", "-i", inventory]
    return subprocess.run(command + list(args), capture_output=True, text=True, cwd=REPO_ROOT, env=env, timeout=900, check=False)


@pytest.fixture
def two_accounts(aws, tmp_path):
    members = make_organization(aws, 2)
    inventory = write_inventory(tmp_path, accounts=[static_account(account) for account in members], source="yaml")
    return members, inventory


def writes_by_account(aws, calls) -> dict[str, list[tuple[str, str, str]]]:
    accounts = access_key_accounts(aws)
    found: dict[str, list[tuple[str, str, str]]] = {}
    for call in calls:
        if call.is_write and call.action != "AssumeRole":
            found.setdefault(accounts.get(call.access_key, "unknown " + call.access_key), []).append((call.service, call.action, call.region))
    return found


def test_fleet_writes_in_fleet_region_and_only_in_each_member_account(aws, two_accounts):
    members, inventory = two_accounts
    aws.start_recording()
    run = run_fleet(aws, inventory, fleet_env(aws), "-e", f"fleet_region={GROUP_REGION}")
    calls = aws.stop_recording()
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]

    by_account = writes_by_account(aws, calls)
    print({account: len(writes) for account, writes in by_account.items()})
    assert sorted(by_account) == sorted(members)
    for account in members:
        assert ("cloudtrail", "CreateTrail", GROUP_REGION) in by_account[account]
        assert [w for w in by_account[account] if w[0] not in GLOBAL_SERVICES and w[2] != GROUP_REGION] == []

    for account in members:
        trails = account_client(aws, account, "cloudtrail", GROUP_REGION).describe_trails(includeShadowTrails=False)["trailList"]
        assert [(t["Name"], t["HomeRegion"]) for t in trails] == [(FLEET_TRAIL, GROUP_REGION)]
        assert account_client(aws, account, "cloudtrail", SHELL_REGION).describe_trails(includeShadowTrails=False)["trailList"] == []
        policy = json.loads(account_client(aws, account, "s3").get_bucket_policy(Bucket=trails[0]["S3BucketName"])["Policy"])
        assert source_arns(policy) == {f"arn:aws:cloudtrail:{GROUP_REGION}:{account}:trail/{FLEET_TRAIL}"}
    assert aws.client("cloudtrail", GROUP_REGION).describe_trails()["trailList"] == []

    # The re-run under --check --diff sees the trail where it is: nothing to do.
    aws.start_recording()
    again = run_fleet(aws, inventory, fleet_env(aws), "-e", f"fleet_region={GROUP_REGION}", "--check", "--diff")
    assert again.returncode == 0, again.stdout[-6000:] + again.stderr[-3000:]
    assert writes_by_account(aws, aws.stop_recording()) == {}
    assert re.findall(r"changed=(\d+)", again.stdout) == ["0"] * len(members)


def test_fleet_without_a_region_stops_before_any_call(aws, two_accounts):
    members, inventory = two_accounts
    aws.start_recording()
    run = run_fleet(aws, inventory, fleet_env(aws, drop=("AWS_REGION", "AWS_DEFAULT_REGION")))
    calls = aws.stop_recording()
    assert run.returncode != 0
    assert calls == []
    for account in members:
        assert re.search(rf"account {account} .*no region: set fleet_region", run.stdout), run.stdout[-4000:]


def test_fleet_with_aws_profile_set_works(aws, two_accounts, tmp_path):
    members, inventory = two_accounts
    credentials = tmp_path / "credentials"
    credentials.write_text("[mgmt]\naws_access_key_id = testing\naws_secret_access_key = testing\naws_session_token = testing\n")
    env = fleet_env(
        aws,
        drop=("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"),
        AWS_PROFILE="mgmt",
        AWS_SHARED_CREDENTIALS_FILE=str(credentials),
        AWS_CONFIG_FILE=str(tmp_path / "no-config"),
    )
    aws.start_recording()
    run = run_fleet(aws, inventory, env)
    calls = aws.stop_recording()
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
    assert sorted(writes_by_account(aws, calls)) == sorted(members)
    for account in members:
        trails = account_client(aws, account, "cloudtrail").describe_trails(includeShadowTrails=False)["trailList"]
        assert [t["Name"] for t in trails] == [FLEET_TRAIL]


def test_trail_role_refuses_credentials_of_another_account(aws, run_playbook):
    aws.start_recording()
    run = run_playbook(
        "tests/integration/playbooks/role.yml", {"role_under_test": "trail", "trail_name": "wrong-account", "trail_account_id": "999999999999"}
    )
    calls = aws.stop_recording()
    assert run.returncode != 0
    assert "account_id: the task is meant for account 999999999999, but its credentials act in account " + ACCOUNT_ID in run.stdout
    assert [c for c in calls if c.is_write] == []


# -- trail ARNs and names --------------------------------------------------------
@pytest.mark.parametrize(
    "params, message",
    [
        (
            {"name": "arn:aws:cloudtrail:us-east-1:999999999999:trail/x-trail"},
            "name: the trail ARN 'arn:aws:cloudtrail:us-east-1:999999999999:trail/x-trail' is in account 999999999999",
        ),
        ({"name": f"arn:aws-cn:cloudtrail:us-east-1:{ACCOUNT_ID}:trail/x-trail"}, "is in partition aws-cn"),
        ({"name": "trail-nl\n"}, "name: 'trail-nl\\n' is not a valid trail name"),
        ({"name": "meant-elsewhere", "account_id": "999999999999"}, "account_id: the task is meant for account 999999999999"),
        ({"name": "arn:aws:cloudtrail:us-east-1:999999999999:trail/x-trail", "account_id": ACCOUNT_ID}, "is in account 999999999999"),
    ],
    ids=["other account", "other partition", "trailing newline", "account_id", "arn and account_id"],
)
@pytest.mark.parametrize("check", [False, True], ids=["apply", "check"])
def test_trail_refuses_before_any_write(aws, run_module, params, message, check):
    aws.client("s3").create_bucket(Bucket="arn-check-logs")
    aws.start_recording()
    result = run_module("trail", dict(params, s3_bucket_name="arn-check-logs"), check=check)
    calls = aws.stop_recording()
    assert result["failed"] and message in result["msg"], result
    assert [c for c in calls if c.is_write] == []
    assert aws.client("cloudtrail").describe_trails()["trailList"] == []


def test_trail_of_the_account_meant_is_made(aws, run_module):
    aws.client("s3").create_bucket(Bucket="arn-check-logs")
    arn = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT_ID}:trail/meant-here"
    result = run_module("bucket_policy", {"bucket": "arn-check-logs", "trails": [arn]})
    assert not result["failed"], result
    result = run_module("trail", {"name": arn, "account_id": ACCOUNT_ID, "s3_bucket_name": "arn-check-logs"})
    assert result["changed"] and result["trail"]["trail_arn"] == arn, result
    again = run_module("trail", {"name": arn, "account_id": ACCOUNT_ID, "s3_bucket_name": "arn-check-logs"})
    assert not again["changed"]


def test_every_module_rejects_a_trailing_newline_by_option(aws, run_module):
    aws.start_recording()
    problems = {
        "trail": run_module("trail", {"name": "trail-nl\n", "s3_bucket_name": "b-logs"}),
        "event_selectors": run_module("event_selectors", {"trail_name": "trail-nl\n", "preset": "management_events"}),
        "bucket_policy": run_module("bucket_policy", {"bucket": "b-logs", "trails": ["trail-nl\n"]}),
        "validate_logs": run_module("validate_logs", {"trail_name": "trail-nl\n", "start_time": "2026-01-01T00:00:00Z"}),
    }
    assert aws.stop_recording() == []
    options = {"trail": "name", "event_selectors": "trail_name", "bucket_policy": "trails", "validate_logs": "trail_name"}
    assert {module: result["msg"].split(":")[0] for module, result in problems.items()} == options


def test_event_selectors_of_a_trail_arn_of_another_account_write_nothing(aws, run_module):
    aws.start_recording()
    result = run_module("event_selectors", {"trail_name": "arn:aws:cloudtrail:us-east-1:999999999999:trail/x-trail", "preset": "management_events"})
    calls = aws.stop_recording()
    assert result["failed"] and result["msg"].startswith("trail_name: "), result
    assert [c for c in calls if c.is_write] == []
