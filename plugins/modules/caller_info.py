#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the trailops.cloudtrail project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: caller_info
short_description: The account, partition and region a task acts in
version_added: 1.0.0
description:
  - Returns the account and partition the credentials act in (one STS GetCallerIdentity call) and the region the module was given,
    wherever it came from (O(region), C(module_defaults), E(AWS_REGION), E(AWS_DEFAULT_REGION), the profile's configuration).
  - The roles of this collection start with it, to name the trail's parts (ARNs, bucket name) in the region and account every
    other module of the role then acts in. M(amazon.aws.aws_caller_info) does not return the region, and also calls IAM.
  - With no region from any source, fails before any call, naming O(region).
  - Why a module, in the roles. A role cannot pass C(region) only when one of its variables is set, because an option set to
    C(omit) keeps C(module_defaults) from giving it (Ansible drops the omitted option after it has chosen the defaults). So the
    roles ask this module, which is in C(group/trailops.cloudtrail.aws), for the region once, and pass it explicitly to every module.
author:
  - trailops.cloudtrail contributors (@trailops)
options:
  identity:
    description:
      - Whether to read the caller's identity (one STS call). V(false) returns only RV(region) and makes no call.
    type: bool
    default: true
  account_id:
    description:
      - The AWS account the task is meant for. When the credentials act in another account, the module fails, naming this option.
    type: str
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
    details:
      - The module only reads.
  diff_mode:
    support: none
  idempotent:
    description: The module only reads and never changes anything.
    support: full
"""

EXAMPLES = r"""
- name: Where the tasks of this play act
  trailops.cloudtrail.caller_info:
  register: caller

- name: The region the tasks get, without a call
  trailops.cloudtrail.caller_info:
    identity: false
  register: where

- name: Refuse to go on with credentials of another account
  trailops.cloudtrail.caller_info:
    account_id: "{{ aws_account_id }}"
"""

RETURN = r"""
account:
  description: The account the credentials act in.
  returned: when O(identity=true)
  type: str
  sample: "123456789012"
arn:
  description: The caller's ARN.
  returned: when O(identity=true)
  type: str
  sample: arn:aws:sts::123456789012:assumed-role/OrganizationAccountAccessRole/trailops-cloudtrail
user_id:
  description: The caller's unique id.
  returned: when O(identity=true)
  type: str
partition:
  description: The partition of the caller's ARN (V(aws), V(aws-cn), V(aws-us-gov), ...).
  returned: when O(identity=true)
  type: str
  sample: aws
region:
  description: The region the module was given, from whichever source.
  returned: success
  type: str
  sample: eu-west-1
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import caller_account_error
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import read_caller
from ansible_collections.trailops.cloudtrail.plugins.module_utils.retries import transient_retry
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import with_hidden_access_key


def main():
    argument_spec = dict(identity=dict(type="bool", default=True), account_id=dict(type="str"))
    module = AnsibleAWSModule(argument_spec=with_hidden_access_key(argument_spec), supports_check_mode=True)

    region = module.region
    if not region:
        module.fail_json(msg="region: no region is given (region, module_defaults of group/trailops.cloudtrail.aws, AWS_REGION or AWS_DEFAULT_REGION)")
    if not module.params["identity"]:
        module.exit_json(changed=False, region=region)
    try:
        caller = read_caller(module.client("sts", region=region, retry_decorator=transient_retry()))
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    caller["region"] = region
    problem = caller_account_error(module.params["account_id"], caller["account"])
    if problem:
        module.fail_json(msg=problem, **caller)
    module.exit_json(changed=False, **caller)


if __name__ == "__main__":
    main()
