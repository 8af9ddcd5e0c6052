#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the trailops.cloudtrail project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: trail_info
short_description: Describe AWS CloudTrail trails with their status, selectors and tags
version_added: 1.0.0
description:
  - Returns every trail visible in a region, or the named ones, each with its logging status, event selectors,
    insight selectors and tags, in the same snake_case form M(trailops.cloudtrail.trail) returns.
  - Multi-region trails whose home is another region (shadow trails) are included by default; their status,
    selectors and tags are read through their home region.
  - Makes one DescribeTrails call, one ListTags call per 20 trails of a home region, two calls per trail
    (GetTrailStatus, GetEventSelectors), and GetInsightSelectors for each trail that DescribeTrails says has Insights on,
    so that reading a trail without Insights makes no call that answers an error.
author:
  - trailops.cloudtrail contributors (@trailops)
options:
  trail_names:
    description:
      - The trails to describe, by name or ARN. Omitted or V([]) describes every trail visible in the region.
      - CloudTrail finds a trail of another region only by its ARN.
      - A named trail that does not exist is left out of RV(trails).
    type: list
    elements: str
    default: []
    aliases: [names]
  include_shadow_trails:
    description:
      - Whether to include multi-region trails whose home is another region.
    type: bool
    default: true
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
- name: Every trail visible in us-east-1
  trailops.cloudtrail.trail_info:
    region: us-east-1
  register: all_trails

- name: One trail, by name, and one of another region, by ARN
  trailops.cloudtrail.trail_info:
    trail_names:
      - management-events
      - arn:aws:cloudtrail:eu-west-1:123456789012:trail/eu-data-events

- name: Only the trails whose home is this region
  trailops.cloudtrail.trail_info:
    include_shadow_trails: false
"""

RETURN = r"""
trails:
  description: The trails, in the order DescribeTrails lists them.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The trail's name.
      returned: always
      type: str
      sample: management-events
    trail_arn:
      description: The trail's ARN.
      returned: always
      type: str
      sample: arn:aws:cloudtrail:us-east-1:123456789012:trail/management-events
    home_region:
      description: The region the trail was created in.
      returned: always
      type: str
      sample: us-east-1
    s3_bucket_name:
      description: The bucket log files are delivered to.
      returned: always
      type: str
      sample: my-cloudtrail-logs
    s3_key_prefix:
      description: The key prefix of the log files, or V(null).
      returned: always
      type: str
      sample: cloudtrail
    sns_topic_name:
      description: The name of the SNS topic notified of deliveries, or V(null).
      returned: always
      type: str
      sample: cloudtrail-deliveries
    sns_topic_arn:
      description: The ARN of the SNS topic notified of deliveries, or V(null).
      returned: always
      type: str
      sample: arn:aws:sns:us-east-1:123456789012:cloudtrail-deliveries
    kms_key_id:
      description: The ARN of the KMS key encrypting the log files, or V(null).
      returned: always
      type: str
      sample: arn:aws:kms:us-east-1:123456789012:key/12345678-1234-1234-1234-123456789012
    cloud_watch_logs_log_group_arn:
      description: The ARN of the CloudWatch Logs log group events are delivered to, or V(null).
      returned: always
      type: str
      sample: arn:aws:logs:us-east-1:123456789012:log-group:CloudTrail/management-events:*
    cloud_watch_logs_role_arn:
      description: The ARN of the role CloudTrail delivers to CloudWatch Logs with, or V(null).
      returned: always
      type: str
      sample: arn:aws:iam::123456789012:role/CloudTrailToCloudWatchLogs
    include_global_service_events:
      description: Whether events of global services are recorded.
      returned: always
      type: bool
      sample: true
    is_multi_region_trail:
      description: Whether the trail records events in every region.
      returned: always
      type: bool
      sample: true
    is_organization_trail:
      description: Whether the trail logs every account of the organization.
      returned: always
      type: bool
      sample: false
    log_file_validation_enabled:
      description: Whether digest files are written.
      returned: always
      type: bool
      sample: true
    has_custom_event_selectors:
      description: Whether the trail has event selectors other than the default.
      returned: always
      type: bool
      sample: false
    has_insight_selectors:
      description: Whether CloudTrail Insights is on.
      returned: always
      type: bool
      sample: false
    is_logging:
      description: Whether the trail is logging.
      returned: always
      type: bool
      sample: true
    latest_delivery_time:
      description: When CloudTrail last delivered a log file to the bucket (GetTrailStatus), UTC, ISO 8601; V(null) if never.
      returned: always
      type: str
      sample: "2024-05-01T12:05:00+00:00"
    latest_delivery_error:
      description: The error of the last failed delivery to the bucket, or V(null).
      returned: always
      type: str
      sample: AccessDenied
    latest_notification_error:
      description: The error of the last failed SNS notification (GetTrailStatus C(LatestNotificationError)), or V(null).
      returned: always
      type: str
      sample: AuthorizationError
    latest_cloudwatch_logs_delivery_error:
      description:
        - The error of the last failed delivery to CloudWatch Logs (GetTrailStatus C(LatestCloudWatchLogsDeliveryError)), or V(null).
      returned: always
      type: str
      sample: "AccessDeniedException: the role is not allowed to perform logs:PutLogEvents"
    start_logging_time:
      description: When the trail last started logging, UTC, ISO 8601; V(null) if never.
      returned: always
      type: str
      sample: "2024-05-01T12:00:00+00:00"
    stop_logging_time:
      description: When the trail last stopped logging, UTC, ISO 8601; V(null) if never.
      returned: always
      type: str
      sample: null
    tags:
      description: The trail's tags.
      returned: always
      type: dict
      sample: {"team": "security"}
    event_selectors:
      description:
        - The basic event selectors, normalized as M(trailops.cloudtrail.event_selectors) returns them; V([]) when the trail has advanced ones.
      returned: always
      type: list
      elements: dict
      sample: [{"read_write_type": "All", "include_management_events": true, "exclude_management_event_sources": [], "data_resources": []}]
    advanced_event_selectors:
      description:
        - The advanced event selectors, normalized as M(trailops.cloudtrail.event_selectors) returns them; V([]) when the trail has basic ones.
      returned: always
      type: list
      elements: dict
      sample: [{"name": "Management events", "field_selectors": [{"field": "eventCategory", "equals": ["Management"]}]}]
    insight_selectors:
      description: The Insights types that are on, sorted; V([]) when Insights is off.
      returned: always
      type: list
      elements: dict
      sample: [{"insight_type": "ApiCallRateInsight"}]
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.trailops.cloudtrail.plugins.module_utils.runner import exit_with
from ansible_collections.trailops.cloudtrail.plugins.module_utils.trail_info import run
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import with_hidden_access_key


def main():
    argument_spec = dict(
        trail_names=dict(type="list", elements="str", default=[], aliases=["names"]),
        include_shadow_trails=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(argument_spec=with_hidden_access_key(argument_spec), supports_check_mode=True)
    exit_with(module, run)


if __name__ == "__main__":
    main()
