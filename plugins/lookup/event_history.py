# -*- coding: utf-8 -*-

# Copyright: Contributors to the trailops.cloudtrail project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: event_history
short_description: Recent CloudTrail events of an account, as the console's Event history shows them
version_added: 1.0.0
description:
  - Reads CloudTrail's event history (the API call C(LookupEvents)) of the last 90 days, from one or several regions at once,
    and returns the events newest first.
  - Each event carries LookupEvents' summary fields in snake_case, the region it was read from, the error code and message of
    a failed call, and C(cloud_trail_event), the event record (C(CloudTrailEvent)) parsed into a dictionary.
  - LookupEvents allows 2 requests a second per account and region and returns at most 50 events a request. The lookup
    paces itself to that rate, per access key and region, across all its concurrent readers in the same process, and
    retries throttled requests with jittered backoff, so throttling never fails the lookup. Regions are read in parallel, so
    reading several regions takes about as long as reading the busiest one.
  - Every option is checked before the first request; bad input fails without calling AWS.
  - The lookup takes no terms. Use C(query()) or C(lookup(..., wantlist=true)) to get a list.
author:
  - trailops.cloudtrail contributors (@trailops)
options:
  lookup_attribute:
    description:
      - Only events matching one attribute, as a dictionary with exactly one key (LookupEvents accepts one attribute per call).
      - Keys are LookupEvents' attribute keys, V(EventId), V(EventName), V(ReadOnly), V(Username), V(ResourceType),
        V(ResourceName), V(EventSource), V(AccessKeyId). See the examples.
      - V(ReadOnly) takes V(true) or V(false).
    type: dict
  start_time:
    description:
      - The oldest events to return. ISO 8601 (V(2024-05-01T12:00:00Z); without a zone, UTC), V(now), or relative to now,
        V(-30m), V(-2h), V(-7d), V(-1w) (units V(s), V(m), V(h), V(d), V(w)).
      - A time older than the 90 days CloudTrail keeps is moved to 90 days ago, with a warning.
      - When not set, all of the last 90 days.
    type: str
  end_time:
    description:
      - The newest events to return, in the same forms as O(start_time). When not set, up to now.
      - O(start_time) must not be after O(end_time).
    type: str
  event_category:
    description:
      - V(management) for management events, V(insight) for CloudTrail Insights events.
      - Checked by the lookup itself (not with C(choices)), so that an error lists the allowed values.
    type: str
    default: management
  max_events:
    description:
      - At most this many events in all, the newest across O(regions). When not set, every event in the time window.
      - Must be greater than 0.
    type: int
  regions:
    description:
      - Read these regions concurrently and merge their events, newest first.
      - When not set, the region of the connection (O(region)).
      - Each must be a region where CloudTrail is available.
    type: list
    elements: str
extends_documentation_fragment:
  - amazon.aws.boto3
  - amazon.aws.common.plugins
  - amazon.aws.region.plugins
notes:
  - Each event's RV(_raw[].event_time) is in UTC, ISO 8601.
  - The pace is kept per access key (or profile) and region in the Ansible process that runs the lookup; different
    credentials for the same account, or lookups in other processes, share AWS's limit but not this pacing, and are kept
    within it by retrying throttled requests.
"""

EXAMPLES = r"""
- name: Who stopped logging in the last week?
  ansible.builtin.debug:
    msg: "{{ item.event_time }} {{ item.username }} stopped {{ item.resources | map(attribute='resource_name') | join(', ') }}"
  loop: "{{ query('trailops.cloudtrail.event_history', lookup_attribute={'EventName': 'StopLogging'}, start_time='-7d') }}"

- name: Failed calls of the last day in two regions, read concurrently
  ansible.builtin.debug:
    msg: "{{ item.event_time }} {{ item.region }} {{ item.event_name }} {{ item.error_code }}: {{ item.error_message }}"
  loop: "{{ query('trailops.cloudtrail.event_history', regions=['us-east-1', 'eu-west-1'], start_time='-1d') | selectattr('error_code') | list }}"

- name: Everything one user did between two times, with the request parameters
  ansible.builtin.set_fact:
    alice_changes: >-
      {{ query('trailops.cloudtrail.event_history',
               lookup_attribute={'Username': 'alice'},
               start_time='2024-05-01T08:00:00Z', end_time='2024-05-01T18:00:00Z')
         | map(attribute='cloud_trail_event.requestParameters') | list }}

- name: Insights events of the last day
  ansible.builtin.set_fact:
    insights: "{{ query('trailops.cloudtrail.event_history', event_category='insight', start_time='-1d') }}"

- name: The 10 newest write events, with explicit credentials and endpoint
  ansible.builtin.set_fact:
    recent_writes: >-
      {{ query('trailops.cloudtrail.event_history', lookup_attribute={'ReadOnly': false}, max_events=10,
               region='us-east-1', access_key=my_access_key, secret_key=my_secret_key) }}
"""

RETURN = r"""
_raw:
  description:
    - The events, newest first.
  type: list
  elements: dict
  contains:
    event_id:
      description: The event's ID.
      type: str
    event_name:
      description: The API call, for example V(CreateTrail).
      type: str
    event_time:
      description: When the call was made, UTC, ISO 8601.
      type: str
    event_source:
      description: The service, for example V(cloudtrail.amazonaws.com).
      type: str
    username:
      description: The user name, role session name or V(root) of the caller.
      type: str
    read_only:
      description: Whether the call only read.
      type: bool
    access_key_id:
      description: The caller's access key ID.
      type: str
    resources:
      description: The resources the call named.
      type: list
      elements: dict
      contains:
        resource_type:
          description: For example V(AWS::CloudTrail::Trail).
          type: str
        resource_name:
          description: The resource's name or ARN.
          type: str
    region:
      description: The region the event was read from.
      type: str
    error_code:
      description: The error code of a failed call, else V(null).
      type: str
    error_message:
      description: The error message of a failed call, else V(null).
      type: str
    cloud_trail_event:
      description:
        - The event record, as CloudTrail writes it (C(userIdentity), C(requestParameters), C(awsRegion),
          C(recipientAccountId), ...), parsed from LookupEvents' C(CloudTrailEvent).
      type: dict
"""

import os
from concurrent.futures import ThreadPoolExecutor

try:
    import boto3
    import botocore
except ImportError:
    pass  # Handled by AWSLookupBase

from ansible.errors import AnsibleLookupError
from ansible.module_utils.common.text.converters import to_native
from ansible.utils.display import Display

from ansible_collections.amazon.aws.plugins.plugin_utils.botocore import get_aws_connection_info
from ansible_collections.amazon.aws.plugins.plugin_utils.lookup import AWSLookupBase

from ansible_collections.trailops.cloudtrail.plugins.module_utils.parameters import ParameterError
from ansible_collections.trailops.cloudtrail.plugins.plugin_utils import event_history

display = Display()

# botocore must not retry on its own: every attempt has to pass the pacing bucket.
NO_SDK_RETRIES = {"retries": {"total_max_attempts": 1}}


def cloudtrail_regions():
    session = boto3.session.Session()
    known = set()
    for partition in session.get_available_partitions():
        known.update(session.get_available_regions("cloudtrail", partition_name=partition))
    return known


class LookupModule(AWSLookupBase):
    def run(self, terms, variables=None, **kwargs):
        super().run(terms, variables, **kwargs)
        try:
            request = self._request()
        except ParameterError as error:
            raise AnsibleLookupError(to_native(error))
        if request["warning"]:
            self.warn(request["warning"])

        identity = self._identity()
        clients = {region: self.client("cloudtrail", region=region, config=NO_SDK_RETRIES) for region in request["regions"]}
        with ThreadPoolExecutor(max_workers=len(clients)) as pool:
            futures = {
                region: pool.submit(
                    event_history.read_events,
                    client.lookup_events,
                    request["params"],
                    request["limit"],
                    event_history.bucket_for(identity, region),
                )
                for region, client in clients.items()
            }
        per_region = []
        for region, future in futures.items():
            try:
                events, requests = future.result()
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
                raise AnsibleLookupError(f"event_history: LookupEvents in {region} failed: {to_native(error)}")
            display.vvv(f"event_history: {region}: {len(events)} events in {requests} requests")
            per_region.append([event_history.shape_event(event, region) for event in events])
        return event_history.merge_newest_first(per_region, request["limit"])

    def _request(self):
        """Every option checked and turned into LookupEvents' parameters, before any API call."""
        now = event_history.utcnow()
        start, end, warning = event_history.resolve_window(self.get_option("start_time"), self.get_option("end_time"), now)
        attribute = event_history.lookup_attribute(self.get_option("lookup_attribute"))
        category = event_history.event_category(self.get_option("event_category"))
        limit = event_history.max_events(self.get_option("max_events"))
        regions = event_history.regions(self.get_option("regions"), self.region, cloudtrail_regions())
        params = event_history.lookup_request(attribute, start, end, category, event_history.page_size(limit))
        return {"params": params, "limit": limit, "regions": regions, "warning": warning}

    def _identity(self):
        """Whose pace this is: the access key in use, found without an API call."""
        dummy, dummy, connect = get_aws_connection_info(self)
        if connect.get("aws_access_key_id"):
            return connect["aws_access_key_id"]
        profile = connect.get("profile_name")
        credentials = boto3.session.Session(profile_name=profile).get_credentials()
        if credentials is not None and credentials.access_key:
            return credentials.access_key
        return profile or os.environ.get("AWS_PROFILE", "default")
