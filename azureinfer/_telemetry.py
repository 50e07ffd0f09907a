"""The transport's one telemetry hook: ``HOOK is None`` unless :mod:`azureinfer.tracing` is on.

Every chat and embeddings call of :mod:`azureinfer.transport` checks this module attribute once;
while it is ``None`` (the OpenTelemetry packages absent, or not instrumented) the call runs
exactly as it would without tracing. ``AzureInferenceInstrumentor.instrument()`` sets it to an
object with the three methods below; ``uninstrument()`` sets it back to ``None``. Nothing here
imports OpenTelemetry.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from azureinfer.streaming import AsyncChatStream, ChatStream

T = TypeVar("T")
S = TypeVar("S", "ChatStream", "AsyncChatStream")


class Hook(Protocol):
    """What the transport calls around one operation (``client`` is the transport client)."""

    def call(self, client: Any, req: Any, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` (one complete/embed call) inside the operation's span."""
        ...

    async def acall(self, client: Any, req: Any, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Await ``fn(*args)`` inside the operation's span."""
        ...

    def stream(self, client: Any, req: Any, stream: S) -> S:
        """``stream`` (a ``ChatStream`` or ``AsyncChatStream``, not read yet), watched: its span
        starts when it sends the request and ends when the stream ends, however it ends."""
        ...


#: The active hook, or ``None`` (tracing off: no extra work on any call).
HOOK: Hook | None = None
