# -*- coding: utf-8 -*-

# Copyright: Contributors to the trailops.cloudtrail project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""For the bench only: counts, per host, the tasks that ran a module (a
Python process on the host) and those Ansible did on the controller alone,
and writes them to ``$BENCH_TASK_RUNS`` as JSON when the playbook ends.
The play recap's ``ok=`` cannot tell the two apart."""

from __future__ import annotations

DOCUMENTATION = r"""
name: task_runs
type: aggregate
short_description: Count module runs and controller-side tasks per host, for make bench
description:
  - "Writes, per host, the module runs, the controller-side tasks and the modules run, as JSON, to the file named by E(BENCH_TASK_RUNS)."
requirements:
  - "enabled in callbacks_enabled of bench/bench.cfg"
"""

import json
import os
from collections import Counter

from ansible.plugins.callback import CallbackBase

# Actions Ansible carries out in the controller, with no module process.
CONTROLLER_ACTIONS = frozenset(
    "ansible.builtin." + name
    for name in (
        "set_fact", "assert", "debug", "fail", "include_tasks", "import_tasks", "include_role", "import_role",
        "include_vars", "meta", "validate_argument_spec", "add_host", "group_by", "set_stats", "pause",
    )
)


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "task_runs"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._modules = {}
        self._controller = Counter()

    def _count(self, result):
        action = result._task.resolved_action or result._task.action
        host = result._host.get_name()
        if action in CONTROLLER_ACTIONS or action.split(".")[-1] in {a.split(".")[-1] for a in CONTROLLER_ACTIONS}:
            self._controller[host] += 1
        else:
            self._modules.setdefault(host, Counter())[action] += 1

    def v2_runner_on_ok(self, result):
        self._count(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._count(result)

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("BENCH_TASK_RUNS")
        if not path:
            return
        hosts = set(self._modules) | set(self._controller)
        report = {
            host: {
                "module_runs": sum(self._modules.get(host, Counter()).values()),
                "controller_tasks": self._controller[host],
                "modules": dict(self._modules.get(host, Counter())),
            }
            for host in hosts
        }
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(report, handle)
