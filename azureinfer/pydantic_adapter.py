"""The Pydantic half of the shared adapter layer (:mod:`azureinfer.adapters`).

LangChain and LlamaIndex classes are Pydantic models, and so, most likely, is a third
framework's. Such a class lists :class:`PydanticConnection` first among its bases to get
the private state :class:`~azureinfer.adapters.ConnectedAdapter` keeps and an API key held as a
``SecretStr``::

    class MyChat(PydanticConnection, ChatAdapter, FrameworkChatModel): ...

This module imports Pydantic (which both frameworks bring); the rest of the core does not.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, PrivateAttr, SecretStr

__all__ = ["PydanticConnection"]


class PydanticConnection(BaseModel):
    """The state of a connected adapter: its client, the connection values the client was made
    from, and the route it detected (:class:`~azureinfer.adapters.ConnectedAdapter`)."""

    _client: Any = PrivateAttr()
    _client_key: tuple[Any, ...] = PrivateAttr(default=())
    _route_detected: str | None = PrivateAttr(default=None)
    _secret: ClassVar[Any] = SecretStr
