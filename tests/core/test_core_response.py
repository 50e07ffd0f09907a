"""Unit tests: completion parsing, stream accumulation, think tags, SSE decoding, embeddings."""

from __future__ import annotations

import base64
import struct
from typing import Any

import pytest

from azureinfer import (
    ContentFilterError,
    EmbeddingsResponseError,
    IncompleteStreamError,
    ServiceError,
    StreamAccumulator,
)
from azureinfer.response import (
    ChatChunk,
    parse_chat_completion,
    parse_embeddings,
    split_think_tags,
)
from azureinfer.streaming import SSEDecoder


def completion(message: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {
        "id": "c1",
        "object": "chat.completion",
        "created": 1718726686,
        "model": "m-1",
        "choices": [
            {"index": 0, "message": {"role": "assistant", **message}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7},
        **top,
    }


def test_parse_basic_completion() -> None:
    r = parse_chat_completion(completion({"content": "hello"}, system_fingerprint="fp"))
    assert (r.id, r.model, r.created, r.content, r.finish_reason) == (
        "c1",
        "m-1",
        1718726686,
        "hello",
        "stop",
    )
    assert r.usage is not None and (r.usage.prompt_tokens, r.usage.total_tokens) == (3, 7)
    assert r.system_fingerprint == "fp" and r.extras == {} and r.raw["object"] == "chat.completion"
    assert r.created_at is not None and r.created_at.year == 2024


def test_usage_details() -> None:
    data = completion({"content": "x"})
    data["usage"] = {
        "prompt_tokens": 10,
        "completion_tokens": 5,
        "prompt_tokens_details": {"cached_tokens": 6},
        "completion_tokens_details": {"reasoning_tokens": 2},
    }
    u = parse_chat_completion(data).usage
    assert u is not None
    assert (u.total_tokens, u.cached_tokens, u.reasoning_tokens) == (15, 6, 2)


def test_non_standard_fields_land_in_extras() -> None:
    data = completion({"content": "x", "audio": {"id": "a1", "transcript": "t"}, "refusal": None})
    data["prompt_filter_results"] = [{"prompt_index": 0, "content_filter_results": {}}]
    data["choices"][0]["logprobs"] = {"content": [{"token": "x", "logprob": -0.1}]}
    data["choices"][0]["content_filter_results"] = {"hate": {"filtered": False, "severity": "safe"}}
    r = parse_chat_completion(data)
    assert set(r.extras) == {"prompt_filter_results", "logprobs", "content_filter_results", "audio"}
    assert r.extras["audio"]["transcript"] == "t"


def test_reasoning_content_and_think_tags() -> None:
    r = parse_chat_completion(completion({"content": "answer", "reasoning_content": "because"}))
    assert (r.reasoning_content, r.content) == ("because", "answer")
    r = parse_chat_completion(completion({"content": "<think>\nhmm\n</think>\n\nanswer"}))
    assert (r.reasoning_content, r.content) == ("hmm", "answer")
    r = parse_chat_completion(completion({"content": "<think>hmm</think>answer"}), think_tags=False)
    assert (r.reasoning_content, r.content) == (None, "<think>hmm</think>answer")
    assert split_think_tags("<think>cut off") == ("cut off", "")
    assert split_think_tags("no tags <think>x</think>") == (None, "no tags <think>x</think>")


def test_tool_calls_and_invalid_tool_calls() -> None:
    msg = {
        "content": None,
        "tool_calls": [
            {"id": "a", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}},
            {"id": "b", "type": "function", "function": {"name": "g", "arguments": "{bad json"}},
            {"id": "c", "type": "function", "function": {"name": "h", "arguments": ""}},
            {"id": "d", "type": "function", "function": {"name": "k", "arguments": "[1, 2]"}},
            {
                "id": "e",
                "type": "function",
                "function": {"name": "z", "arguments": "{}", "call_id": None},
            },
        ],
    }
    r = parse_chat_completion(completion(msg))
    assert r.content == ""
    assert [(t.id, t.name, t.arguments, t.index) for t in r.tool_calls] == [
        ("a", "f", {"x": 1}, 0),
        ("c", "h", {}, 2),
        ("e", "z", {}, 4),
    ]
    assert [(t.id, t.name, t.arguments) for t in r.invalid_tool_calls] == [
        ("b", "g", "{bad json"),
        ("d", "k", "[1, 2]"),
    ]
    assert "invalid JSON" in r.invalid_tool_calls[0].error
    assert "not an object" in r.invalid_tool_calls[1].error


def test_empty_choices_filtered_prompt_is_a_content_filter_error() -> None:
    data = {
        "id": "x",
        "choices": [],
        "prompt_filter_results": [
            {
                "prompt_index": 0,
                "content_filter_results": {"hate": {"filtered": True, "severity": "high"}},
            }
        ],
    }
    with pytest.raises(ContentFilterError) as info:
        parse_chat_completion(data)
    assert info.value.content_filter_results == {"hate": {"filtered": True, "severity": "high"}}
    assert "content filter" in str(info.value)


def test_empty_choices_otherwise_is_a_service_error() -> None:
    with pytest.raises(ServiceError, match="no choices"):
        parse_chat_completion({"id": "x", "choices": []})
    with pytest.raises(ServiceError):
        parse_chat_completion({"id": "x"})


# ---------------------------------------------------------------------------- streams


def ev(
    delta: dict[str, Any] | None = None, finish: str | None = None, **top: Any
) -> dict[str, Any]:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    return {"id": "s1", "model": "m-1", "created": 5, "choices": choices, **top}


def run(events: list[Any], **kw: Any) -> tuple[list[ChatChunk], StreamAccumulator]:
    acc = StreamAccumulator(**kw)
    chunks = [c for c in (acc.add(e) for e in events) if c is not None]
    last = acc.finish()
    if last is not None:
        chunks.append(last)
    return chunks, acc


def test_stream_content_finish_and_trailing_usage_chunk() -> None:
    usage = {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
    chunks, acc = run(
        [
            ev({"role": "assistant", "content": ""}),
            ev({"content": "Hel"}),
            ev({"content": "lo"}),
            ev({}, "stop"),
            ev(None, usage=usage),
            "[DONE]",
        ]
    )
    assert "".join(c.content for c in chunks) == "Hello"
    assert chunks[-1].finish_reason == "stop"
    assert [c.usage is not None for c in chunks] == [False, False, False, True]
    r = acc.result()
    assert (r.content, r.finish_reason, r.id, r.model, r.created) == (
        "Hello",
        "stop",
        "s1",
        "m-1",
        5,
    )
    assert r.usage is not None and r.usage.total_tokens == 3


def test_usage_on_the_final_chunk_maas_profile() -> None:
    usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    chunks, _acc = run([ev({"content": "x"}), {**ev({}, "stop"), "usage": usage}, "[DONE]"])
    assert chunks[-1].finish_reason == "stop" and chunks[-1].usage is not None
    assert sum(c.usage is not None for c in chunks) == 1


def test_tool_fragments_joined_by_index() -> None:
    chunks, acc = run(
        [
            ev(
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "get_w", "arguments": ""},
                        }
                    ],
                }
            ),
            ev({"tool_calls": [{"index": 0, "function": {"arguments": '{"city":'}}]}),
            ev(
                {
                    "tool_calls": [
                        {"index": 1, "id": "call_2", "function": {"name": "g", "arguments": "{}"}}
                    ]
                }
            ),
            ev({"tool_calls": [{"index": 0, "function": {"arguments": '"Paris"}'}}]}),
            ev({}, "tool_calls"),
            "[DONE]",
        ]
    )
    r = acc.result()
    assert [(t.id, t.name, t.arguments, t.index) for t in r.tool_calls] == [
        ("call_1", "get_w", {"city": "Paris"}, 0),
        ("call_2", "g", {}, 1),
    ]
    frags = [tc for c in chunks for tc in c.tool_call_chunks]
    assert [f.index for f in frags] == [0, 0, 1, 0]
    assert frags[0].name == "get_w" and frags[1].name is None


def test_tool_fragments_without_index_joined_by_id_then_last() -> None:
    _, acc = run(
        [
            ev({"tool_calls": [{"id": "a", "function": {"name": "f", "arguments": '{"x"'}}]}),
            ev({"tool_calls": [{"function": {"arguments": ": 1}"}}]}),
            ev({"tool_calls": [{"id": "b", "function": {"name": "g", "arguments": "{"}}]}),
            ev({"tool_calls": [{"id": "b", "function": {"arguments": "}"}}]}),
            ev({}, "tool_calls"),
        ]
    )
    r = acc.result()
    assert [(t.id, t.name, t.arguments) for t in r.tool_calls] == [
        ("a", "f", {"x": 1}),
        ("b", "g", {}),
    ]


def test_streamed_malformed_arguments_become_invalid_tool_calls() -> None:
    _, acc = run(
        [
            ev(
                {
                    "tool_calls": [
                        {"index": 0, "id": "a", "function": {"name": "f", "arguments": "{oops"}}
                    ]
                },
                "tool_calls",
            )
        ]
    )
    r = acc.result()
    assert r.tool_calls == [] and r.invalid_tool_calls[0].arguments == "{oops"


def test_think_tags_split_across_deltas() -> None:
    pieces = ["<th", "ink>", "step one", " </thi", "nk>", "\n\nThe", " answer"]
    chunks, acc = run([ev({"content": p}) for p in pieces] + [ev({}, "stop")])
    r = acc.result()
    assert r.reasoning_content == "step one"
    assert r.content == "The answer"
    assert "".join(c.content for c in chunks) == "The answer"
    assert "".join(c.reasoning_content for c in chunks) == "step one"
    # the same split as for a whole completion
    assert split_think_tags("".join(pieces)) == ("step one", "The answer")


def test_think_whitespace_arriving_in_its_own_deltas() -> None:
    pieces = ["<think>", "\n", "  a", " ", "\n", "b", "\n", "</think>", "\n\n", "", "x"]
    _, acc = run([ev({"content": p}) for p in pieces] + [ev({}, "stop")])
    r = acc.result()
    assert (r.reasoning_content, r.content) == split_think_tags("".join(pieces)) == ("a \nb", "x")


def test_think_tags_off_and_plain_content_not_held_back() -> None:
    chunks, acc = run([ev({"content": "<think>x</think>y"}), ev({}, "stop")], think_tags=False)
    assert acc.result().content == "<think>x</think>y"
    chunks, _ = run([ev({"content": "Hi"}), ev({"content": " there"}), ev({}, "stop")])
    assert chunks[0].content == "Hi"  # no buffering once content cannot start with <think>


def test_unclosed_think_in_stream_is_reasoning() -> None:
    _, acc = run([ev({"content": "<think>still thinking"}), ev({}, "length")])
    r = acc.result()
    assert (r.reasoning_content, r.content, r.finish_reason) == ("still thinking", "", "length")


def test_native_reasoning_deltas() -> None:
    _chunks, acc = run(
        [
            ev({"reasoning_content": "r1"}),
            ev({"reasoning_content": "r2", "content": "c"}),
            ev({}, "stop"),
        ]
    )
    assert acc.result().reasoning_content == "r1r2" and acc.result().content == "c"


def test_truncated_stream_raises_with_partial() -> None:
    acc = StreamAccumulator()
    acc.add(ev({"content": "par"}))
    acc.add(ev({"content": "tial"}))
    with pytest.raises(IncompleteStreamError) as info:
        acc.finish()
    assert info.value.partial.content == "partial"
    assert "without a finish reason" in str(info.value)


def test_done_without_finish_reason_is_complete() -> None:
    _, acc = run([ev({"content": "x"}), "[DONE]"])
    assert acc.result().content == "x"


def test_error_event_raises() -> None:
    acc = StreamAccumulator()
    acc.add(ev({"content": "a"}))
    with pytest.raises(IncompleteStreamError) as info:
        acc.add({"error": {"code": "InternalServerError", "message": "boom"}})
    err = info.value
    assert err.code == "InternalServerError" and err.service_message == "boom"
    assert "boom" in str(err) and err.partial.content == "a"


def test_filter_chunk_before_content_and_extras() -> None:
    chunks, acc = run(
        [
            {"id": "", "choices": [], "prompt_filter_results": [{"prompt_index": 0}]},
            ev({"content": "x"}, content_filter_results={"hate": {"filtered": False}}),
            ev({}, "content_filter"),
        ]
    )
    assert chunks[0].extras["prompt_filter_results"] == [{"prompt_index": 0}]
    r = acc.result()
    assert r.finish_reason == "content_filter" and "prompt_filter_results" in r.extras


# ---------------------------------------------------------------------------- SSE


def decode_all(data: bytes, step: int) -> list[str]:
    dec = SSEDecoder()
    out: list[str] = []
    for i in range(0, len(data), step):
        out += dec.feed(data[i : i + step])
    return out + dec.close()


@pytest.mark.parametrize("step", [1, 3, 1000])
def test_sse_lf_crlf_comments_and_fields(step: int) -> None:
    raw = (
        b": keep-alive\r\n\r\n"
        b'event: message\r\nid: 1\r\ndata: {"a": 1}\r\n\r\n'
        b'data:{"b": "\xc3\xa9"}\n\n'
        b"retry: 10\rdata: [DONE]\r\r"
    )
    assert decode_all(raw, step) == ['{"a": 1}', '{"b": "é"}', "[DONE]"]


def test_sse_multiline_data_and_missing_final_blank_line() -> None:
    assert decode_all(b'data: {"a":\ndata: 1}\n\ndata: last', 4) == ['{"a":\n1}', "last"]


# ---------------------------------------------------------------------------- embeddings


def test_embeddings_ordered_by_index_and_base64_decoded() -> None:
    b64 = base64.b64encode(struct.pack("<2f", 0.5, -1.0)).decode()
    data = {
        "model": "e",
        "data": [{"index": 1, "embedding": b64}, {"index": 0, "embedding": [1, 2]}],
        "usage": {"prompt_tokens": 4, "total_tokens": 4},
    }
    r = parse_embeddings(data, expected=2)
    assert r.vectors == [[1.0, 2.0], [0.5, -1.0]]
    assert r.model == "e" and r.usage is not None and r.usage.total_tokens == 4


def test_embeddings_count_and_index_checks() -> None:
    # An answer without one embedding per input is the typed EmbeddingsResponseError (a
    # ServiceError) naming the positions, as documented (it was a bare ServiceError).
    with pytest.raises(EmbeddingsResponseError, match=r"1 embeddings for 3 inputs.*\[1, 2\]") as e:
        parse_embeddings({"data": [{"index": 0, "embedding": [1]}]}, expected=3)
    assert e.value.positions == [1, 2] and isinstance(e.value, ServiceError)
    with pytest.raises(EmbeddingsResponseError, match=r"missing positions: \[0\]"):
        parse_embeddings({"data": [{"index": 2, "embedding": [1]}]})
    with pytest.raises(EmbeddingsResponseError, match="out of range: \\[5\\]"):
        parse_embeddings({"data": [{"index": 5, "embedding": [1]}]}, expected=1)
    with pytest.raises(EmbeddingsResponseError, match="two embeddings for input 0"):
        parse_embeddings({"data": [{"index": 0, "embedding": [1]}, {"index": 0, "embedding": [1]}]})
    with pytest.raises(ServiceError):
        parse_embeddings({"nodata": 1})
