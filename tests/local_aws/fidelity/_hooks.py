"""The two places in moto's server that several fidelity modules hook into:
moto's reset (``POST /moto-api/reset``), after which each module forgets its own
state, and moto's control API, where each module adds its ``/moto-api/trailops/...``
paths."""

from __future__ import annotations

from typing import Any
from typing import Callable

_RESET_CALLBACKS: list[Callable[[], None]] = []


def on_reset(callback: Callable[[], None]) -> None:
    """Call ``callback`` after every moto reset (wraps moto's reset once)."""
    from moto.moto_api._internal.models import MotoAPIBackend

    if not _RESET_CALLBACKS:
        original = MotoAPIBackend.reset

        def reset(self: Any) -> None:
            original(self)
            for forget in _RESET_CALLBACKS:
                forget()

        MotoAPIBackend.reset = reset
    _RESET_CALLBACKS.append(callback)


def control_path(path: str, view: Callable[..., Any]) -> None:
    """Serve ``view`` at ``path`` beside moto's own ``/moto-api/`` paths."""
    from moto.moto_api._internal import urls as moto_api_urls

    moto_api_urls.url_paths["{0}" + path] = view
