# -*- coding: utf-8 -*-

# Copyright: Contributors to the trailops.cloudtrail project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The accounts inventory's logic, free of Ansible and boto3: option checks,
accounts from AWS Organizations or a static list in one shape, the filters,
the role ARN template, host vars and group names. Every function is pure."""

from __future__ import annotations

import re
import string
from typing import Any
from typing import Iterable
from typing import Optional

from ansible_collections.trailops.cloudtrail.plugins.module_utils import parameters
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parameters import ParameterError

DEFAULT_ROLE_ARN_TEMPLATE = "arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole"
# The fields a role_arn_template may use.
TEMPLATE_FIELDS = ("account_id", "account_name")
# AWS Organizations' account states (the State field; the older Status field
# has the first three).
ACCOUNT_STATUSES = ("ACTIVE", "SUSPENDED", "PENDING_CLOSURE", "PENDING_ACTIVATION", "CLOSED")
STATIC_ACCOUNT_KEYS = ("id", "name", "email", "status", "parent_ou", "role_arn", "tags")

# Organizations' patterns for root and OU ids.
_PARENT_ID = re.compile(r"^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$")


def check_account_id(value: Any, where: str) -> str:
    """The account id as a string of 12 digits, or ParameterError with the
    rule every module gives; a YAML number is read as its digits, and when
    they are not an account id the message says why that happens."""
    number = isinstance(value, int) and not isinstance(value, bool)
    text = str(value) if number else value
    try:
        parameters.check_account_id(text, where)
    except ParameterError as e:
        if not number:
            raise
        raise ParameterError(where, e.message + "; quote account ids in YAML: an unquoted id that starts with 0 loses its leading zeros") from None
    return text


def check_role_arn_template(template: Any) -> str:
    if not isinstance(template, str) or not template:
        raise ParameterError("role_arn_template", "must be a non-empty string such as " + DEFAULT_ROLE_ARN_TEMPLATE)
    try:
        fields = [field for _text, field, _spec, _conv in string.Formatter().parse(template) if field is not None]
    except ValueError as e:
        raise ParameterError("role_arn_template", f"{template!r} is not a valid template: {e}") from None
    unknown = sorted({field for field in fields if field not in TEMPLATE_FIELDS})
    if unknown:
        raise ParameterError("role_arn_template", f"{template!r} uses unknown fields {unknown}: only {{account_id}} and {{account_name}} exist")
    if not template.startswith("arn:") or "account_id" not in fields:
        raise ParameterError("role_arn_template", f"{template!r} must be an IAM role ARN with {{account_id}} in it, such as {DEFAULT_ROLE_ARN_TEMPLATE}")
    return template


def check_statuses(statuses: Optional[Iterable[Any]]) -> list[str]:
    checked = []
    for status in statuses or ():
        upper = str(status).upper()
        if upper not in ACCOUNT_STATUSES:
            raise ParameterError("statuses", f"{status!r} is not an account status; use one of {', '.join(ACCOUNT_STATUSES)}")
        checked.append(upper)
    return checked


def check_parent_ids(parent_ids: Optional[Iterable[Any]]) -> list[str]:
    checked = []
    for parent_id in parent_ids or ():
        if not isinstance(parent_id, str) or not _PARENT_ID.match(parent_id):
            raise ParameterError("organizational_units", f"{parent_id!r} is neither an OU id (ou-xxxx-xxxxxxxx) nor a root id (r-xxxx)")
        checked.append(parent_id)
    return checked


def check_account_tags(account_tags: Optional[dict[str, Any]]) -> dict[str, Optional[list[str]]]:
    """Tag key -> allowed values (None: any value)."""
    checked: dict[str, Optional[list[str]]] = {}
    for key, value in (account_tags or {}).items():
        if not isinstance(key, str) or not key:
            raise ParameterError("account_tags", f"tag keys must be non-empty strings, got {key!r}")
        if value is None:
            checked[key] = None
        elif isinstance(value, (list, tuple)):
            checked[key] = [str(item) for item in value]
        elif isinstance(value, dict):
            raise ParameterError("account_tags", f"the value of {key!r} must be a string, a list of strings or null")
        else:
            checked[key] = [str(value)]
    return checked


def normalize_static_account(entry: Any, index: int) -> dict[str, Any]:
    where = f"accounts[{index}]"
    if not isinstance(entry, dict):
        raise ParameterError(where, f"must be a dictionary with at least id, got {entry!r}")
    unknown = sorted(set(entry) - set(STATIC_ACCOUNT_KEYS))
    if unknown:
        raise ParameterError(where, f"unknown keys {unknown}; known keys: {', '.join(STATIC_ACCOUNT_KEYS)}")
    if "id" not in entry:
        raise ParameterError(where, "has no id")
    account_id = check_account_id(entry["id"], f"{where}.id")
    status = str(entry.get("status") or "ACTIVE").upper()
    if status not in ACCOUNT_STATUSES:
        raise ParameterError(f"{where}.status", f"{entry['status']!r} is not an account status; use one of {', '.join(ACCOUNT_STATUSES)}")
    tags = entry.get("tags") or {}
    if not isinstance(tags, dict):
        raise ParameterError(f"{where}.tags", "must be a dictionary")
    role_arn = entry.get("role_arn") or ""
    if role_arn and not (isinstance(role_arn, str) and role_arn.startswith("arn:")):
        raise ParameterError(f"{where}.role_arn", f"must be an IAM role ARN, got {role_arn!r}")
    return {
        "id": account_id,
        "name": str(entry.get("name") or ""),
        "email": str(entry.get("email") or ""),
        "status": status,
        "parent_ou": str(entry.get("parent_ou") or ""),
        "role_arn": role_arn,
        "tags": {str(k): str(v) for k, v in tags.items()},
    }


def check_options(options: dict[str, Any]) -> dict[str, Any]:
    """The inventory's own options, checked and normalized, before any AWS call."""
    static = options.get("accounts")
    if static is not None and not isinstance(static, list):
        raise ParameterError("accounts", "must be a list of accounts (dictionaries with id, name, email, status, parent_ou, role_arn, tags)")
    organizational_units = check_parent_ids(options.get("organizational_units"))
    if static is not None and organizational_units:
        raise ParameterError(
            "accounts",
            "is set together with organizational_units: accounts lists the accounts itself, organizational_units reads "
            "them from AWS Organizations; choose one",
        )
    accounts = None
    if static is not None:
        accounts = [normalize_static_account(entry, index) for index, entry in enumerate(static)]
        seen: set[str] = set()
        for account in accounts:
            if account["id"] in seen:
                raise ParameterError("accounts", f"lists the account {account['id']} twice")
            seen.add(account["id"])
    return {
        "accounts": accounts,
        "organizational_units": organizational_units,
        "recursive": bool(options.get("recursive", True)),
        "statuses": check_statuses(options.get("statuses")),
        "account_tags": check_account_tags(options.get("account_tags")),
        "exclude_accounts": [check_account_id(value, "exclude_accounts") for value in options.get("exclude_accounts") or ()],
        "role_arn_template": check_role_arn_template(options.get("role_arn_template") or DEFAULT_ROLE_ARN_TEMPLATE),
    }


def account_from_organizations(account: dict[str, Any], parent_id: str) -> dict[str, Any]:
    """An Organizations Account structure in the inventory's shape."""
    return {
        "id": str(account["Id"]),
        "name": account.get("Name", ""),
        "email": account.get("Email", ""),
        # State replaces the deprecated Status; read either.
        "status": (account.get("State") or account.get("Status") or "").upper(),
        "parent_ou": parent_id,
        "role_arn": "",
        "tags": {},
    }


def tags_match(tags: dict[str, str], wanted: dict[str, Optional[list[str]]]) -> bool:
    for key, values in wanted.items():
        if key not in tags:
            return False
        if values is not None and tags[key] not in values:
            return False
    return True


def selected(account: dict[str, Any], checked: dict[str, Any]) -> bool:
    """Whether the filters (statuses, account_tags, exclude_accounts) keep the account."""
    if account["id"] in checked["exclude_accounts"]:
        return False
    if checked["statuses"] and account["status"] not in checked["statuses"]:
        return False
    return tags_match(account.get("tags") or {}, checked["account_tags"])


def role_arn(account: dict[str, Any], template: str) -> str:
    if account.get("role_arn"):
        return account["role_arn"]
    return template.format(account_id=account["id"], account_name=account.get("name", ""))


def host_vars(account: dict[str, Any], template: str) -> dict[str, Any]:
    hostvars = {
        "aws_account_id": account["id"],
        "aws_account_name": account["name"],
        "aws_account_email": account["email"],
        "aws_account_status": account["status"],
        "aws_account_parent_ou": account["parent_ou"],
        "aws_account_role_arn": role_arn(account, template),
    }
    if account.get("tags"):
        hostvars["aws_account_tags"] = dict(account["tags"])
    return hostvars


def group_names(hostvars: dict[str, Any]) -> list[str]:
    groups = []
    if hostvars.get("aws_account_parent_ou"):
        groups.append("ou_" + re.sub(r"[^A-Za-z0-9_]", "_", hostvars["aws_account_parent_ou"]))
    if hostvars.get("aws_account_status"):
        groups.append("status_" + hostvars["aws_account_status"].lower())
    return groups
