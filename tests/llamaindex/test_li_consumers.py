"""The LlamaIndex consumer matrix (reference §3b), each driven end to end against the emulator,
on both routes (``endpoint`` comes from ``route_endpoint``; every request is checked against the
route's wire)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from llama_index.core import Document, Settings, VectorStoreIndex
from llama_index.core.agent.workflow import AgentWorkflow, FunctionAgent, ReActAgent
from llama_index.core.base.llms.types import ChatMessage, MessageRole, ToolCallBlock
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.memory import ChatMemoryBuffer, Memory
from llama_index.core.prompts import PromptTemplate
from llama_index.core.tools import FunctionTool
from pydantic import BaseModel

from llamaindex_azureinfer import AzureInference

# llama-index-workflows inspects agents with inspect.getmembers, which touches pydantic's
# deprecated `__fields__` / `__fields_set__`; those warnings are theirs, not ours.
pytestmark = pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecationWarning")


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


class Song(BaseModel):
    """A song."""

    title: str
    year: int


@pytest.fixture
def endpoint(route_endpoint: Any) -> str:
    """The emulator's endpoint of the route under test (model inference, then OpenAI/v1)."""
    return str(route_endpoint.endpoint)


@pytest.fixture
async def allm(emu: Any, endpoint: str) -> Any:
    model = AzureInference(endpoint=endpoint, credential=emu.key, model="gpt-4o")
    yield model
    await model.aclose()


@pytest.fixture
def llm(emu: Any, endpoint: str) -> Any:
    model = AzureInference(endpoint=endpoint, credential=emu.key, model="gpt-4o")
    yield model
    model.close()


@pytest.fixture
async def memories() -> Any:
    """Memory.from_defaults factory; closes the in-memory SQLite engines it created."""
    made: list[Memory] = []

    def factory(**kwargs: Any) -> Memory:
        kwargs.setdefault("token_limit", 40000)
        memory = Memory.from_defaults(**kwargs)
        made.append(memory)
        return memory

    yield factory
    for memory in made:
        engine = memory.sql_store._async_engine
        if engine is not None:
            await engine.dispose()


def _bodies(emu: Any) -> list[dict[str, Any]]:
    return [r.body for r in emu.requests_for("chat")]


# -- agents -------------------------------------------------------------------------------------


@pytest.mark.parametrize("streaming", [True, False])
async def test_function_agent_two_tools_reaches_final_answer(
    allm: Any, emu: Any, memories: Any, streaming: bool
) -> None:
    agent = FunctionAgent(tools=[add, multiply], llm=allm, streaming=streaming)
    result = await agent.run(
        user_msg="Please add 2 and 3, and multiply 4 and 5.", memory=memories()
    )
    text = str(result)
    assert "tool results" in text
    assert "5" in text and "20" in text
    names = sorted(t.tool_name for t in result.tool_calls)
    assert names == ["add", "multiply"]
    bodies = _bodies(emu)
    assert len(bodies) == 2
    assert all(b.get("stream") is (True if streaming else None) for b in bodies)
    second = bodies[1]["messages"]
    assistant = next(m for m in second if m["role"] == "assistant")
    assert sorted(c["function"]["name"] for c in assistant["tool_calls"]) == ["add", "multiply"]
    tool_msgs = [m for m in second if m["role"] == "tool"]
    assert {m["tool_call_id"] for m in tool_msgs} == {c["id"] for c in assistant["tool_calls"]}
    assert sorted(m["content"] for m in tool_msgs) == ["20", "5"]
    assert all(set(m) <= {"role", "content", "tool_calls", "tool_call_id"} for m in second)


async def test_function_agent_initial_tool_choice(allm: Any, emu: Any, memories: Any) -> None:
    agent = FunctionAgent(tools=[add, multiply], llm=allm, initial_tool_choice="multiply")
    await agent.run(user_msg="Please add 2 and 3.", memory=memories())
    first = _bodies(emu)[0]
    assert first["tool_choice"] == {"type": "function", "function": {"name": "multiply"}}


async def test_agent_workflow_from_tools_or_functions_picks_function_agent(
    allm: Any, emu: Any, memories: Any
) -> None:
    workflow = AgentWorkflow.from_tools_or_functions([add, multiply], llm=allm)
    agent = next(iter(workflow.agents.values()))
    assert isinstance(agent, FunctionAgent) and not isinstance(agent, ReActAgent)
    result = await workflow.run(user_msg="add 2 and 3", memory=memories())
    assert "tool results: 5" in str(result)
    assert "tools" in _bodies(emu)[0]


async def test_memory_persists_tool_call_history_to_json_and_back(
    allm: Any, emu: Any, memories: Any
) -> None:
    memory = memories(session_id="s1")
    agent = FunctionAgent(tools=[add, multiply], llm=allm)
    await agent.run(user_msg="add 2 and 3", memory=memory)
    messages = await memory.aget_all()
    assert any(isinstance(b, ToolCallBlock) for m in messages for b in m.blocks)
    dumped = json.dumps([m.model_dump(mode="json") for m in messages])
    restored = [ChatMessage.model_validate(m) for m in json.loads(dumped)]
    assert restored == messages
    memory2 = memories(session_id="s2", chat_history=restored)
    emu.clear()
    result = await agent.run(user_msg="now multiply 4 and 5", memory=memory2)
    assert "20" in str(result)
    history = _bodies(emu)[0]["messages"]
    roles = [m["role"] for m in history]
    assert roles.count("tool") >= 1 and "assistant" in roles
    replayed = next(m for m in history if m["role"] == "assistant" and m.get("tool_calls"))
    assert replayed["tool_calls"][0]["function"]["name"] == "add"
    assert replayed["tool_calls"][0]["type"] == "function"


# -- structured output --------------------------------------------------------------------------

PROMPT = PromptTemplate("Name a song about {topic}.")


def test_structured_predict_uses_function_calling_by_default(llm: Any, emu: Any) -> None:
    song = llm.structured_predict(Song, PROMPT, topic="rain")
    assert isinstance(song, Song)
    (body,) = _bodies(emu)
    assert body["tools"][0]["function"]["name"] == "Song"
    assert body["tool_choice"] == "required"


async def test_astructured_predict(allm: Any, emu: Any) -> None:
    song = await allm.astructured_predict(Song, PROMPT, topic="rain")
    assert isinstance(song, Song)
    assert _bodies(emu)[0]["tool_choice"] == "required"


def test_stream_structured_predict(llm: Any, emu: Any) -> None:
    parts = list(llm.stream_structured_predict(Song, PROMPT, topic="rain"))
    assert parts
    final = Song.model_validate(parts[-1].model_dump())
    assert isinstance(final.year, int)
    assert _bodies(emu)[0]["stream"] is True


def test_as_structured_llm_returns_pydantic_object(llm: Any) -> None:
    sllm = llm.as_structured_llm(Song)
    resp = sllm.chat([ChatMessage(role="user", content="a song about rain")])
    assert isinstance(resp.raw, Song)
    assert Song.model_validate_json(resp.message.content) == resp.raw


@pytest.mark.parametrize("method", ["sync", "async", "stream"])
async def test_structured_predict_native_json_schema(emu: Any, endpoint: str, method: str) -> None:
    llm = AzureInference(
        endpoint=endpoint,
        credential=emu.key,
        model="gpt-4o",
        structured_output_method="json_schema",
    )
    async with llm:
        if method == "sync":
            song = llm.structured_predict(Song, PROMPT, topic="rain")
        elif method == "async":
            song = await llm.astructured_predict(Song, PROMPT, topic="rain")
        else:
            song = Song.model_validate(
                list(llm.stream_structured_predict(Song, PROMPT, topic="rain"))[-1].model_dump()
            )
    assert isinstance(song, Song)
    (body,) = _bodies(emu)
    assert "tools" not in body
    rf = body["response_format"]
    assert rf["type"] == "json_schema" and rf["json_schema"]["strict"] is True
    assert rf["json_schema"]["schema"]["additionalProperties"] is False


def test_predict_and_call(llm: Any, emu: Any) -> None:
    tools = [FunctionTool.from_defaults(add), FunctionTool.from_defaults(multiply)]
    resp = llm.predict_and_call(tools, user_msg="multiply 6 and 7")
    assert resp.sources[0].tool_name == "multiply"
    assert resp.response == str(resp.sources[0].raw_output)
    assert _bodies(emu)[0]["tools"]


# -- RAG ----------------------------------------------------------------------------------------


@pytest.fixture
def index() -> VectorStoreIndex:
    docs = [
        Document(text="The capital of Atlantis is Poseidonia."),
        Document(text="Emulators answer deterministically."),
    ]
    return VectorStoreIndex.from_documents(docs, embed_model=MockEmbedding(embed_dim=8))


def test_query_engine_plain_and_streaming(llm: Any, emu: Any, index: VectorStoreIndex) -> None:
    engine = index.as_query_engine(llm=llm)
    resp = engine.query("What is the capital of Atlantis?")
    assert "capital of Atlantis" in str(resp)
    streaming = index.as_query_engine(llm=llm, streaming=True)
    sresp = streaming.query("What is the capital of Atlantis?")
    text = "".join(sresp.response_gen)
    assert "capital of Atlantis" in text
    b1, b2 = _bodies(emu)
    assert "Poseidonia" in json.dumps(b1["messages"])
    assert b2["stream"] is True
    assert [r.route for r in emu.requests] == ["chat", "chat"]  # never GET /info


async def test_query_engine_aquery(allm: Any, emu: Any, index: VectorStoreIndex) -> None:
    resp = await index.as_query_engine(llm=allm).aquery("What is the capital of Atlantis?")
    assert "capital of Atlantis" in str(resp)
    assert len(_bodies(emu)) == 1


def test_chat_engine(llm: Any, emu: Any, index: VectorStoreIndex) -> None:
    # A ChatMemoryBuffer instead of the default SQLite-backed Memory, whose aiosqlite connection
    # (opened from a sync call) LlamaIndex never closes; the LLM surface used is the same.
    engine = index.as_chat_engine(llm=llm, memory=ChatMemoryBuffer.from_defaults(token_limit=8000))
    first = engine.chat("What is the capital of Atlantis?")
    assert str(first)
    second = engine.stream_chat("And who lives there?")
    assert "".join(second.response_gen)
    bodies = _bodies(emu)
    assert len(bodies) >= 2
    assert bodies[-1]["stream"] is True
    assert bodies[-1]["messages"][0]["role"] == "system"


def test_settings_llm_accepts_instance_and_callback_manager(llm: Any) -> None:
    from llama_index.core.callbacks import CallbackManager

    old = Settings._llm
    try:
        Settings.llm = llm
        assert Settings.llm is llm
        llm.callback_manager = CallbackManager([])
    finally:
        Settings._llm = old
    assert llm.metadata.system_role == MessageRole.SYSTEM


async def test_astream_structured_predict(allm: Any, emu: Any) -> None:
    parts = [p async for p in await allm.astream_structured_predict(Song, PROMPT, topic="rain")]
    assert isinstance(Song.model_validate(parts[-1].model_dump()), Song)
    assert _bodies(emu)[0]["stream"] is True


async def test_react_agent_streams_text_without_tool_api(
    allm: Any, emu: Any, memories: Any
) -> None:
    emu.script_reply("gpt-4o", content="Thought: I can answer without any tool.\nAnswer: 42")
    agent = ReActAgent(tools=[add], llm=allm)
    result = await agent.run(user_msg="What is six times seven?", memory=memories())
    assert "42" in str(result)
    (body,) = _bodies(emu)
    assert body["stream"] is True and "tools" not in body


def test_query_engine_tree_summarize(llm: Any, emu: Any, index: VectorStoreIndex) -> None:
    engine = index.as_query_engine(llm=llm, response_mode="tree_summarize")
    resp = engine.query("What is the capital of Atlantis?")
    assert "capital of Atlantis" in str(resp)
    assert "Poseidonia" in json.dumps(_bodies(emu)[0]["messages"])


async def test_chat_engine_async(allm: Any, emu: Any, index: VectorStoreIndex) -> None:
    engine = index.as_chat_engine(llm=allm, memory=ChatMemoryBuffer.from_defaults(token_limit=8000))
    first = await engine.achat("What is the capital of Atlantis?")
    assert str(first)
    streamed = await engine.astream_chat("And who lives there?")
    text = "".join([t async for t in streamed.async_response_gen()])
    assert text
    bodies = _bodies(emu)
    assert bodies[-1]["stream"] is True


async def test_rag_with_the_projects_own_embedding_model(
    allm: Any, emu: Any, endpoint: str
) -> None:
    from llamaindex_azureinfer import AzureInferenceEmbedding

    embed = AzureInferenceEmbedding(
        endpoint=endpoint, credential=emu.key, model="cohere-embed-v3-english"
    )
    docs = [Document(text="The capital of Atlantis is Poseidonia."), Document(text="Other.")]
    index = await asyncio.to_thread(VectorStoreIndex.from_documents, docs, embed_model=embed)
    resp = await index.as_query_engine(llm=allm, similarity_top_k=1).aquery(
        "What is the capital of Atlantis?"
    )
    assert "Poseidonia" in str(resp)
    routes = [r.route for r in emu.requests]
    assert routes[-1] == "chat" and "embeddings" in routes
    input_types = [r.body.get("input_type") for r in emu.requests_for("embeddings")]
    assert input_types == ["document", "query"]
    close = getattr(embed, "aclose", None)
    if close is not None:
        await close()
