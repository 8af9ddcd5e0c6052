# -*- coding: utf-8 -*-

# Copyright: Contributors to the trailops.cloudtrail project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The drift items of one account, from the ``trailops.cloudtrail.baseline``
module's result: every setting of every changed part whose desired value
differs from the actual one (documentation: drift_items.yml).

The walk is generic on purpose: a part or setting the module adds later is
reported without a change here, so the drift report can never silently stop
showing a kind of drift (the Jinja template this replaces read ten private
role variables behind ``default(false)`` and did).
"""

from __future__ import annotations

from typing import Any
from typing import Optional

from ansible.errors import AnsibleFilterError

# A policy the collection merges into shows only its own statements, by Sid,
# under this key: each statement is an item of its own.
STATEMENTS = "statements"

# Where the name of a part's resource is found in its normalized state, in order.
_NAME_KEYS = {
    "log_bucket": ("name", "bucket", "s3_bucket_name"),
    "kms_key": ("alias", "kms_key_alias", "alias_name"),
    "sns_topic": ("name", "topic_name", "sns_topic_name", "topic_arn"),
    "log_group": ("log_group_name", "name"),
    "iam_role": ("role_name",),
}

# The cloudwatch_logs part holds two resources: the log group, and the IAM role
# CloudTrail assumes to write to it. Settings of the role begin with these.
_ROLE_SETTING_PREFIXES = ("role", "iam_role", "trust", "assume_role", "inline_policy", "policy", "statement")


def _name(before: Optional[dict[str, Any]], after: Optional[dict[str, Any]], kind: str) -> str:
    for state in (after, before):
        for key in _NAME_KEYS.get(kind, ()):
            value = (state or {}).get(key)
            if value and isinstance(value, str):
                # A topic known by its ARN is named by its last field, as the console lists it.
                return value.rsplit(":", 1)[-1] if key == "topic_arn" else value
    return ""


def _labelled(kind: str, name: str) -> str:
    return f"{kind} {name}" if name else kind


def _differences(before: Optional[dict[str, Any]], after: Optional[dict[str, Any]]) -> list[tuple[str, Any, Any]]:
    """(setting, desired, actual) for every top-level setting that differs;
    ``statements`` gives one per Sid; an absent side gives ``exists``."""
    if before is None and after is None:
        return []
    # A policy part with none of its statements there is shown as null; what
    # drifted is each statement, not a resource's existence.
    if before is None and list(after or {}) == [STATEMENTS]:
        before = {STATEMENTS: {}}
    if after is None and list(before or {}) == [STATEMENTS]:
        after = {STATEMENTS: {}}
    if before is None or after is None:
        return [("exists", after is not None, before is not None)]
    found = []
    for key in list(after) + [key for key in before if key not in after]:
        desired, actual = after.get(key), before.get(key)
        if desired == actual:
            continue
        if key == STATEMENTS and isinstance(desired or {}, dict) and isinstance(actual or {}, dict):
            desired, actual = desired or {}, actual or {}
            for sid in list(desired) + [sid for sid in actual if sid not in desired]:
                if desired.get(sid) != actual.get(sid):
                    found.append((f"statement {sid}", desired.get(sid), actual.get(sid)))
            continue
        found.append((key, desired, actual))
    return found


def _is_role_setting(setting: str) -> bool:
    return setting.startswith(_ROLE_SETTING_PREFIXES)


def _part_items(part: str, result: dict[str, Any], labels: dict[str, str]) -> list[dict[str, Any]]:
    before, after = result.get("before"), result.get("after")
    items = []
    for setting, desired, actual in _differences(before, after):
        if part == "cloudwatch_logs":
            if _is_role_setting(setting):
                resource = _labelled("iam role", _name(before, after, "iam_role"))
            else:
                resource = _labelled("log group", _name(before, after, "log_group"))
        else:
            resource = labels.get(part) or part.replace("_", " ")
        items.append({"resource": resource, "setting": setting, "desired": desired, "actual": actual})
    return items


def _trail_label(baseline_result: dict[str, Any]) -> str:
    trail = baseline_result.get("parts", {}).get("trail") or {}
    for state in (trail.get("after"), trail.get("before")):
        if isinstance(state, dict) and state.get("name"):
            return f"trail {state['name']}"
    arn = baseline_result.get("trail_arn") or ""
    return _labelled("trail", arn.rsplit("/", 1)[-1] if "/" in arn else "")


def drift_items(baseline_result: Any, trail_label: Optional[str] = None) -> list[dict[str, Any]]:
    """Every drifted setting of every changed part, as
    ``{resource, setting, desired, actual}``, in the module's part order."""
    if not isinstance(baseline_result, dict):
        raise AnsibleFilterError(f"drift_items: expected the result of trailops.cloudtrail.baseline (a dict), got {type(baseline_result).__name__}")
    parts = baseline_result.get("parts") or {}
    if not isinstance(parts, dict):
        raise AnsibleFilterError("drift_items: the result's parts must be a dict of {changed, before, after}")
    trail = trail_label or _trail_label(baseline_result)
    bucket = parts.get("log_bucket") or {}
    bucket_label = _labelled("bucket", _name(bucket.get("before"), bucket.get("after"), "log_bucket"))
    kms = parts.get("kms_key") or {}
    topic = parts.get("sns_topic") or {}
    labels = {
        "log_bucket": bucket_label,
        "bucket_policy": f"{bucket_label} policy",
        "kms_key": _labelled("kms key", _name(kms.get("before"), kms.get("after"), "kms_key")),
        "sns_topic": _labelled("sns topic", _name(topic.get("before"), topic.get("after"), "sns_topic")),
        "trail": trail,
        "event_selectors": f"{trail} selectors",
    }
    items: list[dict[str, Any]] = []
    for part, result in parts.items():
        if isinstance(result, dict) and result.get("changed"):
            items.extend(_part_items(part, result, labels))
    return items


class FilterModule:
    def filters(self):
        return {"drift_items": drift_items}
