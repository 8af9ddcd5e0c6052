#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the trailops.cloudtrail project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: event_selectors
short_description: Manage what a CloudTrail trail records (event selectors and Insights)
version_added: 1.0.0
description:
  - Ensures the event selectors (basic or advanced) and the insight selectors of one existing AWS CloudTrail trail.
  - Basic and advanced event selectors are mutually exclusive, as they are in CloudTrail; putting one kind replaces the other.
    O(event_selectors), O(advanced_event_selectors) and O(preset) each replace every event selector of the trail;
    when all three are omitted the trail's event selectors are left alone.
  - O(insight_selectors) replaces the trail's Insights types; an empty list turns Insights off; omitted, Insights are left alone.
  - Selectors are compared the way CloudTrail reads them, ignoring the order of selectors, field selectors and value lists,
    so running the module again with the same selectors makes no write call.
  - CloudTrail's service limits and the Insights prerequisites are checked before any write call.
    The limits are checked before any call; the Insights prerequisites too, except when O(insight_selectors) is given
    without event selectors, where they are checked against the trail's current selectors after reading them.
  - Writes go to the trail's home region (the region in its ARN), whatever region the module runs in.
  - A run that leaves event selectors and Insights unchanged makes one CloudTrail call (GetEventSelectors),
    and a second (GetInsightSelectors) only when O(insight_selectors) is given.
author:
  - trailops.cloudtrail contributors (@trailops)
options:
  trail_name:
    description:
      - The trail, by name or by ARN.
      - By name, the trail is looked up in the module's region; a multi-region trail whose home region is elsewhere
        is found among that region's shadow trails (one more call). By ARN, no lookup is needed.
    type: str
    required: true
    aliases: [name, trail]
  preset:
    description:
      - A named set of event selectors, instead of writing them out. Every preset keeps management events logged.
      - V(management_events) - every management event, read and write, no data events (CloudTrail's default for a new trail).
      - V(management_write_events) - write management events only.
      - V(all_s3_data_events) - management events plus data events of all S3 objects (advanced selectors).
      - V(all_lambda_invocations) - management events plus data events (invocations) of all Lambda functions (advanced selectors).
      - V(cis_benchmark) - the CIS AWS Foundations Benchmark (v1.4.0 and later) recommendations 3.1 (read and write management events)
        and 3.10 and 3.11 (S3 object-level logging of write and read events for all buckets), as one basic selector
        with data resource C(arn:aws:s3), the form the benchmark's remediation uses.
      - Mutually exclusive with O(event_selectors) and O(advanced_event_selectors).
    type: str
    choices: [management_events, management_write_events, all_s3_data_events, all_lambda_invocations, cis_benchmark]
extends_documentation_fragment:
  - trailops.cloudtrail.event_selectors
  - ansible.builtin.action_common_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Log management events and the data events of one bucket's objects
  trailops.cloudtrail.event_selectors:
    trail_name: management-events
    event_selectors:
      - read_write_type: All
        include_management_events: true
        exclude_management_event_sources: [kms.amazonaws.com]
        data_resources:
          - type: AWS::S3::Object
            values: ["arn:aws:s3:::amzn-s3-demo-bucket/"]

- name: Log management events and writes to DynamoDB tables, except deletes, with advanced selectors
  trailops.cloudtrail.event_selectors:
    trail_name: arn:aws:cloudtrail:us-east-1:123456789012:trail/management-events
    advanced_event_selectors:
      - name: Management events
        field_selectors:
          - field: eventCategory
            equals: [Management]
      - name: DynamoDB writes but deletes
        field_selectors:
          - field: eventCategory
            equals: [Data]
          - field: resources.type
            equals: ["AWS::DynamoDB::Table"]
          - field: readOnly
            equals: ["false"]
          - field: eventName
            not_starts_with: [Delete]

- name: What the CIS AWS Foundations Benchmark asks for, with both Insights types
  trailops.cloudtrail.event_selectors:
    trail_name: management-events
    preset: cis_benchmark
    insight_selectors:
      - insight_type: ApiCallRateInsight
      - insight_type: ApiErrorRateInsight

- name: Turn Insights off and leave the event selectors alone
  trailops.cloudtrail.event_selectors:
    trail_name: management-events
    insight_selectors: []
"""

RETURN = r"""
trail_arn:
  description: The trail's ARN.
  returned: success
  type: str
  sample: arn:aws:cloudtrail:us-east-1:123456789012:trail/management-events
home_region:
  description: The trail's home region, where the writes went.
  returned: success
  type: str
  sample: us-east-1
event_selectors:
  description:
    - The trail's basic event selectors after the run (in check mode, as they would be), normalized; empty when it has advanced ones.
  returned: success
  type: list
  elements: dict
  contains:
    read_write_type:
      description: Which events are logged.
      type: str
      sample: All
    include_management_events:
      description: Whether management events are logged.
      type: bool
      sample: true
    exclude_management_event_sources:
      description: Event sources whose management events are not logged, sorted.
      type: list
      elements: str
      sample: [kms.amazonaws.com]
    data_resources:
      description: Resources whose data events are logged; each has C(type) and sorted C(values).
      type: list
      elements: dict
      sample: [{"type": "AWS::S3::Object", "values": ["arn:aws:s3:::amzn-s3-demo-bucket/"]}]
advanced_event_selectors:
  description:
    - The trail's advanced event selectors after the run (in check mode, as they would be), normalized; empty when it has basic ones.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: The selector's name, V("") when it has none.
      type: str
      sample: Management events
    field_selectors:
      description: The conditions, sorted by field; each has C(field) and the operators that have values, values sorted.
      type: list
      elements: dict
      sample: [{"field": "eventCategory", "equals": ["Management"]}]
insight_selectors:
  description: The trail's Insights types after the run (in check mode, as they would be), sorted.
  returned: when O(insight_selectors) is given
  type: list
  elements: dict
  contains:
    insight_type:
      description: The Insights type.
      type: str
      sample: ApiCallRateInsight
    event_categories:
      description: The events analyzed, sorted.
      type: list
      elements: str
      sample: [Management]
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import with_hidden_access_key
from ansible_collections.trailops.cloudtrail.plugins.module_utils.event_selectors import run
from ansible_collections.trailops.cloudtrail.plugins.module_utils.event_selectors import selector_argument_spec
from ansible_collections.trailops.cloudtrail.plugins.module_utils.event_selectors import validate_params
from ansible_collections.trailops.cloudtrail.plugins.module_utils.runner import exit_with


def argument_spec():
    return dict(trail_name=dict(type="str", required=True, aliases=["name", "trail"]), **selector_argument_spec())


def main():
    module = AnsibleAWSModule(
        argument_spec=with_hidden_access_key(argument_spec()),
        mutually_exclusive=[["preset", "event_selectors", "advanced_event_selectors"]],
        supports_check_mode=True,
    )
    exit_with(module, run, validate_params)


if __name__ == "__main__":
    main()
