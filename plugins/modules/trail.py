#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the trailops.cloudtrail project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: trail
short_description: Manage one AWS CloudTrail trail, drift-checked
version_added: 1.0.0
description:
  - Creates, updates and deletes a CloudTrail trail, its tags and its logging status.
  - The successor of M(amazon.aws.cloudtrail), with the same option names and aliases, so a task migrates by changing the module name.
  - An option that is omitted is left as it is on an existing trail; in particular O(is_multi_region_trail) is never turned off unless asked.
  - An explicit empty string clears O(s3_key_prefix), O(sns_topic_name), O(kms_key_id) and the CloudWatch Logs delivery
    (O(cloudwatch_logs_log_group_arn) and O(cloudwatch_logs_role_arn) together).
  - KMS keys are compared by key ARN after resolving aliases, SNS topics by topic ARN, so a run that changes nothing makes no write call
    in whatever form the key or topic is given.
  - A multi-region trail is found from any region and changed through its home region.
  - Parameters are checked before any API call; a bucket or KMS key that does not exist is reported, naming the option, before any write call.
author:
  - trailops.cloudtrail contributors (@trailops)
options:
  name:
    description:
      - The trail's name, or its ARN.
      - A name is 3 to 128 ASCII letters, digits, V(.), V(_) and V(-), starts and ends with a letter or digit, has no two punctuation
        characters in a row and is not an IP address.
      - Names are unique per region, and per account for multi-region trails.
      - An ARN whose account or partition is not the caller's fails before any write, naming this option (STS GetCallerIdentity
        is read to tell, when the trail does not exist yet).
    type: str
    default: default
  account_id:
    description:
      - The AWS account this task is meant for. The module refuses to write when its credentials act in another account, or when
        O(name) is an ARN of another account.
      - Checked at no cost against the ARN of a trail that exists; before creating a trail, against STS GetCallerIdentity (one call).
      - The fleet playbooks set it from the inventory, so that no credentials of the wrong account ever change a trail.
    type: str
  state:
    description:
      - V(present) creates or updates the trail, V(absent) deletes it.
      - Deleting a trail never deletes its bucket, its log files or its log group.
      - V(enabled) and V(disabled) are kept for playbooks written for M(amazon.aws.cloudtrail); they mean V(present) and V(absent).
    type: str
    choices: [present, absent, enabled, disabled]
    default: present
  s3_bucket_name:
    description:
      - The existing S3 bucket CloudTrail delivers log files to. Its policy must let CloudTrail write, see
        U(https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html).
      - Required to create a trail.
    type: str
  s3_key_prefix:
    description:
      - The key prefix log files are delivered under, at most 200 characters. A trailing V(/) is removed; a leading V(/) is an error.
      - V("") removes the prefix.
    type: str
  sns_topic_name:
    description:
      - The SNS topic notified of each log file delivery, as a topic name (in the trail's home region and account) or a topic ARN.
      - V("") stops notifications.
    type: str
  kms_key_id:
    description:
      - The KMS key that encrypts the log files, as a key id, a key ARN, an alias name (V(alias/...)) or an alias ARN.
      - Compared with the trail's key by key ARN; any form but a key ARN costs one KMS DescribeKey call (in the trail's home region).
      - V("") turns encryption with a KMS key off (back to SSE-S3).
    type: str
  cloudwatch_logs_log_group_arn:
    description:
      - The ARN of the CloudWatch Logs log group events are delivered to, as CloudTrail shows it (ending in V(:*)).
      - Goes with O(cloudwatch_logs_role_arn); both V("") stop the delivery.
    type: str
  cloudwatch_logs_role_arn:
    description:
      - The ARN of the IAM role CloudTrail assumes to deliver events to O(cloudwatch_logs_log_group_arn).
      - Goes with O(cloudwatch_logs_log_group_arn); both V("") stop the delivery.
    type: str
  is_multi_region_trail:
    description:
      - Whether the trail records events in every region (V(true)) or only in its home region.
      - When omitted, a new trail is single-region (CloudTrail's default) and an existing trail is left as it is.
    type: bool
  include_global_service_events:
    description:
      - Whether the trail records events of global services such as IAM.
      - Must be V(true) for a multi-region trail.
      - When omitted, a new trail includes them (CloudTrail's default) and an existing trail is left as it is.
    type: bool
    aliases: [include_global_events]
  is_organization_trail:
    description:
      - Whether the trail logs every account of the AWS Organizations organization; only in the organization's management
        or delegated administrator account.
      - When omitted, a new trail is not an organization trail and an existing trail is left as it is.
    type: bool
  enable_log_file_validation:
    description:
      - Whether CloudTrail writes signed digest files to validate the log files with.
      - When omitted, a new trail has it off (CloudTrail's default) and an existing trail is left as it is.
    type: bool
    aliases: [log_file_validation_enabled]
  enable_logging:
    description:
      - Whether the trail is logging (StartLogging) or paused (StopLogging).
      - When omitted, a new trail is started (as M(amazon.aws.cloudtrail) and the console do) and an existing trail is left as it is.
    type: bool
notes:
  - A run that changes nothing makes three CloudTrail calls (GetTrail, GetTrailStatus, ListTags), plus one KMS DescribeKey
    when O(kms_key_id) is not given as a key ARN, and no write call.
  - In check mode the ARN of a trail that does not exist yet is built from the account STS GetCallerIdentity names,
    the only call made for that purpose.
  - Unlike M(amazon.aws.cloudtrail), omitted options keep their current values on an existing trail
    (that module turned O(is_multi_region_trail) off and logging on whenever they were omitted).
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
  diff_mode:
    support: full
    details:
      - The diff shows the trail before and after, as returned in RV(trail).
  idempotent:
    description: When run twice in a row with the same arguments, the second run reports no change and makes no write call.
    support: full
"""

EXAMPLES = r"""
- name: A multi-region trail with log file validation, logging
  trailops.cloudtrail.trail:
    name: management-events
    s3_bucket_name: my-cloudtrail-logs
    is_multi_region_trail: true
    enable_log_file_validation: true
    enable_logging: true

- name: Encrypt with a KMS key named by its alias, notify an SNS topic, deliver to CloudWatch Logs
  trailops.cloudtrail.trail:
    name: management-events
    kms_key_id: alias/cloudtrail
    sns_topic_name: cloudtrail-deliveries
    cloudwatch_logs_log_group_arn: arn:aws:logs:us-east-1:123456789012:log-group:CloudTrail/management-events:*
    cloudwatch_logs_role_arn: arn:aws:iam::123456789012:role/CloudTrailToCloudWatchLogs
    tags:
      team: security

- name: Stop the KMS encryption, the notifications and the CloudWatch Logs delivery; keep everything else
  trailops.cloudtrail.trail:
    name: management-events
    kms_key_id: ""
    sns_topic_name: ""
    cloudwatch_logs_log_group_arn: ""
    cloudwatch_logs_role_arn: ""

- name: Pause logging
  trailops.cloudtrail.trail:
    name: management-events
    enable_logging: false

- name: Check for drift without changing anything
  trailops.cloudtrail.trail:
    name: management-events
    s3_bucket_name: my-cloudtrail-logs
    is_multi_region_trail: true
  check_mode: true
  diff: true
  register: drift

- name: Delete the trail (the bucket and its log files stay)
  trailops.cloudtrail.trail:
    name: management-events
    state: absent
"""

RETURN = r"""
exists:
  description: Whether the trail exists after the run (would exist, in check mode).
  returned: always
  type: bool
  sample: true
trail:
  description:
    - The trail after the run (as it would be, in check mode), in snake_case; V({}) when it does not exist.
    - An unset optional setting is V(null).
  returned: always
  type: dict
  contains:
    name:
      description: The trail's name.
      returned: when the trail exists
      type: str
      sample: management-events
    trail_arn:
      description: The trail's ARN.
      returned: when the trail exists
      type: str
      sample: arn:aws:cloudtrail:us-east-1:123456789012:trail/management-events
    home_region:
      description: The region the trail was created in, where it is changed.
      returned: when the trail exists
      type: str
      sample: us-east-1
    s3_bucket_name:
      description: The bucket log files are delivered to.
      returned: when the trail exists
      type: str
      sample: my-cloudtrail-logs
    s3_key_prefix:
      description: The key prefix of the log files, or V(null).
      returned: when the trail exists
      type: str
      sample: cloudtrail
    sns_topic_name:
      description: The name of the SNS topic notified of deliveries, or V(null).
      returned: when the trail exists
      type: str
      sample: cloudtrail-deliveries
    sns_topic_arn:
      description: The ARN of the SNS topic notified of deliveries, or V(null).
      returned: when the trail exists
      type: str
      sample: arn:aws:sns:us-east-1:123456789012:cloudtrail-deliveries
    kms_key_id:
      description: The ARN of the KMS key encrypting the log files, or V(null).
      returned: when the trail exists
      type: str
      sample: arn:aws:kms:us-east-1:123456789012:key/12345678-1234-1234-1234-123456789012
    cloud_watch_logs_log_group_arn:
      description: The ARN of the CloudWatch Logs log group events are delivered to, or V(null).
      returned: when the trail exists
      type: str
      sample: arn:aws:logs:us-east-1:123456789012:log-group:CloudTrail/management-events:*
    cloud_watch_logs_role_arn:
      description: The ARN of the role CloudTrail delivers to CloudWatch Logs with, or V(null).
      returned: when the trail exists
      type: str
      sample: arn:aws:iam::123456789012:role/CloudTrailToCloudWatchLogs
    include_global_service_events:
      description: Whether events of global services are recorded.
      returned: when the trail exists
      type: bool
      sample: true
    is_multi_region_trail:
      description: Whether the trail records events in every region.
      returned: when the trail exists
      type: bool
      sample: true
    is_organization_trail:
      description: Whether the trail logs every account of the organization.
      returned: when the trail exists
      type: bool
      sample: false
    log_file_validation_enabled:
      description: Whether digest files are written.
      returned: when the trail exists
      type: bool
      sample: true
    has_custom_event_selectors:
      description: Whether the trail has event selectors other than the default.
      returned: when the trail exists
      type: bool
      sample: false
    has_insight_selectors:
      description: Whether CloudTrail Insights is on.
      returned: when the trail exists
      type: bool
      sample: false
    is_logging:
      description: Whether the trail is logging (from GetTrailStatus).
      returned: when the trail exists
      type: bool
      sample: true
    tags:
      description: The trail's tags.
      returned: when the trail exists
      type: dict
      sample: {"team": "security"}
diff:
  description: The trail before and after, as in RV(trail).
  returned: in diff mode
  type: dict
  contains:
    before:
      description: The trail before the run, V({}) when it did not exist.
      returned: in diff mode
      type: dict
    after:
      description: The trail after the run, V({}) when it does not exist.
      returned: in diff mode
      type: dict
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.trailops.cloudtrail.plugins.module_utils.parameters import ParameterError
from ansible_collections.trailops.cloudtrail.plugins.module_utils.trail import ensure_trail
from ansible_collections.trailops.cloudtrail.plugins.module_utils.trail import explain_error
from ansible_collections.trailops.cloudtrail.plugins.module_utils.trail import validate_params
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import with_hidden_access_key


def main():
    argument_spec = dict(
        name=dict(type="str", default="default"),
        account_id=dict(type="str"),
        state=dict(type="str", default="present", choices=["present", "absent", "enabled", "disabled"]),
        s3_bucket_name=dict(type="str"),
        s3_key_prefix=dict(type="str", no_log=False),
        sns_topic_name=dict(type="str"),
        kms_key_id=dict(type="str", no_log=False),
        cloudwatch_logs_log_group_arn=dict(type="str"),
        cloudwatch_logs_role_arn=dict(type="str"),
        is_multi_region_trail=dict(type="bool"),
        include_global_service_events=dict(type="bool", aliases=["include_global_events"]),
        is_organization_trail=dict(type="bool"),
        enable_log_file_validation=dict(type="bool", aliases=["log_file_validation_enabled"]),
        enable_logging=dict(type="bool"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(argument_spec=with_hidden_access_key(argument_spec), supports_check_mode=True)

    params = dict(module.params)
    params["state"] = {"enabled": "present", "disabled": "absent"}.get(params["state"], params["state"])

    try:
        validate_params(params)
        changed, before, after = ensure_trail(module, params)
    except ParameterError as e:
        module.fail_json(msg=str(e))
    except AnsibleAWSError as e:
        explanation = explain_error(e)
        if explanation:
            module.fail_json_aws(e.exception, msg=explanation)
        module.fail_json_aws_error(e)

    result = dict(changed=changed, exists=bool(after), trail=after)
    if module._diff:
        result["diff"] = dict(before=before, after=after)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
