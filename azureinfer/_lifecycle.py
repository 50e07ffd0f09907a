"""Framework-free lifecycle mixins for the adapters' classes that own core clients.

A class that holds a core client (``ChatClient``, ``EmbeddingsClient``, an ``Embedder``) and
exposes it as the ``_closeable`` property gets ``close``/``aclose`` and the sync and async
context managers from :class:`ClientLifecycle`, and ``get_model_info``/``aget_model_info`` from
:class:`ModelInfo` when the client answers those. Works with plain classes and Pydantic models
(LangChain and LlamaIndex classes alike: they define none of these names).
"""

from __future__ import annotations

from typing import Any, TypeVar

__all__ = ["ClientLifecycle", "ModelInfo"]

_T = TypeVar("_T")


class ClientLifecycle:
    """``close``, ``aclose`` and the (async) context managers, delegated to ``_closeable``."""

    @property
    def _closeable(self) -> Any:
        """The object whose ``close()`` / ``await aclose()`` release the HTTP clients."""
        raise NotImplementedError(f"{type(self).__name__} must define the _closeable property")

    def close(self) -> None:
        """Close the HTTP clients (a later call opens new ones)."""
        self._closeable.close()

    async def aclose(self) -> None:
        """Close the HTTP clients, including the async client of the running event loop."""
        await self._closeable.aclose()

    def __enter__(self: _T) -> _T:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self: _T) -> _T:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class ModelInfo(ClientLifecycle):
    """Adds ``get_model_info`` / ``aget_model_info`` (``_closeable`` must answer them)."""

    def get_model_info(self) -> dict[str, Any]:
        """``GET /info``: the endpoint's model name, type and provider.

        Only this method (and :meth:`aget_model_info`) calls ``/info``; the answer is cached.
        """
        info: dict[str, Any] = self._closeable.get_model_info()
        return info

    async def aget_model_info(self) -> dict[str, Any]:
        """Async :meth:`get_model_info` (shares the cache)."""
        info: dict[str, Any] = await self._closeable.aget_model_info()
        return info
