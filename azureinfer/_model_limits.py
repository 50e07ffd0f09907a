"""Context windows and output limits of known model families (no network call).

Frameworks that plan prompts (LlamaIndex's ``LLMMetadata``) need a model's context window
before the first call. The figures below are the model cards' (Azure AI Foundry, Azure OpenAI);
a deployment name is matched by its longest known family prefix, case-insensitively, so
``gpt-4o-mini``, ``gpt-4o-2024-11-20`` and ``GPT-4o`` are all found. A name that matches
nothing gets `DEFAULT_LIMITS` and `unknown_model_hint` says how to set the real figures.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_LIMITS", "MODEL_LIMITS", "ModelLimits", "model_limits", "unknown_model_hint"]


@dataclass(frozen=True)
class ModelLimits:
    """A model's context window and the most tokens it generates in one reply."""

    context_window: int
    max_output_tokens: int


#: Family prefix -> limits (the longest matching prefix wins).
MODEL_LIMITS: dict[str, ModelLimits] = {
    "gpt-4o": ModelLimits(128_000, 16_384),
    "gpt-4.1": ModelLimits(1_047_576, 32_768),
    "gpt-5": ModelLimits(400_000, 128_000),
    "gpt-5-chat": ModelLimits(128_000, 16_384),
    "o1": ModelLimits(200_000, 100_000),
    "o3": ModelLimits(200_000, 100_000),
    "o4-mini": ModelLimits(200_000, 100_000),
    "mistral-large": ModelLimits(131_072, 4_096),
    "mistral-small": ModelLimits(131_072, 4_096),
    "phi-4": ModelLimits(16_384, 4_096),
    "phi-4-mini": ModelLimits(131_072, 4_096),
    "phi-4-multimodal": ModelLimits(131_072, 4_096),
    "phi-4-reasoning": ModelLimits(32_768, 4_096),
    "deepseek-r1": ModelLimits(128_000, 32_768),
    "deepseek-v3": ModelLimits(128_000, 8_192),
    "llama-3.3": ModelLimits(128_000, 4_096),
    "meta-llama-3.1": ModelLimits(128_000, 4_096),
    "cohere-command-r": ModelLimits(128_000, 4_096),
}

#: What an unknown deployment gets: a window every current chat model has.
DEFAULT_LIMITS = ModelLimits(8_192, 1_024)


def model_limits(model: str | None) -> ModelLimits | None:
    """The limits of ``model``'s family, or None when no known family prefix matches."""
    if not model:
        return None
    name = model.strip().lower()
    matches = [prefix for prefix in MODEL_LIMITS if name.startswith(prefix)]
    return MODEL_LIMITS[max(matches, key=len)] if matches else None


def unknown_model_hint(model: str | None) -> str:
    """One line saying which limits an unknown model gets and how to set its own."""
    return (
        f"model {model!r} is not in azureinfer's table of context windows: assuming "
        f"{DEFAULT_LIMITS.context_window} tokens ({DEFAULT_LIMITS.max_output_tokens} for output); "
        "pass context_window= (and num_output=) with your deployment's figures"
    )
