"""Log file and digest delivery for logging trails (issue: log file integrity)."""

from __future__ import annotations


def install() -> None:
    """Deliver log files and digests on demand."""
