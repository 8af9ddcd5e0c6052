# -*- coding: utf-8 -*-

# Copyright: Contributors to the trailops.cloudtrail project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""How a module ends: the one way every module's ``main()`` turns its work
into a result or a failure, so that the same kind of error reads the same
from every module."""

from __future__ import annotations

from typing import Any
from typing import Callable
from typing import Optional

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.trailops.cloudtrail.plugins.module_utils.parameters import ParameterError


def exit_with(module: Any, work: Callable[[Any], dict[str, Any]], check: Optional[Callable[[dict[str, Any]], None]] = None) -> None:
    """Exit ``module`` with ``work(module)``'s result, after ``check(module.params)``.
    A ParameterError (found before any call) fails with its message alone,
    which names the option and the rule; an AWS error fails with amazon.aws's
    message, error code and boto versions, never with a traceback."""
    try:
        if check is not None:
            check(module.params)
        result = work(module)
    except ParameterError as e:
        module.fail_json(msg=str(e))
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    module.exit_json(**result)
