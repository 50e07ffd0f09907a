"""Chat completions answers (spec §9 rows 12, 13, 14, 15, 16, 37, 38, 39)."""

from __future__ import annotations

import datetime
import json
from typing import Any

from azure.ai.inference import ChatCompletionsClient
from azure.ai.inference.aio import ChatCompletionsClient as AsyncChatCompletionsClient
from azure.ai.inference.models import JsonSchemaFormat
from azure.core.credentials import AzureKeyCredential

from azureinfer.emulator import Emulator
from azureinfer.emulator._behaviour import count_tokens, prompt_tokens

MSG = [{"role": "user", "content": "Tell me about the city of Paris in one line"}]
TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather of a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
            "required": ["city"],
        },
    },
}
OTHER_TOOL = {
    "type": "function",
    "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}},
}


def _chat(emu: Emulator, endpoint: str | None = None) -> ChatCompletionsClient:
    return ChatCompletionsClient(endpoint or emu.endpoint, AzureKeyCredential(emu.key))


def test_row12_complete_chat_body(azure_inference_emulator: Emulator) -> None:
    """Row 12: id, object, integer created, model, choices, usage; counts follow the rule."""
    emu = azure_inference_emulator
    with _chat(emu) as client:
        r = client.complete(messages=MSG, model="mistral-large")
    raw = r.as_dict()
    assert raw["object"] == "chat.completion"
    assert isinstance(r.created, datetime.datetime)
    assert r.id
    assert r.model == "mistral-large-2411"
    choice = r.choices[0]
    assert choice.index == 0
    assert choice.message.role == "assistant"
    assert choice.finish_reason == "stop"
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
    assert r.usage.prompt_tokens == prompt_tokens({"messages": MSG})
    assert r.usage.completion_tokens == count_tokens(choice.message.content)


def test_row12_ids_are_unique(azure_inference_emulator: Emulator) -> None:
    """Row 12: every response has its own id."""
    emu = azure_inference_emulator
    with _chat(emu) as client:
        ids = {client.complete(messages=MSG).id for _ in range(5)}
    assert len(ids) == 5


def test_row13_deterministic(azure_inference_emulator: Emulator) -> None:
    """Row 13: the same request gives the same content."""
    emu = azure_inference_emulator
    with _chat(emu) as client:
        a = client.complete(messages=MSG, seed=7, model="phi-4")
        b = client.complete(messages=MSG, seed=7, model="phi-4")
    assert a.choices[0].message.content == b.choices[0].message.content


def test_row13_scripted_reply(azure_inference_emulator: Emulator) -> None:
    """Row 13/34: a scripted reply replaces the rule-based one once, for its deployment only."""
    emu = azure_inference_emulator
    emu.script_reply("gpt-4o", content="Scripted!", usage={"prompt_tokens": 3})
    with _chat(emu) as client:
        other = client.complete(messages=MSG, model="mistral-large")
        scripted = client.complete(messages=MSG, model="gpt-4o")
        after = client.complete(messages=MSG, model="gpt-4o")
    assert other.choices[0].message.content != "Scripted!"
    assert scripted.choices[0].message.content == "Scripted!"
    assert scripted.usage.prompt_tokens == 3
    assert scripted.usage.completion_tokens == count_tokens("Scripted!")
    assert scripted.usage.total_tokens == 3 + count_tokens("Scripted!")
    assert after.choices[0].message.content != "Scripted!"


def test_row14_max_tokens_gives_length(azure_inference_emulator: Emulator) -> None:
    """Row 14: max_tokens=1 -> finish_reason length, one token of content."""
    emu = azure_inference_emulator
    with _chat(emu) as client:
        r = client.complete(messages=MSG, max_tokens=1)
    assert r.choices[0].finish_reason == "length"
    assert count_tokens(r.choices[0].message.content) == 1
    assert r.usage.completion_tokens == 1


def test_row14_stop_sequences(azure_inference_emulator: Emulator) -> None:
    """Row 14: the output is cut before the stop sequence (string or list)."""
    emu = azure_inference_emulator
    with _chat(emu) as client:
        full = client.complete(messages=MSG).choices[0].message.content
        word = "Paris"
        assert word in full
        for stop in (word, [word, "zzz"]):
            r = client.complete({"messages": MSG, "stop": stop})
            content = r.choices[0].message.content
            assert word not in content
            assert full.startswith(content)
            assert r.choices[0].finish_reason == "stop"


def test_row15_named_tool_choice(azure_inference_emulator: Emulator) -> None:
    """Row 15: a named tool_choice calls that tool: content null, arguments a JSON string."""
    emu = azure_inference_emulator
    with _chat(emu) as client:
        r = client.complete(
            messages=[{"role": "user", "content": "What time is it in 'Oslo'?"}],
            tools=[TOOL, OTHER_TOOL],
            tool_choice={"type": "function", "function": {"name": "get_weather"}},
        )
    msg = r.choices[0].message
    assert r.choices[0].finish_reason == "tool_calls"
    assert msg.content is None
    call = msg.tool_calls[0]
    assert call.type == "function"
    assert call.id
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments)["city"] == "Oslo"


def test_row15_tool_choice_none_gives_text(azure_inference_emulator: Emulator) -> None:
    """Row 15: tool_choice none -> plain text."""
    emu = azure_inference_emulator
    with _chat(emu) as client:
        r = client.complete(
            messages=[{"role": "user", "content": "Use get_weather for Paris"}],
            tools=[TOOL],
            tool_choice="none",
        )
    assert r.choices[0].message.content
    assert not r.choices[0].message.tool_calls
    assert r.choices[0].finish_reason == "stop"


def test_row15_required_and_then_tool_result(azure_inference_emulator: Emulator) -> None:
    """Row 15: `required` forces a call; after the tool result the answer is text."""
    emu = azure_inference_emulator
    with _chat(emu) as client:
        first = client.complete(
            messages=[{"role": "user", "content": "Weather in 'Paris' please"}],
            tools=[TOOL],
            tool_choice="required",
        )
        call = first.choices[0].message.tool_calls[0]
        history: list[dict[str, Any]] = [
            {"role": "user", "content": "Weather in 'Paris' please"},
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "id": call.id,
                        "type": "function",
                        "function": {"name": call.function.name, "arguments": "{}"},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": call.id, "content": "sunny, 21 C"},
        ]
        second = client.complete(messages=history, tools=[TOOL])
    assert second.choices[0].finish_reason == "stop"
    assert "sunny" in second.choices[0].message.content


def test_row15_scripted_tool_calls(azure_inference_emulator: Emulator) -> None:
    """Row 15: a scripted reply with tool calls."""
    emu = azure_inference_emulator
    emu.script_reply(
        "gpt-4o", tool_calls=[{"name": "get_weather", "arguments": {"city": "Rome"}, "id": "c1"}]
    )
    with _chat(emu) as client:
        r = client.complete(messages=MSG, tools=[TOOL], model="gpt-4o")
    call = r.choices[0].message.tool_calls[0]
    assert (call.id, call.function.name) == ("c1", "get_weather")
    assert json.loads(call.function.arguments) == {"city": "Rome"}
    assert r.choices[0].finish_reason == "tool_calls"


def test_row16_json_object_and_schema(azure_inference_emulator: Emulator) -> None:
    """Row 16: json_object gives valid JSON; json_schema gives a conforming object."""
    emu = azure_inference_emulator
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name", "age"],
        "additionalProperties": False,
    }
    with _chat(emu) as client:
        r = client.complete(
            messages=[{"role": "user", "content": "Reply in JSON about Ann, aged 31"}],
            response_format="json_object",
        )
        assert isinstance(json.loads(r.choices[0].message.content), dict)
        r = client.complete(
            messages=[{"role": "user", "content": "Ann is 31"}],
            response_format=JsonSchemaFormat(name="person", schema=schema, strict=True),
        )
    obj = json.loads(r.choices[0].message.content)
    assert set(obj) == {"name", "age"}
    assert isinstance(obj["name"], str)
    assert isinstance(obj["age"], int)


def test_row37_azure_openai_extras(azure_inference_emulator: Emulator) -> None:
    """Row 37: Azure OpenAI extras (prompt_filter_results, content_filter_results,
    system_fingerprint) in that profile; the SDK accepts them."""
    emu = azure_inference_emulator
    with _chat(emu, emu.base_url + "/openai/deployments/gpt-4o") as client:
        r = client.complete(messages=[*MSG, {"role": "assistant", "content": "ok", "name": "bot"}])
    raw = r.as_dict()
    assert raw["prompt_filter_results"][0]["prompt_index"] == 0
    assert raw["choices"][0]["content_filter_results"]["hate"]["filtered"] is False
    assert r.get("system_fingerprint")


def test_row38_reasoning_model(azure_inference_emulator: Emulator) -> None:
    """Row 38: reasoning_content and reasoning/cached token details."""
    emu = azure_inference_emulator
    history = [
        {"role": "system", "content": "You are precise."},
        {"role": "user", "content": "Is 7 prime?"},
    ]
    with ChatCompletionsClient(
        emu.endpoint, AzureKeyCredential(emu.key), api_version="2025-04-01"
    ) as client:
        first = client.complete(messages=history, model="deepseek-r1")
        history += [
            {"role": "assistant", "content": first.choices[0].message.content},
            {"role": "user", "content": "And 9?"},
        ]
        second = client.complete(messages=history, model="deepseek-r1")
    assert first.choices[0].message.get("reasoning_content")
    details = first.usage.get("completion_tokens_details")
    assert details["reasoning_tokens"] > 0
    assert first.usage.completion_tokens > details["reasoning_tokens"]
    assert first.usage.get("prompt_tokens_details")["cached_tokens"] == 0
    cached = second.usage.get("prompt_tokens_details")["cached_tokens"]
    assert cached == prompt_tokens({"messages": history[:2]})


def test_row39_audio_output(azure_inference_emulator: Emulator) -> None:
    """Row 39: modalities audio -> message.audio with a transcript, content null."""
    emu = azure_inference_emulator
    with _chat(emu) as client:
        r = client.complete(
            messages=MSG, model="gpt-4o", model_extras={"modalities": ["text", "audio"]}
        )
    msg = r.choices[0].message
    audio = msg.get("audio")
    assert msg.content is None
    assert audio["transcript"]
    assert set(audio) >= {"id", "expires_at", "data", "format", "transcript"}


async def test_row12_async_client(azure_inference_emulator: Emulator) -> None:
    """Row 12 through the aio client."""
    emu = azure_inference_emulator
    async with AsyncChatCompletionsClient(emu.endpoint, AzureKeyCredential(emu.key)) as client:
        r = await client.complete(messages=MSG, model="gpt-4o-mini")
    assert r.model == "gpt-4o-mini-2024-07-18"
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
