"""End to end through the real SDK over HTTP against the emulator: chains, agents, structured
output, events, concurrency."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import pytest
from langchain.agents import create_agent
from langchain.agents.structured_output import ProviderStrategy, ToolStrategy
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.tools import tool
from pydantic import BaseModel, Field
from pydantic import v1 as pydantic_v1
from typing_extensions import TypedDict

from azureinfer.emulator import Emulator
from langchain_azureinfer import ChatAzureInference


@tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"It is sunny in {city}."


@tool
def get_population(city: str) -> int:
    """Get the population of a city."""
    return 2_100_000


class CityReport(BaseModel):
    """A short report about a city."""

    city: str = Field(description="The city name")
    summary: str = Field(description="One sentence about the city")


class CityReportV1(pydantic_v1.BaseModel):
    """A short report about a city."""

    city: str = pydantic_v1.Field(description="The city name")
    summary: str = pydantic_v1.Field(description="One sentence about the city")


class CityReportDict(TypedDict):
    """A short report about a city."""

    city: Annotated[str, ..., "The city name"]
    summary: Annotated[str, ..., "One sentence about the city"]


CITY_REPORT_SCHEMA = CityReport.model_json_schema()
PROMPT = "Write a report about 'Paris' with the summary 'City of light'."


def test_lcel_chain_prompt_model_parser(chat: ChatAzureInference, emu: Emulator) -> None:
    prompt = ChatPromptTemplate.from_messages(
        [("system", "You answer in one sentence."), ("human", "Tell me about {topic}.")]
    )
    chain = prompt | chat | StrOutputParser()
    answer = chain.invoke({"topic": "otters"})
    assert isinstance(answer, str)
    assert "otters" in answer
    body = emu.requests_for("chat")[-1].body
    assert body["messages"] == [
        {"role": "system", "content": "You answer in one sentence."},
        {"role": "user", "content": "Tell me about otters."},
    ]
    assert [piece for piece in chain.stream({"topic": "seals"})]


def _check_agent_run(messages: list[Any]) -> None:
    tool_messages = [m for m in messages if isinstance(m, ToolMessage)]
    assert {m.name for m in tool_messages} == {"get_weather", "get_population"}
    final = messages[-1]
    assert isinstance(final, AIMessage)
    assert not final.tool_calls
    assert "tool results" in final.text


def test_create_agent_two_tools_loop_to_final_answer(
    chat: ChatAzureInference, emu: Emulator
) -> None:
    agent = create_agent(chat, tools=[get_weather, get_population])
    result = agent.invoke(
        {"messages": [HumanMessage("Use get_weather and get_population for 'Paris'.")]}
    )
    _check_agent_run(result["messages"])
    second = emu.requests_for("chat")[-1].body["messages"]
    assert [m["role"] for m in second][-3:] == ["assistant", "tool", "tool"]


def test_create_agent_two_tools_streamed(chat: ChatAzureInference) -> None:
    agent = create_agent(chat, tools=[get_weather, get_population])
    tokens: list[str] = []
    final_state: dict[str, Any] = {}
    for mode, payload in agent.stream(
        {"messages": [HumanMessage("Use get_weather and get_population for 'Paris'.")]},
        stream_mode=["messages", "values"],
    ):
        if mode == "messages":
            chunk, _meta = payload
            tokens.append(chunk.text)
        else:
            final_state = payload
    assert "".join(tokens)
    _check_agent_run(final_state["messages"])


async def test_create_agent_two_tools_async_streamed(chat: ChatAzureInference) -> None:
    agent = create_agent(chat, tools=[get_weather, get_population])
    final_state: dict[str, Any] = {}
    async for state in agent.astream(
        {"messages": [HumanMessage("Use get_weather and get_population for 'Paris'.")]},
        stream_mode="values",
    ):
        final_state = state
    _check_agent_run(final_state["messages"])
    await chat.aclose()


@pytest.mark.parametrize(
    "response_format",
    [CityReport, ProviderStrategy(CityReport), ToolStrategy(CityReport)],
    ids=["auto", "provider", "tool"],
)
def test_create_agent_with_response_format(
    chat: ChatAzureInference, emu: Emulator, response_format: Any
) -> None:
    agent = create_agent(chat, tools=[get_weather], response_format=response_format)
    result = agent.invoke({"messages": [HumanMessage(PROMPT)]})
    report = result["structured_response"]
    assert isinstance(report, CityReport)
    assert report.city == "Paris"
    bodies = [r.body for r in emu.requests_for("chat")]
    if isinstance(response_format, ToolStrategy):
        assert bodies[-1]["tool_choice"] == "required"
    else:  # the provider strategy sends a dict json_schema response_format (anchor bug)
        assert bodies[-1]["response_format"]["type"] == "json_schema"
        assert bodies[-1]["response_format"]["json_schema"]["name"] == "CityReport"


SCHEMAS = [
    pytest.param(CityReport, id="pydantic-v2"),
    pytest.param(CityReportV1, id="pydantic-v1"),
    pytest.param(CityReportDict, id="typeddict"),
    pytest.param(CITY_REPORT_SCHEMA, id="json-schema-dict"),
]
METHODS = ["function_calling", "json_schema", "json_mode"]


def _check_report(result: Any, schema: Any) -> None:
    if isinstance(schema, type) and issubclass(schema, (BaseModel, pydantic_v1.BaseModel)):
        assert isinstance(result, schema)
        data = result.dict() if isinstance(result, pydantic_v1.BaseModel) else result.model_dump()
    else:
        assert isinstance(result, dict)
        data = result
    assert data["city"] == "Paris"
    assert "summary" in data


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("schema", SCHEMAS)
def test_with_structured_output_every_method_and_schema_kind(
    chat: ChatAzureInference, emu: Emulator, schema: Any, method: str
) -> None:
    structured = chat.with_structured_output(schema, method=method)  # type: ignore[arg-type]
    _check_report(structured.invoke(PROMPT), schema)
    body = emu.requests_for("chat")[-1].body
    if method == "function_calling":
        assert body["tool_choice"]["type"] == "function"
    elif method == "json_schema":
        assert body["response_format"]["type"] == "json_schema"
        assert body["response_format"]["json_schema"]["schema"]["properties"].keys() == {
            "city",
            "summary",
        }
    else:
        assert body["response_format"] == {"type": "json_object"}
        assert "'city', 'summary'" in body["messages"][0]["content"]


@pytest.mark.parametrize("method", METHODS)
async def test_with_structured_output_include_raw_async(
    chat: ChatAzureInference, method: str
) -> None:
    structured = chat.with_structured_output(CityReport, method=method, include_raw=True)  # type: ignore[arg-type]
    out = await structured.ainvoke(PROMPT)
    assert isinstance(out["raw"], AIMessage)
    assert out["parsing_error"] is None
    _check_report(out["parsed"], CityReport)
    await chat.aclose()


def test_with_structured_output_include_raw_keeps_parsing_errors(
    chat: ChatAzureInference, emu: Emulator
) -> None:
    emu.script_reply("gpt-4o", content="this is not JSON")
    structured = chat.with_structured_output(CityReport, method="json_schema", include_raw=True)
    out = structured.invoke(PROMPT)
    assert out["parsed"] is None
    assert out["parsing_error"] is not None
    assert out["raw"].content == "this is not JSON"


def test_with_structured_output_strict_makes_the_schema_strict(
    chat: ChatAzureInference, emu: Emulator
) -> None:
    chat.with_structured_output(CityReport, method="json_schema", strict=True).invoke(PROMPT)
    spec = emu.requests_for("chat")[-1].body["response_format"]["json_schema"]
    assert spec["strict"] is True
    assert spec["schema"]["additionalProperties"] is False
    chat.with_structured_output(CityReport, method="function_calling", strict=True).invoke(PROMPT)
    fn = emu.requests_for("chat")[-1].body["tools"][0]["function"]
    assert fn["strict"] is True


async def test_astream_events_lifecycle(chat: ChatAzureInference) -> None:
    kinds: list[str] = []
    streamed = ""
    async for event in chat.astream_events("hello events", version="v2"):
        kinds.append(event["event"])
        if event["event"] == "on_chat_model_stream":
            streamed += event["data"]["chunk"].text
        if event["event"] == "on_chat_model_end":
            output = event["data"]["output"]
            assert output.usage_metadata["total_tokens"] > 0
            assert output.response_metadata["model_name"].startswith("gpt-4o")
    assert kinds[0] == "on_chat_model_start"
    assert kinds[-1] == "on_chat_model_end"
    assert kinds.count("on_chat_model_stream") > 2
    assert "hello events" in streamed
    await chat.aclose()


async def test_fifty_concurrent_ainvoke_on_one_instance(
    chat: ChatAzureInference, emu: Emulator
) -> None:
    emu.configure(latency=0.05)
    prompts = [f"request number {i}" for i in range(50)]
    results = await asyncio.gather(*(chat.ainvoke(p) for p in prompts))
    for prompt, result in zip(prompts, results, strict=True):
        assert prompt in result.text
    assert len({r.id for r in results}) == 50
    assert len(emu.requests_for("chat")) == 50
    await chat.aclose()


def test_batch_and_abatch(chat: ChatAzureInference) -> None:
    out = chat.batch(["one", "two", "three"])
    assert [m.text.rsplit(": ", 1)[-1] for m in out] == ["one", "two", "three"]

    async def run() -> list[Any]:
        try:
            return await chat.abatch(["four", "five"])
        finally:
            await chat.aclose()

    out = asyncio.run(run())
    assert [m.text.rsplit(": ", 1)[-1] for m in out] == ["four", "five"]


def test_tool_call_arguments_keep_unicode(chat: ChatAzureInference, emu: Emulator) -> None:
    msg = chat.bind_tools([get_weather], tool_choice="get_weather").invoke(
        "Weather for '東京' please"
    )
    assert msg.tool_calls[0]["args"] == {"city": "東京"}
    follow_up = [
        HumanMessage("Weather for '東京' please"),
        msg,
        ToolMessage("sunny", tool_call_id=msg.tool_calls[0]["id"]),
    ]
    chat.invoke(follow_up)
    raw = emu.requests_for("chat")[-1].body["messages"][1]["tool_calls"][0]["function"]["arguments"]
    assert json.loads(raw) == {"city": "東京"}
    assert "東京" in raw


_PIXEL_PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQ"
    "AAAABJRU5ErkJggg=="
)


@tool
def take_snapshot(city: str) -> list[dict[str, Any]]:
    """Take a picture of a city's skyline."""
    return [
        {"type": "text", "text": f"Snapshot of {city}"},
        {"type": "image", "base64": _PIXEL_PNG, "mime_type": "image/png"},
    ]


def test_create_agent_tool_returning_an_image_reaches_a_final_answer(
    chat: ChatAzureInference, emu: Emulator
) -> None:
    agent = create_agent(chat, tools=[take_snapshot])
    result = agent.invoke({"messages": [HumanMessage("Use take_snapshot for 'Paris'.")]})
    final = result["messages"][-1]
    assert isinstance(final, AIMessage)
    assert not final.tool_calls
    assert "Snapshot of Paris" in final.text
    calls = emu.requests_for("chat")
    assert len(calls) == 2  # one tool call, then the answer: no loop back to the tool
    relayed = calls[-1].body["messages"][-1]
    assert relayed["role"] == "user"
    assert any(part.get("type") == "image_url" for part in relayed["content"])
