"""``metadata`` from the core's table of model families: real windows, a hint for unknown ones."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from llama_index.core import Document, VectorStoreIndex

from azureinfer._model_limits import DEFAULT_LIMITS, MODEL_LIMITS, model_limits
from llamaindex_azureinfer import AzureInference, AzureInferenceEmbedding


def _llm(emu: Any, **kwargs: Any) -> AzureInference:
    return AzureInference(endpoint=emu.endpoint, credential=emu.key, **kwargs)


@pytest.mark.parametrize(
    ("model", "window", "output"),
    [
        ("gpt-4o", 128_000, 16_384),
        ("GPT-4o-2024-11-20", 128_000, 16_384),
        ("gpt-4o-mini", 128_000, 16_384),
        ("mistral-large", 131_072, 4_096),
        ("phi-4", 16_384, 4_096),
        ("Phi-4-mini-instruct", 131_072, 4_096),  # the longest family prefix wins
        ("deepseek-r1", 128_000, 32_768),
    ],
)
def test_known_deployments_get_their_family_limits(
    emu: Any, model: str, window: int, output: int
) -> None:
    meta = _llm(emu, model=model).metadata
    assert (meta.context_window, meta.num_output) == (window, output)
    assert emu.requests == []  # metadata never touches the network


def test_the_emulator_catalogue_agrees_with_the_table(emu: Any) -> None:
    chat = [d for d in emu.catalogue if d.kind == "chat"]
    assert chat
    for deployment in chat:
        limits = model_limits(deployment.name)
        assert limits is not None, deployment.name
        assert limits.context_window == deployment.context_window, deployment.name


def test_explicit_values_win(emu: Any) -> None:
    meta = _llm(emu, model="gpt-4o", context_window=32_000, max_tokens=512).metadata
    assert (meta.context_window, meta.num_output) == (32_000, 512)
    # A window smaller than the family's keeps room for the prompt: output at most a quarter.
    assert _llm(emu, model="gpt-4o", context_window=8_000).metadata.num_output == 2_000
    assert _llm(emu, model="gpt-4o", num_output=99, max_tokens=512).metadata.num_output == 99


def test_an_unknown_model_gets_the_default_and_one_hint(
    emu: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="llamaindex_azureinfer"):
        llm = _llm(emu, model="my-finetune-prod")
        known = _llm(emu, model="gpt-4o")
        explicit = _llm(emu, model="my-finetune-prod", context_window=64_000)
    meta = llm.metadata
    assert (meta.context_window, meta.num_output) == (
        DEFAULT_LIMITS.context_window,
        DEFAULT_LIMITS.max_output_tokens,
    )
    (record,) = caplog.records  # the known and the explicit ones say nothing
    assert "'my-finetune-prod'" in record.getMessage()
    assert "pass context_window=" in record.getMessage()
    assert "\n" not in record.getMessage()
    assert known.metadata.context_window == 128_000 and explicit.metadata.context_window == 64_000


def test_every_family_is_documented_in_the_readme() -> None:
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    for family, limits in MODEL_LIMITS.items():
        assert (
            f"| `{family}` | {limits.context_window:,} | {limits.max_output_tokens:,} |" in readme
        )


@pytest.fixture
def own_event_loop() -> Iterator[None]:
    """A loop for LlamaIndex's sync ``asyncio_run`` (token counting), closed after the test."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield
    asyncio.set_event_loop(None)
    loop.close()


def _rag_chat_calls(emu: Any, **llm_kwargs: Any) -> int:
    conn = {"endpoint": emu.endpoint, "credential": emu.key}
    topics = ["returns", "shipping", "warranty", "payments"]
    documents = [
        Document(
            text=" ".join(f"Our {topic} policy sentence {i} explains a detail." for i in range(90))
        )
        for topic in topics
    ]
    index = VectorStoreIndex.from_documents(
        documents, embed_model=AzureInferenceEmbedding(model="text-embedding-3-small", **conn)
    )
    engine = index.as_query_engine(llm=_llm(emu, **llm_kwargs), similarity_top_k=4)
    emu.clear()
    engine.query("What do the policies say?")
    return len(emu.requests_for("chat"))


def test_a_rag_query_over_a_few_documents_is_one_chat_call(emu: Any, own_event_loop: None) -> None:
    assert _rag_chat_calls(emu, model="gpt-4o") == 1
    # The old defaults (3,900 tokens, 256 for output) made LlamaIndex refine over several calls.
    assert _rag_chat_calls(emu, model="gpt-4o", context_window=3_900, num_output=256) > 1
