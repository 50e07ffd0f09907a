"""AzureInference function calling end to end: tools, tool_choice, streaming tool calls."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatMessage, ChatResponse, ToolCallBlock
from llama_index.core.tools import FunctionTool

from llamaindex_azureinfer import AzureInference


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


ADD = FunctionTool.from_defaults(add)
MUL = FunctionTool.from_defaults(multiply)


def _bodies(emu: Any) -> list[dict[str, Any]]:
    return [r.body for r in emu.requests_for("chat")]


def test_chat_with_tools_returns_json_safe_tool_calls(llm: Any, emu: Any) -> None:
    resp = llm.chat_with_tools([ADD, MUL], user_msg="please add 2 and 3")
    calls = llm.get_tool_calls_from_response(resp)
    assert [c.tool_name for c in calls] == ["add"]
    assert set(calls[0].tool_kwargs) == {"a", "b"}
    assert resp.additional_kwargs["finish_reason"] == "tool_calls"
    blocks = [b for b in resp.message.blocks if isinstance(b, ToolCallBlock)]
    assert blocks[0].tool_call_id == calls[0].tool_id
    wire = resp.message.additional_kwargs["tool_calls"]
    assert wire[0]["type"] == "function" and wire[0]["function"]["name"] == "add"
    json.loads(resp.message.model_dump_json())
    (body,) = _bodies(emu)
    assert [t["function"]["name"] for t in body["tools"]] == ["add", "multiply"]
    assert (
        "tool_choice" not in body
    )  # auto is the service default; not sent (semantic-kernel#10221)
    assert body["parallel_tool_calls"] is False


async def test_achat_with_tools_parallel_calls(emu: Any) -> None:
    async with AzureInference(endpoint=emu.endpoint, credential=emu.key, model="gpt-4o") as llm:
        resp = await llm.achat_with_tools(
            [ADD, MUL], user_msg="add 2 and 3, multiply 4 and 5", allow_parallel_tool_calls=True
        )
    calls = llm.get_tool_calls_from_response(resp)
    assert sorted(c.tool_name for c in calls) == ["add", "multiply"]
    assert "parallel_tool_calls" not in _bodies(emu)[0]


@pytest.mark.parametrize(
    ("kwargs", "wire"),
    [
        ({"tool_required": True}, "required"),
        ({"tool_choice": "none"}, "none"),
        ({"tool_choice": "auto"}, "auto"),
        ({"tool_choice": "required"}, "required"),
        ({"tool_choice": "multiply"}, {"type": "function", "function": {"name": "multiply"}}),
        (
            {"tool_choice": {"type": "function", "function": {"name": "multiply"}}},
            {"type": "function", "function": {"name": "multiply"}},
        ),
        ({"tool_choice": None, "tool_required": True}, "required"),
    ],
)
def test_tool_choice_forms(llm: Any, emu: Any, kwargs: dict[str, Any], wire: Any) -> None:
    resp = llm.chat_with_tools([ADD, MUL], user_msg="compute something", **kwargs)
    (body,) = _bodies(emu)
    assert body["tool_choice"] == wire
    calls = llm.get_tool_calls_from_response(resp, error_on_no_tool_call=False)
    if wire == "none":
        assert calls == []
    elif isinstance(wire, dict):
        assert [c.tool_name for c in calls] == ["multiply"]


def test_tool_names_are_sanitised_on_every_path_and_mapped_back(llm: Any, emu: Any) -> None:
    odd = FunctionTool.from_defaults(add, name="add numbers[v2]")
    resp = llm.chat_with_tools([odd], user_msg="x", tool_choice="add numbers[v2]")
    (call,) = llm.get_tool_calls_from_response(resp)
    assert call.tool_name == "add numbers[v2]"  # the caller's name, so the tool can be found
    list(llm.stream_chat_with_tools([odd], user_msg="x", tool_required=True))
    history = [ChatMessage(role="user", content="x"), resp.message]
    history.append(
        ChatMessage(role="tool", content="5", additional_kwargs={"tool_call_id": call.tool_id})
    )
    llm.chat_with_tools([odd], chat_history=history)
    b1, b2, b3 = _bodies(emu)
    for body in (b1, b2, b3):
        assert body["tools"][0]["function"]["name"] == "add_numbers_v2_"
    assert b1["tool_choice"] == {"type": "function", "function": {"name": "add_numbers_v2_"}}
    assert b3["messages"][1]["tool_calls"][0]["function"]["name"] == "add_numbers_v2_"


def test_chat_history_is_not_mutated_and_chat_message_user_msg_is_kept(llm: Any, emu: Any) -> None:
    history = [ChatMessage(role="system", content="sys")]
    before = copy.deepcopy(history)
    llm.chat_with_tools(
        [ADD], user_msg=ChatMessage(role="user", content="as message"), chat_history=history
    )
    list(
        llm.stream_chat_with_tools(
            [ADD], user_msg=ChatMessage(content="streamed msg"), chat_history=history
        )
    )
    assert history == before
    b1, b2 = _bodies(emu)
    assert b1["messages"] == [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "as message"},
    ]
    assert b2["messages"][-1] == {"role": "user", "content": "streamed msg"}


def test_empty_tool_list_sends_neither_tools_nor_tool_choice(llm: Any, emu: Any) -> None:
    llm.chat_with_tools([], user_msg="no tools here", tool_required=True)
    (body,) = _bodies(emu)
    assert "tools" not in body and "tool_choice" not in body and "parallel_tool_calls" not in body


def test_strict_tools(emu: Any) -> None:
    with AzureInference(
        endpoint=emu.endpoint, credential=emu.key, model="gpt-4o", strict=True
    ) as llm:
        llm.chat_with_tools([ADD], user_msg="add 1 and 2")
        llm.chat_with_tools([ADD], user_msg="add 1 and 2", strict=False)
    b1, b2 = _bodies(emu)
    fn = b1["tools"][0]["function"]
    assert fn["strict"] is True
    assert fn["parameters"]["additionalProperties"] is False
    assert "strict" not in b2["tools"][0]["function"]


def test_stream_chat_with_tools_accumulates_tool_calls_on_every_chunk(llm: Any, emu: Any) -> None:
    chunks = list(
        llm.stream_chat_with_tools(
            [ADD, MUL], user_msg="add 2 and 3, multiply 4 and 5", allow_parallel_tool_calls=True
        )
    )
    seen = [len(llm.get_tool_calls_from_response(c, error_on_no_tool_call=False)) for c in chunks]
    assert seen == sorted(seen) and seen[-1] == 2  # never lost once seen
    last = chunks[-1]
    assert last.additional_kwargs["finish_reason"] == "tool_calls"
    assert last.additional_kwargs["usage"]["total_tokens"] > 0
    final = llm.get_tool_calls_from_response(last)
    blocks = [b for b in last.message.blocks if isinstance(b, ToolCallBlock)]
    assert all(isinstance(b.tool_kwargs, dict) for b in blocks)  # parsed once complete
    non_stream = llm.chat_with_tools(
        [ADD, MUL], user_msg="add 2 and 3, multiply 4 and 5", allow_parallel_tool_calls=True
    )
    expected = llm.get_tool_calls_from_response(non_stream)
    assert [(c.tool_name, c.tool_kwargs) for c in final] == [
        (c.tool_name, c.tool_kwargs) for c in expected
    ]
    json.loads(last.message.model_dump_json())


async def test_astream_chat_with_tools(emu: Any) -> None:
    async with AzureInference(endpoint=emu.endpoint, credential=emu.key, model="gpt-4o") as llm:
        gen = await llm.astream_chat_with_tools([ADD], user_msg="add 2 and 3")
        chunks = [c async for c in gen]
    (call,) = llm.get_tool_calls_from_response(chunks[-1])
    assert call.tool_name == "add" and set(call.tool_kwargs) == {"a", "b"}


@pytest.mark.parametrize("arguments", [None, "", "{not json", '{"a": 1', "[1, 2]"])
def test_get_tool_calls_from_response_is_tolerant(llm: Any, arguments: Any) -> None:
    msg = ChatMessage(
        role="assistant",
        content=None,
        additional_kwargs={
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "add", "arguments": arguments},
                }
            ]
        },
    )
    (sel,) = llm.get_tool_calls_from_response(ChatResponse(message=msg))
    assert sel.tool_name == "add" and sel.tool_id == "c1"
    assert isinstance(sel.tool_kwargs, dict)
    if arguments == '{"a": 1':
        assert sel.tool_kwargs == {"a": 1}


def test_get_tool_calls_accepts_sdk_objects_and_blocks(llm: Any) -> None:
    from azure.ai.inference.models import ChatCompletionsToolCall, FunctionCall

    sdk = ChatCompletionsToolCall(id="c9", function=FunctionCall(name="mul", arguments='{"a": 2}'))
    resp = ChatResponse(
        message=ChatMessage(role="assistant", additional_kwargs={"tool_calls": [sdk]})
    )
    assert llm.get_tool_calls_from_response(resp)[0].tool_kwargs == {"a": 2}
    resp2 = ChatResponse(
        message=ChatMessage(
            role="assistant",
            blocks=[ToolCallBlock(tool_call_id="c1", tool_name="f", tool_kwargs="")],
        )
    )
    assert llm.get_tool_calls_from_response(resp2)[0].tool_kwargs == {}
    with pytest.raises(ValueError, match="tool call"):
        llm.get_tool_calls_from_response(
            ChatResponse(message=ChatMessage(role="assistant", content="hi"))
        )


def test_tool_calls_without_ids_get_stable_ids_that_round_trip(llm: Any, emu: Any) -> None:
    emu.script_raw(
        200,
        {
            "id": "x1",
            "object": "chat.completion",
            "created": 1700000000,
            "model": "gpt-4o",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "tool_calls",
                    "message": {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [
                            {"type": "function", "function": {"name": "add", "arguments": "{}"}}
                        ],
                    },
                }
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        },
        route="chat",
    )
    resp = llm.chat_with_tools([ADD], user_msg="add")
    (call,) = llm.get_tool_calls_from_response(resp)
    assert call.tool_id == "call_0"
    tool_msg = ChatMessage(
        role="tool", content="0", additional_kwargs={"tool_call_id": call.tool_id}
    )
    llm.chat([ChatMessage(role="user", content="add"), resp.message, tool_msg])
    sent = _bodies(emu)[-1]["messages"]
    assert sent[1]["tool_calls"][0]["id"] == sent[2]["tool_call_id"] == "call_0"


def test_tools_passed_straight_to_chat_are_translated_and_mapped_back(llm: Any, emu: Any) -> None:
    odd = FunctionTool.from_defaults(multiply, name="times (x)")
    resp = llm.chat([ChatMessage(role="user", content="x")], tools=[odd], tool_choice="times (x)")
    (call,) = llm.get_tool_calls_from_response(resp)
    assert call.tool_name == "times (x)"
    (body,) = _bodies(emu)
    assert body["tools"][0]["function"]["name"] == "times__x_"
