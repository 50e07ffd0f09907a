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
    """Adds ``get_model_info`` / ``aget_model_info`` (``_closeable`` must answer them; the
    object's ``model`` attribute names the deployment)."""

    def get_model_info(self) -> dict[str, Any]:
        """What the endpoint tells about the model: ``GET /info`` on the model-inference route
        (name, type, provider), the deployment's entry of ``GET /models`` on the OpenAI/v1
        route (``id``, ``owned_by``, ...; ``ModelNotFoundError`` if it is not listed).

        Only this method (and :meth:`aget_model_info`) asks; the answer is cached.
        """
        info: dict[str, Any] = self._closeable.get_model_info(getattr(self, "model", None))
        return info

    async def aget_model_info(self) -> dict[str, Any]:
        """Async :meth:`get_model_info` (shares the cache)."""
        closeable = self._closeable
        info: dict[str, Any] = await closeable.aget_model_info(getattr(self, "model", None))
        return info
