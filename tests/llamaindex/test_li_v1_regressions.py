"""Regressions on the v1 route for LlamaIndex users (reference file ``openai-v1-route.md``)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatMessage, ThinkingBlock

from azureinfer.emulator import Emulator
from llamaindex_azureinfer import AzureInference

HELLO = [ChatMessage(role="user", content="Hello there")]


@pytest.mark.parametrize("model", ["mistral-large", "phi-4", "deepseek-r1"])
def test_non_openai_models_work_on_v1(emu: Emulator, model: str) -> None:
    """llama-index-llms-azure-openai refuses non-OpenAI model names."""
    llm = AzureInference(endpoint=emu.v1_endpoint, credential=emu.key, model=model)
    reply = llm.chat(HELLO)
    assert reply.message.content and emu.requests[-1].body["model"] == model
    assert emu.requests[-1].path == "/openai/v1/chat/completions"
    # any name is accepted, and metadata never calls the network
    named = AzureInference(
        endpoint=emu.v1_endpoint, credential=emu.key, model="Llama-3.3-70B-Instruct"
    )
    assert named.metadata.model_name == "Llama-3.3-70B-Instruct"
    assert len(emu.requests) == 1


def test_reasoning_and_async_across_event_loops_on_v1(emu: Emulator) -> None:
    llm = AzureInference(endpoint=emu.v1_endpoint, credential=emu.key, model="deepseek-r1")

    async def chat() -> Any:
        return await llm.achat(HELLO)

    async def stream() -> Any:
        chunks = [chunk async for chunk in await llm.astream_chat(HELLO)]
        return chunks[-1]

    for _ in range(2):  # a new event loop each time
        reply = asyncio.run(chat())
        assert any(isinstance(b, ThinkingBlock) for b in reply.message.blocks)
        last = asyncio.run(stream())
        assert last.additional_kwargs["total_tokens"] > 0  # stream usage on v1
        assert any(isinstance(b, ThinkingBlock) for b in last.message.blocks)
