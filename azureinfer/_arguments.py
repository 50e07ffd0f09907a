"""Constructor-argument errors of the adapters: one `ConfigurationError`, one wording.

The LangChain and LlamaIndex classes are pydantic models. A bad argument is reported by both the
same way: a `ConfigurationError` (a ``ValueError``) whose first line names the argument and the
fix, never pydantic's ``1 validation error for ...`` report. The adapters call
`reject_unknown_arguments` before validation and turn a pydantic ``ValidationError`` into
`configuration_error(exc.errors())`; nothing here imports pydantic.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from azureinfer.errors import ConfigurationError

__all__ = ["configuration_error", "reject_unknown_arguments"]

_WHERE_EXTRAS_GO = (
    "pass other request-body parameters in model_kwargs={...} and azure-core client options "
    "in client_kwargs={...}"
)

_SECRET_WORDS = ("credential", "key", "token", "secret", "password")


def reject_unknown_arguments(given: Iterable[str], known: Collection[str]) -> None:
    """Raise `ConfigurationError` naming every name of ``given`` not in ``known``.

    Each unknown name gets its closest known name as a "did you mean" when there is one.
    """
    unknown = sorted(name for name in given if name not in known)
    if not unknown:
        return
    choices = sorted(known)
    names = []
    for name in unknown:
        close = difflib.get_close_matches(name, choices, n=1)
        names.append(repr(name) + (f" (did you mean {close[0]!r}?)" if close else ""))
    raise ConfigurationError(f"unknown argument(s) {', '.join(names)}; {_WHERE_EXTRAS_GO}.")


def configuration_error(errors: Sequence[Mapping[str, Any]]) -> ConfigurationError:
    """One `ConfigurationError` for a failed construction (pydantic's ``ValidationError.errors()``).

    A `ConfigurationError` raised by the core inside a validator is returned as it is; other
    errors become ``name=value: reason`` lines, the first one first.
    """
    lines = []
    for error in errors:
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, ConfigurationError):
            if len(errors) == 1:
                return cause
            lines.append(str(cause))
            continue
        reason = str(cause) if isinstance(cause, BaseException) else str(error.get("msg", ""))
        loc = ".".join(str(part) for part in error.get("loc", ()))
        if loc:
            value = error.get("input")
            secret = any(word in loc.lower() for word in _SECRET_WORDS)
            shown = value is not None and not secret
            reason = f"{loc}={_short(value)}: {reason}" if shown else f"{loc}: {reason}"
        lines.append(reason)
    return ConfigurationError("\n".join(lines) or "invalid arguments")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
