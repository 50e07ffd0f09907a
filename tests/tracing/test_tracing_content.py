"""Message content: absent by default, recorded in the conventions' JSON shapes on opt-in
(``capture_content=True`` or either environment variable)."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import pytest
from tracing_support import CHAT_MODEL, EMBED_MODEL, Telemetry

from azureinfer import (
    ChatClient,
    ConfigurationError,
    EmbeddingsClient,
    build_chat_request,
    build_embeddings_request,
)
from azureinfer.emulator import Emulator

CONTENT_KEYS = {
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "gen_ai.tool.definitions",
}
PNG = b"\x89PNG\r\n\x1a\n" + b"pixels"
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
ENV_VARS = (
    "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
    "AZURE_TRACING_GEN_AI_CONTENT_RECORDING_ENABLED",
)


@pytest.fixture(autouse=True)
def _no_content_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


def _all_calls(chat: ChatClient, embed: EmbeddingsClient, text: str) -> None:
    msgs = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": text}]
    chat.complete(build_chat_request(msgs, model=CHAT_MODEL, tools=[WEATHER]))
    list(chat.stream(build_chat_request(msgs, model=CHAT_MODEL, stream=True)))

    async def run() -> None:
        await chat.acomplete(build_chat_request(msgs, model=CHAT_MODEL))
        async for _ in chat.astream(build_chat_request(msgs, model=CHAT_MODEL, stream=True)):
            pass

    asyncio.run(run())
    embed.embed(build_embeddings_request([text], model=EMBED_MODEL))


def test_content_is_absent_by_default(
    otel: Telemetry, emu: Emulator, chat_client: ChatClient, embed_client: EmbeddingsClient
) -> None:
    _all_calls(chat_client, embed_client, "secret-ish words")
    spans = otel.spans()
    assert len(spans) == 5
    for span in spans:
        assert CONTENT_KEYS.isdisjoint(span.attributes or {})
        assert "secret-ish" not in span.to_json()
        assert "Be brief" not in span.to_json()


@pytest.mark.parametrize(
    "how",
    ["argument", *[f"{name}={value}" for name in ENV_VARS for value in ("true", "1")]],
)
def test_content_is_recorded_when_opted_in(
    instrument: Any,
    monkeypatch: pytest.MonkeyPatch,
    emu: Emulator,
    chat_client: ChatClient,
    embed_client: EmbeddingsClient,
    how: str,
) -> None:
    if how == "argument":
        otel = instrument(capture_content=True)
    else:
        name, value = how.split("=")
        monkeypatch.setenv(name, value)
        otel = instrument()
    _all_calls(chat_client, embed_client, "Hello kettle")
    chat_spans = [s for s in otel.spans() if s.name.startswith("chat")]
    assert len(chat_spans) == 4
    for span in chat_spans:
        attrs = span.attributes or {}
        assert json.loads(attrs["gen_ai.input.messages"]) == [
            {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
            {"role": "user", "parts": [{"type": "text", "content": "Hello kettle"}]},
        ]
        assert json.loads(attrs["gen_ai.output.messages"]) == [
            {
                "role": "assistant",
                "parts": [{"type": "text", "content": "Emulated reply from gpt-4o: Hello kettle"}],
                "finish_reason": "stop",
            }
        ]
    tools = json.loads(chat_spans[0].attributes["gen_ai.tool.definitions"])
    assert tools == [
        {
            "type": "function",
            "name": "get_weather",
            "description": "The weather in a city.",
            "parameters": WEATHER["function"]["parameters"],
        }
    ]
    embed_span = next(s for s in otel.spans() if s.name.startswith("embeddings"))
    assert CONTENT_KEYS.isdisjoint(embed_span.attributes or {})


def test_the_argument_wins_over_the_environment(
    instrument: Any, monkeypatch: pytest.MonkeyPatch, emu: Emulator, chat_client: ChatClient
) -> None:
    monkeypatch.setenv(ENV_VARS[0], "true")
    otel = instrument(capture_content=False)
    chat_client.complete(build_chat_request([{"role": "user", "content": "hi"}], model=CHAT_MODEL))
    assert CONTENT_KEYS.isdisjoint(otel.span().attributes or {})


@pytest.mark.parametrize("value", ["false", "0", "no_content", "event_only", ""])
def test_off_values_of_the_environment_keep_content_off(
    instrument: Any,
    monkeypatch: pytest.MonkeyPatch,
    emu: Emulator,
    chat_client: ChatClient,
    value: str,
) -> None:
    monkeypatch.setenv(ENV_VARS[0], value)
    otel = instrument()
    chat_client.complete(build_chat_request([{"role": "user", "content": "hi"}], model=CHAT_MODEL))
    assert CONTENT_KEYS.isdisjoint(otel.span().attributes or {})


def test_an_unreadable_environment_value_is_a_clear_error(
    instrument: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_VARS[1], "sometimes")
    with pytest.raises(ConfigurationError, match="AZURE_TRACING_GEN_AI_CONTENT_RECORDING_ENABLED"):
        instrument()
    with pytest.raises(ConfigurationError, match="capture_content must be True, False or None"):
        instrument(capture_content="yes")


def test_tool_calls_tool_results_and_images_in_the_conventions_shapes(
    instrument: Any, emu: Emulator, chat_client: ChatClient
) -> None:
    otel = instrument(capture_content=True)
    ask = [{"role": "user", "content": "What is the weather in Paris? Use get_weather."}]
    first = chat_client.complete(build_chat_request(ask, model=CHAT_MODEL, tools=[WEATHER]))
    call = first.tool_calls[0]
    assert first.finish_reason == "tool_calls"
    image = "data:image/png;base64," + base64.b64encode(PNG).decode()
    history = [
        *ask,
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
                }
            ],
        },
        {"role": "tool", "tool_call_id": call.id, "content": "rainy, 14 C"},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "And this picture?"},
                {"type": "image_url", "image_url": {"url": image}},
                {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
            ],
        },
    ]
    chat_client.complete(build_chat_request(history, model=CHAT_MODEL, tools=[WEATHER]))
    first_span, second_span = otel.spans()
    out = json.loads(first_span.attributes["gen_ai.output.messages"])
    assert out == [
        {
            "role": "assistant",
            "parts": [
                {
                    "type": "tool_call",
                    "id": call.id,
                    "name": "get_weather",
                    "arguments": call.arguments,
                }
            ],
            "finish_reason": "tool_calls",
        }
    ]
    inputs = json.loads(second_span.attributes["gen_ai.input.messages"])
    assert inputs[1:] == [
        {
            "role": "assistant",
            "parts": [
                {
                    "type": "tool_call",
                    "id": call.id,
                    "name": "get_weather",
                    "arguments": call.arguments,
                }
            ],
        },
        {
            "role": "tool",
            "parts": [{"type": "tool_call_response", "id": call.id, "response": "rainy, 14 C"}],
        },
        {
            "role": "user",
            "parts": [
                {"type": "text", "content": "And this picture?"},
                {
                    "type": "blob",
                    "modality": "image",
                    "mime_type": "image/png",
                    "content": base64.b64encode(PNG).decode(),
                },
                {"type": "uri", "modality": "image", "uri": "https://example.com/cat.png"},
            ],
        },
    ]


def test_reasoning_is_an_output_part(
    instrument: Any, emu: Emulator, chat_client: ChatClient
) -> None:
    otel = instrument(capture_content=True)
    result = chat_client.complete(
        build_chat_request([{"role": "user", "content": "Think first"}], model="deepseek-r1")
    )
    assert result.reasoning_content
    (message,) = json.loads(otel.span().attributes["gen_ai.output.messages"])
    assert message["parts"] == [
        {"type": "reasoning", "content": result.reasoning_content},
        {"type": "text", "content": result.content},
    ]
