# -*- coding: utf-8 -*-

# Copyright: Contributors to the trailops.cloudtrail project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The options that describe a trail's event selectors and Insights, shared by
    # the event_selectors and baseline modules (module_utils/event_selectors.py's
    # selector_argument_spec is their one argument spec).
    DOCUMENTATION = r"""
options:
  event_selectors:
    description:
      - The basic event selectors the trail should have, at most 5, with at most 250 data resource values in all.
      - Replaces the trail's basic and advanced event selectors.
      - Mutually exclusive with O(advanced_event_selectors) and the preset.
    type: list
    elements: dict
    suboptions:
      read_write_type:
        description: Which events to log.
        type: str
        choices: [All, ReadOnly, WriteOnly]
        default: All
      include_management_events:
        description: Whether the selector logs management events.
        type: bool
        default: true
      exclude_management_event_sources:
        description:
          - Event sources whose management events are not logged. CloudTrail accepts V(kms.amazonaws.com) and V(rdsdata.amazonaws.com).
        type: list
        elements: str
      data_resources:
        description: The resources whose data events are logged.
        type: list
        elements: dict
        suboptions:
          type:
            description:
              - The resource type. Basic selectors accept only V(AWS::S3::Object), V(AWS::Lambda::Function) and V(AWS::DynamoDB::Table);
                other types need O(advanced_event_selectors).
            type: str
            required: true
          values:
            description:
              - ARNs or ARN prefixes of the resources, for example V(arn:aws:s3:::my-bucket/) for every object of a bucket,
                V(arn:aws:s3) for all buckets, V(arn:aws:lambda) for all functions.
            type: list
            elements: str
            required: true
  advanced_event_selectors:
    description:
      - The advanced event selectors the trail should have, with at most 500 condition values in all.
      - Replaces the trail's basic and advanced event selectors.
      - Mutually exclusive with O(event_selectors) and the preset.
    type: list
    elements: dict
    suboptions:
      name:
        description: A descriptive name for the selector.
        type: str
      field_selectors:
        description:
          - The conditions, all of which an event must meet. Every selector needs one on C(eventCategory).
        type: list
        elements: dict
        required: true
        suboptions:
          field:
            description:
              - The event record field, one of C(eventCategory), C(eventSource), C(eventName), C(eventType), C(readOnly),
                C(resources.type), C(resources.ARN), C(sessionCredentialFromConsole), C(userIdentity.arn), C(errorCode), C(vpcEndpointId).
              - C(eventCategory), C(readOnly) and C(resources.type) take only O(advanced_event_selectors[].field_selectors[].equals).
            type: str
            required: true
          equals:
            description: Values the field must equal.
            type: list
            elements: str
          starts_with:
            description: Values the field must start with.
            type: list
            elements: str
          ends_with:
            description: Values the field must end with.
            type: list
            elements: str
          not_equals:
            description: Values the field must not equal.
            type: list
            elements: str
          not_starts_with:
            description: Values the field must not start with.
            type: list
            elements: str
          not_ends_with:
            description: Values the field must not end with.
            type: list
            elements: str
  insight_selectors:
    description:
      - The Insights types the trail should log. V([]) turns Insights off; omitted, Insights are left as they are.
      - V(ApiCallRateInsight) needs write management events logged; V(ApiErrorRateInsight) needs read or write management events;
        on V(Data) events, both need data events logged. This is checked against the selectors that will be in effect.
    type: list
    elements: dict
    suboptions:
      insight_type:
        description: The Insights type.
        type: str
        required: true
        choices: [ApiCallRateInsight, ApiErrorRateInsight]
      event_categories:
        description: The events the Insights type analyzes. CloudTrail's default is V(Management).
        type: list
        elements: str
        choices: [Management, Data]
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The diff shows the normalized selectors before and after.
  platform:
    platforms: posix
  idempotent:
    description: Whether a second run with the same parameters reports no change.
    support: full
    details: A second run reports no change and makes no write call.
"""
