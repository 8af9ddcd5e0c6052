# -*- coding: utf-8 -*-

# Copyright: Contributors to the trailops.cloudtrail project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One account's CloudTrail baseline as one planned unit, for the
``baseline`` module.

The run has four phases: check every option (no call); find the account
(the AssumeRole answer, or one GetCallerIdentity); read every part at once
(each part's reads are independent of the others'); plan every part (pure),
then make the writes in dependency order: the bucket and its policy before
the trail, the key policy before the trail is encrypted with it. Check mode
stops after the plan, which is the prediction.

The parts of their own files (log bucket, bucket policy, KMS key, SNS topic,
CloudWatch Logs) follow ``parts.py``'s interface; the trail and its
selectors predate it, and the small adapters below fit them to it.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import random
import re
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from typing import Callable
from typing import Optional

from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler

from ansible_collections.trailops.cloudtrail.plugins.module_utils import cloudwatch_logs
from ansible_collections.trailops.cloudtrail.plugins.module_utils import event_selectors
from ansible_collections.trailops.cloudtrail.plugins.module_utils import kms_key
from ansible_collections.trailops.cloudtrail.plugins.module_utils import log_bucket
from ansible_collections.trailops.cloudtrail.plugins.module_utils import sns_topic
from ansible_collections.trailops.cloudtrail.plugins.module_utils import trail
from ansible_collections.trailops.cloudtrail.plugins.module_utils.bucket_policy import BucketPolicyPart
from ansible_collections.trailops.cloudtrail.plugins.module_utils.clients import Clients
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import caller_account_error
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import get_event_selectors
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import get_insight_selectors
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import read_caller
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parts import KNOWN_AFTER_RUN
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parameters import ParameterError
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parameters import check_account_id
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parts import PartPlan
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parts import Where
from ansible_collections.trailops.cloudtrail.plugins.module_utils.policy_statements import trail_sid_suffix

# The parts in the order their writes are made.
PART_ORDER = ("log_bucket", "bucket_policy", "kms_key", "sns_topic", "cloudwatch_logs", "trail", "event_selectors")

_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]{1,512}")


# ---------------------------------------------------------------------------
# Names: the defaults every part derives from the trail's name
# ---------------------------------------------------------------------------
def default_bucket_name(account: str, name: str) -> str:
    """The console's quick-trail bucket name, with a suffix stable for this
    account and trail (the trail role's name since the collection began)."""
    return f"aws-cloudtrail-logs-{account}-{hashlib.sha256(f'{account}/{name}'.encode()).hexdigest()[:8]}"


# ---------------------------------------------------------------------------
# Checks: every option, before any call
# ---------------------------------------------------------------------------
def _trail_params(params: dict[str, Any]) -> dict[str, Any]:
    """The trail module's parameters, for its validator."""
    return {
        "name": params["name"],
        "state": params["state"],
        "account_id": params.get("account_id") or None,
        "s3_bucket_name": params.get("s3_bucket_name") or None,
        "s3_key_prefix": params.get("s3_key_prefix") or None,
        "kms_key_id": None if params.get("kms_key_create") else params.get("kms_key_id") or None,
        "sns_topic_name": params.get("sns_topic_name") if not params.get("sns_topic_create") and params.get("sns_topic_name") else None,
        "cloudwatch_logs_log_group_arn": params.get("cloudwatch_logs_log_group_arn") or None,
        "cloudwatch_logs_role_arn": params.get("cloudwatch_logs_role_arn") or None,
        "is_multi_region_trail": params.get("is_multi_region_trail"),
        "include_global_service_events": params.get("include_global_service_events"),
        "tags": params.get("tags"),
    }


def _selector_params(params: dict[str, Any]) -> dict[str, Any]:
    """The event_selectors module's parameters, for its validator and planner."""
    return {
        "trail_name": params["name"],
        "preset": params.get("event_selectors_preset") or None,
        "event_selectors": params.get("event_selectors") or None,
        "advanced_event_selectors": params.get("advanced_event_selectors") or None,
        "insight_selectors": params.get("insight_selectors"),
    }


def manages_selectors(params: dict[str, Any]) -> bool:
    selectors = _selector_params(params)
    return bool(selectors["preset"] or selectors["event_selectors"] or selectors["advanced_event_selectors"]) or (
        selectors["insight_selectors"] is not None
    )


# Rules between options, each as (broken when, option, rule).
_COMBINATIONS: tuple[tuple[Callable[[dict[str, Any]], bool], str, str], ...] = (
    (lambda p: p.get("kms_key_create") and p.get("kms_key_id"), "kms_key_id", "set together with kms_key_create: create a key or give one, not both"),
    (
        lambda p: p.get("cloudwatch_logs_create") and (p.get("cloudwatch_logs_log_group_arn") or p.get("cloudwatch_logs_role_arn")),
        "cloudwatch_logs_create",
        "true while cloudwatch_logs_log_group_arn or cloudwatch_logs_role_arn is set: create the log group and role or give them, not both",
    ),
    (
        lambda p: bool(p.get("cloudwatch_logs_log_group_arn")) != bool(p.get("cloudwatch_logs_role_arn")),
        "cloudwatch_logs_log_group_arn",
        "goes together with cloudwatch_logs_role_arn: set both or neither",
    ),
    (lambda p: p.get("s3_bucket_existing") and not p.get("s3_bucket_name"), "s3_bucket_existing", "true but s3_bucket_name is empty: name the bucket to adopt"),
    (
        lambda p: p.get("event_selectors_preset") and (p.get("event_selectors") or p.get("advanced_event_selectors")),
        "event_selectors_preset",
        "set together with event_selectors or advanced_event_selectors: choose one",
    ),
    (
        lambda p: p.get("event_selectors") and p.get("advanced_event_selectors"),
        "advanced_event_selectors",
        "set together with event_selectors: a trail has one kind or the other",
    ),
    (
        lambda p: p.get("is_organization_trail") and not p.get("organization_id"),
        "organization_id",
        "empty while is_organization_trail is true: the bucket policy needs the organization id",
    ),
    (
        lambda p: p.get("s3_bucket_delete") and p["state"] == "present",
        "s3_bucket_delete",
        "true while state is present: the bucket is deleted only with state absent",
    ),
    (
        lambda p: p.get("s3_bucket_delete") and p.get("s3_bucket_existing"),
        "s3_bucket_delete",
        "true while s3_bucket_existing is true: an adopted bucket is never deleted",
    ),
    (
        lambda p: p.get("sns_topic_create") and (p.get("sns_topic_name") or "").startswith("arn:"),
        "sns_topic_name",
        "an ARN while sns_topic_create is true: give the name of the topic to create",
    ),
    (
        lambda p: any(value is None for value in (p.get("tags") or {}).values()),
        "tags",
        "a tag value must be a string, not null (CloudTrail would store the text 'None')",
    ),
    (
        lambda p: p.get("assume_role_arn") and not _ROLE_ARN.fullmatch(p["assume_role_arn"]),
        "assume_role_arn",
        "not an IAM role ARN (arn:<partition>:iam::<account id>:role/<name>)",
    ),
    (
        lambda p: p.get("log_archive_role_arn") and not _ROLE_ARN.fullmatch(p["log_archive_role_arn"]),
        "log_archive_role_arn",
        "not an IAM role ARN (arn:<partition>:iam::<account id>:role/<name>)",
    ),
    (
        lambda p: p.get("log_archive_account_id") and not p.get("log_archive_role_arn"),
        "log_archive_account_id",
        "set without log_archive_role_arn: the log archive's bucket, policy and key are managed through a role in it; set log_archive_role_arn",
    ),
    (
        lambda p: p.get("log_archive_account_id") and p["log_archive_role_arn"].split(":")[4] != p["log_archive_account_id"],
        "log_archive_role_arn",
        "is a role of another account than log_archive_account_id",
    ),
    (
        lambda p: p.get("log_archive_role_arn") and p.get("s3_bucket_delete"),
        "s3_bucket_delete",
        "true while log_archive_role_arn is set: the log archive's bucket holds every account's logs and is never deleted by one account's run",
    ),
)


def check(params: dict[str, Any]) -> None:
    """Raise ParameterError for the first option that breaks a rule: each
    part's own rules, then those between options. No call is made."""
    try:
        if params.get("account_id"):
            check_account_id(params["account_id"])
        if params.get("log_archive_account_id"):
            check_account_id(params["log_archive_account_id"], "log_archive_account_id")
        for broken, option, rule in _COMBINATIONS:
            if broken(params):
                raise ParameterError(option, rule)
        trail.validate_params(_trail_params(params))
        if params["state"] == "absent":
            return
        event_selectors.validate_params(_selector_params(params))
    except ParameterError as e:
        option = {"preset": "event_selectors_preset"}.get(e.option, e.option)
        raise ParameterError(option, f"{e.message}; nothing was written") from None
    selectors = _selector_params(params)
    desired = event_selectors.desired_selection(selectors)
    if desired is not None and selectors["insight_selectors"]:
        problems = event_selectors.insight_prerequisite_problems(
            event_selectors.normalize_insights(selectors["insight_selectors"]), desired, "the given event selectors"
        )
        if problems:
            raise ParameterError("insight_selectors", problems[0].partition(": ")[2] + "; nothing was written")
    for part, spec in _static_specs(params).items():
        PARTS[part].check(spec)


# ---------------------------------------------------------------------------
# The parts' specs: each part's slice of the options
# ---------------------------------------------------------------------------
def _static_specs(params: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The specs that need no account to build, for the parts' own checks.
    A name left empty is the part's default, derived from the trail's name."""
    specs: dict[str, dict[str, Any]] = {}
    if params.get("kms_key_create"):
        specs["kms_key"] = {"alias": params.get("kms_key_alias") or None}
    if params.get("sns_topic_create"):
        specs["sns_topic"] = {"name": params.get("sns_topic_name") or None}
    if params.get("cloudwatch_logs_create"):
        specs["cloudwatch_logs"] = {
            "log_group_name": params.get("cloudwatch_logs_log_group_name") or None,
            "retention_days": params.get("cloudwatch_logs_retention_days"),
            "role_name": params.get("cloudwatch_logs_role_name") or None,
        }
    return specs


def part_specs(params: dict[str, Any], where: Where) -> dict[str, dict[str, Any]]:
    """Every managed part's spec, once the account is known."""
    # A central log bucket is named after the log-archive account that owns it.
    bucket = params.get("s3_bucket_name") or default_bucket_name(where.resource_account, params["name"])
    specs = _static_specs(params)
    specs["log_bucket"] = {
        "name": bucket,
        "state": params["state"],
        "existing": bool(params.get("s3_bucket_existing")),
        "trails": [where.trail_arn],
        "account_id": where.account,
        "s3_key_prefix": params.get("s3_key_prefix") or "",
        "organization_id": params.get("organization_id") or "",
        "lifecycle_expiration_days": params.get("s3_bucket_lifecycle_expiration_days"),
        "delete": bool(params.get("s3_bucket_delete")),
        "option_names": {
            "name": "s3_bucket_name",
            "existing": "s3_bucket_existing",
            "delete": "s3_bucket_delete",
            "lifecycle_expiration_days": "s3_bucket_lifecycle_expiration_days",
            "trails": "name",
            "state": "state",
            "archive_role": "log_archive_role_arn",
        },
    }
    specs["bucket_policy"] = {
        "bucket": bucket,
        "state": params["state"],
        "trails": [where.trail_arn],
        "s3_key_prefix": params.get("s3_key_prefix") or None,
        "organization_id": params.get("organization_id") or None,
        # The secure default for a bucket the collection owns; an adopted
        # bucket's owner decides.
        "deny_insecure_transport": not params.get("s3_bucket_existing"),
        "sid_suffix": trail_sid_suffix(params["name"], where.trail_arn),
        # The bucket policy's messages name the option the user set.
        "option_names": {"bucket": "s3_bucket_name", "sid_suffix": "s3_bucket_name"},
    }
    specs["trail"] = dict(params, s3_bucket_name=bucket)
    if params["state"] == "present" and manages_selectors(params):
        specs["event_selectors"] = _selector_params(params)
    if params["state"] == "absent":
        for part in ("kms_key", "sns_topic", "cloudwatch_logs"):
            # Deleting a trail leaves its key, topic and log group (and their
            # data) in place: they may hold what the trail delivered.
            specs.pop(part, None)
    return specs


# ---------------------------------------------------------------------------
# Adapters: the trail and its selectors as parts
# ---------------------------------------------------------------------------
class _TrailPart:
    """The trail itself (trail.py)."""

    @staticmethod
    def read(client_for, where: Where) -> Optional[dict[str, Any]]:
        client = client_for("cloudtrail")
        return trail.read_trail(client, where.trail_arn, lambda found: client)

    @staticmethod
    def request(params: dict[str, Any], upstream: dict[str, Any]) -> dict[str, Any]:
        """The trail module's parameters, with what the other parts make."""
        request = _trail_params(params)
        request.update(
            state="present",
            s3_bucket_name=upstream["bucket"],
            s3_key_prefix=params.get("s3_key_prefix") or "",
            enable_log_file_validation=params.get("enable_log_file_validation"),
            enable_logging=params.get("enable_logging"),
            is_organization_trail=params.get("is_organization_trail"),
            purge_tags=params.get("purge_tags", True),
        )
        for option in ("kms_key_id", "sns_topic_name", "cloudwatch_logs_log_group_arn", "cloudwatch_logs_role_arn"):
            if option in upstream:
                request[option] = upstream[option]
            elif request.get(option) is None:
                # Not managed and not given: the baseline has none (cleared).
                request[option] = ""
        return request

    @classmethod
    def plan(cls, before: Optional[dict[str, Any]], params: dict[str, Any], upstream: dict[str, Any], where: Where) -> PartPlan:
        if params["state"] == "absent":
            return PartPlan(before, None, ["DeleteTrail"] if before else [])
        request = cls.request(params, upstream)
        kms_key_arn = upstream.get("kms_key_id", upstream.get("given_kms_key_arn")) or None
        new_trail = None if before else {
            "name": where.trail_name, "trail_arn": where.trail_arn, "home_region": where.region, "s3_bucket_name": upstream["bucket"]
        }
        after = trail.plan_present(before, request, kms_key_arn, new_trail)
        return PartPlan(before, after, trail.present_steps(before, after, request), {"request": request})

    @staticmethod
    def apply(client_for, plan: PartPlan, where: Where) -> Optional[dict[str, Any]]:
        client = client_for("cloudtrail")
        if plan.after is None:
            trail.delete_trail(client, where.trail_name)
            return None
        # CloudTrail refuses a role IAM has only just made for a while.
        cloudwatch_logs.retry_role_propagation(
            lambda: trail.apply_present(client, client, where.trail_name, plan.data["request"], plan.before, plan.after)
        )
        return trail.read_trail(client, where.trail_arn, lambda found: client)


# CloudTrail's selection of a trail nobody has put selectors on.
NEW_TRAIL_SELECTION = event_selectors.normalize_selection([dict(event_selectors.DEFAULT_EVENT_SELECTOR)], None)


class _SelectorsPart:
    """The trail's event selectors and Insights (event_selectors.py)."""

    @staticmethod
    def read(client_for, spec: dict[str, Any], where: Where, found: Optional[dict[str, Any]]) -> Optional[dict[str, Any]]:
        """The trail's selection and Insights; a trail still to be made has
        CloudTrail's defaults. GetInsightSelectors is asked only of a trail
        GetTrail says has some: it answers an error otherwise."""
        if found is None:
            return {"selection": NEW_TRAIL_SELECTION, "insights": []}
        client = client_for("cloudtrail")
        state: dict[str, Any] = {"selection": None, "insights": None}
        if event_selectors.desired_selection(spec) is not None:
            response = get_event_selectors(client, where.trail_arn) or {}
            state["selection"] = event_selectors.selection_from_api(response)
        if spec["insight_selectors"] is not None:
            state["insights"] = (
                event_selectors.insights_from_api(get_insight_selectors(client, where.trail_arn)) if found.get("has_insight_selectors") else []
            )
        return state

    @staticmethod
    def plan(current: dict[str, Any], spec: dict[str, Any]) -> PartPlan:
        desired = event_selectors.desired_selection(spec)
        insights = event_selectors.normalize_insights(spec["insight_selectors"]) if spec["insight_selectors"] is not None else None
        selection = current["selection"] if current["selection"] is not None else (desired or {})
        steps = event_selectors.plan(selection, desired, current["insights"], insights)
        order = []
        if steps["put_insights_first"]:
            order.append("PutInsightSelectors")
        if steps["put_event_selectors"]:
            order.append("PutEventSelectors")
        if steps["put_insight_selectors"] and not steps["put_insights_first"]:
            order.append("PutInsightSelectors")
        return PartPlan(steps["before"], steps["after"], order, {"selection": desired, "insights": insights})

    @staticmethod
    def apply(client_for, plan: PartPlan, where: Where) -> Optional[dict[str, Any]]:
        client = client_for("cloudtrail")
        for step in plan.steps:
            if step == "PutEventSelectors":
                event_selectors.put_event_selectors(client, where.trail_arn, plan.data["selection"])
            else:
                event_selectors.put_insight_selectors(client, where.trail_arn, plan.data["insights"])
        return plan.after


PARTS: dict[str, Any] = {"log_bucket": log_bucket, "kms_key": kms_key, "sns_topic": sns_topic, "cloudwatch_logs": cloudwatch_logs}


# ---------------------------------------------------------------------------
# Clients and the account
# ---------------------------------------------------------------------------
def _assume_role(sts_client, role_arn: str, session_name: str, duration: int) -> dict[str, Any]:
    """AssumeRole's answer; a refusal names the role (the fleet's report says
    which account's role could not be assumed)."""

    @AWSErrorHandler.common_error_handler(f"assume the role {role_arn}")
    def assume() -> dict[str, Any]:
        return sts_client.assume_role(aws_retry=True, RoleArn=role_arn, RoleSessionName=session_name, DurationSeconds=duration)

    return assume()


def _assumed(module, sts, role_arn: str, params: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """The assumed role's credentials for the clients, and its account and
    partition (read from AssumeRole's answer: no other call is made)."""
    answer = _assume_role(sts, role_arn, params["assume_role_session_name"], params["assume_role_duration_seconds"])
    given = answer["Credentials"]
    # Should any of them reach a message, Ansible masks it.
    module.no_log_values.update([given["AccessKeyId"], given["SecretAccessKey"], given["SessionToken"]])
    credentials = {
        "aws_access_key_id": given["AccessKeyId"],
        "aws_secret_access_key": given["SecretAccessKey"],
        "aws_session_token": given["SessionToken"],
    }
    arn = answer["AssumedRoleUser"]["Arn"]
    return credentials, {"account": arn.split(":")[4], "partition": arn.split(":")[1]}


def find_where(module, clients: Clients, params: dict[str, Any], region: str) -> tuple[Where, dict[str, str]]:
    """The account and partition the run acts in: the assumed role's (whose
    answer names them, so no other call is made), else the credentials'; and
    the assumed role's credentials for the clients. Refuses any other account
    than ``account_id``."""
    credentials: dict[str, str] = {}
    sts = clients("sts")
    if params.get("assume_role_arn"):
        credentials, caller = _assumed(module, sts, params["assume_role_arn"], params)
    else:
        caller = read_caller(sts)
    problem = caller_account_error(params.get("account_id") or None, caller["account"])
    if problem:
        raise ParameterError("account_id", problem.partition(": ")[2])
    where = Where(account=caller["account"], partition=caller["partition"], region=region, trail_name=params["name"])
    return where, credentials


# Seconds (at most, jittered) before each new read of an archive bucket found
# without the collection's tag.
_ARCHIVE_BUCKET_PAUSES = (0.5, 1.0, 2.0, 4.0)

# The parts that live in the log-archive account when ``log_archive_role_arn``
# is set; the trail, its selectors, topic and log group stay in the trail's.
ARCHIVE_PARTS = ("log_bucket", "bucket_policy", "kms_key")


@dataclasses.dataclass(frozen=True)
class Placement:
    """Where each part acts: with the trail's account's clients and ``Where``,
    or, for the archive parts, with the log-archive account's clients (the
    same boto3 session, the archive role's credentials) and a ``Where`` that
    names the same trail with the archive as ``owner``."""

    client_for: Callable[[str], Any]
    where: Where
    archive_client_for: Optional[Callable[[str], Any]] = None
    archive_where: Optional[Where] = None

    def _archived(self, part: str) -> bool:
        return self.archive_client_for is not None and part in ARCHIVE_PARTS

    def clients(self, part: str) -> Callable[[str], Any]:
        return self.archive_client_for if self._archived(part) else self.client_for

    def at(self, part: str) -> Where:
        return self.archive_where if self._archived(part) else self.where


def place(module, clients: Clients, params: dict[str, Any], where: Where, credentials: dict[str, str]) -> Placement:
    """The run's placement: with ``log_archive_role_arn``, that role is
    assumed too (with the caller's credentials, as the account's own role)."""
    member = clients.acting_with(credentials) if credentials else clients
    if not params.get("log_archive_role_arn"):
        return Placement(member, where)
    archive_credentials, archive = _assumed(module, clients("sts"), params["log_archive_role_arn"], params)
    return Placement(member, where, clients.acting_with(archive_credentials), dataclasses.replace(where, owner=archive["account"]))


# ---------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------
def _read_all(placement: Placement, specs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Every part's current state, read concurrently: no part's read needs
    another's, except the selectors (the trail's) and the bucket policy (the
    bucket's), which follow their part in the same thread."""
    where = placement.where

    def bucket_and_policy():
        spec = specs["log_bucket"]
        client_for, at = placement.clients("log_bucket"), placement.at("log_bucket")
        found = log_bucket.read(client_for, spec, at)
        for pause in _ARCHIVE_BUCKET_PAUSES if placement.archive_client_for is not None else ():
            if found is None or spec["existing"] or found.get("created_by") in log_bucket.OWNED_MARKS:
                break
            # Another account's run makes the archive's bucket and tags it a
            # moment later: an untagged bucket is read again before it is refused.
            time.sleep(random.uniform(pause / 2, pause))
            found = log_bucket.read(client_for, spec, at)
        policy = BucketPolicyPart.read(client_for, specs["bucket_policy"], at, found is not None)
        objects: list[dict[str, str]] = []
        if found is not None and spec["delete"]:
            # Refused before a single object is listed when the bucket is not the collection's.
            log_bucket.delete_refusal(found, spec)
            objects = log_bucket.read_objects(client_for, spec)
        return found, policy, objects

    def trail_and_selectors():
        client_for = placement.client_for
        found = _TrailPart.read(client_for, where)
        selectors = _SelectorsPart.read(client_for, specs["event_selectors"], where, found) if "event_selectors" in specs else None
        params = specs["trail"]
        given = None if params.get("kms_key_create") else params.get("kms_key_id")
        return found, selectors, trail.resolve_kms_key(lambda: client_for("kms"), given, found, where.region)

    jobs: dict[str, Callable[[], Any]] = {"bucket": bucket_and_policy, "trail": trail_and_selectors}
    for part in ("kms_key", "sns_topic", "cloudwatch_logs"):
        if part in specs:
            jobs[part] = functools.partial(PARTS[part].read, placement.clients(part), specs[part], placement.at(part))
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = {name: pool.submit(job) for name, job in jobs.items()}
        answers = {name: future.result() for name, future in futures.items()}
    current = {"log_bucket": answers["bucket"][0], "bucket_policy": answers["bucket"][1], "trail": answers["trail"][0]}
    current["log_bucket_objects"] = answers["bucket"][2]
    current["given_kms_key_arn"] = answers["trail"][2]
    if "event_selectors" in specs:
        current["event_selectors"] = answers["trail"][1]
    for part in ("kms_key", "sns_topic", "cloudwatch_logs"):
        if part in answers:
            current[part] = answers[part]
    return current


def _upstream(specs: dict[str, dict[str, Any]], afters: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """What the trail points at, from the other parts' states after the run."""
    upstream: dict[str, Any] = {"bucket": specs["log_bucket"]["name"], "given_kms_key_arn": afters.get("given_kms_key_arn")}
    if "kms_key" in specs:
        upstream["kms_key_id"] = (afters.get("kms_key") or {}).get("key_arn") or KNOWN_AFTER_RUN
    if "sns_topic" in specs:
        upstream["sns_topic_name"] = (afters.get("sns_topic") or {}).get("topic_arn") or KNOWN_AFTER_RUN
    if "cloudwatch_logs" in specs:
        state = afters.get("cloudwatch_logs") or {}
        upstream["cloudwatch_logs_log_group_arn"] = cloudwatch_logs.trail_log_group_arn(state) if state else KNOWN_AFTER_RUN
        upstream["cloudwatch_logs_role_arn"] = state.get("role_arn") or KNOWN_AFTER_RUN
    return upstream


def _plan_part(part: str, current: Any, spec: dict[str, Any], at: Where) -> PartPlan:
    module_ = PARTS[part]
    return module_.plan(current, module_.desired(spec, at), spec, at)


def plan_all(current: dict[str, Any], specs: dict[str, dict[str, Any]], params: dict[str, Any], placement: Placement) -> dict[str, PartPlan]:
    """Every part's plan (pure), in write order."""
    where = placement.where
    plans: dict[str, PartPlan] = {}
    for part in ("log_bucket", "kms_key", "sns_topic", "cloudwatch_logs"):
        if part in specs:
            plans[part] = _plan_part(part, current[part], specs[part], placement.at(part))
    if params["state"] == "absent":
        plans["log_bucket"] = log_bucket.plan_delete(current["log_bucket"], specs["log_bucket"], current["log_bucket_objects"])
    plans["bucket_policy"] = BucketPolicyPart.plan(current["bucket_policy"], specs["bucket_policy"], placement.at("bucket_policy"))
    if params["state"] == "absent":
        # The trail goes first, then its grant (and the bucket, when asked):
        # a trail never points at a bucket that refuses it.
        plans["trail"] = _TrailPart.plan(current["trail"], params, {}, where)
        return {part: plans[part] for part in _order("absent")}
    afters = {part: plan.after for part, plan in plans.items()}
    afters["given_kms_key_arn"] = current["given_kms_key_arn"]
    plans["trail"] = _TrailPart.plan(current["trail"], params, _upstream(specs, afters, params), where)
    if "event_selectors" in specs:
        plans["event_selectors"] = _SelectorsPart.plan(current["event_selectors"], specs["event_selectors"])
    return {part: plans[part] for part in _order(params["state"]) if part in plans}


def _order(state: str) -> tuple[str, ...]:
    if state == "absent":
        return ("trail", "bucket_policy", "log_bucket")
    return PART_ORDER


def _apply_part(placement: Placement, part: str, plan: PartPlan, spec: dict[str, Any]) -> Optional[dict[str, Any]]:
    client_for, at = placement.clients(part), placement.at(part)
    if part == "bucket_policy":
        return BucketPolicyPart.apply(client_for, plan, spec, at)
    if part == "kms_key":
        try:
            return kms_key.apply(client_for, plan, at)
        except kms_key.KeyAliasTaken:
            # A shared key (the log archive's) another account's run made
            # first: ours was scheduled for deletion; merge into theirs.
            plan = _plan_part(part, kms_key.read(client_for, spec, at), spec, at)
            return kms_key.apply(client_for, plan, at)
    return PARTS[part].apply(client_for, plan, at)


def apply_all(
    placement: Placement, plans: dict[str, PartPlan], specs: dict[str, dict[str, Any]], params: dict[str, Any], given_kms_key_arn: Optional[str]
) -> dict[str, PartPlan]:
    """Make each changed part's writes, in order. The trail is planned again
    with what the parts before it made (a new key's ARN)."""
    where = placement.where
    afters: dict[str, Any] = {"given_kms_key_arn": given_kms_key_arn}
    for part in list(plans):
        plan = plans[part]
        if part == "trail" and params["state"] == "present":
            plan = plans[part] = _TrailPart.plan(plan.before, params, _upstream(specs, afters, params), where)
        if plan.changed:
            if part == "trail":
                plan.after = _TrailPart.apply(placement.client_for, plan, where)
            elif part == "event_selectors":
                plan.after = _SelectorsPart.apply(placement.client_for, plan, where)
            else:
                plan.after = _apply_part(placement, part, plan, specs.get(part, {}))
        afters[part] = plan.after
    return plans


def run(module, params: dict[str, Any]) -> dict[str, Any]:
    """The whole run; the module's result."""
    check(params)
    region = module.region
    clients = Clients(module, region)
    where, credentials = find_where(module, clients, params, region)
    placement = place(module, clients, params, where, credentials)
    specs = part_specs(params, placement.at("log_bucket"))
    current = _read_all(placement, specs)
    plans = plan_all(current, specs, params, placement)
    if not module.check_mode and any(plan.changed for plan in plans.values()):
        plans = apply_all(placement, plans, specs, params, current["given_kms_key_arn"])
    return result(plans, where, specs["log_bucket"]["name"], module._diff)


def _named(state: Optional[dict[str, Any]], name: str) -> Optional[dict[str, Any]]:
    return None if state is None else {"name": name, **state}


def result(plans: dict[str, PartPlan], where: Where, bucket: str, diff: bool) -> dict[str, Any]:
    changed_parts = [part for part, plan in plans.items() if plan.changed]
    parts = {part: plan.result() for part, plan in plans.items()}
    # The bucket's state does not name it (it is the same before and after);
    # the result does, for reports.
    parts["log_bucket"].update(before=_named(parts["log_bucket"]["before"], bucket), after=_named(parts["log_bucket"]["after"], bucket))
    outcome: dict[str, Any] = {
        "changed": bool(changed_parts),
        "changed_parts": changed_parts,
        "account": where.account,
        "partition": where.partition,
        "region": where.region,
        "trail_arn": where.trail_arn,
        "s3_bucket_name": bucket,
        "parts": parts,
    }
    if diff:
        outcome["diff"] = [
            {"before_header": part, "after_header": part, "before": parts[part]["before"] or {}, "after": parts[part]["after"] or {}}
            for part in changed_parts
        ]
    return outcome
