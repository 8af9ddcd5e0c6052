"""Shared by unit and integration tests: the collection is importable as
``ansible_collections.trailops.cloudtrail`` through ``build/collections``
(made by ``make setup``)."""

from __future__ import annotations

import os
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# tests/tools/matrix.sh points this at another ansible-core's collections tree.
COLLECTIONS = os.environ.get("TRAILOPS_TEST_COLLECTIONS") or os.path.join(REPO_ROOT, "build", "collections")

if not os.path.isdir(os.path.join(COLLECTIONS, "ansible_collections", "trailops", "cloudtrail")):
    raise RuntimeError("build/collections is missing: run the tests through `make test` (or `make setup` once)")
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)
