"""Streaming (spec §9 rows 17, 18, 19, 20, 21, 22, 23)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from azure.ai.inference import ChatCompletionsClient
from azure.ai.inference.aio import ChatCompletionsClient as AsyncChatCompletionsClient
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import HttpResponseError

from azureinfer.emulator import Emulator

MSG = [{"role": "user", "content": "Name three colours of the rainbow please"}]
TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
            "required": ["city", "unit"],
        },
    },
}


def _chat(emu: Emulator, endpoint: str | None = None) -> ChatCompletionsClient:
    return ChatCompletionsClient(endpoint or emu.endpoint, AzureKeyCredential(emu.key))


def _raw_stream(emu: Emulator, body: dict[str, Any], path: str = "/models") -> requests.Response:
    return requests.post(
        f"{emu.base_url}{path}/chat/completions?api-version=2024-05-01-preview",
        json=body,
        headers={"api-key": emu.key, "extra-parameters": "pass-through"},
        timeout=10,
    )


def _events(raw: bytes) -> list[Any]:
    out: list[Any] = []
    for line in raw.decode().split("\n"):
        if line:
            payload = line[len("data: ") :]
            out.append(payload if payload == "[DONE]" else json.loads(payload))
    return out


def test_row17_exact_framing(azure_inference_emulator: Emulator) -> None:
    """Row 17: text/event-stream, LF only, only `data: ` lines, ends with [DONE]."""
    emu = azure_inference_emulator
    r = _raw_stream(emu, {"messages": MSG, "stream": True})
    assert r.headers["Content-Type"].startswith("text/event-stream")
    raw = r.content
    assert b"\r" not in raw
    assert raw.endswith(b"data: [DONE]\n\n")
    lines = raw.split(b"\n")
    assert all(line.startswith(b"data: ") for line in lines if line)
    assert raw.count(b"\n\n") == raw.count(b"data: ")


def test_row17_stream_false_is_json(azure_inference_emulator: Emulator) -> None:
    """Row 17: stream false (or absent) -> a plain JSON body."""
    emu = azure_inference_emulator
    r = _raw_stream(emu, {"messages": MSG, "stream": False})
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json()["object"] == "chat.completion"


def test_row18_chunk_sequence(azure_inference_emulator: Emulator) -> None:
    """Row 18: role chunk, content deltas, final finish chunk; shared id/created/model."""
    emu = azure_inference_emulator
    events = _events(_raw_stream(emu, {"messages": MSG, "stream": True, "model": "phi-4"}).content)
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert len({(c["id"], c["created"], c["model"]) for c in chunks}) == 1
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks[:-1])


@pytest.mark.parametrize("model", ["gpt-4o", "mistral-large", "deepseek-r1"])
def test_row18_joined_deltas_equal_non_stream(
    azure_inference_emulator: Emulator, model: str
) -> None:
    """Row 18: the joined SDK deltas equal the non-streamed content (reasoning too)."""
    emu = azure_inference_emulator
    with _chat(emu) as client:
        full = client.complete(messages=MSG, model=model).choices[0].message
        content, reasoning = [], []
        with client.complete(messages=MSG, model=model, stream=True) as stream:
            for update in stream:
                for choice in update.choices:
                    content.append(choice.delta.content or "")
                    reasoning.append(choice.delta.get("reasoning_content") or "")
    assert "".join(content) == full.content
    assert "".join(reasoning) == (full.get("reasoning_content") or "")


@pytest.mark.parametrize(
    ("model", "separate"), [("gpt-4o", True), ("mistral-large", False), ("deepseek-r1", False)]
)
def test_row19_usage_on_last_update(
    azure_inference_emulator: Emulator, model: str, separate: bool
) -> None:
    """Row 19: MaaS profile -> usage on the final chunk; OpenAI profile -> separate choices:[]."""
    emu = azure_inference_emulator
    with _chat(emu) as client, client.complete(messages=MSG, model=model, stream=True) as stream:
        updates = list(stream)
    last = updates[-1]
    assert last.usage.total_tokens == last.usage.prompt_tokens + last.usage.completion_tokens
    assert [u for u in updates if u.usage] == [last]
    assert (last.choices == []) is separate
    if not separate:
        assert last.choices[0].finish_reason == "stop"


def test_row19_include_usage_gives_separate_chunk(azure_inference_emulator: Emulator) -> None:
    """Row 19: stream_options.include_usage through pass-through -> separate usage chunk."""
    emu = azure_inference_emulator
    with (
        _chat(emu) as client,
        client.complete(
            messages=MSG,
            model="mistral-large",
            stream=True,
            model_extras={"stream_options": {"include_usage": True}},
        ) as stream,
    ):
        updates = list(stream)
    assert updates[-1].choices == []
    assert updates[-1].usage.total_tokens > 0
    assert updates[-2].choices[0].finish_reason == "stop"


def test_row19_include_usage_false_in_openai_profile(azure_inference_emulator: Emulator) -> None:
    """OpenAI semantics: include_usage false -> no usage chunk."""
    emu = azure_inference_emulator
    events = _events(
        _raw_stream(
            emu,
            {"messages": MSG, "stream": True, "stream_options": {"include_usage": False}},
        ).content
    )
    assert not any("usage" in e for e in events[:-1])


async def test_row19_async_stream(azure_inference_emulator: Emulator) -> None:
    """Rows 18/19 through the aio client."""
    emu = azure_inference_emulator
    async with AsyncChatCompletionsClient(emu.endpoint, AzureKeyCredential(emu.key)) as client:
        stream = await client.complete(messages=MSG, stream=True, model="gpt-4o")
        parts, usage = [], None
        async with stream:
            async for update in stream:
                if update.choices:
                    parts.append(update.choices[0].delta.content or "")
                if update.usage:
                    usage = update.usage
        full = await client.complete(messages=MSG, model="gpt-4o")
    assert "".join(parts) == full.choices[0].message.content
    assert usage is not None
    assert usage.total_tokens == full.usage.total_tokens


def test_row20_tool_call_fragments(azure_inference_emulator: Emulator) -> None:
    """Row 20: fragments with index; id/type/name first; arguments join to JSON."""
    emu = azure_inference_emulator
    emu.configure(chunk_size=4)
    fragments = []
    finish = None
    with (
        _chat(emu) as client,
        client.complete(
            messages=[{"role": "user", "content": "weather in 'Lima' in 'celsius'"}],
            tools=[TOOL],
            tool_choice="required",
            stream=True,
        ) as stream,
    ):
        for update in stream:
            for choice in update.choices:
                fragments.extend(choice.delta.tool_calls or [])
                finish = choice.finish_reason or finish
    assert finish == "tool_calls"
    assert len(fragments) > 2
    assert all(tc.get("index") == 0 for tc in fragments)
    first = fragments[0]
    assert first.id and first.get("type") == "function"
    assert first.function.name == "get_weather"
    assert all(tc.id is None for tc in fragments[1:])
    args = json.loads("".join(tc.function.arguments for tc in fragments))
    assert args == {"city": "Lima", "unit": "celsius"}


def test_row20_scripted_reply_streams(azure_inference_emulator: Emulator) -> None:
    """Scripted replies stream too (content and tool calls)."""
    emu = azure_inference_emulator
    emu.script_reply("gpt-4o", content="one two three")
    with _chat(emu) as client, client.complete(messages=MSG, stream=True) as stream:
        text = "".join(u.choices[0].delta.content or "" for u in stream if u.choices)
    assert text == "one two three"


def test_row21_error_before_streaming(azure_inference_emulator: Emulator) -> None:
    """Row 21: an invalid streamed request raises from complete(), before iteration."""
    emu = azure_inference_emulator
    with _chat(emu) as client, pytest.raises(HttpResponseError) as info:
        client.complete(messages=MSG, stream=True, temperature=5.0)
    assert info.value.status_code == 422


def test_row22_truncated_stream_ends_cleanly(azure_inference_emulator: Emulator) -> None:
    """Row 22: truncation without finish_reason or [DONE]: SDK iteration just ends."""
    emu = azure_inference_emulator
    emu.inject_fault("truncate", n_events=3)
    with _chat(emu) as client, client.complete(messages=MSG, stream=True) as stream:
        updates = list(stream)
    assert len(updates) == 3
    assert all(c.finish_reason is None for u in updates for c in u.choices)
    raw = _raw_stream(emu, {"messages": MSG, "stream": True}).content
    assert raw.endswith(b"data: [DONE]\n\n")  # the fault was used up


def test_row22_truncate_with_abort(azure_inference_emulator: Emulator) -> None:
    """Row 22: truncate with abort=True drops the connection mid-stream."""
    emu = azure_inference_emulator
    emu.inject_fault("truncate", n_events=2, abort=True)
    with _chat(emu) as client, client.complete(messages=MSG, stream=True) as stream:
        got: list[Any] = []
        try:
            for update in stream:
                got.append(update)
        except Exception as exc:  # the transport reports the drop its own way
            got.append(exc)
    assert 1 <= len(got) <= 3
    with _chat(emu) as client:
        assert client.complete(messages=MSG).choices  # the server is fine


def test_row22_error_event_is_skipped_by_sdk(azure_inference_emulator: Emulator) -> None:
    """Row 22: a mid-stream error event is silently skipped by the SDK (the hazard)."""
    emu = azure_inference_emulator
    emu.inject_fault("stream_error", n_events=2)
    raw = _raw_stream(emu, {"messages": MSG, "stream": True}).content
    events = _events(raw)
    assert events[-1] == {
        "error": {
            "code": "InternalServerError",
            "message": "The server had an error while processing your request.",
        }
    }
    emu.inject_fault("stream_error", n_events=2)
    with _chat(emu) as client, client.complete(messages=MSG, stream=True) as stream:
        updates = list(stream)
    assert len(updates) == 2


def test_row22_content_filter_finish(azure_inference_emulator: Emulator) -> None:
    """Row 22/27: an output filter trigger ends the stream with finish_reason content_filter."""
    emu = azure_inference_emulator
    msgs = [{"role": "user", "content": "tell me EMULATOR_FILTER_OUTPUT now"}]
    with _chat(emu) as client, client.complete(messages=msgs, stream=True) as stream:
        finishes = [c.finish_reason for u in stream for c in u.choices if c.finish_reason]
    assert finishes == ["content_filter"]


@pytest.mark.parametrize("mode", ["sse_crlf", "sse_keepalive"])
def test_row23_compatibility_bug_modes(azure_inference_emulator: Emulator, mode: str) -> None:
    """Row 23: CRLF framing or keep-alive comments make the SDK raise ValueError."""
    emu = azure_inference_emulator
    emu.configure(**{mode: True})
    with (
        _chat(emu) as client,
        client.complete(messages=MSG, stream=True) as stream,
        pytest.raises(ValueError, match="SSE event not supported"),
    ):
        list(stream)


def test_row23_off_by_default(azure_inference_emulator: Emulator) -> None:
    """Row 23: the bug modes are off after clear()."""
    emu = azure_inference_emulator
    emu.configure(sse_crlf=True)
    emu.clear()
    with _chat(emu) as client, client.complete(messages=MSG, stream=True) as stream:
        assert list(stream)


def test_row37_prompt_filter_chunk_in_azure_openai_profile(
    azure_inference_emulator: Emulator,
) -> None:
    """Row 37: a first `choices: []` prompt_filter_results chunk, skipped by the SDK; usage
    only when `stream_options.include_usage` asks for it (the Azure OpenAI profile)."""
    emu = azure_inference_emulator
    events = _events(
        _raw_stream(emu, {"messages": MSG, "stream": True}, "/openai/deployments/gpt-4o").content
    )
    assert events[0]["choices"] == []
    assert events[0]["prompt_filter_results"]
    assert all("usage" not in e for e in events)
    with (
        _chat(emu, emu.base_url + "/openai/deployments/gpt-4o") as client,
        client.complete(
            messages=MSG, stream=True, model_extras={"stream_options": {"include_usage": True}}
        ) as stream,
    ):
        updates = list(stream)
    assert updates[0].choices[0].delta.role == "assistant"
    assert updates[-1].usage.total_tokens > 0


def test_stream_delay_and_chunk_size(azure_inference_emulator: Emulator) -> None:
    """configure(stream_delay, chunk_size) slows and re-cuts the stream, same text."""
    emu = azure_inference_emulator
    emu.configure(chunk_size=3, stream_delay=0.001)
    events = _events(_raw_stream(emu, {"messages": MSG, "stream": True, "model": "phi-4"}).content)
    pieces = [e["choices"][0]["delta"].get("content") for e in events[1:-2]]
    assert all(p is not None and len(p) <= 3 for p in pieces)
