"""A fleet of AWS accounts on the local AWS, for the fleet tests and anyone who
needs many accounts: an organization with member accounts (moto implements
AWS Organizations, and assuming ``arn:aws:iam::<account>:role/<any>`` gives
credentials acting in that account), and an inventory file for them."""

from __future__ import annotations

import os
from typing import Any, Iterable, Optional, Sequence

import yaml

from tests.local_aws.server import ACCOUNT_ID, REGION

ROLE_NAME = "OrganizationAccountAccessRole"
ROLE_ARN_TEMPLATE = "arn:aws:iam::{account_id}:role/" + ROLE_NAME


def account_name(index: int) -> str:
    return f"member-{index:03d}"


def make_organization(
    aws,
    n_accounts: int,
    *,
    ous: Sequence[str] = (),
    tags: Optional[dict[int, dict[str, str]]] = None,
) -> list[str]:
    """An organization whose management account is the local AWS's default
    account, with ``n_accounts`` ACTIVE member accounts; returns the member
    account ids in creation order.

    ``ous``: names of organizational units under the root; member i is moved
    to ``ous[i % len(ous)]``. ``tags``: account tags by member index.
    """
    org = aws.client("organizations")
    org.create_organization(FeatureSet="ALL")
    root_id = org.list_roots()["Roots"][0]["Id"]
    ou_ids = [org.create_organizational_unit(ParentId=root_id, Name=name)["OrganizationalUnit"]["Id"] for name in ous]
    accounts = []
    for index in range(n_accounts):
        name = account_name(index)
        status = org.create_account(AccountName=name, Email=f"{name}@example.com")["CreateAccountStatus"]
        account = status["AccountId"]
        if ou_ids:
            org.move_account(AccountId=account, SourceParentId=root_id, DestinationParentId=ou_ids[index % len(ou_ids)])
        if tags and index in tags:
            org.tag_resource(ResourceId=account, Tags=[{"Key": k, "Value": v} for k, v in tags[index].items()])
        accounts.append(account)
    return accounts


def organization_ous(aws) -> dict[str, str]:
    """OU name -> OU id for the OUs directly under the root."""
    org = aws.client("organizations")
    root_id = org.list_roots()["Roots"][0]["Id"]
    return {ou["Name"]: ou["Id"] for ou in org.list_organizational_units_for_parent(ParentId=root_id)["OrganizationalUnits"]}


def account_client(aws, account: str, service: str, region: str = REGION, session_name: str = "fleet-test"):
    """A boto3 client acting in ``account`` through its role, as fleet.yml does,
    under the role session ``session_name``."""
    credentials = aws.client("sts", region).assume_role(
        RoleArn=ROLE_ARN_TEMPLATE.format(account_id=account), RoleSessionName=session_name
    )["Credentials"]
    return aws.client(
        service,
        region,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def static_account(
    account: str,
    *,
    name: str = "",
    status: str = "ACTIVE",
    role_arn: str = "",
    parent_ou: str = "",
    email: str = "",
) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": account, "name": name or f"static-{account}", "status": status}
    for key, value in (("role_arn", role_arn), ("parent_ou", parent_ou), ("email", email)):
        if value:
            entry[key] = value
    return entry


def write_inventory(
    tmp_path,
    aws=None,
    *,
    accounts: Optional[Iterable[dict[str, Any]]] = None,
    options: Optional[dict[str, Any]] = None,
    name: str = "fleet",
    source: str = "plugin",
) -> str:
    """Write an inventory for the fleet into ``tmp_path``; returns its path.

    ``source="plugin"`` (default): a ``<name>.accounts.yml`` for the
    ``trailops.cloudtrail.accounts`` inventory plugin; with ``accounts`` (see
    ``static_account``) it lists them statically, otherwise it reads the
    organization of the local AWS. ``options`` are more plugin options.

    ``source="yaml"``: a plain YAML inventory with the same host vars the
    plugin sets, for ``accounts`` (needs no plugin; ``aws`` is unused).
    """
    if source == "yaml":
        hosts = {}
        for entry in accounts or ():
            account = str(entry["id"])
            hosts[account] = {
                "aws_account_id": account,
                "aws_account_name": entry.get("name", ""),
                "aws_account_email": entry.get("email", ""),
                "aws_account_status": entry.get("status", "ACTIVE"),
                "aws_account_parent_ou": entry.get("parent_ou", ""),
                "aws_account_role_arn": entry.get("role_arn") or ROLE_ARN_TEMPLATE.format(account_id=account),
            }
        path = os.path.join(str(tmp_path), f"{name}.yml")
        with open(path, "w", encoding="utf-8") as handle:
            yaml.safe_dump({"all": {"hosts": hosts}}, handle, sort_keys=False)
        return path
    config: dict[str, Any] = {"plugin": "trailops.cloudtrail.accounts"}
    if aws is not None:
        config["endpoint_url"] = aws.endpoint
    if accounts is not None:
        config["accounts"] = list(accounts)
    config.update(options or {})
    path = os.path.join(str(tmp_path), f"{name}.accounts.yml")
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump(config, handle, sort_keys=False)
    return path


MANAGEMENT_ACCOUNT = ACCOUNT_ID


class EnvironmentAWS:
    """The local AWS that AWS_ENDPOINT_URL names (``python -m tests.local_aws
    run`` sets it), with the ``client``/``endpoint`` the helpers above use."""

    def __init__(self) -> None:
        self.endpoint = os.environ["AWS_ENDPOINT_URL"]

    def client(self, service: str, region: str = REGION, **credentials):
        import boto3

        return boto3.client(service, region_name=region, endpoint_url=self.endpoint, **credentials)


def main(argv: Sequence[str]) -> None:
    """For `make demo`:
    organization N DIR   an organization of N member accounts and DIR/fleet.accounts.yml (members only)
    drift ACCOUNT        stop logging and turn off log file validation of ACCOUNT's trail, out of band
    """
    aws = EnvironmentAWS()
    if argv[0] == "organization":
        members = make_organization(aws, int(argv[1]))
        os.makedirs(argv[2], exist_ok=True)
        path = write_inventory(argv[2], aws, options={"exclude_accounts": [MANAGEMENT_ACCOUNT]})
        print(f"organization with {len(members)} member accounts: {', '.join(members)}; inventory {path}")
    elif argv[0] == "drift":
        cloudtrail = account_client(aws, argv[1], "cloudtrail")
        for trail in cloudtrail.describe_trails()["trailList"]:
            cloudtrail.stop_logging(Name=trail["Name"])
            cloudtrail.update_trail(Name=trail["Name"], EnableLogFileValidation=False)
            print(f"out of band, in {argv[1]}: stopped logging and turned off log file validation of {trail['Name']}")
    else:
        raise SystemExit(main.__doc__)


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
