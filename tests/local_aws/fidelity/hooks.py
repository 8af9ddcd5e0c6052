"""The places in moto's server that several fidelity modules hook into:
moto's reset (``POST /moto-api/reset``), after which each module forgets its own
state, and moto's control API, where each module adds its ``/moto-api/trailops/...``
paths, and each log file that delivery writes (``on_log_file``); and the one way
a module puts its code in place of moto's (``patch``, ``wrap_view``)."""

from __future__ import annotations

from typing import Any
from typing import Callable

_RESET_CALLBACKS: list[Callable[[], None]] = []


def patch(originals: dict[str, Any], owner: Any, **replacements: Any) -> None:
    """Put each replacement in place of ``owner.<name>``, keeping what stood
    there in ``originals["<Owner>.<name>"]`` for the replacement to call."""
    for name, replacement in replacements.items():
        originals[f"{owner.__name__}.{name}"] = getattr(owner, name, None)
        setattr(owner, name, replacement)


def wrap_view(originals: dict[str, Any], view: Callable[..., Any]) -> None:
    """Put ``view`` around moto's request view as wrapped so far (so the last
    module installed is outermost), keeping the view it wraps in
    ``originals["view"]``; ``view(self, args=None, **kwargs)`` calls it."""
    from moto.core.utils import convert_to_flask_response

    originals["view"] = convert_to_flask_response.__call__
    convert_to_flask_response.__call__ = view


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


_LOG_FILE_CALLBACKS: list[Callable[..., None]] = []


def on_log_file(callback: Callable[..., None]) -> None:
    """Call ``callback(trail, account_id, region, key, events)`` after each log
    file delivery writes (what CloudTrail does next: SNS, CloudWatch Logs)."""
    if callback not in _LOG_FILE_CALLBACKS:
        _LOG_FILE_CALLBACKS.append(callback)


def log_file_delivered(trail: Any, account_id: str, region: str, key: str, events: list[Any]) -> None:
    for callback in _LOG_FILE_CALLBACKS:
        callback(trail, account_id, region, key, events)
