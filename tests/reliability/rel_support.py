"""Shared settings for the reliability suite: small timeouts, fast retries, adapter factories.

Imported by the ``test_rel_*`` modules (pytest puts this folder on ``sys.path``).
"""

from __future__ import annotations

from typing import Any

from azureinfer.emulator import Emulator
from langchain_azureinfer import AzureInferenceEmbeddings, ChatAzureInference
from llamaindex_azureinfer import AzureInference, AzureInferenceEmbedding

#: Retries per call in the suite (so "exhausted" means MAX_RETRIES + 1 attempts).
MAX_RETRIES = 2
#: Read timeout per attempt, seconds: small so a slow answer costs little.
TIMEOUT = 0.3
#: Backoff small enough that retries cost milliseconds; wait budget bounds any Retry-After.
FAST_RETRY: dict[str, Any] = {
    "retry_backoff_factor": 0.01,
    "retry_backoff_max": 0.05,
    "retry_max_wait": 5.0,
}
CHAT_MODEL = "gpt-4o"
EMBED_MODEL = "cohere-embed-v3-english"


def lc_chat(emu: Emulator, **kwargs: Any) -> ChatAzureInference:
    """A LangChain chat model on the emulator with the suite's timeouts and retries."""
    opts: dict[str, Any] = {
        "model": CHAT_MODEL,
        "endpoint": emu.endpoint,
        "credential": emu.key,
        "timeout": TIMEOUT,
        "max_retries": MAX_RETRIES,
        "client_kwargs": dict(FAST_RETRY),
    }
    opts.update(kwargs)
    return ChatAzureInference(**opts)


def li_chat(emu: Emulator, **kwargs: Any) -> AzureInference:
    """A LlamaIndex LLM on the emulator with the suite's timeouts and retries."""
    opts: dict[str, Any] = {
        "model": CHAT_MODEL,
        "endpoint": emu.endpoint,
        "credential": emu.key,
        "timeout": TIMEOUT,
        "max_retries": MAX_RETRIES,
        "client_kwargs": dict(FAST_RETRY),
    }
    opts.update(kwargs)
    return AzureInference(**opts)


def lc_embed(emu: Emulator, **kwargs: Any) -> AzureInferenceEmbeddings:
    """LangChain embeddings on the emulator with the suite's timeouts and retries."""
    opts: dict[str, Any] = {
        "model": EMBED_MODEL,
        "endpoint": emu.endpoint,
        "credential": emu.key,
        "timeout": TIMEOUT,
        "max_retries": MAX_RETRIES,
        "client_kwargs": dict(FAST_RETRY),
    }
    opts.update(kwargs)
    return AzureInferenceEmbeddings(**opts)


def li_embed(emu: Emulator, **kwargs: Any) -> AzureInferenceEmbedding:
    """LlamaIndex embeddings on the emulator with the suite's timeouts and retries."""
    opts: dict[str, Any] = {
        "model_name": EMBED_MODEL,
        "endpoint": emu.endpoint,
        "credential": emu.key,
        "timeout": TIMEOUT,
        "max_retries": MAX_RETRIES,
        "client_kwargs": dict(FAST_RETRY),
    }
    opts.update(kwargs)
    return AzureInferenceEmbedding(**opts)
