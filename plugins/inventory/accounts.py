# -*- coding: utf-8 -*-

# Copyright: Contributors to the trailops.cloudtrail project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: accounts
short_description: AWS accounts as hosts, from AWS Organizations or a static list
version_added: 1.0.0
description:
  - One host per AWS account; the host name is the account id (12 digits). Made for C(playbooks/fleet.yml), which assumes
    each account's role and applies the trail baseline there.
  - The accounts come from AWS Organizations (the credentials must be those of the management account or of a delegated
    administrator), or from a static list in the inventory file (O(accounts)), which needs no AWS call at all.
  - From AWS Organizations the plugin walks the organization's tree from the root, or from each of O(organizational_units),
    with C(ListChildren) and C(ListAccountsForParent), so every account's parent OU is known without a call per account.
    C(ListTagsForResource) is called once per account only when O(account_tags) is set or O(include_tags) is true.
  - 'Host vars: C(aws_account_id), C(aws_account_name), C(aws_account_email), C(aws_account_status) (V(ACTIVE), V(SUSPENDED),
    V(PENDING_CLOSURE), ...), C(aws_account_parent_ou) (the OU or root id), C(aws_account_role_arn) (from O(role_arn_template)),
    and C(aws_account_tags) when tags are read.'
  - 'Groups: C(ou_<parent id with - replaced by _>) and C(status_<status in lower case>), plus O(groups) and O(keyed_groups).'
  - Every option is checked before the first AWS call; a wrong option fails the inventory source with a message naming it.
    No matching account is a warning, not an error.
  - The inventory file name must end with C(accounts.yml) or C(accounts.yaml).
author:
  - trailops.cloudtrail contributors (@trailops)
options:
  plugin:
    description: The name of this plugin, for the inventory file to be recognized.
    required: true
    choices: ['trailops.cloudtrail.accounts']
    type: str
  accounts:
    description:
      - A static list of accounts instead of AWS Organizations. Each is a dictionary with C(id) (required, 12 digits, quoted in
        YAML), and optionally C(name), C(email), C(status) (default V(ACTIVE)), C(parent_ou), C(role_arn) (overrides
        O(role_arn_template) for this account) and C(tags) (a dictionary).
      - Cannot be combined with O(organizational_units).
    type: list
    elements: dict
  organizational_units:
    description:
      - Only the accounts under these OUs (V(ou-xxxx-xxxxxxxx)) or roots (V(r-xxxx)).
      - When not set, every account of the organization.
    type: list
    elements: str
    default: []
  recursive:
    description:
      - Whether O(organizational_units) includes the accounts of their child OUs, at any depth.
    type: bool
    default: true
  statuses:
    description:
      - Only accounts in these states, for example V([ACTIVE]). When not set, every account, so that a suspended account is
        listed (and C(playbooks/fleet.yml) reports it) rather than silently left out.
      - Any of V(ACTIVE), V(SUSPENDED), V(PENDING_CLOSURE), V(PENDING_ACTIVATION), V(CLOSED); case does not matter.
    type: list
    elements: str
    default: []
  account_tags:
    description:
      - Only accounts with all these tags. A value is a string, a list of strings (any of them), or null (any value).
    type: dict
    default: {}
  include_tags:
    description:
      - Read every account's tags into C(aws_account_tags) (for O(keyed_groups) for example), even without O(account_tags).
    type: bool
    default: false
  exclude_accounts:
    description:
      - Leave out these account ids, for example the management account, which has no C(OrganizationAccountAccessRole).
    type: list
    elements: str
    default: []
  role_arn_template:
    description:
      - The role to assume in each account, as a template with the fields C({account_id}) (required) and C({account_name}).
    type: str
    default: arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole
extends_documentation_fragment:
  - inventory_cache
  - constructed
  - amazon.aws.boto3
  - amazon.aws.common.plugins
  - amazon.aws.region.plugins
  - amazon.aws.assume_role.plugins
"""

EXAMPLES = r"""
# fleet.accounts.yml: every ACTIVE account of the organization, cached for an hour
plugin: trailops.cloudtrail.accounts
statuses: [ACTIVE]
exclude_accounts: ["111111111111"]  # the management account
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/trailops-accounts
cache_timeout: 3600

---
# prod.accounts.yml: the accounts under one OU and its children, tagged env=prod, with a custom role
plugin: trailops.cloudtrail.accounts
organizational_units: [ou-ab12-cdef3456]
account_tags:
  env: prod
role_arn_template: "arn:aws:iam::{account_id}:role/CloudTrailAdmin"
keyed_groups:
  - key: aws_account_tags.team | default('none')
    prefix: team

---
# static.accounts.yml: no AWS Organizations
plugin: trailops.cloudtrail.accounts
accounts:
  - id: "210987654321"
    name: audit
  - id: "012345678901"
    name: sandbox
    role_arn: arn:aws:iam::012345678901:role/Admin
"""

try:
    import botocore
except ImportError:
    pass  # AWSInventoryBase.require_aws_sdk reports it

from ansible import constants as C
from ansible.errors import AnsibleParserError

from ansible_collections.amazon.aws.plugins.plugin_utils.inventory import AWSInventoryBase

from ansible_collections.trailops.cloudtrail.plugins.module_utils.parameters import ParameterError
from ansible_collections.trailops.cloudtrail.plugins.module_utils.retries import transient_retry
from ansible_collections.trailops.cloudtrail.plugins.plugin_utils.accounts import account_from_organizations
from ansible_collections.trailops.cloudtrail.plugins.plugin_utils.accounts import check_options
from ansible_collections.trailops.cloudtrail.plugins.plugin_utils.accounts import group_names
from ansible_collections.trailops.cloudtrail.plugins.plugin_utils.accounts import host_vars
from ansible_collections.trailops.cloudtrail.plugins.plugin_utils.accounts import selected

OWN_OPTIONS = ("accounts", "organizational_units", "recursive", "statuses", "account_tags", "exclude_accounts", "role_arn_template")


class InventoryModule(AWSInventoryBase):
    NAME = "trailops.cloudtrail.accounts"
    INVENTORY_FILE_SUFFIXES = ("accounts.yml", "accounts.yaml")

    def _do_fail(self, message):
        raise AnsibleParserError(message)

    def _organizations(self):
        # Organizations is a global service with its endpoint in us-east-1.
        return self.client("organizations", region=self.region or "us-east-1")

    @staticmethod
    @transient_retry()
    def _paginate(client, operation, key, **params):
        return client.get_paginator(operation).paginate(**params).build_full_result().get(key, [])

    def _walk(self, client, parent_id, recursive):
        """Accounts under one root or OU, each with its direct parent."""
        accounts = [account_from_organizations(a, parent_id) for a in self._paginate(client, "list_accounts_for_parent", "Accounts", ParentId=parent_id)]
        if recursive:
            children = self._paginate(client, "list_children", "Children", ParentId=parent_id, ChildType="ORGANIZATIONAL_UNIT")
            for child in children:
                accounts.extend(self._walk(client, child["Id"], recursive))
        return accounts

    def _read_organization(self, checked):
        client = self._organizations()
        try:
            if checked["organizational_units"]:
                parents, recursive = checked["organizational_units"], checked["recursive"]
            else:
                parents, recursive = [root["Id"] for root in self._paginate(client, "list_roots", "Roots")], True
            accounts, seen = [], set()
            for parent_id in parents:
                for account in self._walk(client, parent_id, recursive):
                    if account["id"] not in seen:
                        seen.add(account["id"])
                        accounts.append(account)
            if checked["account_tags"] or self.get_option("include_tags"):
                for account in accounts:
                    tags = self._paginate(client, "list_tags_for_resource", "Tags", ResourceId=account["id"])
                    account["tags"] = {tag["Key"]: tag["Value"] for tag in tags}
        except botocore.exceptions.ClientError as e:
            code = e.response.get("Error", {}).get("Code", "")
            if code == "AWSOrganizationsNotInUseException":
                self.warn("accounts inventory: the credentials' account is not in an AWS Organization: no accounts")
                return []
            if code in ("ParentNotFoundException", "TargetNotFoundException", "ChildNotFoundException"):
                self.fail_aws(f"accounts inventory: organizational_units names an OU or root that does not exist ({code})", exception=e)
            self.fail_aws("accounts inventory: cannot read the accounts from AWS Organizations", exception=e)
        except botocore.exceptions.BotoCoreError as e:
            self.fail_aws("accounts inventory: cannot reach AWS Organizations", exception=e)
        return accounts

    def _populate(self, accounts, checked):
        strict = self.get_option("strict")
        for account in accounts:
            hostvars = host_vars(account, checked["role_arn_template"])
            host = hostvars["aws_account_id"]
            self.inventory.add_host(host)
            for name, value in hostvars.items():
                self.inventory.set_variable(host, name, value)
            for group in group_names(hostvars):
                self.inventory.add_group(group)
                self.inventory.add_child(group, host)
            self._set_composite_vars(self.get_option("compose"), hostvars, host, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), hostvars, host, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), hostvars, host, strict=strict)

    def _check_option_names(self, path):
        """Ansible ignores unknown keys in an inventory file; a misspelt filter
        would then silently widen the fleet, so refuse them."""
        definitions = C.config.get_configuration_definitions("inventory", self._load_name) or {}
        known = set(definitions)
        for definition in definitions.values():
            known.update(definition.get("aliases") or ())
        config = self.loader.load_from_file(path, cache="none") or {}
        unknown = sorted(str(key) for key in config if key not in known)
        if unknown:
            raise AnsibleParserError(f"accounts inventory {path}: unknown options {unknown}; see ansible-doc -t inventory {self.NAME}")

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache=cache)
        self._check_option_names(path)
        try:
            checked = check_options({name: self.get_option(name) for name in OWN_OPTIONS})
        except ParameterError as e:
            raise AnsibleParserError(f"accounts inventory {path}: {e}") from None

        if checked["accounts"] is not None:
            accounts = checked["accounts"]
        else:
            needs_tags = bool(checked["account_tags"] or self.get_option("include_tags"))
            found, cached = self.get_cached_result(path, cache)
            # A cache written without tags cannot answer a tag filter added since.
            if found and isinstance(cached, dict) and (cached.get("tags_read") or not needs_tags):
                accounts = cached["accounts"]
            else:
                accounts = self._read_organization(checked)
                # Freshly read: always write, even over an entry that lacked tags.
                self.update_cached_result(path, False, {"tags_read": needs_tags, "accounts": accounts})

        kept = [account for account in accounts if selected(account, checked)]
        if not kept:
            self.warn(f"accounts inventory {path}: no account matched (of {len(accounts)} read): no hosts")
        self._populate(kept, checked)
