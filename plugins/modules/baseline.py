#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the trailops.cloudtrail project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: baseline
short_description: One account's CloudTrail baseline, read, planned and repaired in one run
version_added: 1.1.0
description:
  - Brings one account's CloudTrail set-up in one home region to the state asked for, as one planned unit. The parts are the log
    bucket (Block Public Access, object ownership, encryption, versioning, lifecycle on CloudTrail's own prefixes), the trail's
    statements in the bucket policy, optionally a KMS key, an SNS topic and CloudWatch Logs delivery (log group, retention, IAM
    role), the trail, and optionally its event selectors and Insights.
  - Every option is checked before any call. The module then finds the account (the answer of AssumeRole when O(assume_role_arn)
    is set, else one STS GetCallerIdentity call), reads every part at once, plans every part, and makes only the writes that
    differ, in dependency order; the bucket and its policy before the trail, the key policy before the trail is encrypted with it.
  - Policies are merged, never replaced. The trail's statements in the bucket policy, the key policy and the topic policy carry
    Sids of this trail's own; every other statement is kept as it is.
  - A run that changes nothing makes no call that answers an error, so it leaves no error event in the account's own CloudTrail.
  - The C(trailops.cloudtrail.trail) role is this module plus its argument specification; the fleet playbooks run it once per
    account with O(assume_role_arn).
author:
  - trailops.cloudtrail contributors (@trailops)
options:
  name:
    description:
      - The trail's name. Every part's default name derives from it.
    type: str
    required: true
  state:
    description:
      - V(present) makes every part as asked. V(absent) deletes the trail and removes its statements from the bucket policy; the
        bucket (and its logs) is deleted only with O(s3_bucket_delete). The KMS key, the SNS topic and the log group are left.
    type: str
    choices: [present, absent]
    default: present
  account_id:
    description:
      - The account the baseline is meant for. When the credentials (or the assumed role) act in another account, the module
        fails before any write, naming this option.
    type: str
  assume_role_arn:
    description:
      - A role to assume in the account first, with the credentials the module is given. The role's answer names the account,
        so no other STS call is made; its credentials never appear in the result.
    type: str
  assume_role_session_name:
    description: The session name of the assumed role, as the account's CloudTrail records it.
    type: str
    default: trailops-cloudtrail
  assume_role_duration_seconds:
    description: How long the assumed role's credentials last (also those of O(log_archive_role_arn)).
    type: int
    default: 900
  log_archive_role_arn:
    description:
      - A role in a central log-archive account. When set, the log bucket, its policy and the KMS key (with O(kms_key_create)) live
        in that account and are read and written through this role, assumed with the credentials the module is given (as
        O(assume_role_arn), with the same session name); the trail, its selectors, the SNS topic and CloudWatch Logs stay in the
        trail's account.
      - The bucket then defaults to V(aws-cloudtrail-logs-<log archive account>-<8 hex digits>), the same for every account of a
        fleet with the same trail name, and the key to the one alias every account's trail shares; each trail merges its own
        statements (Sids of its own) into the one bucket policy and the one key policy, re-merging from a fresh read when another
        account's run wrote at the same time.
      - Not with O(s3_bucket_delete) (the archive's bucket holds every account's logs).
    type: str
  log_archive_account_id:
    description:
      - The log-archive account, checked against the account of O(log_archive_role_arn) before any call. Needs O(log_archive_role_arn).
    type: str
  s3_bucket_name:
    description:
      - The log bucket. Default V(aws-cloudtrail-logs-<account>-<8 hex digits>), the console's quick-trail name with a suffix
        stable for this account and trail.
    type: str
  s3_bucket_existing:
    description:
      - Adopt O(s3_bucket_name) as it is. Only the trail's statements are added to its policy; no bucket setting is changed. Without
        it, a bucket of that name that the collection did not create is refused.
    type: bool
    default: false
  s3_key_prefix:
    description: The prefix of the trail's log files in the bucket, at most 200 characters, not starting with V(/).
    type: str
    default: ""
  s3_bucket_delete:
    description:
      - With O(state=absent), also delete the bucket, with its log files. Refused for an adopted bucket and for a bucket holding
        objects that are not CloudTrail's.
    type: bool
    default: false
  s3_bucket_lifecycle_expiration_days:
    description: Days after which CloudTrail's objects in the bucket expire (a lifecycle rule per CloudTrail prefix). Unset, none.
    type: int
  is_multi_region_trail:
    description: Whether the trail records in every region.
    type: bool
    default: true
  include_global_service_events:
    description: Whether the trail records global services' events (IAM, STS). A multi-region trail must.
    type: bool
    default: true
  enable_log_file_validation:
    description: Whether CloudTrail writes digest files.
    type: bool
    default: true
  enable_logging:
    description: Whether the trail logs.
    type: bool
    default: true
  is_organization_trail:
    description: Whether the trail records every account of the organization (from the management account).
    type: bool
    default: false
  organization_id:
    description: The organization's id, required with O(is_organization_trail) for the bucket policy.
    type: str
    default: ""
  kms_key_create:
    description:
      - Make a KMS key for the log files (alias O(kms_key_alias)), with key rotation, and merge CloudTrail's statements into its
        key policy. A key a failed run made but could not name is found by its tag and reused, never made twice.
    type: bool
    default: false
  kms_key_alias:
    description: The alias of the key O(kms_key_create) makes. Default V(alias/cloudtrail/<name>).
    type: str
    default: ""
  kms_key_id:
    description: An existing KMS key (id, ARN, alias or alias ARN) to encrypt the log files with. Not with O(kms_key_create).
    type: str
    default: ""
  sns_topic_create:
    description: Make an SNS topic CloudTrail notifies on each delivery, and merge CloudTrail's statement into its topic policy.
    type: bool
    default: false
  sns_topic_name:
    description:
      - With O(sns_topic_create), the topic's name (default V(cloudtrail-<name>)). Without it, an existing topic (name or ARN) the
        trail notifies.
    type: str
    default: ""
  cloudwatch_logs_create:
    description: Make a log group and the IAM role CloudTrail delivers to it with.
    type: bool
    default: false
  cloudwatch_logs_log_group_name:
    description: The log group O(cloudwatch_logs_create) makes. Default V(aws-cloudtrail-logs-<name>).
    type: str
    default: ""
  cloudwatch_logs_retention_days:
    description: The log group's retention, in days (a value CloudWatch Logs accepts). V(null) keeps the events forever.
    type: int
    default: 365
  cloudwatch_logs_role_name:
    description: The IAM role O(cloudwatch_logs_create) makes. Default V(CloudTrailRoleForCloudWatchLogs-<name>).
    type: str
    default: ""
  cloudwatch_logs_log_group_arn:
    description: An existing log group's ARN to deliver to, with O(cloudwatch_logs_role_arn). Not with O(cloudwatch_logs_create).
    type: str
    default: ""
  cloudwatch_logs_role_arn:
    description: The role CloudTrail delivers to O(cloudwatch_logs_log_group_arn) with.
    type: str
    default: ""
  event_selectors_preset:
    description:
      - A named set of selectors, as M(trailops.cloudtrail.event_selectors)' O(trailops.cloudtrail.event_selectors#module:preset).
      - With none of O(event_selectors_preset), O(event_selectors), O(advanced_event_selectors) and O(insight_selectors), the
        selectors are not managed.
    type: str
    choices: [management_events, management_write_events, all_s3_data_events, all_lambda_invocations, cis_benchmark]
  tags:
    description: The trail's tags.
    type: dict
    default: {}
  purge_tags:
    description: Whether tags not in O(tags) are removed from the trail.
    type: bool
    default: true
extends_documentation_fragment:
  - trailops.cloudtrail.event_selectors
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
      - No write call is made; RV(parts) holds each part's predicted state. A value only a write can tell (a new key's ARN) is
        V((known after the run\)).
  diff_mode:
    support: full
    details:
      - One diff per changed part, before and after its normalized state.
  idempotent:
    description: A second run with the same options reports C(changed=false) and makes no write.
    support: full
"""

EXAMPLES = r"""
- name: The console's quick trail, with a new bucket, in the account of the credentials
  trailops.cloudtrail.baseline:
    name: management-events
    region: eu-west-1

- name: A fleet account, with a KMS key and CloudWatch Logs, through the account's role
  trailops.cloudtrail.baseline:
    name: management-events
    region: eu-west-1
    assume_role_arn: arn:aws:iam::123456789012:role/OrganizationAccountAccessRole
    account_id: "123456789012"
    kms_key_create: true
    cloudwatch_logs_create: true
    cloudwatch_logs_retention_days: 365
    event_selectors_preset: management_events
  register: account_baseline

- name: A member account's trail delivering to the central log archive's bucket and key
  trailops.cloudtrail.baseline:
    name: management-events
    region: eu-west-1
    assume_role_arn: arn:aws:iam::123456789012:role/OrganizationAccountAccessRole
    account_id: "123456789012"
    log_archive_role_arn: arn:aws:iam::210987654321:role/OrganizationAccountAccessRole
    log_archive_account_id: "210987654321"
    s3_bucket_name: org-cloudtrail-archive
    kms_key_create: true

- name: What drifted (under --check --diff)
  ansible.builtin.debug:
    msg: "{{ account_baseline.changed_parts }}"
"""

RETURN = r"""
account:
  description: The account the run acted in.
  returned: always
  type: str
  sample: "123456789012"
partition:
  description: The account's partition.
  returned: always
  type: str
  sample: aws
region:
  description: The trail's home region.
  returned: always
  type: str
  sample: eu-west-1
trail_arn:
  description: The trail's ARN (also when it does not exist yet).
  returned: always
  type: str
  sample: arn:aws:cloudtrail:eu-west-1:123456789012:trail/management-events
s3_bucket_name:
  description: The log bucket's name (O(s3_bucket_name), or the default).
  returned: always
  type: str
  sample: aws-cloudtrail-logs-123456789012-3f1c2a9b
changed_parts:
  description: The parts this run changed (under check mode, would change), in the order their writes are made.
  returned: always
  type: list
  elements: str
  sample: [log_bucket, bucket_policy, trail]
parts:
  description:
    - Each part the run manages, with C(changed), and C(before) and C(after), its normalized state before and after the run (under
      check mode, as it would be). C(null) means the part does not (or will not) exist.
    - The keys are C(log_bucket), C(bucket_policy), C(kms_key), C(sns_topic), C(cloudwatch_logs), C(trail) and C(event_selectors);
      the optional parts appear only when managed. A policy part shows only this trail's own statements, by Sid.
  returned: always
  type: dict
  sample:
    trail:
      changed: true
      before: {name: management-events, log_file_validation_enabled: false, is_logging: true}
      after: {name: management-events, log_file_validation_enabled: true, is_logging: true}
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.trailops.cloudtrail.plugins.module_utils.baseline import run
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import with_hidden_access_key
from ansible_collections.trailops.cloudtrail.plugins.module_utils.event_selectors import selector_argument_spec
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parameters import check_region_given
from ansible_collections.trailops.cloudtrail.plugins.module_utils.runner import exit_with


def argument_spec():
    selectors = selector_argument_spec()
    text = dict(type="str", default="")
    return dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        account_id=dict(type="str"),
        assume_role_arn=dict(type="str"),
        assume_role_session_name=dict(type="str", default="trailops-cloudtrail"),
        assume_role_duration_seconds=dict(type="int", default=900),
        log_archive_role_arn=dict(type="str"),
        log_archive_account_id=dict(type="str"),
        s3_bucket_name=dict(type="str"),
        s3_bucket_existing=dict(type="bool", default=False),
        s3_key_prefix=dict(text, no_log=False),
        s3_bucket_delete=dict(type="bool", default=False),
        s3_bucket_lifecycle_expiration_days=dict(type="int"),
        is_multi_region_trail=dict(type="bool", default=True),
        include_global_service_events=dict(type="bool", default=True),
        enable_log_file_validation=dict(type="bool", default=True),
        enable_logging=dict(type="bool", default=True),
        is_organization_trail=dict(type="bool", default=False),
        organization_id=text,
        kms_key_create=dict(type="bool", default=False),
        kms_key_alias=dict(text, no_log=False),
        kms_key_id=dict(text, no_log=False),
        sns_topic_create=dict(type="bool", default=False),
        sns_topic_name=text,
        cloudwatch_logs_create=dict(type="bool", default=False),
        cloudwatch_logs_log_group_name=text,
        cloudwatch_logs_retention_days=dict(type="int", default=365),
        cloudwatch_logs_role_name=text,
        cloudwatch_logs_log_group_arn=text,
        cloudwatch_logs_role_arn=text,
        event_selectors_preset=selectors["preset"],
        event_selectors=selectors["event_selectors"],
        advanced_event_selectors=selectors["advanced_event_selectors"],
        insight_selectors=selectors["insight_selectors"],
        tags=dict(type="dict", default={}),
        purge_tags=dict(type="bool", default=True),
    )


def main():
    module = AnsibleAWSModule(argument_spec=with_hidden_access_key(argument_spec()), supports_check_mode=True)
    exit_with(module, lambda module: run(module, dict(module.params)), lambda params: check_region_given(module.region))


if __name__ == "__main__":
    main()
