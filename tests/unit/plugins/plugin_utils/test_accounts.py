"""The accounts inventory's pure functions, as case tables."""

from __future__ import annotations

import pytest

from ansible_collections.trailops.cloudtrail.plugins.plugin_utils.accounts import DEFAULT_ROLE_ARN_TEMPLATE
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parameters import ParameterError
from ansible_collections.trailops.cloudtrail.plugins.plugin_utils.accounts import account_from_organizations
from ansible_collections.trailops.cloudtrail.plugins.plugin_utils.accounts import check_options
from ansible_collections.trailops.cloudtrail.plugins.plugin_utils.accounts import group_names
from ansible_collections.trailops.cloudtrail.plugins.plugin_utils.accounts import host_vars
from ansible_collections.trailops.cloudtrail.plugins.plugin_utils.accounts import role_arn
from ansible_collections.trailops.cloudtrail.plugins.plugin_utils.accounts import selected
from ansible_collections.trailops.cloudtrail.plugins.plugin_utils.accounts import tags_match

ACCOUNT = {"id": "012345678901", "name": "audit", "email": "a@example.com", "status": "ACTIVE", "parent_ou": "ou-ab12-cdef3456", "role_arn": "", "tags": {}}


@pytest.mark.parametrize(
    "options, message",
    [
        ({"statuses": ["active", "bogus"]}, "statuses: 'bogus' is not an account status"),
        ({"organizational_units": ["ou-nope"]}, "organizational_units: 'ou-nope' is neither an OU id"),
        ({"organizational_units": [12]}, "organizational_units: 12 is neither"),
        ({"accounts": "123456789012"}, "accounts: must be a list"),
        ({"accounts": [{"id": "123456789012"}], "organizational_units": ["r-ab12"]}, "accounts: is set together with organizational_units"),
        ({"accounts": [{"name": "x"}]}, "accounts[0]: has no id"),
        ({"accounts": ["123456789012"]}, "accounts[0]: must be a dictionary"),
        ({"accounts": [{"id": 12345678901}]}, "accounts[0].id: an AWS account id is 12 digits (got '12345678901'); quote"),
        ({"accounts": [{"id": "12345"}]}, "accounts[0].id: an AWS account id is 12 digits (got '12345')"),
        ({"accounts": [{"id": True}]}, "accounts[0].id: an AWS account id is 12 digits (got True)"),
        ({"accounts": [{"id": "123456789012", "region": "x"}]}, "accounts[0]: unknown keys ['region']"),
        ({"accounts": [{"id": "123456789012", "status": "gone"}]}, "accounts[0].status: 'gone' is not an account status"),
        ({"accounts": [{"id": "123456789012", "role_arn": "Admin"}]}, "accounts[0].role_arn: must be an IAM role ARN"),
        ({"accounts": [{"id": "123456789012", "tags": ["a"]}]}, "accounts[0].tags: must be a dictionary"),
        ({"accounts": [{"id": "123456789012"}, {"id": "123456789012"}]}, "accounts: lists the account 123456789012 twice"),
        ({"exclude_accounts": ["abc"]}, "exclude_accounts: an AWS account id is 12 digits (got 'abc')"),
        ({"account_tags": {"env": {"a": 1}}}, "account_tags: the value of 'env' must be a string"),
        ({"role_arn_template": "arn:aws:iam::{account}:role/x"}, "uses unknown fields ['account']"),
        ({"role_arn_template": "arn:aws:iam::111111111111:role/x"}, "must be an IAM role ARN with {account_id} in it"),
        ({"role_arn_template": "OrganizationAccountAccessRole-{account_id}"}, "must be an IAM role ARN with {account_id} in it"),
        ({"role_arn_template": "arn:aws:iam::{account_id:role/x"}, "is not a valid template"),
    ],
)
def test_wrong_options_name_the_option(options, message):
    with pytest.raises(ParameterError) as error:
        check_options(options)
    assert message in str(error.value)


def test_defaults():
    checked = check_options({})
    assert checked == {
        "accounts": None,
        "organizational_units": [],
        "recursive": True,
        "statuses": [],
        "account_tags": {},
        "exclude_accounts": [],
        "role_arn_template": DEFAULT_ROLE_ARN_TEMPLATE,
    }


def test_static_accounts_are_normalized():
    checked = check_options({"accounts": [{"id": "012345678901", "status": "suspended", "tags": {"env": 1}}], "statuses": ["Active"]})
    assert checked["accounts"] == [
        {"id": "012345678901", "name": "", "email": "", "status": "SUSPENDED", "parent_ou": "", "role_arn": "", "tags": {"env": "1"}}
    ]
    assert checked["statuses"] == ["ACTIVE"]


@pytest.mark.parametrize(
    "account, expected",
    [
        ({"Id": "1", "Name": "a", "Email": "e", "Status": "ACTIVE"}, "ACTIVE"),
        ({"Id": "1", "Name": "a", "Email": "e", "Status": "ACTIVE", "State": "SUSPENDED"}, "SUSPENDED"),
        ({"Id": "1", "State": "pending_closure"}, "PENDING_CLOSURE"),
    ],
)
def test_organizations_state_wins_over_status(account, expected):
    assert account_from_organizations(account, "r-ab12")["status"] == expected
    assert account_from_organizations(account, "r-ab12")["parent_ou"] == "r-ab12"


@pytest.mark.parametrize(
    "tags, wanted, matches",
    [
        ({}, {}, True),
        ({"env": "prod"}, {"env": ["prod"]}, True),
        ({"env": "dev"}, {"env": ["prod", "staging"]}, False),
        ({"env": "dev"}, {"env": None}, True),
        ({"team": "x"}, {"env": None}, False),
        ({"env": "prod", "team": "x"}, {"env": ["prod"], "team": ["y"]}, False),
    ],
)
def test_tags_match(tags, wanted, matches):
    assert tags_match(tags, wanted) is matches


@pytest.mark.parametrize(
    "options, account, kept",
    [
        ({}, ACCOUNT, True),
        ({"statuses": ["SUSPENDED"]}, ACCOUNT, False),
        ({"exclude_accounts": ["012345678901"]}, ACCOUNT, False),
        ({"account_tags": {"env": "prod"}}, ACCOUNT, False),
        ({"account_tags": {"env": "prod"}}, dict(ACCOUNT, tags={"env": "prod"}), True),
    ],
)
def test_selected(options, account, kept):
    assert selected(account, check_options(options)) is kept


@pytest.mark.parametrize(
    "account, template, arn",
    [
        (ACCOUNT, DEFAULT_ROLE_ARN_TEMPLATE, "arn:aws:iam::012345678901:role/OrganizationAccountAccessRole"),
        (ACCOUNT, "arn:aws-us-gov:iam::{account_id}:role/{account_name}-admin", "arn:aws-us-gov:iam::012345678901:role/audit-admin"),
        (dict(ACCOUNT, role_arn="arn:aws:iam::012345678901:role/Own"), DEFAULT_ROLE_ARN_TEMPLATE, "arn:aws:iam::012345678901:role/Own"),
    ],
)
def test_role_arn(account, template, arn):
    assert role_arn(account, template) == arn


def test_host_vars_and_groups():
    hostvars = host_vars(dict(ACCOUNT, tags={"env": "prod"}), DEFAULT_ROLE_ARN_TEMPLATE)
    assert hostvars == {
        "aws_account_id": "012345678901",
        "aws_account_name": "audit",
        "aws_account_email": "a@example.com",
        "aws_account_status": "ACTIVE",
        "aws_account_parent_ou": "ou-ab12-cdef3456",
        "aws_account_role_arn": "arn:aws:iam::012345678901:role/OrganizationAccountAccessRole",
        "aws_account_tags": {"env": "prod"},
    }
    assert group_names(hostvars) == ["ou_ou_ab12_cdef3456", "status_active"]
    assert group_names(dict(hostvars, aws_account_parent_ou="", aws_account_status="PENDING_CLOSURE")) == ["status_pending_closure"]
