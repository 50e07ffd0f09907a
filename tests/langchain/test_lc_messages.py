"""Pure translation tests: LangChain messages <-> wire dicts (no server)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

from azureinfer.response import StreamAccumulator, parse_chat_completion
from langchain_azureinfer._messages import convert_content_part, convert_messages
from langchain_azureinfer.chat_models import (
    MODEL_PROVIDER,
    chunk_to_message_chunk,
    result_to_message,
)

B64 = "iVBORw0KGgo="


def one(message: Any, **kwargs: Any) -> dict[str, Any]:
    out = convert_messages([message], **kwargs)
    assert len(out) == 1
    return out[0]


# ---- roles ---------------------------------------------------------------------------------


def test_system_message_is_sent_as_system() -> None:
    assert one(SystemMessage("be brief")) == {"role": "system", "content": "be brief"}


def test_developer_chat_message_is_sent_as_developer_not_chat() -> None:
    # Anchor bug: ChatMessage(role="developer") went out as role "chat".
    assert one(ChatMessage(role="developer", content="rules")) == {
        "role": "developer",
        "content": "rules",
    }


def test_system_message_with_openai_developer_role_is_sent_as_developer() -> None:
    # Anchor bug: __openai_role__=developer was ignored.
    msg = SystemMessage("rules", additional_kwargs={"__openai_role__": "developer"})
    assert one(msg)["role"] == "developer"


def test_developer_can_be_sent_as_system_for_models_without_it() -> None:
    msg = ChatMessage(role="developer", content="rules")
    assert one(msg, developer_role="system") == {"role": "system", "content": "rules"}


def test_human_name_is_kept() -> None:
    # Anchor bug: HumanMessage.name was dropped.
    assert one(HumanMessage("hi", name="alice")) == {
        "role": "user",
        "content": "hi",
        "name": "alice",
    }


def test_function_message_is_rejected_with_a_clear_error() -> None:
    # Anchor bug: FunctionMessage went out as an empty {} message.
    with pytest.raises(ValueError, match=r"messages\[1\].*FunctionMessage.*ToolMessage"):
        convert_messages([HumanMessage("x"), FunctionMessage(name="f", content="r")])


def test_unknown_chat_message_role_is_rejected() -> None:
    with pytest.raises(ValueError, match="'narrator'"):
        convert_messages([ChatMessage(role="narrator", content="x")])


def test_system_messages_fold_into_first_user_message() -> None:
    out = convert_messages(
        [SystemMessage("S1"), HumanMessage("hello"), AIMessage("hi"), HumanMessage("again")],
        fold_system_messages=True,
    )
    assert out == [
        {"role": "user", "content": "S1\n\nhello"},
        {"role": "assistant", "content": "hi"},
        {"role": "user", "content": "again"},
    ]


def test_fold_system_messages_into_list_content() -> None:
    out = convert_messages(
        [SystemMessage("S"), HumanMessage([{"type": "text", "text": "q"}])],
        fold_system_messages=True,
    )
    assert out == [
        {"role": "user", "content": [{"type": "text", "text": "S"}, {"type": "text", "text": "q"}]}
    ]


def test_system_list_content_is_joined_to_a_string() -> None:
    msg = SystemMessage(
        [{"type": "text", "text": "a", "cache_control": {"type": "ephemeral"}}, "b"]
    )
    assert one(msg) == {"role": "system", "content": "a\nb"}


# ---- user content blocks -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("block", "expected_url"),
    [
        ({"type": "image_url", "image_url": {"url": "https://x/a.png"}}, "https://x/a.png"),
        ({"type": "image_url", "image_url": "https://x/a.png"}, "https://x/a.png"),
        ({"type": "image", "url": "https://x/a.png"}, "https://x/a.png"),
        (
            {"type": "image", "base64": B64, "mime_type": "image/png"},
            f"data:image/png;base64,{B64}",
        ),
        (
            {"type": "image", "source_type": "base64", "data": B64, "mime_type": "image/jpeg"},
            f"data:image/jpeg;base64,{B64}",
        ),
        ({"type": "image", "source_type": "url", "url": "https://x/b.png"}, "https://x/b.png"),
        (
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": B64}},
            f"data:image/png;base64,{B64}",
        ),
        ({"type": "image", "source": {"type": "url", "url": "https://x/c.png"}}, "https://x/c.png"),
    ],
)
def test_every_image_form_becomes_an_image_url_item(
    block: dict[str, Any], expected_url: str
) -> None:
    assert convert_content_part(block) == {"type": "image_url", "image_url": {"url": expected_url}}


def test_image_detail_is_kept() -> None:
    part = convert_content_part({"type": "image_url", "image_url": {"url": "u", "detail": "low"}})
    assert part == {"type": "image_url", "image_url": {"url": "u", "detail": "low"}}
    part = convert_content_part({"type": "image", "url": "u", "extras": {"detail": "high"}})
    assert part == {"type": "image_url", "image_url": {"url": "u", "detail": "high"}}


def test_audio_forms_become_input_audio() -> None:
    expected = {"type": "input_audio", "input_audio": {"data": "QUJD", "format": "wav"}}
    assert (
        convert_content_part({"type": "audio", "base64": "QUJD", "mime_type": "audio/wav"})
        == expected
    )
    assert (
        convert_content_part(
            {"type": "audio", "source_type": "base64", "data": "QUJD", "mime_type": "audio/x-wav"}
        )
        == expected
    )
    assert convert_content_part(dict(expected)) == expected
    mp3 = convert_content_part({"type": "audio", "base64": "QUJD", "mime_type": "audio/mpeg"})
    assert mp3["input_audio"]["format"] == "mp3"
    assert convert_content_part({"type": "audio", "url": "https://x/a.wav"}) == {
        "type": "audio_url",
        "audio_url": {"url": "https://x/a.wav"},
    }


def test_text_block_extras_like_cache_control_are_not_sent() -> None:
    block = {"type": "text", "text": "hi", "cache_control": {"type": "ephemeral"}}
    assert convert_content_part(block) == {"type": "text", "text": "hi"}


def test_plain_strings_in_a_list_become_text_items() -> None:
    assert one(HumanMessage(["a", {"type": "text", "text": "b"}]))["content"] == [
        {"type": "text", "text": "a"},
        {"type": "text", "text": "b"},
    ]


def test_pdf_file_block_is_rejected_naming_the_block() -> None:
    msg = HumanMessage([{"type": "file", "base64": B64, "mime_type": "application/pdf"}])
    with pytest.raises(ValueError, match=r"messages\[0\].*content\[0\].*'file'"):
        convert_messages([msg])


def test_base64_image_without_mime_type_is_rejected() -> None:
    with pytest.raises(ValueError, match="mime_type"):
        convert_content_part({"type": "image", "source_type": "base64", "data": B64})


def test_unknown_block_type_is_rejected() -> None:
    with pytest.raises(ValueError, match="'hologram'"):
        convert_content_part({"type": "hologram"})


# ---- assistant messages ----------------------------------------------------------------------


def test_ai_tool_calls_are_sent_with_json_arguments_and_no_empty_content() -> None:
    msg = AIMessage("", tool_calls=[{"name": "f", "args": {"city": "Zürich"}, "id": "c1"}])
    assert one(msg) == {
        "role": "assistant",
        "tool_calls": [
            {
                "type": "function",
                "id": "c1",
                "function": {"name": "f", "arguments": '{"city": "Zürich"}'},
            }
        ],
    }


def test_anthropic_tool_use_blocks_are_translated_not_sent_raw() -> None:
    msg = AIMessage(
        [
            {"type": "text", "text": "Hmm"},
            {"type": "tool_use", "input": {"fav_color": "purple"}, "id": "foo", "name": "picker"},
        ],
        tool_calls=[{"name": "picker", "args": {"fav_color": "purple"}, "id": "foo"}],
    )
    out = one(msg)
    assert out["content"] == "Hmm"
    assert [c["id"] for c in out["tool_calls"]] == ["foo"]
    assert json.loads(out["tool_calls"][0]["function"]["arguments"]) == {"fav_color": "purple"}


def test_anthropic_tool_use_without_tool_calls_still_becomes_a_tool_call() -> None:
    msg = AIMessage([{"type": "tool_use", "input": {"a": 1}, "id": "t9", "name": "g"}])
    assert one(msg)["tool_calls"] == [
        {"type": "function", "id": "t9", "function": {"name": "g", "arguments": '{"a": 1}'}}
    ]


def test_v1_content_blocks_are_translated() -> None:
    # Anchor bug: v1 tool_call / reasoning blocks went out raw in `content`.
    msg = AIMessage(
        [
            {"type": "reasoning", "reasoning": "think"},
            {"type": "text", "text": "Let me check."},
            {"type": "tool_call", "id": "c1", "name": "get_weather", "args": {"location": "SF"}},
        ],
        tool_calls=[{"name": "get_weather", "args": {"location": "SF"}, "id": "c1"}],
        response_metadata={"output_version": "v1"},
    )
    out = one(msg)
    assert out["content"] == "Let me check."
    assert len(out["tool_calls"]) == 1


def test_anthropic_thinking_blocks_are_not_resent() -> None:
    msg = AIMessage(
        [
            {"type": "thinking", "thinking": "hmm", "signature": "x"},
            {"type": "text", "text": "Hello"},
        ]
    )
    assert one(msg) == {"role": "assistant", "content": "Hello"}


def test_invalid_tool_calls_are_sent_back_not_dropped() -> None:
    # Anchor bug: invalid_tool_calls were dropped from the outgoing AI message.
    msg = AIMessage(
        "",
        invalid_tool_calls=[
            {
                "name": "f",
                "args": "{bad",
                "id": "c2",
                "error": "bad json",
                "type": "invalid_tool_call",
            }
        ],
    )
    assert one(msg)["tool_calls"] == [
        {"type": "function", "id": "c2", "function": {"name": "f", "arguments": "{bad"}}
    ]


def test_ai_image_block_is_rejected() -> None:
    with pytest.raises(ValueError, match="assistant"):
        convert_messages([AIMessage([{"type": "image", "url": "u"}])])


# ---- tool messages ---------------------------------------------------------------------------


def test_tool_message_without_name_sends_no_null_name() -> None:
    # Anchor bug: a missing name went out as "name": null.
    assert one(ToolMessage("42", tool_call_id="c1")) == {
        "role": "tool",
        "tool_call_id": "c1",
        "content": "42",
    }


def test_tool_message_list_content_is_joined() -> None:
    msg = ToolMessage(
        [{"type": "text", "text": "a"}, "b", {"type": "json", "json": {"x": 1}}], tool_call_id="c"
    )
    assert one(msg)["content"] == 'a\nb\n{"x": 1}'


def test_tool_error_status_is_conveyed() -> None:
    # Anchor bug: status="error" was not conveyed.
    msg = ToolMessage("division by zero", tool_call_id="c1", status="error")
    assert one(msg)["content"] == "Error: division by zero"
    already = ToolMessage("Error: boom", tool_call_id="c1", status="error")
    assert one(already)["content"] == "Error: boom"


def test_tool_images_follow_the_run_of_tool_messages_as_a_user_message() -> None:
    image = {"type": "image", "base64": B64, "mime_type": "image/png"}
    out = convert_messages(
        [
            HumanMessage("q"),
            AIMessage(
                "",
                tool_calls=[
                    {"name": "a", "args": {}, "id": "1"},
                    {"name": "b", "args": {}, "id": "2"},
                ],
            ),
            ToolMessage([image], tool_call_id="1"),
            ToolMessage("text only", tool_call_id="2"),
        ]
    )
    assert [m["role"] for m in out] == ["user", "assistant", "tool", "tool", "user"]
    assert "image" in out[2]["content"]
    assert out[4]["content"][1] == {
        "type": "image_url",
        "image_url": {"url": f"data:image/png;base64,{B64}"},
    }


# ---- incoming ----------------------------------------------------------------------------------


def completion(**message: Any) -> dict[str, Any]:
    return {
        "id": "cmpl-123",
        "object": "chat.completion",
        "created": 1718726686,
        "model": "gpt-4o-2024",
        "system_fingerprint": "fp_1",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", **message},
                "finish_reason": "stop",
                "content_filter_results": {"hate": {"filtered": False, "severity": "safe"}},
            }
        ],
        "usage": {
            "prompt_tokens": 10,
            "completion_tokens": 5,
            "total_tokens": 15,
            "prompt_tokens_details": {"cached_tokens": 4},
            "completion_tokens_details": {"reasoning_tokens": 2},
        },
    }


def test_result_keeps_completion_id_metadata_and_usage_details() -> None:
    msg = result_to_message(parse_chat_completion(completion(content="hello")))
    assert msg.id == "cmpl-123"
    assert msg.content == "hello"
    meta = msg.response_metadata
    assert meta["model_name"] == "gpt-4o-2024"
    assert meta["model_provider"] == MODEL_PROVIDER
    assert meta["finish_reason"] == "stop"
    assert meta["id"] == "cmpl-123"
    assert meta["system_fingerprint"] == "fp_1"
    assert meta["content_filter_results"]["hate"]["severity"] == "safe"
    assert msg.usage_metadata == {
        "input_tokens": 10,
        "output_tokens": 5,
        "total_tokens": 15,
        "input_token_details": {"cache_read": 4},
        "output_token_details": {"reasoning": 2},
    }


def test_malformed_tool_arguments_become_invalid_tool_calls() -> None:
    # Anchor bug: the whole invoke crashed with OutputParserException.
    calls = [
        {"id": "ok", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}},
        {"id": "bad", "type": "function", "function": {"name": "g", "arguments": "{not json"}},
    ]
    msg = result_to_message(parse_chat_completion(completion(content=None, tool_calls=calls)))
    assert msg.tool_calls == [{"name": "f", "args": {"a": 1}, "id": "ok", "type": "tool_call"}]
    assert len(msg.invalid_tool_calls) == 1
    assert msg.invalid_tool_calls[0]["id"] == "bad"
    assert msg.invalid_tool_calls[0]["args"] == "{not json"


def test_reasoning_is_surfaced_in_additional_kwargs_and_v1_blocks() -> None:
    msg = result_to_message(
        parse_chat_completion(completion(content="42", reasoning_content="think"))
    )
    assert msg.additional_kwargs["reasoning_content"] == "think"
    assert msg.content_blocks[0] == {"type": "reasoning", "reasoning": "think"}


def _chunks(events: list[dict[str, Any]]) -> list[AIMessageChunk]:
    acc = StreamAccumulator()
    out = [acc.add(e) for e in events]
    acc.add("[DONE]")
    last = acc.finish()
    return [chunk_to_message_chunk(c) for c in [*out, last] if c is not None]


def _event(
    delta: dict[str, Any] | None, finish: str | None = None, usage: Any = None
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "id": "s1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4o",
    }
    event["choices"] = (
        [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    )
    if usage is not None:
        event["usage"] = usage
    return event


def test_stream_chunks_tool_call_chunks_usage_once_and_last_position() -> None:
    usage = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    chunks = _chunks(
        [
            _event({"role": "assistant", "content": "He"}),
            _event({"content": "llo"}),
            _event(
                {
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "c1",
                            "type": "function",
                            "function": {"name": "f", "arguments": ""},
                        }
                    ]
                }
            ),
            _event({"tool_calls": [{"index": 0, "function": {"arguments": '{"a":'}}]}),
            _event({"tool_calls": [{"index": 0, "function": {"arguments": " 1}"}}]}),
            _event({}, finish="tool_calls"),
            _event(None, usage=usage),  # OpenAI-style usage-only chunk
        ]
    )
    assert [c.chunk_position for c in chunks] == [None] * (len(chunks) - 1) + ["last"]
    assert sum(1 for c in chunks if c.usage_metadata) == 1
    assert sum(1 for c in chunks if c.response_metadata.get("model_name")) == 1
    full = chunks[0]
    for c in chunks[1:]:
        full = full + c
    assert full.content == "Hello"
    assert full.id == "s1"
    assert full.tool_calls == [{"name": "f", "args": {"a": 1}, "id": "c1", "type": "tool_call"}]
    assert full.tool_call_chunks[0]["index"] == 0
    assert full.usage_metadata == {"input_tokens": 3, "output_tokens": 2, "total_tokens": 5}
    assert full.response_metadata["model_name"] == "gpt-4o"
    assert full.response_metadata["finish_reason"] == "tool_calls"
    assert full.response_metadata["model_provider"] == MODEL_PROVIDER


def test_stream_tool_fragments_without_index_are_kept() -> None:
    # Anchor bug: if any delta lacked `index`, all tool calls were silently dropped.
    chunks = _chunks(
        [
            _event(
                {
                    "tool_calls": [
                        {
                            "id": "c1",
                            "type": "function",
                            "function": {"name": "f", "arguments": '{"a"'},
                        }
                    ]
                }
            ),
            _event({"tool_calls": [{"function": {"arguments": ": 2}"}}]}),
            _event({}, finish="tool_calls"),
        ]
    )
    full = chunks[0]
    for c in chunks[1:]:
        full = full + c
    assert full.tool_calls == [{"name": "f", "args": {"a": 2}, "id": "c1", "type": "tool_call"}]


def test_stream_reasoning_deltas_are_surfaced() -> None:
    chunks = _chunks(
        [_event({"reasoning_content": "hm"}), _event({"content": "ok"}), _event({}, finish="stop")]
    )
    full = chunks[0]
    for c in chunks[1:]:
        full = full + c
    assert full.additional_kwargs["reasoning_content"] == "hm"
    assert full.content == "ok"


def test_stream_extras_that_add_up_are_kept_on_every_chunk() -> None:
    first = _event(None)
    first["prompt_filter_results"] = [{"prompt_index": 0, "content_filter_results": {}}]
    lp1 = {"content": [{"token": "He", "logprob": -0.1}]}
    lp2 = {"content": [{"token": "llo", "logprob": -0.2}]}
    second = _event({"content": "He"})
    second["choices"][0]["logprobs"] = lp1
    second["choices"][0]["content_filter_results"] = {
        "hate": {"filtered": False, "severity": "safe"}
    }
    third = _event({"content": "llo"})
    third["choices"][0]["logprobs"] = lp2
    third["choices"][0]["content_filter_results"] = {
        "hate": {"filtered": False, "severity": "safe"}
    }
    chunks = _chunks([first, second, third, _event({}, finish="stop")])
    full = chunks[0]
    for c in chunks[1:]:
        full = full + c
    meta = full.response_metadata
    assert meta["logprobs"]["content"] == lp1["content"] + lp2["content"]
    assert meta["prompt_filter_results"][0]["prompt_index"] == 0
    assert "safesafe" not in json.dumps(meta)


def test_chat_message_human_and_ai_roles() -> None:
    out = convert_messages(
        [ChatMessage(role="human", content="q"), ChatMessage(role="ai", content="a")]
    )
    assert [m["role"] for m in out] == ["user", "assistant"]


def test_unsupported_openai_role_is_rejected() -> None:
    with pytest.raises(ValueError, match="__openai_role__"):
        convert_messages([SystemMessage("x", additional_kwargs={"__openai_role__": "critic"})])


@pytest.mark.parametrize(
    ("block", "match"),
    [
        ({"type": "image", "file_id": "f1"}, "file id"),
        ({"type": "audio", "base64": "QUJD", "mime_type": "audio/ogg"}, "wav or mp3"),
        ({"type": "audio", "mime_type": "audio/wav"}, "base64 data or a url"),
        ({"type": "image"}, "url, base64"),
        ({"type": "input_audio", "input_audio": {"data": "QUJD"}}, "format"),
        ({"type": "video", "url": "https://x/v.mp4"}, "'video'"),
    ],
)
def test_inexpressible_blocks_are_rejected_clearly(block: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        convert_content_part(block)


def test_system_message_with_an_image_is_rejected() -> None:
    with pytest.raises(ValueError, match="system messages can only carry text"):
        convert_messages([SystemMessage([{"type": "image", "url": "https://x/a.png"}])])


def test_tool_message_with_audio_is_rejected() -> None:
    msg = ToolMessage(
        [{"type": "audio", "base64": "QUJD", "mime_type": "audio/wav"}], tool_call_id="c"
    )
    with pytest.raises(ValueError, match="tool results can carry text and images"):
        convert_messages([msg])


def test_openai_responses_function_call_and_v1_invalid_tool_call_blocks() -> None:
    msg = AIMessage(
        [
            {"type": "function_call", "call_id": "r1", "name": "f", "arguments": '{"a": 1}'},
            {"type": "invalid_tool_call", "id": "r2", "name": "g", "args": "{oops", "error": "bad"},
            {"type": "refusal", "refusal": "no"},
        ]
    )
    assert one(msg)["tool_calls"] == [
        {"type": "function", "id": "r1", "function": {"name": "f", "arguments": '{"a": 1}'}},
        {"type": "function", "id": "r2", "function": {"name": "g", "arguments": "{oops"}},
    ]


def test_fold_without_a_user_message_sends_the_instructions_as_user() -> None:
    out = convert_messages([SystemMessage("only rules")], fold_system_messages=True)
    assert out == [{"role": "user", "content": "only rules"}]
