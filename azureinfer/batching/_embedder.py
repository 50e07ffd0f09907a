"""`Embedder`: what an embeddings adapter holds (lazy clients per route, and what each route's
model refused)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

from azureinfer.batching._plan import BatchOptions, EmbeddingsSpec, Vector
from azureinfer.batching._run import (
    aembed_batch,
    aembed_images,
    aembed_texts,
    embed_images,
    embed_texts,
)

if TYPE_CHECKING:
    from azureinfer.settings import ConnectionSettings

Route = Literal["embeddings", "images/embeddings"]


class Embedder:
    """What an embeddings adapter holds: lazy clients for both routes and the memory of the
    droppable parameters each route's model rejected. No I/O until the first call; picklable
    (clients are dropped and created again on use); ``close()`` / ``aclose()`` release them.
    ``drop_rejected=False`` ignores ``EmbeddingsSpec.droppable`` (rejections are raised).
    """

    def __init__(self, settings: ConnectionSettings, *, drop_rejected: bool = True) -> None:
        self.settings = settings
        self.drop_rejected = drop_rejected
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._dropped: dict[str, set[str]] = {}

    def __repr__(self) -> str:
        return f"Embedder({self.settings!r})"

    def __getstate__(self) -> dict[str, Any]:
        return {
            "settings": self.settings,
            "drop_rejected": self.drop_rejected,
            "_dropped": {k: set(v) for k, v in self._dropped.items()},
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._clients = {}
        self._lock = threading.Lock()

    def client(self, route: Route) -> Any:
        """The `EmbeddingsClient` of ``route``, created on first use."""
        client = self._clients.get(route)
        if client is None:
            with self._lock:
                client = self._clients.get(route)
                if client is None:
                    from azureinfer.transport import EmbeddingsClient

                    client = EmbeddingsClient(self.settings, kind=route)
                    self._clients[route] = client
        return client

    def _bound(
        self, route: Route, spec: EmbeddingsSpec
    ) -> tuple[Any, EmbeddingsSpec, Callable[[str], None] | None]:
        """The client of ``route``, ``spec`` without what its model refused, and the callback
        that remembers a refusal (None with ``drop_rejected=False``)."""
        if not self.drop_rejected:
            return self.client(route), replace(spec, droppable=frozenset()), None
        dropped = self._dropped.get(route, set()) & spec.droppable
        if dropped:
            spec = spec.without(dropped)
        return (
            self.client(route),
            spec,
            lambda name: self._dropped.setdefault(route, set()).add(name),
        )

    def embed_texts(
        self, texts: Sequence[str], spec: EmbeddingsSpec, options: BatchOptions
    ) -> list[Vector]:
        """`embed_texts` on the ``embeddings`` route."""
        client, spec, on_dropped = self._bound("embeddings", spec)
        return embed_texts(client, texts, spec, options, on_dropped=on_dropped)

    async def aembed_texts(
        self, texts: Sequence[str], spec: EmbeddingsSpec, options: BatchOptions
    ) -> list[Vector]:
        """`aembed_texts` on the ``embeddings`` route."""
        client, spec, on_dropped = self._bound("embeddings", spec)
        return await aembed_texts(client, texts, spec, options, on_dropped=on_dropped)

    async def aembed_batch(self, texts: Sequence[str], spec: EmbeddingsSpec) -> list[Vector]:
        """One request of texts the caller checked and sized (`aembed_batch`) on the
        ``embeddings`` route."""
        client, spec, on_dropped = self._bound("embeddings", spec)
        return await aembed_batch(client, texts, spec, on_dropped=on_dropped)

    def embed_images(
        self, images: Sequence[Any], spec: EmbeddingsSpec, options: BatchOptions
    ) -> list[Vector]:
        """`embed_images` on the ``images/embeddings`` route."""
        client, spec, on_dropped = self._bound("images/embeddings", spec)
        return embed_images(client, images, spec, options, on_dropped=on_dropped)

    async def aembed_images(
        self, images: Sequence[Any], spec: EmbeddingsSpec, options: BatchOptions
    ) -> list[Vector]:
        """`aembed_images` on the ``images/embeddings`` route."""
        client, spec, on_dropped = self._bound("images/embeddings", spec)
        return await aembed_images(client, images, spec, options, on_dropped=on_dropped)

    def close(self) -> None:
        """Close the sync clients (async ones too when no loop needs them)."""
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()

    async def aclose(self) -> None:
        """Close every client, sync and async."""
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()
