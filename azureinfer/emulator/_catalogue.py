"""The emulator's deployment catalogue: what each emulated deployment accepts and reports.

`DEFAULT_CATALOGUE` mirrors the real model families on Azure AI Foundry and their
differences (tool support, structured output, system messages, reasoning, embedding options);
each row names the family profile of its own endpoint (`_profiles.PROFILES`).
The table in `docs/emulator.md` documents it for users.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

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


_OPENAI_CHAT = {
    "kind": "chat",
    "model_type": "chat-completion",
    "provider": "OpenAI",
    "tools": True,
    "json_object": True,
    "json_schema": True,
    "images": True,
    "audio_input": True,
    "audio_output": True,
    "usage_profile": "openai",
    "profile": "azure_openai",
}

DEFAULT_CATALOGUE: tuple[Deployment, ...] = (
    Deployment(name="gpt-4o", model_name="gpt-4o-2024-11-20", **_OPENAI_CHAT),  # type: ignore[arg-type]
    Deployment(name="gpt-4o-mini", model_name="gpt-4o-mini-2024-07-18", **_OPENAI_CHAT),  # type: ignore[arg-type]
    Deployment(
        name="mistral-large",
        kind="chat",
        model_name="mistral-large-2411",
        model_type="chat-completion",
        provider="Mistral",
        tools=True,
        json_object=True,
        json_schema=False,
        context_window=131072,
        profile="maas",
        served_model_name="mistral-large-2411",
        v1_extras=("safe_prompt", "random_seed"),
    ),
    Deployment(
        name="phi-4",
        kind="chat",
        model_name="Phi-4",
        model_type="chat-completion",
        provider="Microsoft",
        system_messages=False,
        developer_messages=False,
        context_window=16384,
    ),
    Deployment(
        name="deepseek-r1",
        kind="chat",
        model_name="DeepSeek-R1",
        model_type="chat-completion",
        provider="DeepSeek",
        reasoning=True,
        context_window=128000,
        v1_extras=("top_k",),
    ),
    Deployment(
        name="text-embedding-3-small",
        kind="embeddings",
        model_name="text-embedding-3-small",
        model_type="embeddings",
        provider="OpenAI",
        dimensions=1536,
        variable_dimensions=True,
        input_type=False,
        profile="azure_openai",
        max_inputs=2048,
        max_input_tokens=8191,
        context_window=8191,
    ),
    Deployment(
        name="cohere-embed-v3-english",
        kind="embeddings",
        model_name="Cohere-embed-v3-english",
        model_type="embeddings",
        provider="Cohere",
        dimensions=1024,
        variable_dimensions=False,
        input_type=True,
        max_inputs=96,
        max_input_tokens=512,
        context_window=512,
        profile="cohere_embed",
        served_model_name="embed-english-v3.0",
        v1_extras=("input_type", "truncate"),
    ),
    Deployment(
        name="embed-v-4-0",
        kind="image_embeddings",
        model_name="embed-v-4-0",
        model_type="image-embeddings",
        provider="Cohere",
        dimensions=1536,
        variable_dimensions=True,
        input_type=True,
        max_inputs=96,
        max_input_tokens=128000,
        text_in_image_embeddings=True,
        context_window=128000,
        v1_extras=("input_type", "truncate"),
    ),
)


def find(catalogue: Iterable[Deployment], name: str) -> Deployment | None:
    """Return the deployment called `name` (case-insensitive), or None."""
    wanted = name.strip().lower()
    for dep in catalogue:
        if dep.name.lower() == wanted:
            return dep
    return None
