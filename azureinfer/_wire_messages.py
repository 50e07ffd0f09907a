"""Transforms of wire messages shared by the adapters (after their own translation)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["fold_system_messages"]

_SYSTEM_ROLES = ("system", "developer")


def fold_system_messages(wire: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fold system/developer messages into the first user message (for models rejecting them).

    The texts of every system and developer message are joined by a blank line and put in front
    of the first user message's content, or sent as a user message of their own when there is
    no user message. A conversation without system messages is returned unchanged (as a list).
    """
    system_texts = [_text(m.get("content")) for m in wire if m.get("role") in _SYSTEM_ROLES]
    if not system_texts:
        return list(wire)
    rest = [m for m in wire if m.get("role") not in _SYSTEM_ROLES]
    preamble = "\n\n".join(t for t in system_texts if t)
    for k, message in enumerate(rest):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            folded: str | list[dict[str, Any]] = f"{preamble}\n\n{content}" if content else preamble
        else:
            folded = [{"type": "text", "text": preamble}, *(content or [])]
        rest[k] = {**message, "content": folded}
        return rest
    return [{"role": "user", "content": preamble}, *rest]


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # text parts
        return "\n".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""
