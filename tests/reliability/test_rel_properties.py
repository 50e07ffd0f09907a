"""Property-based: bad input is rejected clearly, odd answers never crash the parsers.

Outbound: random LangChain messages and LlamaIndex ``ChatMessage``s with random blocks, tools
and parameters go through the adapters' public calls to the emulator. Well-formed input must be
accepted (a 200 answer); anything else must either be accepted, or raise ``ValueError`` /
``TypeError`` naming the problem before anything is sent, or come back as a typed service error.

Inbound: random (valid and invalid) wire completions, stream events and embeddings answers fed to
``azureinfer.response`` (and the adapters' result translation) give a result or a typed
``AzureInferenceError``; never an ``AttributeError``/``KeyError``/``IndexError``/``TypeError``
from inside.
"""

from __future__ import annotations

import base64
import json
import string
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from llama_index.core.base.llms.types import AudioBlock, ImageBlock, TextBlock
from llama_index.core.llms import ChatMessage, MessageRole
from rel_support import lc_chat, li_chat

from azureinfer import errors
from azureinfer.emulator import Emulator
from azureinfer.response import (
    StreamAccumulator,
    parse_chat_completion,
    parse_embeddings,
    parse_usage,
)
from langchain_azureinfer.chat_models import chunk_to_message_chunk, result_to_message

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FUZZ = settings(max_examples=200, deadline=None)

PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000100ffff03000006000557bfabd40000000049454e44ae426082"
    )
).decode()
WAV = base64.b64encode(
    b"RIFF$\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00@\x1f\x00\x00\x80>\x00\x00"
    b"\x02\x00\x10\x00data\x00\x00\x00\x00"
).decode()

text = st.text(alphabet=string.ascii_letters + string.digits + " .,!?'-éß中", max_size=40)
name = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,15}", fullmatch=True)


@pytest.fixture(scope="module")
def server(azure_inference_emulator_session: Emulator) -> Emulator:
    return azure_inference_emulator_session


# ------------------------------------------------------------------------------ strategies
good_lc_block = st.one_of(
    text,
    st.builds(lambda t: {"type": "text", "text": t}, text),
    st.just({"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}}),
    st.just({"type": "image", "base64": PNG, "mime_type": "image/png"}),
    st.just({"type": "image", "url": "https://example.com/cat.png"}),
    st.just({"type": "input_audio", "input_audio": {"data": WAV, "format": "wav"}}),
    st.just({"type": "audio", "base64": WAV, "mime_type": "audio/wav"}),
)
junk_lc_block = st.one_of(
    good_lc_block,
    st.dictionaries(st.sampled_from(["type", "text", "url", "data", "source"]), text, max_size=3),
    st.builds(lambda t: {"type": t}, text),
    st.sampled_from(
        [
            {"type": "file", "file_id": "f1"},
            {"type": "video", "url": "https://example.com/v.mp4"},
            {"type": "image"},
            {"type": "image", "base64": PNG},
            {"type": "audio", "base64": WAV, "mime_type": "audio/ogg"},
            {"type": "text", "text": 3},
            {"type": "image_url", "image_url": 5},
            {"type": "input_audio", "input_audio": "x"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png"}},
        ]
    ),
)

schema_leaf = st.sampled_from(
    [
        {"type": "string"},
        {"type": "integer", "minimum": 0},
        {"type": "number"},
        {"type": "boolean"},
        {"type": "string", "enum": ["a", "b"]},
        {"type": "array", "items": {"type": "string"}},
    ]
)
good_tool = st.builds(
    lambda n, d, props: {
        "type": "function",
        "function": {
            "name": n,
            "description": d,
            "parameters": {"type": "object", "properties": props, "required": sorted(props)[:1]},
        },
    },
    name,
    text,
    st.dictionaries(name, schema_leaf, max_size=4),
)


@st.composite
def lc_conversation(draw: st.DrawFn, block: st.SearchStrategy[Any]) -> list[Any]:
    messages: list[Any] = []
    if draw(st.booleans()):
        messages.append(SystemMessage(draw(text)))
    for turn in range(draw(st.integers(0, 2))):
        messages.append(HumanMessage(draw(st.lists(block, min_size=1, max_size=3))))
        calls = [
            {
                "name": draw(name),
                "args": draw(st.dictionaries(name, text, max_size=2)),
                "id": f"c{turn}{i}",
            }
            for i in range(draw(st.integers(0, 2)))
        ]
        messages.append(AIMessage(content=draw(text), tool_calls=calls))
        messages.extend(ToolMessage(draw(text), tool_call_id=c["id"]) for c in calls)
    messages.append(HumanMessage(draw(st.lists(block, min_size=1, max_size=3))))
    return messages


good_params = st.fixed_dictionaries(
    {},
    optional={
        "temperature": st.floats(0, 1),
        "top_p": st.floats(0.01, 1),
        "max_tokens": st.integers(1, 50),
        "seed": st.integers(0, 2**31),
        "stop": st.lists(st.text(string.ascii_letters, min_size=1, max_size=5), max_size=3),
        "presence_penalty": st.floats(-2, 2),
        "frequency_penalty": st.floats(-2, 2),
    },
)
any_value = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-10, 10**6),
    st.floats(allow_nan=False),
    text,
    st.lists(st.integers(), max_size=2),
)
junk_params = st.dictionaries(
    st.sampled_from(
        [
            "temperature",
            "top_p",
            "max_tokens",
            "seed",
            "stop",
            "presence_penalty",
            "tool_choice",
            "response_format",
            "parallel_tool_calls",
            "bogus_param",
        ]
    ),
    any_value,
    max_size=3,
)


def _check_rejection(exc: BaseException, sent_before: int, server: Emulator) -> None:
    """A rejection is a clear ValueError/TypeError before sending, or a typed service error."""
    event(f"rejected: {type(exc).__name__}")
    if isinstance(exc, errors.APIStatusError):
        assert 400 <= (exc.status_code or 0) < 500, repr(exc)
        assert isinstance(exc, errors.UnsupportedParameterError | errors.ContentFilterError) or (
            exc.status_code in (400, 422)
        ), repr(exc)
        return
    assert isinstance(exc, ValueError | TypeError), f"{type(exc).__name__}: {exc}"
    assert len(str(exc)) > 10, repr(exc)  # says what is wrong
    assert len(server.requests) == sent_before, "rejected input was sent anyway"


# ------------------------------------------------------------------------------ outbound
@SETTINGS
@given(
    messages=lc_conversation(good_lc_block),
    params=good_params,
    tools=st.lists(good_tool, max_size=3, unique_by=lambda t: t["function"]["name"]),
)
def test_langchain_well_formed_input_is_accepted(
    server: Emulator, messages: list[Any], params: dict[str, Any], tools: list[Any]
) -> None:
    server.clear()
    llm = lc_chat(server, **params)
    runnable = llm.bind_tools(tools) if tools else llm
    reply = runnable.invoke(messages)
    assert isinstance(reply, AIMessage)
    assert [r.status for r in server.requests] == [200]


@SETTINGS
@given(
    messages=lc_conversation(junk_lc_block),
    params=junk_params,
    tools=st.lists(st.one_of(good_tool, st.dictionaries(text, any_value, max_size=2)), max_size=2),
)
def test_langchain_any_input_is_accepted_or_rejected_clearly(
    server: Emulator, messages: list[Any], params: dict[str, Any], tools: list[Any]
) -> None:
    server.clear()
    try:
        llm = lc_chat(server, model_kwargs={"bogus_param": 1} if "bogus_param" in params else {})
        params.pop("bogus_param", None)
        runnable = llm.bind_tools(tools) if tools else llm
        runnable.invoke(messages, **params)
    except Exception as exc:
        _check_rejection(exc, 0, server)


def _li_block(kind: str, t: str) -> Any:
    if kind == "text":
        return TextBlock(text=t)
    if kind == "image":
        return ImageBlock(image=base64.b64decode(PNG), image_mimetype="image/png")
    if kind == "image_url":
        return ImageBlock(url="https://example.com/cat.png")
    if kind == "audio":
        return AudioBlock(audio=base64.b64decode(WAV), format="wav")
    if kind == "audio_bad_format":
        return AudioBlock(audio=base64.b64decode(WAV), format="ogg")
    return ImageBlock(image=b"not an image")  # no MIME type can be told


@st.composite
def li_conversation(draw: st.DrawFn, kinds: list[str], roles: list[MessageRole]) -> list[Any]:
    messages: list[Any] = []
    for _ in range(draw(st.integers(0, 3))):
        role = draw(st.sampled_from(roles))
        if role == MessageRole.USER:
            blocks = [
                _li_block(draw(st.sampled_from(kinds)), draw(text))
                for _ in range(draw(st.integers(1, 3)))
            ]
        else:
            blocks = [TextBlock(text=draw(text))]
        kwargs = {"tool_call_id": "c1"} if role == MessageRole.TOOL else {}
        messages.append(ChatMessage(role=role, blocks=blocks, additional_kwargs=kwargs))
    messages.append(
        ChatMessage(
            role=MessageRole.USER, blocks=[_li_block(draw(st.sampled_from(kinds)), draw(text))]
        )
    )
    return messages


@SETTINGS
@given(
    messages=li_conversation(
        ["text", "image", "image_url", "audio"],
        [MessageRole.USER, MessageRole.ASSISTANT, MessageRole.SYSTEM],
    ),
    params=good_params,
)
def test_llamaindex_well_formed_input_is_accepted(
    server: Emulator, messages: list[Any], params: dict[str, Any]
) -> None:
    server.clear()
    reply = li_chat(server, **params).chat(messages)
    assert isinstance(reply.message.content, str)
    assert [r.status for r in server.requests] == [200]


@SETTINGS
@given(
    messages=li_conversation(
        ["text", "image", "image_url", "audio", "audio_bad_format", "image_no_mime"],
        list(MessageRole),
    ),
    params=junk_params,
)
def test_llamaindex_any_input_is_accepted_or_rejected_clearly(
    server: Emulator, messages: list[Any], params: dict[str, Any]
) -> None:
    server.clear()
    try:
        li_chat(server).chat(messages, **params)
    except Exception as exc:
        _check_rejection(exc, 0, server)


# ------------------------------------------------------------------------------ inbound
json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=12,
)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """The right type most of the time, anything JSON otherwise."""
    return st.one_of(strategy, strategy, json_value)


tool_call = st.fixed_dictionaries(
    {},
    optional={
        "id": maybe(text),
        "type": maybe(st.just("function")),
        "index": maybe(st.integers(0, 3)),
        "function": maybe(
            st.fixed_dictionaries(
                {}, optional={"name": maybe(name), "arguments": maybe(st.just('{"a": 1}') | text)}
            )
        ),
    },
)
message = st.fixed_dictionaries(
    {},
    optional={
        "role": maybe(st.just("assistant")),
        "content": maybe(
            text
            | st.none()
            | st.lists(
                st.fixed_dictionaries(
                    {"type": maybe(st.just("text"))}, optional={"text": maybe(text)}
                ),
                max_size=2,
            )
        ),
        "reasoning_content": maybe(text),
        "tool_calls": maybe(st.lists(maybe(tool_call), max_size=3)),
    },
)
usage = st.fixed_dictionaries(
    {},
    optional={
        "prompt_tokens": maybe(st.integers(0, 100)),
        "completion_tokens": maybe(st.integers(0, 100)),
        "total_tokens": maybe(st.integers(0, 200)),
        "completion_tokens_details": maybe(
            st.fixed_dictionaries({"reasoning_tokens": maybe(st.integers(0, 9))})
        ),
        "prompt_tokens_details": maybe(
            st.fixed_dictionaries({"cached_tokens": maybe(st.integers(0, 9))})
        ),
    },
)
finish = maybe(st.sampled_from(["stop", "length", "tool_calls", "content_filter"]) | st.none())
completion = st.fixed_dictionaries(
    {},
    optional={
        "id": maybe(text),
        "model": maybe(text),
        "created": maybe(st.integers(0, 2**31) | st.integers()),
        "choices": maybe(
            st.lists(
                maybe(
                    st.fixed_dictionaries(
                        {},
                        optional={
                            "index": maybe(st.integers(0, 2)),
                            "message": maybe(message),
                            "finish_reason": finish,
                        },
                    )
                ),
                max_size=2,
            )
        ),
        "usage": maybe(usage),
        "prompt_filter_results": maybe(st.lists(json_value, max_size=2)),
        "error": st.one_of(st.nothing(), json_value),
    },
)
chunk_event = st.fixed_dictionaries(
    {},
    optional={
        "id": maybe(text),
        "model": maybe(text),
        "choices": maybe(
            st.lists(
                maybe(
                    st.fixed_dictionaries(
                        {},
                        optional={
                            "index": maybe(st.integers(0, 1)),
                            "delta": maybe(message),
                            "finish_reason": finish,
                        },
                    )
                ),
                max_size=2,
            )
        ),
        "usage": maybe(usage),
        "error": json_value,
    },
)
embedding_item = st.fixed_dictionaries(
    {},
    optional={
        "index": maybe(st.integers(0, 3)),
        "embedding": maybe(
            st.lists(maybe(st.floats(allow_nan=False)), max_size=3)
            | st.just(base64.b64encode(b"\x00\x00\x80?").decode())
            | text
        ),
    },
)
embeddings_answer = st.fixed_dictionaries(
    {},
    optional={
        "data": maybe(st.lists(maybe(embedding_item), max_size=4)),
        "model": maybe(text),
        "usage": maybe(usage),
    },
)

FORBIDDEN = (AttributeError, KeyError, IndexError, TypeError)


def _typed_or_result(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call a parser: its result, or None for a typed error; anything else fails the test."""
    try:
        return fn(*args, **kwargs)
    except errors.AzureInferenceError:
        return None
    except Exception as exc:
        kind = "forbidden " if isinstance(exc, FORBIDDEN) else "untyped "
        raise AssertionError(f"{kind}{type(exc).__name__} from inside: {exc!r}") from exc


@FUZZ
@given(data=st.one_of(completion, json_value))
@example(data={"choices": [{"message": {"content": [{"type": "text", "text": 5}]}}]})
@example(data={"created": 10**30, "choices": [{"message": {"content": "x"}}]})
def test_parse_chat_completion_gives_a_result_or_a_typed_error(data: Any) -> None:
    result = _typed_or_result(parse_chat_completion, data)
    if result is not None:
        assert isinstance(result.content, str)
        _typed_or_result(lambda: result.created_at)
        assert all(isinstance(c.arguments, dict) for c in result.tool_calls)
        message = _typed_or_result(result_to_message, result)  # the LangChain translation
        assert message is not None
        json.dumps(message.tool_calls, default=str)


@FUZZ
@given(
    events=st.lists(st.one_of(chunk_event, chunk_event, json_value, st.just("[DONE]")), max_size=6)
)
def test_stream_accumulation_gives_chunks_or_a_typed_error(events: list[Any]) -> None:
    acc = StreamAccumulator()

    def run() -> Any:
        chunks = [acc.add(e) for e in events]
        chunks.append(acc.finish())
        for c in chunks:
            if c is not None:
                chunk_to_message_chunk(c)  # the LangChain translation
        return acc.result()

    result = _typed_or_result(run)
    if result is not None:
        assert isinstance(result.content, str)


@FUZZ
@given(data=st.one_of(embeddings_answer, json_value), expected=st.none() | st.integers(0, 4))
@example(data={"data": [{"index": 0, "embedding": [0.5, None]}]}, expected=None)
@example(data={"data": [{"index": 0, "embedding": "abc"}]}, expected=None)
def test_parse_embeddings_gives_vectors_or_a_typed_error(data: Any, expected: int | None) -> None:
    result = _typed_or_result(parse_embeddings, data, expected=expected)
    if result is not None:
        assert all(isinstance(x, float) for v in result.vectors for x in v)


@FUZZ
@given(data=st.one_of(usage, json_value))
def test_parse_usage_never_raises(data: Any) -> None:
    result = parse_usage(data)
    assert result is None or isinstance(result.total_tokens, int)


@FUZZ
@given(data=json_value)
def test_parse_error_body_never_raises(data: Any) -> None:
    out = errors.parse_error_body(data)
    assert isinstance(out, dict)


field_type = st.sampled_from([str, int, float, bool, list[str], dict[str, int]])


@st.composite
def li_tool(draw: st.DrawFn) -> Any:
    """A FunctionTool with a random name (any text: the adapter sanitises it) and schema."""
    from llama_index.core.tools import FunctionTool
    from pydantic import create_model

    fields = draw(
        st.dictionaries(name.filter(lambda n: not n.startswith("_")), field_type, max_size=4)
    )
    schema = create_model("Args", **{k: (v, ...) for k, v in fields.items()})  # type: ignore[call-overload]
    tool_name = draw(st.one_of(name, text.filter(str.strip)))
    return FunctionTool.from_defaults(
        fn=lambda **kw: "ok", name=tool_name, description=draw(text) or "a tool", fn_schema=schema
    )


@SETTINGS
@given(tools=st.lists(li_tool(), min_size=1, max_size=3), prompt=text, required=st.booleans())
def test_llamaindex_random_tools_are_accepted(
    server: Emulator, tools: list[Any], prompt: str, required: bool
) -> None:
    server.clear()
    names = [t.metadata.name for t in tools]
    llm = li_chat(server)
    try:
        response = llm.chat_with_tools(
            tools, user_msg=f"Use the tool. {prompt}", tool_required=required
        )
    except ValueError as exc:  # e.g. two tools whose names collide once sanitised
        assert len(str(exc)) > 10 and server.requests == [], repr(exc)
        return
    assert [r.status for r in server.requests] == [200]
    calls = llm.get_tool_calls_from_response(response, error_on_no_tool_call=False)
    assert calls, "a prompt saying 'Use the tool.' calls one"
    assert {c.tool_name for c in calls} <= set(names)  # the caller's names come back
