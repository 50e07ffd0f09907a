"""ChatAzureInference against every chat profile of the emulator: streams, tool calls, errors.

Each profile frames its answers as its family of real endpoints does (docs/emulator.md,
"Deployment profiles"): MaaS sends `delta: {"content": ""}` on the finish chunk and tool calls
whole in one frame without `index`; Azure OpenAI starts streams with a `choices: []`
prompt-filter chunk; the Foundry shape is OpenAI fragments. The same tests run on each.
"""

from __future__ import annotations

from typing import Any

import profiles_support
import pytest
from langchain_core.messages import AIMessageChunk, HumanMessage, ToolMessage
from langchain_core.tools import tool
from profiles_support import CHAT_PROFILES, PROFILE_IDS, ProfileCase

from azureinfer.emulator import Emulator
from azureinfer.errors import AuthenticationError, ContentFilterError, RateLimitError
from langchain_azureinfer import ChatAzureInference

get_weather = tool(profiles_support.get_weather)
get_population = tool(profiles_support.get_population)


class Case(ProfileCase):
    def chat(self, **kwargs: Any) -> ChatAzureInference:
        kwargs.setdefault("credential", self.emu.key)
        return ChatAzureInference(
            model=self.deployment, endpoint=self.endpoint, max_retries=0, **kwargs
        )


@pytest.fixture(params=CHAT_PROFILES, ids=PROFILE_IDS)
def case(request: pytest.FixtureRequest, emu: Emulator) -> Case:
    return Case.on(emu, *request.param)


def _joined(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk  # type: ignore[assignment]
    return total


def test_stream_text_usage_and_finish(case: Case) -> None:
    chat = case.chat()
    chunks = list(chat.stream("Hello there"))
    case.served_here()
    total = _joined(chunks)
    assert total.content == f"Emulated reply from {case.deployment}: Hello there"
    assert [c.usage_metadata is not None for c in chunks].count(True) == 1
    assert total.usage_metadata is not None
    assert total.usage_metadata["input_tokens"] == 2
    assert total.usage_metadata["total_tokens"] == (
        total.usage_metadata["input_tokens"] + total.usage_metadata["output_tokens"]
    )
    assert total.response_metadata["finish_reason"] == "stop"
    assert chat.invoke("Hello there").content == total.content


async def test_astream_text(case: Case) -> None:
    chat = case.chat()
    chunks = [c async for c in chat.astream("Hello there")]
    assert _joined(chunks).content == f"Emulated reply from {case.deployment}: Hello there"
    case.served_here()


def test_stream_tool_calls(case: Case) -> None:
    """Parallel tool calls streamed (whole frames on MaaS, fragments elsewhere)."""
    chat = case.chat().bind_tools([get_weather, get_population])
    chunks = list(chat.stream("Weather and population of Paris?"))
    case.served_here()
    total = _joined(chunks)  # type: ignore[arg-type]
    assert [(c["name"], c["args"]) for c in total.tool_calls] == [
        ("get_weather", {"city": "Paris"}),
        ("get_population", {"city": "Paris"}),
    ]
    assert len({c["id"] for c in total.tool_calls}) == 2
    assert total.invalid_tool_calls == []
    assert total.response_metadata["finish_reason"] == "tool_calls"
    assert total.usage_metadata is not None and total.usage_metadata["total_tokens"] > 0


async def test_astream_tool_call(case: Case) -> None:
    chat = case.chat().bind_tools([get_weather])
    chunks = [c async for c in chat.astream("What is the weather in Seattle?")]
    total = _joined(chunks)  # type: ignore[arg-type]
    assert [(c["name"], c["args"]) for c in total.tool_calls] == [
        ("get_weather", {"city": "Seattle"})
    ]


def test_tool_call_round_trip(case: Case) -> None:
    """invoke -> tool call (MaaS: `content: ""`, `call_id: null`) -> tool result -> answer."""
    chat = case.chat().bind_tools([get_weather])
    question = HumanMessage("What is the weather in Seattle?")
    first = chat.invoke([question])
    assert first.content == ""
    assert [(c["name"], c["args"]) for c in first.tool_calls] == [
        ("get_weather", {"city": "Seattle"})
    ]
    assert first.response_metadata["finish_reason"] == "tool_calls"
    call = first.tool_calls[0]
    result = ToolMessage(get_weather.invoke(call["args"]), tool_call_id=call["id"])
    final = chat.invoke([question, first, result])
    assert final.content == f"Emulated reply from {case.deployment}: tool results: Sunny in Seattle"
    case.served_here()


def test_errors(case: Case) -> None:
    """A bad key, a filtered prompt and a 429 give the typed errors on every profile."""
    with pytest.raises(AuthenticationError) as auth:
        case.chat(credential="wrong-key").invoke("Hello")
    assert auth.value.status_code == 401
    chat = case.chat()
    with pytest.raises(ContentFilterError):
        chat.invoke("EMULATOR_FILTER_PROMPT_VIOLENCE")
    with pytest.raises(ContentFilterError):
        list(chat.stream("EMULATOR_FILTER_PROMPT"))
    case.emu.inject_fault("status", status=429, retry_after=7)
    with pytest.raises(RateLimitError) as limited:
        list(chat.stream("Hello"))
    assert limited.value.retry_after == 7
    assert [r.status for r in case.emu.requests_for("chat")] == [401, 400, 400, 429]
