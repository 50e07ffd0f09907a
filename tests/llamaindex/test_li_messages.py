"""Unit tests for llamaindex_azureinfer._messages (pure translation, no server)."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path

import pytest
from llama_index.core.base.llms.types import (
    AudioBlock,
    ChatMessage,
    DocumentBlock,
    ImageBlock,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)
from llama_index.core.tools import FunctionTool

from llamaindex_azureinfer._messages import (
    sanitize_tool_name,
    to_wire_message,
    to_wire_messages,
    to_wire_tool,
    to_wire_tool_call,
)
from llamaindex_azureinfer.llms import assistant_message

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def test_plain_text_roles_become_strings() -> None:
    wire = to_wire_messages(
        [
            ChatMessage(role="system", content="be brief"),
            ChatMessage(role="developer", content="dev"),
            ChatMessage(role="user", content="hi"),
            ChatMessage(role="assistant", content="hello"),
        ]
    )
    assert wire == [
        {"role": "system", "content": "be brief"},
        {"role": "developer", "content": "dev"},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
    ]


def test_arbitrary_additional_kwargs_do_not_leak_to_the_wire() -> None:
    msg = ChatMessage(
        role="user", content="hi", additional_kwargs={"thinking": "x", "name": "bob", "foo": 1}
    )
    assert to_wire_message(msg) == {"role": "user", "content": "hi"}
    tool = ChatMessage(
        role="tool", content="42", additional_kwargs={"tool_call_id": "c1", "name": "add"}
    )
    assert to_wire_message(tool) == {"role": "tool", "tool_call_id": "c1", "content": "42"}


def test_tool_message_without_call_id_is_rejected_clearly() -> None:
    with pytest.raises(ValueError, match="tool_call_id"):
        to_wire_message(ChatMessage(role="tool", content="42"))


def test_image_blocks_url_bytes_and_path(tmp_path: Path) -> None:
    path = tmp_path / "pixel.png"
    path.write_bytes(PNG)
    msg = ChatMessage(
        role="user",
        blocks=[
            TextBlock(text="what is this?"),
            ImageBlock(url="https://example.com/cat.png", detail="low"),
            ImageBlock(image=PNG),
            ImageBlock(path=path),
            ImageBlock(image=base64.b64encode(PNG), image_mimetype="image/png"),
        ],
    )
    wire = to_wire_message(msg)
    b64 = base64.b64encode(PNG).decode()
    assert wire == {
        "role": "user",
        "content": [
            {"type": "text", "text": "what is this?"},
            {
                "type": "image_url",
                "image_url": {"url": "https://example.com/cat.png", "detail": "low"},
            },
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{b64}"}},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{b64}"}},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{b64}"}},
        ],
    }


def test_audio_block_becomes_input_audio() -> None:
    msg = ChatMessage(
        role="user", blocks=[AudioBlock(audio=b"RIFF\x00\x01\x02\x03WAVEfmt ", format="wav")]
    )
    part = to_wire_message(msg)["content"][0]
    assert part["type"] == "input_audio"
    assert part["input_audio"]["format"] == "wav"
    assert base64.b64decode(part["input_audio"]["data"]) == b"RIFF\x00\x01\x02\x03WAVEfmt "


def test_audio_url_becomes_audio_url_part() -> None:
    msg = ChatMessage(role="user", blocks=[AudioBlock(url="https://example.com/a.mp3")])
    assert to_wire_message(msg)["content"] == [
        {"type": "audio_url", "audio_url": {"url": "https://example.com/a.mp3"}}
    ]


def test_unsupported_blocks_are_rejected_not_dropped() -> None:
    msg = ChatMessage(role="user", blocks=[DocumentBlock(data=b"%PDF-1.4", title="x")])
    with pytest.raises(ValueError, match="DocumentBlock"):
        to_wire_message(msg)
    sys_img = ChatMessage(role="system", blocks=[ImageBlock(url="https://example.com/a.png")])
    with pytest.raises(ValueError, match="ImageBlock"):
        to_wire_message(sys_img)


def test_tool_call_blocks_become_wire_tool_calls_with_sanitised_names() -> None:
    msg = ChatMessage(
        role="assistant",
        blocks=[
            TextBlock(text=""),
            ToolCallBlock(
                tool_call_id="c1", tool_name="get weather[v2]", tool_kwargs={"city": "Paris"}
            ),
            ToolCallBlock(tool_call_id="c2", tool_name="add", tool_kwargs='{"a": 1'),
        ],
    )
    assert to_wire_message(msg) == {
        "role": "assistant",
        "tool_calls": [
            {
                "id": "c1",
                "type": "function",
                "function": {"name": "get_weather_v2_", "arguments": '{"city": "Paris"}'},
            },
            {"id": "c2", "type": "function", "function": {"name": "add", "arguments": '{"a": 1'}},
        ],
    }


def test_additional_kwargs_tool_calls_dicts_and_sdk_objects_are_accepted() -> None:
    from azure.ai.inference.models import ChatCompletionsToolCall, FunctionCall

    sdk = ChatCompletionsToolCall(id="c2", function=FunctionCall(name="mul", arguments='{"a":2}'))
    msg = ChatMessage(
        role="assistant",
        content=None,
        additional_kwargs={
            "tool_calls": [{"id": "c1", "function": {"name": "add", "arguments": {"a": 1}}}, sdk]
        },
    )
    wire = to_wire_message(msg)
    assert "content" not in wire
    assert wire["tool_calls"] == [
        {"id": "c1", "type": "function", "function": {"name": "add", "arguments": '{"a": 1}'}},
        {"id": "c2", "type": "function", "function": {"name": "mul", "arguments": '{"a":2}'}},
    ]


def test_thinking_blocks_are_not_sent_back() -> None:
    msg = ChatMessage(role="assistant", blocks=[ThinkingBlock(content="hmm"), TextBlock(text="4")])
    assert to_wire_message(msg) == {"role": "assistant", "content": "4"}


def test_roles_are_mapped_and_translation_does_not_mutate() -> None:
    msgs = [
        ChatMessage(role=MessageRole.CHATBOT, content="a"),
        ChatMessage(role="user", content="b"),
    ]
    before = copy.deepcopy(msgs)
    assert [m["role"] for m in to_wire_messages(msgs)] == ["assistant", "user"]
    assert msgs == before


def test_sanitize_tool_name() -> None:
    assert sanitize_tool_name("get weather[v2]") == "get_weather_v2_"
    assert sanitize_tool_name("ok_name-1") == "ok_name-1"


def test_to_wire_tool_from_function_tool_and_strict() -> None:
    def get_weather(city: str, unit: str = "C") -> str:
        """Weather for a city."""
        return city

    tool = FunctionTool.from_defaults(get_weather, name="get weather")
    wire = to_wire_tool(tool)
    assert wire["type"] == "function"
    assert wire["function"]["name"] == "get_weather"
    assert wire["function"]["parameters"]["properties"]["city"]["type"] == "string"
    strict = to_wire_tool(tool, strict=True)
    assert strict["function"]["strict"] is True
    assert strict["function"]["parameters"]["additionalProperties"] is False
    assert set(strict["function"]["parameters"]["required"]) == {"city", "unit"}
    # the non-strict definition was not modified by building the strict one
    assert "strict" not in wire["function"]


def test_to_wire_tool_call_requires_id() -> None:
    with pytest.raises(ValueError, match="no id"):
        to_wire_tool_call(ToolCallBlock(tool_name="f", tool_kwargs={}))


def test_assistant_message_is_json_serialisable_and_round_trips() -> None:
    msg = assistant_message(
        None,
        reasoning_content="thinking...",
        tool_calls=[("c1", "get_weather_v2_", {"city": "Paris"}), ("c2", "add", "{bad")],
        tool_names={"get_weather_v2_": "get weather[v2]"},
    )
    dumped = msg.model_dump_json()
    back = ChatMessage.model_validate_json(dumped)
    assert back == msg
    blocks = [b for b in back.blocks if isinstance(b, ToolCallBlock)]
    assert [b.tool_name for b in blocks] == ["get weather[v2]", "add"]
    assert back.additional_kwargs["tool_calls"][0]["function"]["arguments"] == json.dumps(
        {"city": "Paris"}
    )
    assert any(isinstance(b, ThinkingBlock) and b.content == "thinking..." for b in back.blocks)
    # and it can be sent back: names sanitised again, reasoning not sent
    wire = to_wire_message(back)
    assert wire["tool_calls"][0]["function"]["name"] == "get_weather_v2_"
    assert set(wire) == {"role", "tool_calls"}
