"""The emulator's deployment catalogue: what each emulated deployment accepts and reports.

`DEFAULT_CATALOGUE` mirrors the real model families on Azure AI Foundry and their
differences (tool support, structured output, system messages, reasoning, embedding options);
each row names the family profile of its own endpoint (`_profiles.PROFILES`).
The table in `docs/emulator.md` documents it for users.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from azureinfer.emulator._profiles import PROFILES

__all__ = ["DEFAULT_CATALOGUE", "Deployment", "find"]


@dataclass(frozen=True)
class Deployment:
    """One emulated deployment and the features it supports."""

    name: str
    """Lower-case routing name, e.g. ``"gpt-4o"``."""
    kind: Literal["chat", "embeddings", "image_embeddings"]
    model_name: str
    """What ``/info`` reports as ``model_name``."""
    model_type: str
    """``/info`` ``model_type``: ``chat-completion``, ``embeddings`` or ``image-embeddings``."""
    provider: str
    """``/info`` ``model_provider_name``."""
    tools: bool = False
    json_object: bool = False
    json_schema: bool = False
    images: bool = False
    audio_input: bool = False
    audio_output: bool = False
    system_messages: bool = True
    developer_messages: bool = True
    reasoning: bool = False
    usage_profile: Literal["openai", "maas"] = "maas"
    """``openai``: stream usage in a separate ``choices: []`` chunk; ``maas``: on the last chunk."""
    dimensions: int = 0
    """Embeddings: native vector size (0 for chat deployments)."""
    variable_dimensions: bool = False
    input_type: bool = False
    max_inputs: int = 2048
    max_input_tokens: int = 8191
    text_in_image_embeddings: bool = False
    context_window: int = 128000
    """Chat: prompts with more tokens get 400 `context_length_exceeded`."""
    v1_extras: tuple[str, ...] = ()
    """Body arguments beyond the OpenAI set that this deployment takes on ``/openai/v1`` (any
    other unknown argument gets 400 "Unrecognized request argument supplied")."""
    profile: str = "foundry"
    """The family profile of the deployment's own endpoint (a key of `_profiles.PROFILES`:
    ``maas``, ``cohere_embed``, ``azure_openai`` or ``foundry``)."""
    served_model_name: str | None = None
    """The provider's model name (serverless ``/info`` `served_model_name`; Cohere embeddings
    answer with it as `model`); None: `model_name`."""

    def __post_init__(self) -> None:
        if self.profile not in PROFILES or self.profile == "openai_v1":
            names = ", ".join(repr(p) for p in PROFILES if p != "openai_v1")
            raise ValueError(
                f"Deployment {self.name!r}: unknown profile {self.profile!r}; use one of {names}"
            )


_MODEL_TYPES = {
    "chat": "chat-completion",
    "embeddings": "embeddings",
    "image_embeddings": "image-embeddings",
}


def _row(
    kind: Literal["chat", "embeddings", "image_embeddings"],
    name: str,
    model_name: str,
    provider: str,
    **differences: Any,
) -> Deployment:
    """A catalogue row: `/info`'s `model_type` follows from `kind`; `differences` are the
    features in which the model departs from the `Deployment` defaults."""
    model_type = _MODEL_TYPES[kind]
    return Deployment(name, kind, model_name, model_type, provider, **differences)


_OPENAI_CHAT: dict[str, Any] = {
    "tools": True,
    "json_object": True,
    "json_schema": True,
    "images": True,
    "audio_input": True,
    "audio_output": True,
    "usage_profile": "openai",
    "profile": "azure_openai",
}
_COHERE_EMBED: dict[str, Any] = {
    "input_type": True,
    "max_inputs": 96,
    "v1_extras": ("input_type", "truncate"),
}

DEFAULT_CATALOGUE: tuple[Deployment, ...] = (
    _row("chat", "gpt-4o", "gpt-4o-2024-11-20", "OpenAI", **_OPENAI_CHAT),
    _row("chat", "gpt-4o-mini", "gpt-4o-mini-2024-07-18", "OpenAI", **_OPENAI_CHAT),
    _row(
        "chat",
        "mistral-large",
        "mistral-large-2411",
        "Mistral",
        tools=True,
        json_object=True,
        context_window=131072,
        profile="maas",
        served_model_name="mistral-large-2411",
        v1_extras=("safe_prompt", "random_seed"),
    ),
    _row(
        "chat",
        "phi-4",
        "Phi-4",
        "Microsoft",
        system_messages=False,
        developer_messages=False,
        context_window=16384,
    ),
    _row("chat", "deepseek-r1", "DeepSeek-R1", "DeepSeek", reasoning=True, v1_extras=("top_k",)),
    _row(
        "embeddings",
        "text-embedding-3-small",
        "text-embedding-3-small",
        "OpenAI",
        dimensions=1536,
        variable_dimensions=True,
        context_window=8191,
        profile="azure_openai",
    ),
    _row(
        "embeddings",
        "cohere-embed-v3-english",
        "Cohere-embed-v3-english",
        "Cohere",
        dimensions=1024,
        max_input_tokens=512,
        context_window=512,
        profile="cohere_embed",
        served_model_name="embed-english-v3.0",
        **_COHERE_EMBED,
    ),
    _row(
        "image_embeddings",
        "embed-v-4-0",
        "embed-v-4-0",
        "Cohere",
        dimensions=1536,
        variable_dimensions=True,
        max_input_tokens=128000,
        text_in_image_embeddings=True,
        **_COHERE_EMBED,
    ),
)


def find(catalogue: Iterable[Deployment], name: str) -> Deployment | None:
    """Return the deployment called `name` (case-insensitive), or None."""
    wanted = name.strip().lower()
    for dep in catalogue:
        if dep.name.lower() == wanted:
            return dep
    return None
