"""How the local AWS evaluates the policies CloudTrail's deliveries and S3's
transport rule depend on: bucket, key, topic and trust policies, and a role's
identity policies.

Only as much of IAM's evaluation as those checks need: a policy element may be
one value or a list; actions match case-insensitively and resources
case-sensitively, both with ``*`` and ``?`` wildcards; an explicit Deny wins
over any Allow, and nothing that applies means no. The conditions evaluated
are those of the request context CloudTrail sends (``request_context``);
other condition keys are ignored. Everything here is pure and imports no moto.
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any, Iterable

SERVICE_PRINCIPAL = "cloudtrail.amazonaws.com"


def as_list(value: Any) -> list[Any]:
    """A policy element that may be one value or a list, as a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def matches(patterns: Any, value: str, ignore_case: bool = False) -> bool:
    """Whether ``value`` matches one of ``patterns`` (an Action or Resource element)."""
    if ignore_case:
        return any(fnmatch.fnmatchcase(value.lower(), str(p).lower()) for p in as_list(patterns))
    return any(fnmatch.fnmatchcase(value, str(p)) for p in as_list(patterns))


def for_everyone(statement: dict[str, Any]) -> bool:
    """Whether the statement's principal is every principal (``"*"`` or ``{"AWS": "*"}``)."""
    principal = statement.get("Principal")
    return principal == "*" or (isinstance(principal, dict) and as_list(principal.get("AWS")) == ["*"])


def allowed_by(applying: Iterable[dict[str, Any]]) -> bool:
    """IAM's answer from the statements that apply to a request: an explicit
    Deny wins, else an Allow allows, else no."""
    effects = {statement.get("Effect") for statement in applying}
    return "Deny" not in effects and "Allow" in effects


def statements_of(document: str | bytes | dict[str, Any] | None) -> list[Any]:
    """The statements of a policy document (text or parsed); none for a document that is not JSON."""
    if not document:
        return []
    try:
        policy = json.loads(document) if isinstance(document, (str, bytes)) else document
    except ValueError:
        return []
    return as_list(policy.get("Statement")) if isinstance(policy, dict) else []


def names_cloudtrail(statement: dict[str, Any]) -> bool:
    """CloudTrail acts as its service principal; a wildcard principal admits it
    only without conditions (a conditioned wildcard, as in SNS's default topic
    policy, targets the account's own principals)."""
    if for_everyone(statement):
        return "Condition" not in statement
    principal = statement.get("Principal")
    return isinstance(principal, dict) and SERVICE_PRINCIPAL in as_list(principal.get("Service"))


def conditions_hold(statement: dict[str, Any], context: dict[str, str]) -> bool:
    """Only the request context CloudTrail sends is evaluated (aws:SourceArn,
    aws:SourceAccount, KMS encryption context); other condition keys are ignored."""
    for operator, clauses in (statement.get("Condition") or {}).items():
        for key, expected in (clauses or {}).items():
            actual = context.get(key.lower())
            if actual is None:
                continue
            if "Like" in operator:
                found = matches(expected, actual)
            else:
                found = actual in [str(e) for e in as_list(expected)]
            if found == ("Not" in operator):
                return False
    return True


def policy_allows(policy_text: str | bytes | None, action: str, resource: str, context: dict[str, str]) -> bool:
    """Whether a resource policy lets CloudTrail's service principal do ``action`` on ``resource``."""
    return allowed_by(
        statement
        for statement in statements_of(policy_text)
        if names_cloudtrail(statement)
        and matches(statement.get("Action"), action, ignore_case=True)
        and matches(statement.get("Resource"), resource)
        and conditions_hold(statement, context)
    )


def request_context(account_id: str, trail_arn: str) -> dict[str, str]:
    """The condition keys CloudTrail sends when it acts for ``trail_arn`` (lower case, as ``conditions_hold`` reads them)."""
    return {
        "aws:sourcearn": trail_arn,
        "aws:sourceaccount": account_id,
        "kms:encryptioncontext:aws:cloudtrail:arn": trail_arn,
    }
