"""The azure-core policies the clients add to the SDK's pipeline: the network trace log without
the secrets, and the bearer-token policy for an Entra ID credential (with a sync credential made
usable by the async client). The transport builds clients with these; it only moves bytes."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from azure.core.pipeline.policies import NetworkTraceLoggingPolicy

from azureinfer.settings import _SECRET_HEADERS


class RedactingNetworkTraceLoggingPolicy(NetworkTraceLoggingPolicy):
    """azure-core's network trace policy (``logging_enable=True``), minus the secrets.

    azure-core logs every request header verbatim at DEBUG there, after the credential policy
    added ``api-key`` and ``Authorization``; this one logs them as ``REDACTED``.
    """

    def on_request(self, request: Any) -> None:
        enabled = request.context.options.get("logging_enable", self.enable_http_logger)
        if not (enabled and _http_logger.isEnabledFor(logging.DEBUG)):
            super().on_request(request)  # logs nothing; only records the option
            return
        headers = request.http_request.headers
        saved = {k: headers[k] for k in list(headers) if k.lower() in _SECRET_HEADERS}
        for key in saved:
            headers[key] = "REDACTED"
        try:
            super().on_request(request)
        finally:
            for key, value in saved.items():
                headers[key] = value


# The logger azure-core's NetworkTraceLoggingPolicy writes to.
_http_logger = logging.getLogger(NetworkTraceLoggingPolicy.__module__)


def redacting_trace_policy(logging_enable: bool) -> Any:
    return RedactingNetworkTraceLoggingPolicy(logging_enable=logging_enable)


class AsyncFromSyncCredential:
    """Use a sync TokenCredential from the async client without blocking the event loop."""

    def __init__(self, credential: Any) -> None:
        self._credential = credential

    async def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        if hasattr(self._credential, "get_token"):
            return await asyncio.to_thread(self._credential.get_token, *scopes, **kwargs)
        from azure.core.credentials import AccessToken

        info = await asyncio.to_thread(self._credential.get_token_info, *scopes)
        return AccessToken(info.token, info.expires_on)

    async def close(self) -> None:
        """Nothing to close: the user's credential is theirs."""

    async def __aenter__(self) -> AsyncFromSyncCredential:
        return self

    async def __aexit__(self, *args: Any) -> None:
        return None


@dataclass
class PendingAuth:
    """A bearer-token policy waiting for the credential of the client being built."""

    is_async: bool
    scopes: tuple[str, ...]

    def build(self, credential: Any) -> Any:
        from azure.core.pipeline.policies import (
            AsyncBearerTokenCredentialPolicy,
            BearerTokenCredentialPolicy,
        )

        cls = AsyncBearerTokenCredentialPolicy if self.is_async else BearerTokenCredentialPolicy
        return cls(credential, *self.scopes)


def auth_policy(is_async: bool, scopes: tuple[str, ...]) -> PendingAuth:
    return PendingAuth(is_async, tuple(scopes))
