"""The reliability tests reuse the integration fixtures (``aws``, ``run_module``,
``run_playbook``, ``account_id``) on a local AWS of their own; faults are set
per test with ``inject_faults`` and wiped by the ``aws`` fixture's reset."""

from __future__ import annotations

from tests.integration.conftest import account_id, aws, local_aws_server, run_module, run_playbook  # noqa: F401  pylint: disable=unused-import
