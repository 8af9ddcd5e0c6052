"""What a delivery does beyond S3, on the local AWS: the SNS notification of
each log file, and the events put into the trail's CloudWatch Logs group,
with the metric filters on that group raising their metrics. Each failure
(topic policy, role trust, role permissions) delivers nothing and shows in
GetTrailStatus and in trail_info."""

from __future__ import annotations

import datetime
import gzip
import json

import pytest

from tests.integration.setup_helpers import make_log_bucket, make_log_group, make_sns_topic
from tests.local_aws.fidelity.delivery import deliver
from tests.local_aws.fidelity.lookup_events import seed_events

BUCKET = "notified-logs"
TRAIL = "notifying"


def _queue_on(aws, topic_arn: str) -> str:
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="cloudtrail-notifications")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    aws.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    return url


def _messages(aws, url: str) -> list[str]:
    sqs, bodies = aws.client("sqs"), []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not got:
            return bodies
        bodies += [message["Body"] for message in got]
        for message in got:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def _trail(aws, **settings) -> str:
    make_log_bucket(aws, BUCKET)
    cloudtrail = aws.client("cloudtrail")
    arn = cloudtrail.create_trail(Name=TRAIL, S3BucketName=BUCKET, **settings)["TrailARN"]
    cloudtrail.start_logging(Name=TRAIL)
    return arn


def _now_events(*names: str) -> list[dict[str, str]]:
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    return [{"EventName": name, "EventTime": now.isoformat(), "Username": "alice"} for name in names]


def test_each_log_file_publishes_cloudtrails_message_once(aws):
    topic = make_sns_topic(aws, "trail-deliveries")
    url = _queue_on(aws, topic)
    _trail(aws, SnsTopicName=topic)

    first = deliver(aws, digest=False)
    seed_events(aws, _now_events("DescribeTrails"))
    second = deliver(aws, digest=False)
    nothing_new = deliver(aws, digest=False)

    keys = first["log_files"] + second["log_files"]
    assert len(keys) == 2 and nothing_new["log_files"] == []
    assert [json.loads(body) for body in _messages(aws, url)] == [{"s3Bucket": BUCKET, "s3ObjectKey": [key]} for key in keys]
    status = aws.client("cloudtrail").get_trail_status(Name=TRAIL)
    assert "LatestNotificationError" not in status
    assert status["LatestNotificationTime"] and status["LatestNotificationAttemptSucceeded"] == status["LatestNotificationAttemptTime"]


def test_a_topic_policy_without_cloudtrail_publishes_nothing_and_reports_it(aws, run_module):
    topic = make_sns_topic(aws, "trail-deliveries")
    url = _queue_on(aws, topic)
    _trail(aws, SnsTopicName=topic)
    # Someone replaces the topic policy after the trail was set up.
    aws.client("sns").set_topic_attributes(
        TopicArn=topic,
        AttributeName="Policy",
        AttributeValue=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "SNS:Publish", "Resource": topic}],
            }
        ),
    )

    assert deliver(aws, digest=False)["log_files"]
    assert _messages(aws, url) == []
    status = aws.client("cloudtrail").get_trail_status(Name=TRAIL)
    assert status["LatestNotificationError"] == "AuthorizationError"
    assert status["LatestNotificationAttemptTime"] and "LatestNotificationTime" not in status

    (info,) = run_module("trail_info", {"names": [TRAIL]})["trails"]
    assert info["latest_notification_error"] == "AuthorizationError"
    assert info["latest_cloudwatch_logs_delivery_error"] is None


def test_delivered_events_land_in_the_log_group(aws, account_id):
    group_arn, role_arn = make_log_group(aws, "trail-events")
    _trail(aws, CloudWatchLogsLogGroupArn=group_arn, CloudWatchLogsRoleArn=role_arn)
    seed_events(aws, _now_events("DescribeTrails", "StopLogging"))

    (key,) = deliver(aws, digest=False)["log_files"]

    logs = aws.client("logs")
    streams = [s["logStreamName"] for s in logs.describe_log_streams(logGroupName="trail-events")["logStreams"]]
    assert streams == [f"{account_id}_CloudTrail_us-east-1"]
    messages = [json.loads(event["message"]) for event in logs.filter_log_events(logGroupName="trail-events")["events"]]
    delivered = json.loads(gzip.decompress(aws.client("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read()))["Records"]
    assert sorted(m["eventID"] for m in messages) == sorted(r["eventID"] for r in delivered)
    assert {"CreateTrail", "StartLogging", "DescribeTrails", "StopLogging"} <= {m["eventName"] for m in messages}
    status = aws.client("cloudtrail").get_trail_status(Name=TRAIL)
    assert status["LatestCloudWatchLogsDeliveryTime"] and "LatestCloudWatchLogsDeliveryError" not in status


def _break_role(aws, role_arn: str, what: str) -> None:
    iam, name = aws.client("iam"), role_arn.rsplit("/", 1)[1]
    if what == "trust":
        ec2_only = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
        iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(ec2_only))
    else:
        iam.delete_role_policy(RoleName=name, PolicyName="deliver")
        only_streams = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:CreateLogStream", "Resource": "*"}]}
        iam.put_role_policy(RoleName=name, PolicyName="deliver", PolicyDocument=json.dumps(only_streams))


@pytest.mark.parametrize("what, error", [("trust", "cannot assume the role"), ("permission", "logs:PutLogEvents")])
def test_a_role_without_trust_or_permission_delivers_nothing(aws, run_module, what, error):
    group_arn, role_arn = make_log_group(aws, "trail-events")
    _trail(aws, CloudWatchLogsLogGroupArn=group_arn, CloudWatchLogsRoleArn=role_arn)
    _break_role(aws, role_arn, what)

    assert deliver(aws, digest=False)["log_files"]

    logs = aws.client("logs")
    assert logs.filter_log_events(logGroupName="trail-events")["events"] == []
    assert logs.describe_log_streams(logGroupName="trail-events")["logStreams"] == []
    status = aws.client("cloudtrail").get_trail_status(Name=TRAIL)
    assert error in status["LatestCloudWatchLogsDeliveryError"] and "LatestCloudWatchLogsDeliveryTime" not in status
    (info,) = run_module("trail_info", {"names": [TRAIL]})["trails"]
    assert error in info["latest_cloudwatch_logs_delivery_error"]


def test_metric_filters_raise_their_metric_only_on_matching_events(aws):
    logs, cloudwatch = aws.client("logs"), aws.client("cloudwatch")
    logs.create_log_group(logGroupName="app")
    logs.create_log_stream(logGroupName="app", logStreamName="s")
    pattern = '{ ($.eventName = "StopLogging") || ($.eventName = "DeleteTrail") }'
    logs.put_metric_filter(
        logGroupName="app",
        filterName="trail-changes",
        filterPattern=pattern,
        metricTransformations=[{"metricName": "TrailChanges", "metricNamespace": "Test", "metricValue": "1"}],
    )
    # Put again under the same name: replaced, not doubled.
    logs.put_metric_filter(
        logGroupName="app",
        filterName="trail-changes",
        filterPattern=pattern,
        metricTransformations=[{"metricName": "TrailChanges", "metricNamespace": "Test", "metricValue": "1"}],
    )
    assert len(logs.describe_metric_filters(logGroupName="app")["metricFilters"]) == 1
    now = int(datetime.datetime.now(datetime.timezone.utc).timestamp() * 1000)
    logs.put_log_events(logGroupName="app", logStreamName="s", logEvents=[{"timestamp": now, "message": json.dumps({"eventName": "DescribeTrails"})}])
    assert cloudwatch.list_metrics(Namespace="Test")["Metrics"] == []

    logs.put_log_events(logGroupName="app", logStreamName="s", logEvents=[{"timestamp": now + 1, "message": json.dumps({"eventName": "StopLogging"})}])
    stats = cloudwatch.get_metric_statistics(
        Namespace="Test",
        MetricName="TrailChanges",
        StartTime=datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=10),
        EndTime=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=10),
        Period=3600,
        Statistics=["Sum"],
    )["Datapoints"]
    assert [point["Sum"] for point in stats] == [1.0]

    tested = logs.test_metric_filter(filterPattern=pattern, logEventMessages=['{"eventName": "DeleteTrail"}', '{"eventName": "GetTrail"}'])
    assert [m["eventNumber"] for m in tested["matches"]] == [1]
