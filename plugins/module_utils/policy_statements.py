# -*- coding: utf-8 -*-

# Copyright: Contributors to the trailops.cloudtrail project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""CloudTrail's statements merged into a resource policy someone else may
also write to (a KMS key policy, an SNS topic policy).

Ownership is by ``Sid``: the collection owns exactly the statements whose Sid
it names, replaces them in place, appends the missing ones, and never
changes, reorders or removes any other statement. Policies are compared
through amazon.aws's ``compare_policies``, so formatting, key order and
``"a"`` versus ``["a"]`` never cause a write.

Everything here is pure. The planners (``kms_key.py``, ``sns_topic.py``)
make the calls.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any
from typing import Optional

from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies

SERVICE_PRINCIPAL = "cloudtrail.amazonaws.com"
DEFAULT_POLICY_VERSION = "2012-10-17"


class PolicyState(dict):
    """A part's normalized state (a plain dict for every reader) read from a
    resource policy. The whole policy rides along as ``policy``, never shown
    (it holds other people's statements), so that the plan can merge into it
    and check its size without another call."""

    policy: Optional[dict[str, Any]] = None

    @classmethod
    def of(cls, policy: Optional[dict[str, Any]], owned: set[str], **fields: Any) -> "PolicyState":
        """``fields``, then the statements of ``policy`` under the ``owned`` Sids."""
        state = cls(fields, statements=owned_statements(policy, owned))
        state.policy = policy
        return state


class PolicyDocumentError(ValueError):
    """A policy that cannot be merged into: not a JSON policy document, or a
    statement under one of our Sids that is not our grant. Nothing is written."""


def trail_sid_suffix(trail_name: str, trail_arn: str) -> str:
    """This trail's own Sid suffix: its name as a Sid allows (letters and
    digits, every service accepts them), and 8 hex digits of its ARN, so the
    same trail name in two accounts or regions differs. The trail role and
    the bucket policy use the same suffix, so one trail's statements carry
    one suffix everywhere."""
    return re.sub(r"[^A-Za-z0-9]", "", trail_name)[:40] + hashlib.sha256(trail_arn.encode()).hexdigest()[:8]


# ---------------------------------------------------------------- documents
def parse_policy(text: Optional[str], what: str) -> Optional[dict[str, Any]]:
    """``text`` as a policy document (``None`` for none). Anything but a JSON
    object with a list or object ``Statement`` raises PolicyDocumentError: a
    policy we cannot read is never overwritten."""
    if text is None or text == "":
        return None
    try:
        policy = json.loads(text)
    except ValueError as e:
        raise PolicyDocumentError(f"the current {what} is not valid JSON ({e}); it was left untouched") from e
    if not isinstance(policy, dict) or not isinstance(policy.get("Statement", []), (list, dict)):
        raise PolicyDocumentError(f"the current {what} is not a JSON policy document with a Statement list; it was left untouched")
    return policy


def statements_of(policy: Optional[dict[str, Any]]) -> list[Any]:
    if not policy:
        return []
    statements = policy.get("Statement", [])
    return [statements] if isinstance(statements, dict) else list(statements)


def sid_of(statement: Any) -> Optional[str]:
    return statement.get("Sid") if isinstance(statement, dict) else None


def serialize_policy(policy: dict[str, Any]) -> str:
    """The exact text sent; size checks measure this same string."""
    return json.dumps(policy, separators=(",", ":"))


def size_error(policy: dict[str, Any], limit: int, what: str) -> Optional[str]:
    """Why the service would refuse ``policy`` for its size, or ``None``."""
    size = len(serialize_policy(policy).encode("utf-8"))
    if size > limit:
        return f"the merged {what} would be {size} bytes, over the limit of {limit}; nothing was written"
    return None


# ---------------------------------------------------------------- statements
def same_statement(left: Any, right: Any) -> bool:
    """Whether two statements grant the same, whatever their formatting."""
    return not compare_policies({"Statement": [left]}, {"Statement": [right]})


def owned_statements(policy: Optional[dict[str, Any]], owned: set[str]) -> dict[str, Any]:
    """The statements under our Sids, as ``{Sid: statement}`` in Sid order:
    what a part's state shows of a policy. A Sid that occurs twice shows its
    first statement (the one a merge keeps)."""
    found: dict[str, Any] = {}
    for statement in statements_of(policy):
        sid = sid_of(statement)
        if sid in owned and sid not in found:
            found[sid] = statement
    return dict(sorted(found.items()))


def _lower_set(value: Any) -> set[str]:
    values = value if isinstance(value, list) else [value]
    return {str(v).lower() for v in values}


def _principal(statement: dict[str, Any]) -> Any:
    principal = statement.get("Principal")
    if principal == "*":
        return {"aws": {"*"}}
    if isinstance(principal, dict):
        return {str(key).lower(): _lower_set(value) for key, value in principal.items()}
    return principal


def is_same_grant(found: Any, wanted: dict[str, Any]) -> bool:
    """Whether ``found`` is the kind of grant our Sid stands for: the same
    effect, principal and actions as ``wanted``. Resources and conditions may
    differ: they are ours to set, and a merge rewrites them."""
    if not isinstance(found, dict):
        return False
    return (
        found.get("Effect") == wanted.get("Effect")
        and _principal(found) == _principal(wanted)
        and _lower_set(found.get("Action")) == _lower_set(wanted.get("Action"))
    )


def sid_misuse_error(policy: Optional[dict[str, Any]], desired: list[dict[str, Any]], what: str) -> Optional[str]:
    """Why ``policy`` cannot be merged into because a statement carries one
    of our Sids without being our grant (someone's Deny, another service's
    grant), or ``None``. Such a statement is never rewritten."""
    wanted = {statement["Sid"]: statement for statement in desired}
    for statement in statements_of(policy):
        sid = sid_of(statement)
        if sid in wanted and not is_same_grant(statement, wanted[sid]):
            return (
                f"the {what} has a statement with the Sid {sid!r} that is not CloudTrail's grant "
                f"({json.dumps(statement, sort_keys=True)}); it was left untouched and nothing was written. "
                "Rename that statement's Sid"
            )
    return None


def merge_policy(current: Optional[dict[str, Any]], desired: list[dict[str, Any]], base: dict[str, Any]) -> dict[str, Any]:
    """``current`` (``base`` when there is none) with our statements
    (``desired``, by Sid) replacing those of the same Sid where they stand,
    the missing ones appended, every other statement kept exactly as it was.
    A statement already equal to ours (semantically) is kept as found, so a
    merge that changes nothing returns the policy as it was."""
    wanted = {statement["Sid"]: statement for statement in desired}
    placed: set[str] = set()
    merged: list[Any] = []
    for statement in statements_of(current if current is not None else base):
        sid = sid_of(statement)
        if sid not in wanted:
            merged.append(statement)
        elif sid not in placed:
            # A Sid that occurs twice collapses into our one statement.
            merged.append(statement if same_statement(statement, wanted[sid]) else wanted[sid])
            placed.add(sid)
    merged.extend(statement for sid, statement in wanted.items() if sid not in placed)
    policy = dict(current if current is not None else base)
    policy["Statement"] = merged
    return policy


def policy_differs(current: Optional[dict[str, Any]], merged: dict[str, Any]) -> bool:
    """Whether ``merged`` must be written over ``current``."""
    return current is None or bool(compare_policies(current, merged))


def read_policy(state: dict[str, Any], version: str) -> dict[str, Any]:
    """The policy ``state`` was read from; only our statements (under
    ``version``) when the state came without it: then the size check sees
    only those."""
    policy = getattr(state, "policy", None)
    if policy is not None:
        return policy
    return {"Version": version, "Statement": list((state.get("statements") or {}).values())}


def merge_checked(
    current: Optional[dict[str, Any]], desired: list[dict[str, Any]], base: dict[str, Any], limit: int, what: str
) -> tuple[Optional[dict[str, Any]], Optional[str]]:
    """``(merged, problem)``: ``current`` with our statements merged
    (``None`` when that changes nothing), or why the service would refuse it
    or we must not write it: a statement under one of our Sids that is not
    our grant, or a merged policy over ``limit`` bytes. Both the plan and the
    write (merging into a fresh read) ask this same question."""
    problem = sid_misuse_error(current, desired, what)
    if problem:
        return None, problem
    merged = merge_policy(current, desired, base)
    if not policy_differs(current, merged):
        return None, None
    return merged, size_error(merged, limit, what)


def view(statements: dict[str, Any], desired: list[dict[str, Any]]) -> dict[str, Any]:
    """What a part's ``after`` shows: our statements as they will stand,
    each one found that already matches kept as found (so a diff shows only
    what changes), in Sid order."""
    shown = {}
    for wanted in desired:
        found = statements.get(wanted["Sid"])
        shown[wanted["Sid"]] = found if found is not None and same_statement(found, wanted) else wanted
    return dict(sorted(shown.items()))


def duplicate_sids(desired: list[dict[str, Any]]) -> list[str]:
    """The Sids ``desired`` uses more than once (a policy's Sids are unique)."""
    seen: set[str] = set()
    twice = []
    for statement in desired:
        sid = statement["Sid"]
        if sid in seen:
            twice.append(sid)
        seen.add(sid)
    return twice
