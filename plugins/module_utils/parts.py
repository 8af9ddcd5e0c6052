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

# What a plan says of a value only a write can tell, such as a new key's ARN.
KNOWN_AFTER_RUN = "(known after the run)"


@dataclasses.dataclass(frozen=True)
class Where:
    """The account and home region one baseline lives in, and its trail."""

    account: str
    partition: str
    region: str
    trail_name: str

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
