"""``fold_system_messages`` on LlamaIndex, as on LangChain: a context chat engine on Phi."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.messages import HumanMessage, SystemMessage
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.llms import ChatMessage
from llama_index.core.memory import ChatMemoryBuffer

from azureinfer.errors import UnsupportedParameterError
from langchain_azureinfer import ChatAzureInference
from llamaindex_azureinfer import AzureInference, AzureInferenceEmbedding

DOCS = [
    "Returns are accepted within 30 days of delivery.",
    "Standard shipping takes 3 to 5 business days.",
]
QUESTION = "How many days do I have to return an item?"


@pytest.fixture
def own_event_loop() -> Iterator[None]:
    """A loop for LlamaIndex's sync ``asyncio_run`` (the engine's token counting), closed after.

    Without it, that helper creates a loop with ``get_event_loop()``, leaves it as the thread's
    loop and never closes it; it is then collected during a later async test.
    """
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield
    asyncio.set_event_loop(None)
    loop.close()


def _engine(emu: Any, **llm_kwargs: Any) -> Any:
    conn = {"endpoint": emu.endpoint, "credential": emu.key}
    index = VectorStoreIndex.from_documents(
        [Document(text=t) for t in DOCS],
        embed_model=AzureInferenceEmbedding(model="cohere-embed-v3-english", **conn),
    )
    llm = AzureInference(model="phi-4", max_retries=0, **conn, **llm_kwargs)
    # A ChatMemoryBuffer: the default SQLite-backed Memory leaves an aiosqlite connection open.
    memory = ChatMemoryBuffer.from_defaults(token_limit=8000)
    return index.as_chat_engine(chat_mode="context", llm=llm, memory=memory, similarity_top_k=1)


def test_phi_refuses_the_system_message_a_context_chat_engine_sends(emu: Any) -> None:
    llm = AzureInference(model="phi-4", endpoint=emu.endpoint, credential=emu.key, max_retries=0)
    system = ChatMessage(role="system", content="Use the context information below.")
    with pytest.raises(UnsupportedParameterError, match="does not support system messages"):
        llm.chat([system, ChatMessage(role="user", content=QUESTION)])


def test_folded_context_chat_engine_sends_the_context_in_the_user_message(
    emu: Any, own_event_loop: None
) -> None:
    reply = _engine(emu, fold_system_messages=True).chat(QUESTION)
    (body,) = [r.body for r in emu.requests_for("chat") if r.status == 200]
    assert [m["role"] for m in body["messages"]] == ["user"]
    content = body["messages"][0]["content"]
    assert DOCS[0] in content and content.endswith(QUESTION)  # the context, then the question
    assert content.index(DOCS[0]) < content.index(QUESTION)
    assert DOCS[0] in str(reply)


async def test_folding_also_applies_to_async_streams(emu: Any) -> None:
    llm = AzureInference(
        model="phi-4", endpoint=emu.endpoint, credential=emu.key, fold_system_messages=True
    )
    messages = [
        ChatMessage(role="system", content="Be brief."),
        ChatMessage(role="user", content="Hi"),
    ]
    text = "".join([c.delta or "" async for c in await llm.astream_chat(messages)])
    assert text
    assert emu.requests_for("chat")[-1].body["messages"] == [
        {"role": "user", "content": "Be brief.\n\nHi"}
    ]
    await llm.aclose()


def test_both_frameworks_fold_the_same_way(emu: Any) -> None:
    conn = {"endpoint": emu.endpoint, "credential": emu.key, "model": "phi-4"}
    ChatAzureInference(fold_system_messages=True, **conn).invoke(
        [SystemMessage("Rule one."), SystemMessage("Rule two."), HumanMessage("Question?")]
    )
    AzureInference(fold_system_messages=True, **conn).chat(
        [
            ChatMessage(role="system", content="Rule one."),
            ChatMessage(role="system", content="Rule two."),
            ChatMessage(role="user", content="Question?"),
        ]
    )
    langchain, llamaindex = (r.body["messages"] for r in emu.requests_for("chat"))
    assert (
        langchain
        == llamaindex
        == [{"role": "user", "content": "Rule one.\n\nRule two.\n\nQuestion?"}]
    )
