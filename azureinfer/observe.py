"""Watch the requests a block of async code sends: a hook for quota-aware callers.

```python
from azureinfer.observe import observe_requests

class Quota:
    async def start(self, operation, body):      # before each request; may wait
        return object()                          # a ticket handed back below
    def response(self, ticket, status, headers): # every HTTP answer, retries included
        ...
    def finish(self, ticket, usage, error):      # once per request: its usage, or its error
        ...

with observe_requests(Quota()):
    await model.ainvoke("Hello")                 # any of our async chat / embeddings calls
```

The observer is held in a context variable, so it follows the code into the tasks it starts
(`asyncio` copies the context) and no argument has to travel through LangChain or LlamaIndex.
Observed: `ChatClient.acomplete` and `EmbeddingsClient.aembed` (what `ainvoke` / `achat` /
`acomplete` without streaming and every async embedding call use). Not observed: sync calls and
streams. `azureinfer.ray` uses this to draw every request from one cluster-wide quota.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from azureinfer.response import Usage

__all__ = ["RequestObserver", "observe_requests"]


class RequestObserver(Protocol):
    """What `observe_requests` calls around each observed request."""

    async def start(self, operation: str, body: Mapping[str, Any]) -> Any:
        """Before the request is sent (may wait, e.g. for quota); returns a ticket.
        ``operation``: ``"chat"``, ``"embeddings"`` or ``"images/embeddings"``."""

    def response(self, ticket: Any, status: int, headers: Mapping[str, str]) -> None:
        """Each HTTP answer of the request, retried attempts included (must not block)."""

    def finish(self, ticket: Any, usage: Usage | None, error: BaseException | None) -> None:
        """Once, when the request ended: its usage, or the error it raised."""


_OBSERVER: ContextVar[RequestObserver | None] = ContextVar("azureinfer_observer", default=None)


@contextmanager
def observe_requests(observer: RequestObserver) -> Iterator[RequestObserver]:
    """Make ``observer`` see the async requests sent inside the block (and its tasks)."""
    token = _OBSERVER.set(observer)
    try:
        yield observer
    finally:
        _OBSERVER.reset(token)


class _Seen:
    """One observed request: ``begin`` (``start``) right before it is sent, the azure-core
    response hook, and the usage to report at the end."""

    def __init__(self, observer: RequestObserver | None, operation: str, body: Mapping[str, Any]):
        self.observer = observer
        self.operation = operation
        self.body = body
        self.begun = False
        self.ticket: Any = None
        self.usage: Usage | None = None

    async def begin(self) -> None:
        """Call the observer's ``start`` (the transport does, once its client is ready)."""
        if self.observer is not None and not self.begun:
            self.ticket = await self.observer.start(self.operation, self.body)
            self.begun = True

    @property
    def hook(self) -> Callable[[Any], None] | None:
        """An azure-core ``raw_response_hook`` (None when nothing observes)."""
        if self.observer is None:
            return None
        observer, ticket = self.observer, self.ticket

        def hook(pipeline_response: Any) -> None:
            http = pipeline_response.http_response
            observer.response(ticket, http.status_code, dict(http.headers or {}))

        return hook


@asynccontextmanager
async def observed(operation: str, body: Mapping[str, Any]) -> AsyncIterator[_Seen]:
    """The transport's side: pass the record to the send (which calls ``begin``), set
    ``seen.usage`` inside; ``finish`` is called on the way out if the request began."""
    seen = _Seen(_OBSERVER.get(), operation, body)
    try:
        yield seen
    except BaseException as exc:
        if seen.begun and seen.observer is not None:
            seen.observer.finish(seen.ticket, None, exc)
        raise
    if seen.begun and seen.observer is not None:
        seen.observer.finish(seen.ticket, seen.usage, None)
