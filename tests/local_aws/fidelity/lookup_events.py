"""LookupEvents for the local AWS (moto answers HTTP 500)."""

from __future__ import annotations


def install() -> None:
    """Record calls and serve them through LookupEvents."""
