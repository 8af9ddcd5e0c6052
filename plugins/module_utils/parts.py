# -*- coding: utf-8 -*-

# Copyright: Contributors to the trailops.cloudtrail project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What every part of the account baseline shares: where it is and the plan
a planner returns (the one error a parameter check raises is
``parameters.ParameterError``).

Each part (log bucket, bucket policy, KMS key, SNS topic, CloudWatch Logs,
trail, event selectors) has its own file with four functions of the same
shape, which ``baseline.py`` walks in dependency order:

- ``desired(spec, where)``: pure; the normalized state asked for (``None``: must not exist);
- ``read(client_for, spec, where)``: the normalized state found (``None``: does not exist);
- ``plan(before, desired, spec, where)``: pure; a :class:`PartPlan`;
- ``apply(client_for, plan, where)``: the plan's writes, in order; the state after.
"""

from __future__ import annotations

import dataclasses
from typing import Any
from typing import Optional

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler

# What a plan says of a value only a write can tell, such as a new key's ARN.
KNOWN_AFTER_RUN = "(known after the run)"


@dataclasses.dataclass(frozen=True)
class Where:
    """The account and home region one baseline lives in, and its trail.
    ``owner``: the account a part's own resources live in when it is not the
    trail's (the log-archive account of a central log bucket and key)."""

    account: str
    partition: str
    region: str
    trail_name: str
    owner: str = ""

    @property
    def resource_account(self) -> str:
        return self.owner or self.account

    @property
    def trail_arn(self) -> str:
        return f"arn:{self.partition}:cloudtrail:{self.region}:{self.account}:trail/{self.trail_name}"

    def arn(self, service: str, resource: str, region: Optional[str] = None) -> str:
        """An ARN in this account; ``region`` "" for global services (IAM)."""
        return f"arn:{self.partition}:{service}:{self.region if region is None else region}:{self.account}:{resource}"


@dataclasses.dataclass
class PartPlan:
    """One part's plan: the normalized state before and after, and the write
    calls that take it there, in order. Check mode reports ``after`` without
    making ``steps``; ``data`` carries what ``apply`` needs beyond them."""

    before: Optional[dict[str, Any]]
    after: Optional[dict[str, Any]]
    steps: list[str] = dataclasses.field(default_factory=list)
    data: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.steps)

    def result(self) -> dict[str, Any]:
        return {"changed": self.changed, "before": self.before, "after": self.after}

    @classmethod
    def kept(cls, before: Optional[dict[str, Any]]) -> "PartPlan":
        """The plan of a part that outlives the trail (a key, a topic): it is
        shown as found, as a plain dict, and nothing is written."""
        shown = dict(before) if before is not None else None
        return cls(shown, shown, [])


def name_from_trail(prefix: str, trail_name: str) -> str:
    """``prefix`` and the trail's name, for a resource whose names may not
    hold the "." a trail name may (KMS aliases, SNS topic names): each "."
    becomes "-"."""
    return prefix + trail_name.replace(".", "-")


class PartErrorHandler(AWSErrorHandler):
    """amazon.aws's error handler for a part's calls, with the one error
    code that means "does not exist" named as ``MISSING_CODE`` (on it, a
    ``list_error_handler`` call returns its default instead of failing).
    A part sets ``MISSING_CODE`` and amazon.aws's ``_CUSTOM_EXCEPTION``."""

    MISSING_CODE = ""

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code(cls.MISSING_CODE)
