# -*- coding: utf-8 -*-

# Copyright: Contributors to the trailops.cloudtrail project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: fleet
type: stdout
short_description: One line per AWS account for fleet runs
version_added: 1.0.0
description:
  - 'Screen output for C(playbooks/fleet.yml) and C(playbooks/drift_report.yml) over many accounts. Each account prints one line
    as soon as its outcome is known, counted out of the play''s hosts: the count, the account id, its name in parentheses and the
    outcome, for example: [7/20] 123456789012 (prod-payments) changed: log_bucket, trail.'
  - 'An account''s outcome is the result of a task whose result has C(changed_parts) (the C(trailops.cloudtrail.baseline) module''s
    result): V(ok), or V(changed:) with the parts that changed (would change, under C(--check)); or a failure of the account:
    V(failed:) with the reason. A failure that a block''s C(rescue) handles, or that C(ignore_errors) ignores, is not an outcome.'
  - 'For C(playbooks/validate_logs.yml): each trail''s line as its C(trailops.cloudtrail.validate_logs) run finishes, with its
    verdict, the digests and log files checked and the seconds it took; then the account''s outcome, counted, from its
    C(log_validation) fact: the verdict, the time, the trails, digests and log files, for example:
    [3/20] 123456789012 (prod-payments) valid in 41.2 s: 1 trail, 24 digests, 288 log files.'
  - 'For C(playbooks/dashboard.yml): each account''s line, counted, as its reads finish (its C(dashboard_account) fact):
    V(read:) with its trails and the events read, or V(unreadable:) with the reason.'
  - The account's name is its C(aws_account_name) host variable (set by the C(trailops.cloudtrail.accounts) inventory plugin).
  - Every other result is silent, except the message of a C(debug) task with C(run_once) (the fleet's summary), the diffs of
    C(--diff), warnings, deprecations and errors. A one-line recap ends the run.
  - With C(-v) or more, it prints what Ansible's default callback prints.
  - A task with C(no_log) is never printed beyond what Ansible leaves of it; text that looks like an AWS access key id or secret is
    replaced by C(<redacted>).
extends_documentation_fragment:
  - ansible.builtin.default_callback
  - ansible.builtin.result_format_callback
requirements:
  - set as the stdout callback, for example E(ANSIBLE_STDOUT_CALLBACK=trailops.cloudtrail.fleet)
author:
  - trailops.cloudtrail contributors (@trailops)
"""

import re
from typing import Any, Mapping, Optional

from ansible import constants as C
from ansible.plugins.callback.default import CallbackModule as DefaultCallback

try:
    from ansible.playbook.block import Block
except ImportError:  # pragma: no cover - ansible-core always has it
    Block = None

# An AWS access key id, and a 40-character secret key or a longer session token: credentials never
# belong in a reason or a summary, whatever a module or a template put there.
CREDENTIAL_PATTERNS = (
    re.compile(r"\b(?:AKIA|ASIA|AIDA|AROA)[A-Z0-9]{16}\b"),
    # Base64 of 40 characters or more with digits and both cases; ARNs, bucket names and ids have ':', '-' or one case.
    re.compile(r"(?<![A-Za-z0-9/+])(?=[A-Za-z0-9/+]*[0-9])(?=[A-Za-z0-9/+]*[a-z])(?=[A-Za-z0-9/+]*[A-Z])[A-Za-z0-9/+]{40,}={0,2}"),
)
REDACTED = "<redacted>"
DEBUG_ACTIONS = frozenset(("debug", "ansible.builtin.debug", "ansible.legacy.debug"))


def redact(text: str) -> str:
    for pattern in CREDENTIAL_PATTERNS:
        text = pattern.sub(REDACTED, text)
    return text


def one_line(text: Any) -> str:
    """A reason as one line: module messages may span several."""
    return " ".join(str(text).split())


def account_label(host: str, name: Optional[str]) -> str:
    return f"{host} ({name})" if name else host


def outcome_of(result: Mapping[str, Any]) -> Optional[str]:
    """``ok`` or ``changed: <parts>`` from a baseline result, or None if the result is not one."""
    if "changed_parts" not in result:
        return None
    parts = result.get("changed_parts") or []
    if isinstance(parts, str):
        parts = [parts]
    if parts:
        return "changed: " + ", ".join(str(part) for part in parts)
    return "changed" if result.get("changed") else "ok"


def failure_reason(host: str, name: Optional[str], result: Mapping[str, Any]) -> str:
    """Why a task failed, without repeating the account: fleet.yml's own failure already names it."""
    reason = one_line(result.get("msg") or result.get("censored") or result.get("reason") or "failed")
    for prefix in (f"account {account_label(host, name)}: ", f"account {host}: "):
        if reason.startswith(prefix):
            reason = reason[len(prefix):]
            break
    return reason


def progress_line(done: int, total: int, host: str, name: Optional[str], outcome: str) -> str:
    count = f"[{done}/{total}] " if total else f"[{done}] "
    return redact(f"{count}{account_label(host, name)} {outcome}")


# -- log file validation (playbooks/validate_logs.yml) ----------------------------

VALIDATION_COLORS = {"valid": C.COLOR_OK, "not_validated": C.COLOR_WARN}


def _checked(counts: Any, kinds: tuple[str, ...]) -> int:
    return sum(int(counts.get(kind) or 0) for kind in kinds) if isinstance(counts, Mapping) else 0


def checked_counts(entry: Mapping[str, Any]) -> tuple[int, int]:
    """(digests, log files) checked, from a validate_logs summary or a trail of the
    account's report: what was read and checked, whatever the outcome; the log files of
    an invalid digest (not_validated) were not."""
    digest_kinds = ("valid", "invalid")
    digests = _checked(entry.get("digests"), digest_kinds) + _checked(entry.get("backfill_digests"), digest_kinds)
    return digests, _checked(entry.get("log_files"), ("valid", "modified", "deleted", "unreadable"))


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def is_validation(result: Mapping[str, Any]) -> bool:
    """Whether ``result`` is a trailops.cloudtrail.validate_logs result (one trail's)."""
    return "verdict" in result and "summary" in result and "failures" in result


def trail_validation_line(label: str, result: Mapping[str, Any]) -> str:
    """One trail's outcome, as its validate_logs run finishes."""
    item = result.get("item")
    trail = result.get("_ansible_item_label") or (item.get("name") if isinstance(item, Mapping) else None) or result.get("trail_arn") or "?"
    verdict = result.get("verdict") or "unreadable"
    took = f" in {result['seconds']} s" if result.get("seconds") is not None else ""
    if verdict in ("valid", "invalid"):
        digests, log_files = checked_counts(result.get("summary") or {})
        line = f"{label} trail {trail}: {verdict}, {_plural(digests, 'digest')} and {_plural(log_files, 'log file')} checked{took}"
        failures = len(result.get("failures") or [])
        return line + (f", {_plural(failures, 'failure')}" if failures else "")
    reason = one_line(result.get("msg") or "")
    return f"{label} trail {trail}: {verdict}{took}" + (f": {reason}" if reason else "")


def account_validation_outcome(result: Mapping[str, Any]) -> Optional[tuple[str, str]]:
    """(outcome, verdict) of an account from a result that sets its ``log_validation``
    fact (playbooks/validate_logs.yml), or None if the result does not."""
    entry = (result.get("ansible_facts") or {}).get("log_validation")
    if not isinstance(entry, Mapping) or "verdict" not in entry:
        return None
    verdict = str(entry["verdict"])
    outcome = f"{verdict} in {entry.get('seconds')} s"
    summary = entry.get("summary") or {}
    trails = summary.get("trails") or []
    if summary.get("error"):
        return f"{outcome}: {one_line(summary['error'])}", verdict
    if not trails:
        return f"{outcome}: {one_line(summary.get('message') or 'no trail')}", verdict
    counts = [checked_counts(trail) for trail in trails if isinstance(trail, Mapping)]
    digests, log_files = sum(count[0] for count in counts), sum(count[1] for count in counts)
    outcome += f": {_plural(len(trails), 'trail')}, {_plural(digests, 'digest')}, {_plural(log_files, 'log file')}"
    failures = len(entry.get("failures") or [])
    return outcome + (f", {_plural(failures, 'failure')}" if failures else ""), verdict


# -- the dashboard (playbooks/dashboard.yml) ------------------------------------------


def dashboard_outcome(result: Mapping[str, Any]) -> Optional[tuple[str, bool]]:
    """(outcome, read) of an account from a result that sets its ``dashboard_account``
    fact (playbooks/dashboard.yml), or None if the result does not."""
    entry = (result.get("ansible_facts") or {}).get("dashboard_account")
    if not isinstance(entry, Mapping) or "events" not in entry:
        return None
    if entry.get("error"):
        return f"unreadable: {one_line(entry['error'])}", False
    trails = {trail.get("trail_arn") for trail in entry.get("trails") or [] if isinstance(trail, Mapping)}
    return f"read: {_plural(len(trails), 'trail')}, {_plural(len(entry.get('events') or []), 'event')}", True


def _rescued(task: Any) -> bool:
    """Whether a block around ``task`` has a ``rescue`` that handles its failure
    (the task is in the block's own tasks, not in its rescue or always)."""
    child, parent = task, getattr(task, "_parent", None)
    while parent is not None:
        if Block is not None and isinstance(parent, Block) and parent.rescue:
            if any(getattr(member, "_uuid", None) == getattr(child, "_uuid", object()) for member in parent.block):
                return True
        child, parent = parent, getattr(parent, "_parent", None)
    return False


class CallbackModule(DefaultCallback):
    """Ansible's default callback when verbose; otherwise one line per account."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "trailops.cloudtrail.fleet"

    def __init__(self) -> None:
        super().__init__()
        self._hosts_total = 0
        self._reported: set[str] = set()

    # -- helpers ----------------------------------------------------------------
    @property
    def _verbose(self) -> bool:
        return self._display.verbosity > 0

    @staticmethod
    def _parts(result: Any) -> tuple[Any, Any, Mapping[str, Any]]:
        """(task, host, result dict), on ansible-core 2.19's public names or the older private ones."""
        task = getattr(result, "task", None) or result._task
        host = getattr(result, "host", None) or result._host
        answer = getattr(result, "result", None)
        return task, host, answer if answer is not None else result._result

    def _warnings(self, answer: Any) -> None:
        """Warnings and deprecations still print, as the default callback prints them; a failure's
        exception does not (its reason is on the account's line, and -v shows the rest)."""
        self._handle_warnings(answer)

    def _report(self, host: Any, outcome: str, color: str) -> None:
        name = host.get_name()
        if name not in self._reported:
            self._reported.add(name)
        account_name = (getattr(host, "vars", None) or {}).get("aws_account_name")
        self._display.display(progress_line(len(self._reported), self._hosts_total, name, account_name, outcome), color=color)

    def _report_dashboard(self, host: Any, answer: Mapping[str, Any]) -> bool:
        """Print an account's dashboard read as it finishes; whether ``answer`` was one."""
        found = dashboard_outcome(answer)
        if found is not None:
            self._report(host, found[0], C.COLOR_OK if found[1] else C.COLOR_ERROR)
        return found is not None

    def _report_validation(self, host: Any, answer: Mapping[str, Any]) -> bool:
        """Print a trail's or an account's log file validation outcome; whether ``answer`` was one."""
        if is_validation(answer):
            label = account_label(host.get_name(), (getattr(host, "vars", None) or {}).get("aws_account_name"))
            self._display.display(redact(trail_validation_line(label, answer)), color=VALIDATION_COLORS.get(answer.get("verdict"), C.COLOR_ERROR))
            return True
        found = account_validation_outcome(answer)
        if found is None:
            return False
        self._report(host, found[0], VALIDATION_COLORS.get(found[1], C.COLOR_ERROR))
        return True

    # -- plays and tasks --------------------------------------------------------
    def v2_playbook_on_play_start(self, play: Any) -> None:
        self._play = play
        self._reported = set()
        try:
            hosts = play.get_variable_manager().get_vars(play=play).get("ansible_play_hosts_all") or []
        except Exception:  # the count is a courtesy: never fail the run over it
            hosts = []
        self._hosts_total = len(hosts)
        if self._verbose:
            super().v2_playbook_on_play_start(play)

    def v2_playbook_on_task_start(self, task: Any, is_conditional: Any) -> None:
        if self._verbose:
            super().v2_playbook_on_task_start(task, is_conditional)

    def v2_playbook_on_handler_task_start(self, task: Any) -> None:
        if self._verbose:
            super().v2_playbook_on_handler_task_start(task)

    def v2_playbook_on_include(self, included_file: Any) -> None:
        if self._verbose:
            super().v2_playbook_on_include(included_file)

    # -- results ----------------------------------------------------------------
    def v2_runner_on_ok(self, result: Any) -> None:
        if self._verbose:
            super().v2_runner_on_ok(result)
            return
        task, host, answer = self._parts(result)
        self._warnings(answer)
        if self._report_validation(host, answer) or self._report_dashboard(host, answer):
            return
        outcome = outcome_of(answer)
        if outcome is not None:
            self._report(host, outcome, C.COLOR_CHANGED if outcome != "ok" else C.COLOR_OK)
        elif task.action in DEBUG_ACTIONS and task.run_once and "censored" not in answer:
            message = self._message(task, answer)
            if message:
                self._display.display(redact(message))

    def v2_runner_on_failed(self, result: Any, ignore_errors: bool = False) -> None:
        if self._verbose:
            super().v2_runner_on_failed(result, ignore_errors)
            return
        task, host, answer = self._parts(result)
        self._warnings(answer)
        if ignore_errors or _rescued(task):
            return
        reason = failure_reason(host.get_name(), (getattr(host, "vars", None) or {}).get("aws_account_name"), answer)
        self._report(host, f"failed: {reason}", C.COLOR_ERROR)

    def v2_runner_on_unreachable(self, result: Any) -> None:
        if self._verbose:
            super().v2_runner_on_unreachable(result)
            return
        task, host, answer = self._parts(result)
        self._warnings(answer)
        if getattr(task, "ignore_unreachable", False):
            return
        self._report(host, f"failed: unreachable: {one_line(answer.get('msg', ''))}", C.COLOR_UNREACHABLE)

    def v2_runner_on_skipped(self, result: Any) -> None:
        if self._verbose:
            super().v2_runner_on_skipped(result)

    def v2_runner_item_on_ok(self, result: Any) -> None:
        if self._verbose:
            super().v2_runner_item_on_ok(result)
            return
        # A loop's items arrive as each finishes: a trail's validation says so then.
        _task, host, answer = self._parts(result)
        self._report_validation(host, answer)

    def v2_runner_item_on_skipped(self, result: Any) -> None:
        if self._verbose:
            super().v2_runner_item_on_skipped(result)

    def v2_runner_item_on_failed(self, result: Any) -> None:
        # The loop's failure arrives as the task's failure, which reports the account.
        if self._verbose:
            super().v2_runner_item_on_failed(result)

    def v2_runner_retry(self, result: Any) -> None:
        if self._verbose:
            super().v2_runner_retry(result)

    def v2_on_file_diff(self, result: Any) -> None:
        """--diff asked for the diffs: print them, without task banners."""
        if self._verbose:
            super().v2_on_file_diff(result)
            return
        _task, _host, answer = self._parts(result)
        entries = list(answer["results"]) if "results" in answer else [answer]
        for entry in entries:
            if entry.get("diff") and entry.get("changed", False):
                diff = self._get_diff(entry["diff"])
                if diff:
                    self._display.display(redact(diff))

    def v2_playbook_on_stats(self, stats: Any) -> None:
        if self._verbose:
            super().v2_playbook_on_stats(stats)
            return
        counts = {"ok": 0, "changed": 0, "failed": 0}
        for host in sorted(stats.processed.keys()):
            summary = stats.summarize(host)
            if summary["failures"] or summary["unreachable"]:
                counts["failed"] += 1
            elif summary["changed"]:
                counts["changed"] += 1
            else:
                counts["ok"] += 1
        total = sum(counts.values())
        self._display.display(f"RECAP: {total} hosts: {counts['ok']} ok, {counts['changed']} changed, {counts['failed']} failed")

    # -- the summary ------------------------------------------------------------
    def _message(self, task: Any, answer: Mapping[str, Any]) -> str:
        if "msg" in answer:
            message = answer["msg"]
        else:
            variable = (task.args or {}).get("var")
            message = answer.get(variable, "") if variable else ""
        if isinstance(message, str):
            return message
        if isinstance(message, list) and all(isinstance(line, str) for line in message):
            return "\n".join(message)
        return self._serialize(message)

    def _serialize(self, value: Any) -> str:
        import yaml

        try:
            from ansible.parsing.yaml.dumper import AnsibleDumper
        except ImportError:  # pragma: no cover
            AnsibleDumper = yaml.SafeDumper
        return yaml.dump(value, Dumper=AnsibleDumper, default_flow_style=False, sort_keys=False, allow_unicode=True, width=1000).rstrip("\n")
