"""Regressions for the defects of the OpenAI-SDK integrations on the v1 route (reference file
``openai-v1-route.md``), each checked on our classes against the emulator's ``/openai/v1``."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from pydantic import BaseModel

from azureinfer.emulator import Emulator
from langchain_azureinfer import AzureInferenceEmbeddings, ChatAzureInference


class Weather(BaseModel):
    """Weather in a city."""

    city: str


def _chat(emu: Emulator, model: str = "gpt-4o") -> ChatAzureInference:
    return ChatAzureInference(endpoint=emu.v1_endpoint, credential=emu.key, model=model)


def test_async_calls_work_after_a_new_event_loop(emu: Emulator) -> None:
    """AzureAIOpenAIApiChatModel: 'Event loop is closed' in every async test after the first."""
    llm = _chat(emu)
    tools = llm.bind_tools([Weather], tool_choice="any")
    structured = llm.with_structured_output(Weather, method="json_schema")

    async def stream() -> str:
        return "".join([str(c.content) async for c in llm.astream("Hello")])

    for _ in range(2):  # each asyncio.run is a new event loop
        assert asyncio.run(llm.ainvoke("Hello")).content
        assert asyncio.run(stream())
        assert asyncio.run(tools.ainvoke("Weather in Paris?")).tool_calls
        assert isinstance(asyncio.run(structured.ainvoke("Weather in Paris?")), Weather)
    assert {r.status for r in emu.requests} == {200}
    assert {r.api for r in emu.requests} == {"openai_v1"}


def test_model_info_is_the_deployments_entry_of_the_model_list(emu: Emulator) -> None:
    llm = _chat(emu, "mistral-large")
    assert llm.get_model_info()["id"] == "mistral-large"
    assert asyncio.run(llm.aget_model_info())["owned_by"]  # cached: one request
    assert [r.path for r in emu.requests] == ["/openai/v1/models"]


def test_streams_report_usage_on_a_custom_base_url(emu: Emulator) -> None:
    """ChatOpenAI(base_url=...) does not ask for stream usage."""
    llm = _chat(emu)
    usage = [c.usage_metadata for c in llm.stream("Hello") if c.usage_metadata]
    assert len(usage) == 1 and usage[0]["total_tokens"] > 0
    assert emu.requests[-1].body["stream_options"] == {"include_usage": True}


def test_reasoning_content_is_kept(emu: Emulator) -> None:
    """ChatOpenAI(base_url=...) drops DeepSeek's reasoning_content."""
    llm = _chat(emu, "deepseek-r1")
    message = llm.invoke("Why is the sky blue?")
    assert message.additional_kwargs["reasoning_content"]
    full: Any = None
    for chunk in llm.stream("Why is the sky blue?"):
        full = chunk if full is None else full + chunk
    assert (
        full.additional_kwargs["reasoning_content"]
        == message.additional_kwargs["reasoning_content"]
    )


def test_non_openai_embeddings_are_sent_as_text(
    emu: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    """OpenAIEmbeddings sends tiktoken token ids unless check_embedding_ctx_length=False."""
    cohere = AzureInferenceEmbeddings(
        endpoint=emu.v1_endpoint, credential=emu.key, model="cohere-embed-v3-english"
    )
    texts = ["The capital of Atlantis is Poseidonia.", "Another text"]
    assert len(cohere.embed_documents(texts)) == 2
    assert emu.requests[-1].body["input"] == texts
    assert emu.requests[-1].body["input_type"] == "document"  # Cohere takes it on v1
    # An OpenAI model refuses input_type on v1: asked again without it, one WARNING, remembered.
    emu.clear()
    openai_model = AzureInferenceEmbeddings(
        endpoint=emu.v1_endpoint, credential=emu.key, model="text-embedding-3-small"
    )
    with caplog.at_level(logging.INFO, logger="azureinfer"):
        openai_model.embed_documents(texts)
        openai_model.embed_query("a query")
    assert [(r.status, "input_type" in r.body) for r in emu.requests] == [
        (400, True),
        (200, False),
        (200, False),
    ]
    assert [r.levelname for r in caplog.records] == ["WARNING"]
