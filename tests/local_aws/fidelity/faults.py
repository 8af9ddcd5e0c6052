"""Fault injection: throttling and 5xx answers on a chosen share of calls."""

from __future__ import annotations


def install() -> None:
    """Inject faults when a test asks for them."""
