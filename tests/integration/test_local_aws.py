"""The local AWS itself: the recorder counts what the server received."""


def test_recorder_names_calls_by_service_and_action(aws):
    s3 = aws.client("s3")
    cloudtrail = aws.client("cloudtrail")
    aws.start_recording()
    s3.create_bucket(Bucket="recorded")
    cloudtrail.describe_trails()
    calls = aws.stop_recording()

    assert [(c.service, c.action, c.is_write) for c in calls] == [
        ("s3", "PUT /recorded", True),
        ("cloudtrail", "DescribeTrails", False),
    ]


def test_reset_wipes_state(aws):
    aws.client("s3").create_bucket(Bucket="wiped")
    aws.reset()
    assert aws.client("s3").list_buckets()["Buckets"] == []
