"""CloudWatch Logs delivery of trail events, and metric filters that publish (issue 19).

Delivery: for a trail with a log group and a role, after each log file,
CloudTrail assumes the role and puts the file's events into the log group, in
the log stream ``<account>_CloudTrail_<region>`` (CloudTrail user guide,
"Sending events to CloudWatch Logs"). Here that needs, as in AWS:

* the role's trust policy to let ``cloudtrail.amazonaws.com`` do
  ``sts:AssumeRole`` (conditions on ``aws:SourceArn``/``aws:SourceAccount``
  are checked against the trail);
* the role's identity policies (inline and attached) to allow
  ``logs:CreateLogStream`` and ``logs:PutLogEvents`` on the stream's ARN;
* the log group to exist.

Otherwise nothing is written and GetTrailStatus shows
``LatestCloudWatchLogsDeliveryError``; on success
``LatestCloudWatchLogsDeliveryTime``. Permission boundaries, SCPs and session
policies are not evaluated.

Metric filters: moto 5.2.5 stores them (appending a second copy when one is
put again under the same name) but never evaluates them and does not
implement TestMetricFilter. Here PutMetricFilter replaces a filter of the same
name, as CloudWatch Logs does; every PutLogEvents (the API call and this
delivery) evaluates the group's filters (``filter_patterns``) and publishes
each matching event's metric through moto's CloudWatch backend (PutMetricData
semantics: namespace, name, value, unit, dimensions from
``metricTransformations``; ``defaultValue`` once per batch with no match); and
TestMetricFilter answers.
"""

from __future__ import annotations

import datetime
import json
from typing import Any, Callable

from tests.local_aws.fidelity import filter_patterns, hooks, trail_status
from tests.local_aws.fidelity.policy_eval import allowed_by, conditions_hold, matches, names_cloudtrail, request_context, statements_of

_ORIGINAL: dict[str, Callable[..., Any]] = {}
STREAM_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")


# -- the role CloudTrail assumes ------------------------------------------


def trust_allows_cloudtrail(trust_policy: str | dict[str, Any] | None, trail: Any) -> bool:
    """Whether the role's trust policy lets CloudTrail assume it for this trail.
    (``policy_eval.policy_allows`` is for resource policies, which name a Resource; trust policies do not.)"""
    context = request_context(trail.account_id, trail.arn)
    return allowed_by(
        statement
        for statement in statements_of(trust_policy)
        if matches(statement.get("Action"), "sts:AssumeRole", ignore_case=True) and names_cloudtrail(statement) and conditions_hold(statement, context)
    )


def identity_allows(documents: list[str], action: str, resource: str) -> bool:
    """Whether identity policies allow ``action`` on ``resource``: an Allow matches and no Deny does."""
    return allowed_by(
        statement
        for document in documents
        for statement in statements_of(document)
        if matches(statement.get("Action"), action, ignore_case=True) and matches(statement.get("Resource"), resource)
    )


def _role_documents(role: Any) -> list[str]:
    documents = list(role.policies.values())
    for policy in role.managed_policies.values():
        documents += [version.document for version in policy.versions if version.is_default_version]
    return documents


def _role(arn: str) -> Any:
    from moto.iam.models import iam_backends

    account = arn.split(":")[4]
    for backend in iam_backends[account].values():
        try:
            return backend.get_role_by_arn(arn)
        except Exception:  # moto's NotFoundException: the role is gone
            continue
    return None


def delivery_error(trail: Any, group_arn: str, role_arn: str, stream: str) -> str | None:
    """Why CloudTrail could not write to the log group with this role, or None."""
    from moto.logs.models import logs_backends

    role = _role(role_arn)
    if role is None or not trust_allows_cloudtrail(role.assume_role_policy_document, trail):
        return f"AccessDenied: CloudTrail cannot assume the role {role_arn}"
    parts = group_arn.split(":")
    region, account, group = parts[3], parts[4], parts[6]
    stream_arn = f"arn:{parts[1]}:logs:{region}:{account}:log-group:{group}:log-stream:{stream}"
    documents = _role_documents(role)
    for action in STREAM_ACTIONS:
        if not identity_allows(documents, action, stream_arn):
            return f"AccessDeniedException: the role {role_arn} is not allowed to perform {action} on {stream_arn}"
    if group not in logs_backends[account][region].groups:
        return f"ResourceNotFoundException: the log group {group} does not exist"
    return None


def deliver_to_log_group(trail: Any, account_id: str, region: str, key: str, events: list[dict[str, Any]]) -> None:
    """Put one delivered log file's events into the trail's log group, or record why not."""
    group_arn, role_arn = getattr(trail, "cw_log_group_arn", None), getattr(trail, "cw_role_arn", None)
    if not (group_arn and role_arn):
        return
    from moto.logs.models import logs_backends

    stream = f"{account_id}_CloudTrail_{region}"
    error = delivery_error(trail, group_arn, role_arn, stream)
    if error:
        trail_status.record(trail.arn, {"LatestCloudWatchLogsDeliveryError": error})
        return
    parts = group_arn.split(":")
    backend = logs_backends[parts[4]][parts[3]]
    backend.ensure_log_stream(parts[6], stream)
    log_events = sorted(
        ({"timestamp": int(_event_time(event).timestamp() * 1000), "message": event["CloudTrailEvent"]} for event in events),
        key=lambda entry: entry["timestamp"],
    )
    backend.put_log_events(parts[6], stream, log_events)
    trail_status.record(trail.arn, {"LatestCloudWatchLogsDeliveryTime": trail_status.now().timestamp(), "LatestCloudWatchLogsDeliveryError": None})


def _event_time(event: dict[str, Any]) -> datetime.datetime:
    value = event["EventTime"]
    if isinstance(value, (int, float)):
        return datetime.datetime.fromtimestamp(value, datetime.timezone.utc)
    return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)


# -- metric filters -------------------------------------------------------


def publish_metrics(account_id: str, region: str, log_group: str, log_events: list[dict[str, Any]]) -> None:
    """Evaluate the group's metric filters on the accepted events and publish their metrics."""
    from moto.cloudwatch.models import cloudwatch_backends
    from moto.logs.models import logs_backends

    filters = logs_backends[account_id][region].filters.get_matching_filters(log_group_name=log_group)
    cloudwatch = cloudwatch_backends[account_id][region]
    for metric_filter in filters:
        for transformation in metric_filter["metricTransformations"]:
            data = []
            for event in log_events:
                try:
                    matched = filter_patterns.matches(metric_filter["filterPattern"], event["message"])
                except filter_patterns.FilterPatternError:
                    matched = False
                value = filter_patterns.metric_value(transformation, event["message"]) if matched else None
                if value is None:
                    continue
                datum: dict[str, Any] = {
                    "MetricName": transformation["metricName"],
                    "Value": value,
                    # naive UTC, as moto's CloudWatch compares its datapoints
                    "Timestamp": datetime.datetime.fromtimestamp(event["timestamp"] / 1000, datetime.timezone.utc).replace(tzinfo=None),
                    "Dimensions": filter_patterns.dimensions(transformation, event["message"]),
                }
                if transformation.get("unit"):
                    datum["Unit"] = transformation["unit"]
                data.append(datum)
            if not data and transformation.get("defaultValue") is not None and log_events:
                data.append({"MetricName": transformation["metricName"], "Value": float(transformation["defaultValue"]), "Dimensions": []})
            if data:
                cloudwatch.put_metric_data(transformation["metricNamespace"], data)


def _put_log_events(self: Any, log_group_name: str, log_stream_name: str, log_events: list[dict[str, Any]]) -> Any:
    """PutLogEvents, then the group's metric filters on the events it accepted."""
    answer = _ORIGINAL["LogsBackend.put_log_events"](self, log_group_name, log_stream_name, log_events)
    rejected = answer[1] if isinstance(answer, tuple) else {}
    accepted = [
        event
        for index, event in enumerate(log_events)
        if index > rejected.get("tooOldLogEventEndIndex", -1) and index < rejected.get("tooNewLogEventStartIndex", len(log_events))
    ]
    publish_metrics(self.account_id, self.region_name, log_group_name, accepted)
    return answer


def _put_metric_filter(self: Any, filter_name: str, filter_pattern: str, log_group_name: str, metric_transformations: Any) -> None:
    """PutMetricFilter creates or replaces the group's filter of that name (moto appends a duplicate)."""
    if log_group_name not in self.groups:
        from moto.logs.exceptions import ResourceNotFoundException

        raise ResourceNotFoundException()
    # Patterns the evaluator cannot read are stored (CloudWatch Logs may accept
    # them) and never match.
    self.filters.delete_filter(filter_name, log_group_name)
    _ORIGINAL["LogsBackend.put_metric_filter"](self, filter_name, filter_pattern, log_group_name, metric_transformations)


def _test_metric_filter(self: Any) -> str:
    """TestMetricFilter: which of the given messages the pattern matches."""
    from moto.logs.exceptions import InvalidParameterException

    pattern = self._get_param("filterPattern")
    messages = self._get_param("logEventMessages") or []
    try:
        found = [
            {"eventNumber": number, "eventMessage": message, "extractedValues": {}}
            for number, message in enumerate(messages, start=1)
            if filter_patterns.matches(pattern, message)
        ]
    except filter_patterns.FilterPatternError as error:
        raise InvalidParameterException(f"Invalid metric filter pattern: {error}")
    return json.dumps({"matches": found})


def install() -> None:
    from moto.logs.models import LogsBackend
    from moto.logs.responses import LogsResponse

    if _ORIGINAL:
        return
    hooks.patch(_ORIGINAL, LogsBackend, put_log_events=_put_log_events, put_metric_filter=_put_metric_filter)
    hooks.patch(_ORIGINAL, LogsResponse, test_metric_filter=_test_metric_filter)
    hooks.on_log_file(deliver_to_log_group)
