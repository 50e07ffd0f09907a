"""azureinfer: Azure's model endpoints (OpenAI/v1 and Model Inference) for LangChain and LlamaIndex.

Framework-free core: connection settings and routes, client lifecycle, wire requests, response
and stream parsing, typed errors and retries, embedding batching, and a local emulator of both
routes.

Public names are imported lazily (PEP 562), so ``import azureinfer`` stays cheap; the SDK and
azure-identity are only imported when a client first sends a request.

The core on its own (the adapters are thin layers over exactly this)::

    from azureinfer import ChatClient, build_chat_request, resolve_settings

    settings = resolve_settings()  # AZURE_INFERENCE_ENDPOINT / AZURE_INFERENCE_CREDENTIAL
    with ChatClient(settings) as client:
        request = build_chat_request(
            [{"role": "user", "content": "Hello!"}], model="gpt-4o", temperature=0
        )
        print(client.complete(request).content)
        with client.stream(request) as stream:
            for chunk in stream:
                print(chunk.content, end="")
            print(stream.result().usage)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from azureinfer._exports import lazy_exports
from azureinfer._version import __version__

if TYPE_CHECKING:
    from azureinfer.errors import (
        APIConnectionError,
        APIStatusError,
        APITimeoutError,
        AuthenticationError,
        AzureInferenceError,
        ConfigurationError,
        ContentFilterError,
        EmbeddingsResponseError,
        IncompleteStreamError,
        ModelNotFoundError,
        RateLimitError,
        RequestTooLargeError,
        ServiceError,
        UnsupportedParameterError,
    )
    from azureinfer.request import (
        WireRequest,
        build_chat_request,
        build_embeddings_request,
        build_response_format,
    )
    from azureinfer.response import (
        ChatChunk,
        ChatResult,
        EmbeddingsResult,
        InvalidToolCall,
        ToolCall,
        ToolCallChunk,
        Usage,
    )
    from azureinfer.settings import AzureInferenceWarning, ConnectionSettings, resolve_settings
    from azureinfer.streaming import AsyncChatStream, ChatStream, StreamAccumulator
    from azureinfer.transport import ChatClient, EmbeddingsClient

_EXPORTS: dict[str, str] = {
    # settings
    "AzureInferenceWarning": "azureinfer.settings",
    "ConnectionSettings": "azureinfer.settings",
    "resolve_settings": "azureinfer.settings",
    # requests
    "WireRequest": "azureinfer.request",
    "build_chat_request": "azureinfer.request",
    "build_embeddings_request": "azureinfer.request",
    "build_response_format": "azureinfer.request",
    # results
    "ChatChunk": "azureinfer.response",
    "ChatResult": "azureinfer.response",
    "EmbeddingsResult": "azureinfer.response",
    "InvalidToolCall": "azureinfer.response",
    "StreamAccumulator": "azureinfer.streaming",
    # streams (what ChatClient.stream / astream return)
    "AsyncChatStream": "azureinfer.streaming",
    "ChatStream": "azureinfer.streaming",
    "ToolCall": "azureinfer.response",
    "ToolCallChunk": "azureinfer.response",
    "Usage": "azureinfer.response",
    # clients
    "ChatClient": "azureinfer.transport",
    "EmbeddingsClient": "azureinfer.transport",
    # errors
    "APIConnectionError": "azureinfer.errors",
    "APIStatusError": "azureinfer.errors",
    "APITimeoutError": "azureinfer.errors",
    "AuthenticationError": "azureinfer.errors",
    "AzureInferenceError": "azureinfer.errors",
    "ConfigurationError": "azureinfer.errors",
    "ContentFilterError": "azureinfer.errors",
    "EmbeddingsResponseError": "azureinfer.errors",
    "IncompleteStreamError": "azureinfer.errors",
    "ModelNotFoundError": "azureinfer.errors",
    "RateLimitError": "azureinfer.errors",
    "RequestTooLargeError": "azureinfer.errors",
    "ServiceError": "azureinfer.errors",
    "UnsupportedParameterError": "azureinfer.errors",
}

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncChatStream",
    "AuthenticationError",
    "AzureInferenceError",
    "AzureInferenceWarning",
    "ChatChunk",
    "ChatClient",
    "ChatResult",
    "ChatStream",
    "ConfigurationError",
    "ConnectionSettings",
    "ContentFilterError",
    "EmbeddingsClient",
    "EmbeddingsResponseError",
    "EmbeddingsResult",
    "IncompleteStreamError",
    "InvalidToolCall",
    "ModelNotFoundError",
    "RateLimitError",
    "RequestTooLargeError",
    "ServiceError",
    "StreamAccumulator",
    "ToolCall",
    "ToolCallChunk",
    "UnsupportedParameterError",
    "Usage",
    "WireRequest",
    "__version__",
    "build_chat_request",
    "build_embeddings_request",
    "build_response_format",
    "resolve_settings",
]


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
