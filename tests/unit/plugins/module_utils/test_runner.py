"""How every module ends (``runner.exit_with``): its result, or a failure
that reads the same from every module; a bad parameter fails before any
call."""

from __future__ import annotations

import pytest

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.trailops.cloudtrail.plugins.module_utils.parameters import ParameterError
from ansible_collections.trailops.cloudtrail.plugins.module_utils.runner import exit_with


class Ended(Exception):
    """What AnsibleModule's exit_json/fail_json do: the module stops there."""


class FakeModule:
    def __init__(self, **params):
        self.params = params
        self.ended = None

    def exit_json(self, **result):
        self.ended = ("exit", result)
        raise Ended()

    def fail_json(self, **result):
        self.ended = ("fail", result)
        raise Ended()

    def fail_json_aws_error(self, error):
        self.ended = ("aws", error)
        raise Ended()


def end(module, work, check=None):
    with pytest.raises(Ended):
        exit_with(module, work, check)
    return module.ended


def test_the_result_of_the_work_is_what_the_module_exits_with():
    module = FakeModule(name="main")
    assert end(module, lambda m: {"changed": False, "name": m.params["name"]}) == ("exit", {"changed": False, "name": "main"})


def test_a_parameter_error_fails_with_the_option_and_the_rule_before_the_work():
    worked = []

    def check(params):
        raise ParameterError("name", f"too short (got {params['name']!r})")

    module = FakeModule(name="a")
    assert end(module, worked.append, check) == ("fail", {"msg": "name: too short (got 'a')"})
    assert worked == []


def test_a_parameter_error_found_by_the_work_fails_the_same_way():
    def work(module):
        raise ParameterError("kms_key_alias", "'alias/aws/' is reserved")

    assert end(FakeModule(), work) == ("fail", {"msg": "kms_key_alias: 'alias/aws/' is reserved"})


def test_an_aws_error_fails_through_amazon_aws_without_a_traceback():
    error = AnsibleAWSError(message="Failed to describe trails")

    def work(module):
        raise error

    assert end(FakeModule(), work) == ("aws", error)
