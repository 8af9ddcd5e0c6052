"""The trailops.cloudtrail.accounts inventory plugin, through ansible-inventory,
against AWS Organizations on the local AWS: hosts, host vars, groups, filters,
the calls it makes, its cache, and wrong options (refused before any call)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.integration.conftest import _env
from tests.integration.fleet_helpers import account_name, make_organization, organization_ous, static_account, write_inventory
from tests.local_aws.server import ACCOUNT_ID

ROLE = "arn:aws:iam::{}:role/OrganizationAccountAccessRole"


def _plain(value):
    """ansible-inventory --list marks strings as unsafe; the tests want values."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def inventory(aws, path: str, extra_env: dict | None = None) -> tuple[subprocess.CompletedProcess, dict]:
    env = {"ANSIBLE_INVENTORY_UNPARSED_FAILED": "true", "ANSIBLE_INVENTORY_ENABLED": "trailops.cloudtrail.accounts"}
    env.update(extra_env or {})
    proc = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "ansible-inventory"), "-i", path, "--list"],
        capture_output=True,
        text=True,
        env=_env(aws, "us-east-1", env),
        timeout=120,
        check=False,
    )
    return proc, (_plain(json.loads(proc.stdout)) if proc.returncode == 0 else {})


def hosts_of(listing: dict, group: str = "all") -> set[str]:
    found = set(listing.get(group, {}).get("hosts", []))
    for child in listing.get(group, {}).get("children", []):
        found |= hosts_of(listing, child)
    return found


def test_every_account_of_the_organization_with_its_vars_and_groups(aws, tmp_path):
    members = make_organization(aws, 3, ous=["prod", "dev"])
    ous = organization_ous(aws)
    aws.start_recording()
    proc, listing = inventory(aws, write_inventory(tmp_path, aws))
    calls = aws.stop_recording()
    assert proc.returncode == 0, proc.stderr
    assert hosts_of(listing) == {ACCOUNT_ID, *members}
    hostvars = listing["_meta"]["hostvars"]
    assert hostvars[members[1]] == {
        "aws_account_id": members[1],
        "aws_account_name": account_name(1),
        "aws_account_email": f"{account_name(1)}@example.com",
        "aws_account_status": "ACTIVE",
        "aws_account_parent_ou": ous["dev"],
        "aws_account_role_arn": ROLE.format(members[1]),
    }
    assert hosts_of(listing, "ou_" + ous["prod"].replace("-", "_")) == {members[0], members[2]}
    assert hosts_of(listing, "status_active") == {ACCOUNT_ID, *members}
    root_group = "ou_" + hostvars[ACCOUNT_ID]["aws_account_parent_ou"].replace("-", "_")
    assert hosts_of(listing, root_group) == {ACCOUNT_ID}
    # A walk of the tree: the root and each OU once, no call per account.
    assert sorted(c.action for c in calls) == sorted(["ListRoots"] + ["ListAccountsForParent", "ListChildren"] * 3)


def test_organizational_units_with_and_without_children(aws, tmp_path):
    members = make_organization(aws, 3, ous=["workloads"])
    org = aws.client("organizations")
    workloads = organization_ous(aws)["workloads"]
    nested = org.create_organizational_unit(ParentId=workloads, Name="prod")["OrganizationalUnit"]["Id"]
    org.move_account(AccountId=members[2], SourceParentId=workloads, DestinationParentId=nested)
    _proc, recursive = inventory(aws, write_inventory(tmp_path, aws, options={"organizational_units": [workloads]}))
    assert hosts_of(recursive) == set(members)
    assert recursive["_meta"]["hostvars"][members[2]]["aws_account_parent_ou"] == nested
    _proc, flat = inventory(aws, write_inventory(tmp_path, aws, options={"organizational_units": [workloads], "recursive": False}))
    assert hosts_of(flat) == set(members[:2])


def test_statuses_and_account_tags_filter(aws, tmp_path):
    members = make_organization(aws, 4, tags={0: {"env": "prod"}, 1: {"env": "dev"}, 3: {"env": "prod"}})
    aws.client("organizations").close_account(AccountId=members[3])
    _proc, everything = inventory(aws, write_inventory(tmp_path, aws))
    assert hosts_of(everything, "status_suspended") == {members[3]}
    aws.start_recording()
    _proc, prod = inventory(aws, write_inventory(tmp_path, aws, options={"statuses": ["active"], "account_tags": {"env": "prod"}}))
    calls = aws.stop_recording()
    assert hosts_of(prod) == {members[0]}
    assert prod["_meta"]["hostvars"][members[0]]["aws_account_tags"] == {"env": "prod"}
    # Tags are read only when a filter (or include_tags) needs them: once per account.
    assert len([c for c in calls if c.action == "ListTagsForResource"]) == 5


def test_exclude_accounts_and_role_arn_template(aws, tmp_path):
    members = make_organization(aws, 2)
    options = {"exclude_accounts": [ACCOUNT_ID], "role_arn_template": "arn:aws:iam::{account_id}:role/{account_name}-cloudtrail"}
    _proc, listing = inventory(aws, write_inventory(tmp_path, aws, options=options))
    assert hosts_of(listing) == set(members)
    assert listing["_meta"]["hostvars"][members[0]]["aws_account_role_arn"] == f"arn:aws:iam::{members[0]}:role/{account_name(0)}-cloudtrail"


def test_static_accounts_need_no_aws_call(aws, tmp_path):
    accounts = [
        static_account("012345678901", name="audit", parent_ou="ou-ab12-cdef3456"),
        static_account("210987654321", name="old", status="SUSPENDED", role_arn="arn:aws:iam::210987654321:role/Admin"),
    ]
    aws.start_recording()
    proc, listing = inventory(aws, write_inventory(tmp_path, accounts=accounts, options={"statuses": ["ACTIVE", "SUSPENDED"]}))
    assert aws.stop_recording() == []
    assert proc.returncode == 0, proc.stderr
    assert hosts_of(listing) == {"012345678901", "210987654321"}
    assert listing["_meta"]["hostvars"]["210987654321"]["aws_account_role_arn"] == "arn:aws:iam::210987654321:role/Admin"
    assert hosts_of(listing, "ou_ou_ab12_cdef3456") == {"012345678901"}
    assert hosts_of(listing, "status_suspended") == {"210987654321"}


def test_keyed_groups_from_constructed(aws, tmp_path):
    accounts = [static_account("012345678901", name="audit"), dict(static_account("210987654321", name="web"), tags={"team": "web"})]
    options = {"keyed_groups": [{"key": "aws_account_tags.team | default('none')", "prefix": "team"}]}
    _proc, listing = inventory(aws, write_inventory(tmp_path, accounts=accounts, options=options))
    assert hosts_of(listing, "team_web") == {"210987654321"}
    assert hosts_of(listing, "team_none") == {"012345678901"}


@pytest.mark.parametrize(
    "options, message",
    [
        ({"statuses": ["ACTIVE", "GONE"]}, "statuses: 'GONE' is not an account status"),
        ({"organizational_units": ["engineering"]}, "organizational_units: 'engineering' is neither an OU id"),
        ({"role_arn_template": "arn:aws:iam::123456789012:role/Admin"}, "role_arn_template"),
        ({"statusses": ["ACTIVE"]}, "unknown options ['statusses']"),
        ({"accounts": [{"id": 12345}]}, "accounts[0].id: an AWS account id is 12 digits (got '12345'); quote account ids in YAML"),
        ({"exclude_accounts": ["12345"]}, "exclude_accounts: an AWS account id is 12 digits (got '12345')"),
    ],
)
def test_wrong_options_fail_before_any_call(aws, tmp_path, options, message):
    make_organization(aws, 1)
    aws.start_recording()
    proc, _listing = inventory(aws, write_inventory(tmp_path, aws, options=options))
    assert aws.stop_recording() == []
    assert proc.returncode != 0
    assert message in proc.stderr


def test_an_ou_that_does_not_exist_is_named(aws, tmp_path):
    make_organization(aws, 1)
    proc, _listing = inventory(aws, write_inventory(tmp_path, aws, options={"organizational_units": ["ou-abcd-12345678"]}))
    assert proc.returncode != 0
    assert "organizational_units names an OU or root that does not exist (ParentNotFoundException)" in proc.stderr


def test_no_organization_means_no_hosts_and_a_warning(aws, tmp_path):
    proc, listing = inventory(aws, write_inventory(tmp_path, aws))
    assert proc.returncode == 0, proc.stderr
    assert hosts_of(listing) == set()
    assert "not in an AWS Organization: no accounts" in proc.stderr


def test_no_matching_account_means_no_hosts_and_a_warning(aws, tmp_path):
    make_organization(aws, 0)
    proc, listing = inventory(aws, write_inventory(tmp_path, aws, options={"exclude_accounts": [ACCOUNT_ID]}))
    assert proc.returncode == 0, proc.stderr
    assert hosts_of(listing) == set()
    assert "no account matched (of 1 read): no hosts" in proc.stderr


def test_the_cache_saves_the_organization_calls(aws, tmp_path):
    members = make_organization(aws, 2)
    options = {"cache": True, "cache_plugin": "ansible.builtin.jsonfile", "cache_connection": str(tmp_path / "cache"), "cache_timeout": 600}
    path = write_inventory(tmp_path, aws, options=options)
    _proc, first = inventory(aws, path)
    aws.start_recording()
    _proc, second = inventory(aws, path)
    assert aws.stop_recording() == []
    assert hosts_of(first) == hosts_of(second) == {ACCOUNT_ID, *members}


def test_a_cache_without_tags_is_read_again_for_a_tag_filter(aws, tmp_path):
    members = make_organization(aws, 2, tags={1: {"env": "prod"}})
    cache = {"cache": True, "cache_plugin": "ansible.builtin.jsonfile", "cache_connection": str(tmp_path / "cache"), "cache_timeout": 600}
    inventory(aws, write_inventory(tmp_path, aws, options=cache))
    _proc, tagged = inventory(aws, write_inventory(tmp_path, aws, options=dict(cache, account_tags={"env": "prod"})))
    assert hosts_of(tagged) == {members[1]}
