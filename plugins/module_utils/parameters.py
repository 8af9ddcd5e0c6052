# -*- coding: utf-8 -*-

# Copyright: Contributors to the trailops.cloudtrail project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one way a parameter is refused, and the checks every module shares.

Every module and part raises :class:`ParameterError` before its first call,
and every module's ``main()`` turns it into ``fail_json(msg=str(e))``. The
checks below are written once so that the same bad account id, region or S3
key prefix gets the same message from every module (the trail reference has
its parser beside the trail ARN, in ``cloudtrail.py``).
"""

from __future__ import annotations

import re
from typing import Optional

# Matched whole (fullmatch), ASCII digits only: ``\\d`` takes other scripts'
# digits and ``$`` a trailing newline.
ACCOUNT_ID = re.compile(r"[0-9]{12}")
# A region name as the partitions spell them: us-east-1, eu-central-2,
# us-gov-west-1, cn-north-1, ap-southeast-4, il-central-1.
REGION = r"[a-z]{2}(?:-[a-z]+)+-[0-9]+"
_REGION = re.compile(REGION)
# CreateTrail/UpdateTrail's S3KeyPrefix (botocore's CloudTrail model).
S3_KEY_PREFIX_MAX = 200


class ParameterError(ValueError):
    """A parameter that breaks a rule, found before any call. The message
    names the option and the rule."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(f"{option}: {message}")
        self.option = option
        self.message = message

    @classmethod
    def of(cls, problems: list[str]) -> "ParameterError":
        """One error for checks that collect ``"<option>: <rule>"`` texts:
        all of them, joined, under the first one's option."""
        option, dummy, rule = "; ".join(problems).partition(": ")
        return cls(option, rule)


def check_account_id(value: str, option: str = "account_id") -> None:
    if not (isinstance(value, str) and ACCOUNT_ID.fullmatch(value)):
        raise ParameterError(option, f"an AWS account id is 12 digits (got {value!r})")


def is_account_id(value: str) -> bool:
    return isinstance(value, str) and bool(ACCOUNT_ID.fullmatch(value))


def check_region(value: str, option: str = "region") -> None:
    if not (isinstance(value, str) and _REGION.fullmatch(value)):
        raise ParameterError(option, f"not an AWS region name such as us-east-1 (got {value!r})")


def check_region_given(region: Optional[str]) -> None:
    """For a module that writes: a region must come from somewhere (amazon.aws
    leaves ``module.region`` empty when none is set), or nothing is written."""
    if not region:
        raise ParameterError(
            "region", "no region: set region (or module_defaults of group/trailops.cloudtrail.aws, or AWS_REGION); nothing was written"
        )


def s3_key_prefix_rule(value: str) -> Optional[str]:
    """Which rule the S3 key prefix ``value`` breaks, or ``None``.

    CloudTrail's model says only "at most 200 characters"; a leading ``/``
    is refused here for every module because CloudTrail puts the prefix
    right after the bucket, so ``/logs`` makes keys that start with an empty
    folder (``bucket//logs/AWSLogs/...``), which no bucket policy, lifecycle
    rule or reader written as ``logs/`` ever matches."""
    if len(value) > S3_KEY_PREFIX_MAX:
        return f"must be at most {S3_KEY_PREFIX_MAX} characters long (got {len(value)})"
    if value.startswith("/"):
        return f"must not start with '/' (got {value!r})"
    return None


def check_s3_key_prefix(value: Optional[str], option: str = "s3_key_prefix") -> None:
    """``None`` and ``""`` (no prefix) pass."""
    rule = s3_key_prefix_rule(value) if value else None
    if rule:
        raise ParameterError(option, rule)
