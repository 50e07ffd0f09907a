"""`Embedder`: what an embeddings adapter holds (lazy clients per route, and what each route's
model refused)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

from azureinfer.batching._images import plan_images
from azureinfer.batching._plan import Batch, BatchOptions, EmbeddingsSpec, Vector, plan_texts
from azureinfer.batching._run import Run, adrive, drive

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

    def _run(
        self, route: Route, batches: list[Batch], spec: EmbeddingsSpec, options: BatchOptions
    ) -> Run:
        """A run of ``batches`` on ``route``'s client with ``spec`` less what its model refused,
        remembering a new refusal (with ``drop_rejected=False`` nothing is dropped)."""
        if not self.drop_rejected:
            spec = replace(spec, droppable=frozenset())
            return Run(self.client(route), batches, spec, options)
        dropped = self._dropped.get(route, set()) & spec.droppable
        if dropped:
            spec = spec.without(dropped)

        def remember(name: str) -> None:
            self._dropped.setdefault(route, set()).add(name)

        return Run(self.client(route), batches, spec, options, remember)

    def embed_texts(
        self, texts: Sequence[str], spec: EmbeddingsSpec, options: BatchOptions
    ) -> list[Vector]:
        """`embed_texts` on the ``embeddings`` route."""
        return drive(self._run("embeddings", plan_texts(texts, options), spec, options))

    async def aembed_texts(
        self, texts: Sequence[str], spec: EmbeddingsSpec, options: BatchOptions
    ) -> list[Vector]:
        """`aembed_texts` on the ``embeddings`` route."""
        return await adrive(self._run("embeddings", plan_texts(texts, options), spec, options))

    async def aembed_batch(self, texts: Sequence[str], spec: EmbeddingsSpec) -> list[Vector]:
        """One request of ``texts`` on the ``embeddings`` route, sent as they are: the caller
        checked and sized them (`validate_texts`, `plan_batches`, as `azureinfer.ray` does);
        with the droppable-parameter fallback."""
        batch = [Batch(0, list(texts))]
        return await adrive(self._run("embeddings", batch, spec, BatchOptions()))

    def embed_images(
        self, images: Sequence[Any], spec: EmbeddingsSpec, options: BatchOptions
    ) -> list[Vector]:
        """`embed_images` on the ``images/embeddings`` route."""
        return drive(self._run("images/embeddings", plan_images(images, options), spec, options))

    async def aembed_images(
        self, images: Sequence[Any], spec: EmbeddingsSpec, options: BatchOptions
    ) -> list[Vector]:
        """`aembed_images` on the ``images/embeddings`` route (files and URLs read in a worker
        thread)."""
        batches = await asyncio.to_thread(plan_images, images, options)
        return await adrive(self._run("images/embeddings", batches, spec, options))

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
