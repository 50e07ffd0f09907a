"""AzureInference streams read the core's StreamAccumulator: what each yielded chunk carries."""

from __future__ import annotations

import json
from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatMessage, ToolCallBlock

from llamaindex_azureinfer import AzureInference


def _event(delta: dict[str, Any], finish: str | None = None) -> str:
    event = {
        "id": "s1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(event)}\n\n"


def _fragment(index: int, arguments: str, **first: Any) -> dict[str, Any]:
    call: dict[str, Any] = {"index": index, "function": {"arguments": arguments}}
    if first:
        call.update(id=first["id"], type="function")
        call["function"]["name"] = first["name"]
    return {"tool_calls": [call]}


def _calls(response: Any) -> list[tuple[str | None, str, Any]]:
    return [
        (b.tool_call_id, b.tool_name, b.tool_kwargs)
        for b in response.message.blocks
        if isinstance(b, ToolCallBlock)
    ]


@pytest.mark.parametrize("is_async", [False, True])
async def test_tool_calls_on_every_chunk_partial_text_then_parsed(emu: Any, is_async: bool) -> None:
    body = "".join(
        [
            _event({"role": "assistant", "content": "Let "}),
            _event({"content": "me check."}),
            _event(_fragment(0, '{"a": 2,', id="c0", name="add")),
            _event(_fragment(1, '{"x"', id="c1", name="broken")),
            _event(_fragment(0, ' "b": 3}')),
            _event(_fragment(1, ": oops")),
            _event({}, finish="tool_calls"),
            "data: [DONE]\n\n",
        ]
    )
    emu.script_raw(200, body, headers={"Content-Type": "text/event-stream"})
    llm = AzureInference(endpoint=emu.endpoint, credential=emu.key, model="gpt-4o")
    messages = [ChatMessage(role="user", content="add")]
    if is_async:
        chunks = [c async for c in await llm.astream_chat(messages)]
        await llm.aclose()
    else:
        chunks = list(llm.stream_chat(messages))
        llm.close()
    assert [c.message.content for c in chunks[:2]] == ["Let ", "Let me check."]
    assert _calls(chunks[2]) == [("c0", "add", '{"a": 2,')]
    assert _calls(chunks[3]) == [("c0", "add", '{"a": 2,'), ("c1", "broken", '{"x"')]
    assert _calls(chunks[4])[0] == ("c0", "add", '{"a": 2, "b": 3}')  # complete, still text
    # The last chunk: arguments that parse become a dict, the others keep their text.
    assert _calls(chunks[-1]) == [("c0", "add", {"a": 2, "b": 3}), ("c1", "broken", '{"x": oops')]
    assert chunks[-1].additional_kwargs["finish_reason"] == "tool_calls"
    assert all(c.message.content == "Let me check." for c in chunks[1:])
