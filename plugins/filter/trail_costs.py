# -*- coding: utf-8 -*-

# Copyright: Contributors to the trailops.cloudtrail project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The cost view of an account's trails, for the drift report and the
dashboard: ``trail_costs`` and ``event_rates`` (documentation: trail_costs.yml,
event_rates.yml). The logic lives in plugin_utils/trail_costs.py, pure and
unit-tested; this file only turns its input errors into filter errors."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.trailops.cloudtrail.plugins.plugin_utils import trail_costs as costs


def trail_costs(trails, events_per_hour=None, prices=None):
    try:
        return costs.trail_costs(trails, events_per_hour, prices)
    except (costs.CostInputError, OSError) as error:
        raise AnsibleFilterError(f"trail_costs: {error}") from None


def event_rates(events, regions, hours, now, max_events=None):
    try:
        return costs.event_rates(events or [], regions, hours, now, max_events)
    except (costs.CostInputError, KeyError, ValueError) as error:
        raise AnsibleFilterError(f"event_rates: {error}") from None


class FilterModule:
    def filters(self):
        return {"trail_costs": trail_costs, "event_rates": event_rates}
