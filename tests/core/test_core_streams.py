"""End to end: streaming through the SDK pipeline with our SSE parser, against the emulator."""

from __future__ import annotations

import json
from typing import Any

import pytest
from core_support import HI, TOOL, WHOLE_COMPLETION

from azureinfer import (
    ChatClient,
    IncompleteStreamError,
    build_chat_request,
    resolve_settings,
)
from azureinfer.emulator import Emulator


@pytest.fixture
def client(azure_inference_emulator: Emulator) -> Any:
    emu = azure_inference_emulator
    with ChatClient(resolve_settings(emu.endpoint, emu.key)) as c:
        yield c


def sse(events: list[Any], *, done: bool = True, sep: str = "\n") -> str:
    lines = [f"data: {json.dumps(e)}{sep}{sep}" for e in events]
    if done:
        lines.append(f"data: [DONE]{sep}{sep}")
    return "".join(lines)


def ev(delta: dict[str, Any] | None, finish: str | None = None, **top: Any) -> dict[str, Any]:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    return {
        "id": "s1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": choices,
        **top,
    }


def test_stream_matches_complete_and_usage_on_the_last_chunk(client: ChatClient) -> None:
    full = client.complete(build_chat_request(HI, model="gpt-4o"))
    chunks = list(client.stream(build_chat_request(HI, model="gpt-4o", stream=True)))
    assert "".join(c.content for c in chunks) == full.content
    assert chunks[-1].finish_reason == "stop"
    with_usage = [c for c in chunks if c.usage is not None]
    assert len(with_usage) == 1 and with_usage[0] is chunks[-1]
    assert chunks[-1].usage.total_tokens == full.usage.total_tokens  # type: ignore[union-attr]
    assert all(c.id == chunks[0].id and c.model for c in chunks)


def test_usage_on_final_chunk_profile(
    client: ChatClient, azure_inference_emulator: Emulator
) -> None:
    chunks = list(client.stream(build_chat_request(HI, model="mistral-large", stream=True)))
    assert chunks[-1].finish_reason == "stop" and chunks[-1].usage is not None
    assert sum(c.usage is not None for c in chunks) == 1


def test_stream_without_usage(client: ChatClient, azure_inference_emulator: Emulator) -> None:
    chunks = list(
        client.stream(build_chat_request(HI, model="gpt-4o", stream=True, stream_usage=False))
    )
    assert azure_inference_emulator.requests[-1].body.get("stream_options") is None
    assert chunks[-1].finish_reason == "stop"


def test_streamed_tool_call_fragments(
    client: ChatClient, azure_inference_emulator: Emulator
) -> None:
    azure_inference_emulator.script_reply(
        "gpt-4o",
        tool_calls=[{"name": "get_weather", "arguments": {"city": "Paris, with a long name"}}],
    )
    chunks = list(client.stream(build_chat_request(HI, model="gpt-4o", tools=[TOOL], stream=True)))
    frags = [f for c in chunks for f in c.tool_call_chunks]
    assert len(frags) > 1 and all(f.index == 0 for f in frags)
    assert json.loads("".join(f.arguments for f in frags)) == {"city": "Paris, with a long name"}
    assert frags[0].name == "get_weather" and frags[0].id
    assert chunks[-1].finish_reason == "tool_calls"


def test_reasoning_stream(client: ChatClient) -> None:
    chunks = list(client.stream(build_chat_request(HI, model="deepseek-r1", stream=True)))
    assert "".join(c.reasoning_content for c in chunks)
    assert "".join(c.content for c in chunks)


def test_truncated_stream_raises(client: ChatClient, azure_inference_emulator: Emulator) -> None:
    azure_inference_emulator.inject_fault("truncate", n_events=3)
    got: list[str] = []
    with pytest.raises(IncompleteStreamError, match="without a finish reason") as info:
        for chunk in client.stream(build_chat_request(HI, model="gpt-4o", stream=True)):
            got.append(chunk.content)
    assert info.value.partial.content == "".join(got)


def test_aborted_connection_mid_stream_raises(
    client: ChatClient, azure_inference_emulator: Emulator
) -> None:
    azure_inference_emulator.inject_fault("truncate", n_events=3, abort=True)
    with pytest.raises(IncompleteStreamError):
        list(client.stream(build_chat_request(HI, model="gpt-4o", stream=True)))


def test_error_event_raises(client: ChatClient, azure_inference_emulator: Emulator) -> None:
    azure_inference_emulator.inject_fault("stream_error", n_events=2)
    with pytest.raises(IncompleteStreamError, match="error event") as info:
        list(client.stream(build_chat_request(HI, model="gpt-4o", stream=True)))
    assert info.value.code


async def test_async_stream_and_errors(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    async with ChatClient(resolve_settings(emu.endpoint, emu.key)) as client:
        chunks = [
            c async for c in client.astream(build_chat_request(HI, model="gpt-4o", stream=True))
        ]
        assert chunks[-1].finish_reason == "stop" and chunks[-1].usage is not None
        emu.inject_fault("truncate", n_events=2)
        with pytest.raises(IncompleteStreamError):
            async for _ in client.astream(build_chat_request(HI, model="gpt-4o", stream=True)):
                pass
        emu.inject_fault("stream_error", n_events=2)
        with pytest.raises(IncompleteStreamError, match="error event"):
            async for _ in client.astream(build_chat_request(HI, model="gpt-4o", stream=True)):
                pass


@pytest.mark.parametrize("mode", ["sse_crlf", "sse_keepalive"])
def test_crlf_and_keepalive_comments_tolerated(
    client: ChatClient, azure_inference_emulator: Emulator, mode: str
) -> None:
    # The SDK's own parser raises ValueError on both (semantic-kernel#11956).
    azure_inference_emulator.configure(**{mode: True})
    chunks = list(client.stream(build_chat_request(HI, model="gpt-4o", stream=True)))
    assert "".join(c.content for c in chunks) and chunks[-1].finish_reason == "stop"


def test_raw_usage_only_chunk_filter_chunk_and_missing_index(
    client: ChatClient, azure_inference_emulator: Emulator
) -> None:
    usage = {"prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5}
    body = sse(
        [
            {
                "id": "",
                "choices": [],
                "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": {}}],
            },
            ev(
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": ""},
                        }
                    ],
                }
            ),
            ev({"tool_calls": [{"function": {"arguments": '{"city": '}}]}),
            ev({"tool_calls": [{"function": {"arguments": '"Oslo"}'}}]}),
            ev({}, "tool_calls"),
            ev(None, usage=usage),
        ],
        sep="\r\n",
    )
    azure_inference_emulator.script_raw(200, body, headers={"Content-Type": "text/event-stream"})
    chunks = list(client.stream(build_chat_request(HI, model="gpt-4o", tools=[TOOL], stream=True)))
    assert chunks[0].extras["prompt_filter_results"][0]["prompt_index"] == 0
    assert chunks[-1].finish_reason == "tool_calls"
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 5
    frags = [f for c in chunks for f in c.tool_call_chunks]
    assert {f.index for f in frags} == {0}
    assert json.loads("".join(f.arguments for f in frags)) == {"city": "Oslo"}


def test_service_that_ignores_stream_still_streams(
    client: ChatClient, azure_inference_emulator: Emulator
) -> None:
    body = WHOLE_COMPLETION
    azure_inference_emulator.script_raw(200, body)
    chunks = list(client.stream(build_chat_request(HI, model="gpt-4o", stream=True)))
    assert [c.content for c in chunks] == ["whole"] and chunks[-1].finish_reason == "stop"


def test_error_status_before_streaming_raises_typed_error(
    client: ChatClient, azure_inference_emulator: Emulator
) -> None:
    from azureinfer import ModelNotFoundError

    with pytest.raises(ModelNotFoundError):
        list(client.stream(build_chat_request(HI, model="no-such-deployment", stream=True)))


def test_breaking_out_early_closes_the_response(client: ChatClient) -> None:
    stream = client.stream(build_chat_request(HI, model="gpt-4o", stream=True))
    first = next(iter(stream))
    assert first is not None
    stream.close()  # type: ignore[attr-defined]
    assert client.complete(build_chat_request(HI, model="gpt-4o")).content


def test_malformed_event_raises(client: ChatClient, azure_inference_emulator: Emulator) -> None:
    azure_inference_emulator.inject_fault("malformed_json")
    with pytest.raises(IncompleteStreamError, match="not JSON"):
        list(client.stream(build_chat_request(HI, model="gpt-4o", stream=True)))


def test_malformed_completion_is_a_service_error(
    client: ChatClient, azure_inference_emulator: Emulator
) -> None:
    from azureinfer import ServiceError

    azure_inference_emulator.inject_fault("malformed_json")
    with pytest.raises(ServiceError, match="not valid JSON"):
        client.complete(build_chat_request(HI, model="gpt-4o"))


def test_think_tags_split_in_complete_and_stream(
    client: ChatClient, azure_inference_emulator: Emulator
) -> None:
    emu = azure_inference_emulator
    reply = "<think>\nFirst I count the letters, then I answer.\n</think>\n\nThe answer is 3."
    emu.script_reply("gpt-4o", content=reply)
    full = client.complete(build_chat_request(HI, model="gpt-4o"))
    assert full.reasoning_content == "First I count the letters, then I answer."
    assert full.content == "The answer is 3."
    emu.script_reply("gpt-4o", content=reply)
    chunks = list(client.stream(build_chat_request(HI, model="gpt-4o", stream=True)))
    assert "".join(c.content for c in chunks) == "The answer is 3."
    assert "".join(c.reasoning_content for c in chunks) == full.reasoning_content
    emu.script_reply("gpt-4o", content=reply)
    raw = ChatClient(client.settings, think_tags=False)
    assert raw.complete(build_chat_request(HI, model="gpt-4o")).content == reply
    raw.close()


async def test_async_error_status_before_streaming(azure_inference_emulator: Emulator) -> None:
    from azureinfer import RateLimitError

    emu = azure_inference_emulator
    settings = resolve_settings(emu.endpoint, emu.key, max_retries=0)
    async with ChatClient(settings) as client:
        emu.inject_fault("status", status=429, retry_after=7)
        with pytest.raises(RateLimitError) as info:
            async for _ in client.astream(build_chat_request(HI, model="gpt-4o", stream=True)):
                pass
        assert info.value.retry_after == 7.0
        emu.inject_fault("malformed_json")
        with pytest.raises(IncompleteStreamError, match="not JSON"):
            async for _ in client.astream(build_chat_request(HI, model="gpt-4o", stream=True)):
                pass
