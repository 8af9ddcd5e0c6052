"""CloudTrail fidelity patches for moto's CloudTrail backend."""

from __future__ import annotations


def install() -> None:
    """Apply every CloudTrail patch."""
