"""Deployment family profiles: what one kind of endpoint answers, field by field.

A profile decides ids, stream framing, tool-call framing, error bodies, ``/info`` contents,
content-filter annotations and which routes its endpoint serves. Each catalogue row names the
profile of its own endpoint (`Deployment.profile`); the shared surfaces of a resource answer
every deployment with their own profile: ``/models`` (and ``""``, ``/api/models``) with
``foundry``, ``/openai/deployments/{name}`` with ``azure_openai``, ``/openai/v1`` with
``openai_v1``. Serverless rows (``maas``, ``cohere_embed``) also have an endpoint of their own,
``/serverless/{name}``, that serves that one deployment. The shapes come from the recorded
exchanges in ``shared/reference/recorded-traffic/service-exchanges.json``; ``docs/emulator.md``
shows one exchange per profile.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

__all__ = ["PROFILES", "SURFACE_PROFILES", "Profile"]


@dataclass(frozen=True)
class Profile:
    """How one kind of endpoint answers."""

    name: str
    endpoint: str
    """Path of the endpoint under the server root (``{name}``: the deployment's name)."""
    routes: tuple[str, ...]
    """The API routes the endpoint serves."""
    one_model: bool = False
    """The endpoint serves one deployment: the body's `model` is not read, and the routes of the
    other kinds answer 404 ``text/plain`` "NOT FOUND" (serverless endpoints)."""
    completion_id: Literal["hex32", "chatcmpl29", "chatcmpl24"] = "chatcmpl24"
    """``hex32``: 32 hex digits (MaaS); ``chatcmpl29``: ``chatcmpl-`` + 29 alphanumerics (Azure
    OpenAI); ``chatcmpl24``: ``chatcmpl-`` + 24 hex digits (the emulator's Foundry shape)."""
    embeddings_id: Literal["uuid", "embd", "none"] = "embd"
    """``uuid`` (MaaS Cohere), ``embd-...`` (Foundry), or no `id` at all (OpenAI's shape)."""
    filter_annotations: bool = False
    """Azure OpenAI's full `content_filter_results` per choice, `prompt_filter_results` (with
    `jailbreak`), `message.refusal: null`, `system_fingerprint` and the full usage details."""
    stream_filter_first: bool = False
    """Streams start with ``{"id": "", "choices": [], ..., "prompt_filter_results": [...]}``."""
    stream_usage: Literal["finish_chunk", "when_asked", "by_deployment"] = "by_deployment"
    """``finish_chunk``: usage always on the chunk with `finish_reason`; ``when_asked``: in a last
    ``choices: []`` chunk only with ``stream_options.include_usage: true``; ``by_deployment``:
    the row's `usage_profile` decides (the Foundry shape)."""
    finish_delta_content: bool = False
    """The chunk with `finish_reason` carries ``delta: {"content": ""}`` (else ``delta: {}``)."""
    whole_tool_calls: bool = False
    """Streamed tool calls come whole, one chunk for all of them, without `index` or `type`, with
    `finish_reason` (and usage) on that chunk; else OpenAI-style fragments with `index`."""
    completion_logprobs: bool = True
    """Completion choices carry ``logprobs: null`` (MaaS completions have no such key)."""
    tool_call_content: Literal["null", "empty"] = "null"
    """`content` beside `tool_calls` in a completion: null, or ``""`` (MaaS)."""
    function_call_id: bool = False
    """Each tool call's `function` carries ``call_id: null`` (MaaS)."""
    embeddings_served_name: bool = False
    """Embeddings name the provider's model (`Deployment.served_model_name`), e.g.
    ``embed-english-v3.0``, and report ``usage.completion_tokens: 0``."""
    info_served: bool = False
    """``/info`` adds `served_model_name` and `served_model_type`; embeddings models report
    ``model_type: "embedding"``."""
    auth_error: Literal["azure", "maas"] = "azure"
    """``maas``: 401 ``{"statusCode": 401, "message": "Auth token validation failed. ..."}``;
    ``azure``: ``{"error": {"code": "401", "message": "Access denied ..."}}``."""
    error_envelope: Literal["azure", "openai_v1"] = "azure"
    """``azure``: the Model Inference envelope (422 validation details); ``openai_v1``: the
    OpenAI/v1 envelopes (see `_errors.for_v1`)."""
    headers: tuple[tuple[str, str], ...] = ()
    """Fixed headers of every successful answer."""
    stream_content_type: str = "text/event-stream"
    """The Content-Type of streams."""


_ALL = ("chat", "embeddings", "images/embeddings", "info")

_AZURE_OPENAI = Profile(
    name="azure_openai",
    endpoint="/openai/deployments/{name}",
    routes=("chat", "embeddings", "images/embeddings"),
    completion_id="chatcmpl29",
    embeddings_id="none",
    filter_annotations=True,
    stream_filter_first=True,
    stream_usage="when_asked",
    headers=(("x-ms-region", "Emulator"),),
)

PROFILES: dict[str, Profile] = {
    "maas": Profile(
        name="maas",
        endpoint="/serverless/{name}",
        routes=("chat", "info"),
        one_model=True,
        completion_id="hex32",
        embeddings_id="uuid",
        stream_usage="finish_chunk",
        finish_delta_content=True,
        whole_tool_calls=True,
        completion_logprobs=False,
        tool_call_content="empty",
        function_call_id=True,
        info_served=True,
        auth_error="maas",
        stream_content_type="text/event-stream; charset=utf-8",
    ),
    "cohere_embed": Profile(
        name="cohere_embed",
        endpoint="/serverless/{name}",
        routes=("embeddings", "images/embeddings", "info"),
        one_model=True,
        completion_id="hex32",
        embeddings_id="uuid",
        embeddings_served_name=True,
        info_served=True,
        auth_error="maas",
    ),
    "azure_openai": _AZURE_OPENAI,
    "foundry": Profile(name="foundry", endpoint="/models", routes=_ALL),
    # The same OpenAI backend as an Azure OpenAI deployment URL, with the OpenAI error envelopes.
    "openai_v1": replace(
        _AZURE_OPENAI,
        name="openai_v1",
        endpoint="/openai/v1",
        routes=("chat", "embeddings", "models"),
        error_envelope="openai_v1",
    ),
}
"""The family profiles by name (a catalogue row's `profile` is one of these keys)."""

SURFACE_PROFILES = {"models": "foundry", "deployments": "azure_openai", "v1": "openai_v1"}
"""The profile of each shared surface (the ``serverless`` surface uses the row's own)."""
