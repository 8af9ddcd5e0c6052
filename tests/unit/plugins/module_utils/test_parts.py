"""What every part of the account baseline shares (module_utils/parts.py):
the plan of a part that outlives the trail, names made from the trail's, and
the error handler that reads "does not exist" as data."""

from __future__ import annotations

import botocore.exceptions
import pytest

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.trailops.cloudtrail.plugins.module_utils.parts import PartErrorHandler
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parts import PartPlan
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parts import name_from_trail


class TopicErrors(PartErrorHandler):
    MISSING_CODE = "NotFound"


@TopicErrors.list_error_handler("get the topic", {})
def get_topic(code):
    raise botocore.exceptions.ClientError({"Error": {"Code": code, "Message": "m"}}, "GetTopicAttributes")


def test_the_missing_code_is_read_as_not_found_and_any_other_error_fails():
    assert get_topic("NotFound") == {}
    with pytest.raises(AnsibleAWSError, match="Failed to get the topic"):
        get_topic("AuthorizationError")


@pytest.mark.parametrize("before", [None, {"alias": "alias/cloudtrail/main"}])
def test_a_part_that_outlives_the_trail_is_shown_as_found_and_not_written(before):
    plan = PartPlan.kept(before)
    assert (plan.before, plan.after, plan.steps, plan.changed) == (before, before, [], False)


@pytest.mark.parametrize("trail, name", [("main", "cloudtrail-main"), ("org.main.v2", "cloudtrail-org-main-v2")])
def test_names_made_from_the_trail_name_hold_no_dot(trail, name):
    assert name_from_trail("cloudtrail-", trail) == name
