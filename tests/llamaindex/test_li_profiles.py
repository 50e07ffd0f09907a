"""AzureInference against every chat profile of the emulator: streams, tool calls, errors.

Each profile frames its answers as its family of real endpoints does (docs/emulator.md,
"Deployment profiles"): MaaS sends `delta: {"content": ""}` on the finish chunk and tool calls
whole in one frame without `index`; Azure OpenAI starts streams with a `choices: []`
prompt-filter chunk; the Foundry shape is OpenAI fragments. The same tests run on each.
"""

from __future__ import annotations

from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.tools import FunctionTool
from profiles_support import CHAT_PROFILES, PROFILE_IDS, ProfileCase, get_population, get_weather

from azureinfer.emulator import Emulator
from azureinfer.errors import AuthenticationError, ContentFilterError, RateLimitError
from llamaindex_azureinfer import AzureInference

WEATHER = FunctionTool.from_defaults(get_weather)
POPULATION = FunctionTool.from_defaults(get_population)


class Case(ProfileCase):
    def llm(self, **kwargs: Any) -> AzureInference:
        kwargs.setdefault("credential", self.emu.key)
        return AzureInference(
            model=self.deployment, endpoint=self.endpoint, max_retries=0, **kwargs
        )


@pytest.fixture(params=CHAT_PROFILES, ids=PROFILE_IDS)
def case(request: pytest.FixtureRequest, emu: Emulator) -> Case:
    return Case.on(emu, *request.param)


def test_stream_chat_text_usage_and_finish(case: Case) -> None:
    with case.llm() as llm:
        chunks = list(llm.stream_chat([ChatMessage(role="user", content="Hello there")]))
        case.served_here()
        text = "".join(c.delta or "" for c in chunks)
        assert text == f"Emulated reply from {case.deployment}: Hello there"
        last = chunks[-1]
        assert last.message.content == text
        assert last.additional_kwargs["finish_reason"] == "stop"
        usage = last.additional_kwargs["usage"]
        assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0
        assert all("usage" not in c.additional_kwargs for c in chunks[:-1])
        assert llm.chat([ChatMessage(role="user", content="Hello there")]).message.content == text


async def test_astream_chat(case: Case) -> None:
    async with case.llm() as llm:
        gen = await llm.astream_chat([ChatMessage(role="user", content="Hello there")])
        chunks = [c async for c in gen]
    assert chunks[-1].message.content == f"Emulated reply from {case.deployment}: Hello there"
    case.served_here()


def test_stream_chat_with_tools(case: Case) -> None:
    """Parallel tool calls streamed (whole frames on MaaS, fragments elsewhere)."""
    with case.llm() as llm:
        chunks = list(
            llm.stream_chat_with_tools(
                [WEATHER, POPULATION],
                user_msg="Weather and population of Paris?",
                allow_parallel_tool_calls=True,
            )
        )
        case.served_here()
        last = chunks[-1]
        calls = llm.get_tool_calls_from_response(last)
    assert [(c.tool_name, c.tool_kwargs) for c in calls] == [
        ("get_weather", {"city": "Paris"}),
        ("get_population", {"city": "Paris"}),
    ]
    assert len({c.tool_id for c in calls}) == 2
    assert last.additional_kwargs["finish_reason"] == "tool_calls"
    assert last.additional_kwargs["usage"]["total_tokens"] > 0


async def test_astream_chat_with_tools(case: Case) -> None:
    async with case.llm() as llm:
        gen = await llm.astream_chat_with_tools(
            [WEATHER], user_msg="What is the weather in Seattle?"
        )
        chunks = [c async for c in gen]
        (call,) = llm.get_tool_calls_from_response(chunks[-1])
    assert (call.tool_name, call.tool_kwargs) == ("get_weather", {"city": "Seattle"})


def test_tool_call_round_trip(case: Case) -> None:
    """chat_with_tools -> tool call (MaaS: `content: ""`, `call_id: null`) -> tool result ->
    the final answer."""
    with case.llm() as llm:
        question = ChatMessage(role="user", content="What is the weather in Seattle?")
        first = llm.chat_with_tools([WEATHER], chat_history=[question])
        (call,) = llm.get_tool_calls_from_response(first)
        assert (call.tool_name, call.tool_kwargs) == ("get_weather", {"city": "Seattle"})
        assert not first.message.content
        assert first.additional_kwargs["finish_reason"] == "tool_calls"
        result = ChatMessage(
            role="tool",
            content=get_weather(**call.tool_kwargs),
            additional_kwargs={"tool_call_id": call.tool_id, "name": call.tool_name},
        )
        final = llm.chat([question, first.message, result])
        case.served_here()
    assert final.message.content == (
        f"Emulated reply from {case.deployment}: tool results: Sunny in Seattle"
    )


def test_errors(case: Case) -> None:
    """A bad key, a filtered prompt and a 429 give the typed errors on every profile."""
    with case.llm(credential="wrong-key") as bad, pytest.raises(AuthenticationError) as auth:
        bad.complete("Hello")
    assert auth.value.status_code == 401
    with case.llm() as llm:
        with pytest.raises(ContentFilterError):
            llm.chat([ChatMessage(role="user", content="EMULATOR_FILTER_PROMPT_VIOLENCE")])
        with pytest.raises(ContentFilterError):
            list(llm.stream_chat([ChatMessage(role="user", content="EMULATOR_FILTER_PROMPT")]))
        case.emu.inject_fault("status", status=429, retry_after=7)
        with pytest.raises(RateLimitError) as limited:
            list(llm.stream_complete("Hello"))
    assert limited.value.retry_after == 7
    assert [r.status for r in case.emu.requests_for("chat")] == [401, 400, 400, 429]
