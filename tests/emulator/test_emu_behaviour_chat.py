"""Unit tests of the emulator's chat rules (pure functions, no server)."""

from __future__ import annotations

import base64
import io
import json
import wave
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from azureinfer.emulator._behaviour import (
    Reply,
    chat_reply,
    count_tokens,
    is_prompt_filtered,
    prompt_tokens,
    stream_pieces,
)
from azureinfer.emulator._catalogue import DEFAULT_CATALOGUE, Deployment, find


def dep(name: str) -> Deployment:
    found = find(DEFAULT_CATALOGUE, name)
    assert found is not None
    return found


def user(text: Any) -> dict[str, Any]:
    return {"role": "user", "content": text}


def tool(name: str, properties: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    params = {"type": "object", "properties": properties or {}, "required": list(properties or {})}
    return {"type": "function", "function": {"name": name, "parameters": params, **extra}}


MAGIC = tool("magic_function", {"input": {"type": "integer"}})
WEATHER = tool("get_weather", {"location": {"type": "string"}})
ADDER = tool("my_adder_tool", {"a": {"type": "integer"}, "b": {"type": "integer"}})


def args_of(reply: Reply) -> list[tuple[str, dict[str, Any]]]:
    return [
        (c["function"]["name"], json.loads(c["function"]["arguments"])) for c in reply.tool_calls
    ]


# ------------------------------------------------------------------------ catalogue


def test_catalogue_has_the_documented_deployments() -> None:
    names = [d.name for d in DEFAULT_CATALOGUE]
    assert names == [
        "gpt-4o",
        "gpt-4o-mini",
        "mistral-large",
        "phi-4",
        "deepseek-r1",
        "text-embedding-3-small",
        "cohere-embed-v3-english",
        "embed-v-4-0",
    ]
    assert find(DEFAULT_CATALOGUE, "MISTRAL-Large") is dep("mistral-large")
    assert find(DEFAULT_CATALOGUE, "nope") is None
    assert dep("gpt-4o").json_schema and not dep("mistral-large").json_schema
    assert not dep("phi-4").system_messages and not dep("phi-4").tools
    assert dep("deepseek-r1").reasoning
    assert dep("cohere-embed-v3-english").max_inputs == 96
    assert not dep("text-embedding-3-small").input_type
    assert dep("embed-v-4-0").kind == "image_embeddings"


# ------------------------------------------------------------------------ tokens


def test_count_tokens_rule() -> None:
    assert count_tokens("Hello, world!") == 4
    assert count_tokens("") == 0
    assert count_tokens("  a  b ") == 2
    assert count_tokens("it's 3.5") == 6


def test_prompt_tokens_counts_text_media_and_tools() -> None:
    body = {
        "messages": [
            {"role": "system", "content": "Be brief."},
            user(
                [
                    {"type": "text", "text": "Look:"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA"}},
                ]
            ),
        ]
    }
    assert prompt_tokens(body) == 3 + 2 + 85
    with_tools = {**body, "tools": [MAGIC]}
    assert prompt_tokens(with_tools) == prompt_tokens(body) + count_tokens(json.dumps([MAGIC]))


# ------------------------------------------------------------------------ plain text


def test_plain_reply_echoes_the_last_user_message() -> None:
    reply = chat_reply(dep("gpt-4o"), {"messages": [user("Hello")]})
    assert reply.content == "Emulated reply from gpt-4o: Hello"
    assert reply.finish_reason == "stop"
    assert reply.completion_tokens == count_tokens(reply.content)
    assert reply.tool_calls == []


def test_long_prompts_are_echoed_short() -> None:
    text = " ".join(f"w{i}" for i in range(100))
    reply = chat_reply(dep("mistral-large"), {"messages": [user(text)]})
    assert reply.content is not None
    assert reply.content.endswith("w19 ...")


def test_same_body_same_reply_and_seed_changes_nothing_but_ids() -> None:
    body = {"messages": [user("Hi there")], "seed": 1, "temperature": 0.9}
    assert chat_reply(dep("gpt-4o"), body) == chat_reply(dep("gpt-4o"), dict(body))
    other = chat_reply(dep("gpt-4o"), {**body, "seed": 2})
    assert other.content == chat_reply(dep("gpt-4o"), body).content


def test_images_and_audio_inputs_are_acknowledged() -> None:
    content = [
        {"type": "text", "text": "Describe"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/x.png"}},
        {"type": "input_audio", "input_audio": {"data": "QUJD", "format": "wav"}},
    ]
    reply = chat_reply(dep("gpt-4o"), {"messages": [user(content)]})
    assert (
        reply.content == "Emulated reply from gpt-4o: Describe [received 2 images and 1 audio clip]"
    )


def test_max_tokens_truncates_with_length() -> None:
    reply = chat_reply(dep("gpt-4o"), {"messages": [user("one two three")], "max_tokens": 3})
    assert reply.content == "Emulated reply from"
    assert reply.finish_reason == "length"
    assert reply.completion_tokens == 3
    one = chat_reply(dep("gpt-4o"), {"messages": [user("x")], "max_tokens": 1})
    assert (one.content, one.finish_reason) == ("Emulated", "length")


def test_max_tokens_larger_than_reply_is_a_normal_stop() -> None:
    reply = chat_reply(dep("gpt-4o"), {"messages": [user("x")], "max_tokens": 100})
    assert reply.finish_reason == "stop"


@pytest.mark.parametrize("stop", ["from", ["zzz", "from"], ["reply", "from"]])
def test_stop_cuts_before_the_first_match(stop: Any) -> None:
    reply = chat_reply(dep("gpt-4o"), {"messages": [user("x")], "stop": stop})
    assert reply.finish_reason == "stop"
    assert reply.content is not None
    assert "from" not in reply.content
    assert reply.content == ("Emulated reply " if "zzz" in stop or stop == "from" else "Emulated ")


# ------------------------------------------------------------------------ tools


def test_auto_calls_a_tool_named_in_the_prompt() -> None:
    body = {"messages": [user("What is the value of magic_function(3)? Use the tool.")]}
    reply = chat_reply(dep("gpt-4o"), {**body, "tools": [MAGIC]})
    assert reply.content is None
    assert reply.finish_reason == "tool_calls"
    assert args_of(reply) == [("magic_function", {"input": 3})]
    call = reply.tool_calls[0]
    assert call["type"] == "function" and call["id"].startswith("call_")


def test_auto_matches_words_of_the_tool_name() -> None:
    body = {
        "messages": [user("What is the weather in San Francisco, CA?")],
        "tools": [MAGIC, WEATHER],
    }
    reply = chat_reply(dep("gpt-4o"), body)
    assert args_of(reply) == [("get_weather", {"location": "San Francisco"})]


def test_auto_without_a_mention_answers_in_text() -> None:
    reply = chat_reply(dep("gpt-4o"), {"messages": [user("Hello!")], "tools": [MAGIC, WEATHER]})
    assert reply.tool_calls == [] and reply.content == "Emulated reply from gpt-4o: Hello!"


def test_word_tool_in_prompt_calls_the_first_tool() -> None:
    no_args = tool("greeting_generator", {"answer_style": {"type": "string"}})
    body = {"messages": [user("Using the tool, generate a Pirate greeting.")], "tools": [no_args]}
    assert args_of(chat_reply(dep("gpt-4o"), body)) == [
        ("greeting_generator", {"answer_style": "Pirate"})
    ]


def test_tool_without_parameters_gets_empty_arguments() -> None:
    body = {
        "messages": [user("What is the value of magic_function_no_args()? Use the tool.")],
        "tools": [{"type": "function", "function": {"name": "magic_function_no_args"}}],
    }
    assert args_of(chat_reply(dep("gpt-4o"), body)) == [("magic_function_no_args", {})]


def test_tool_choice_none_answers_in_text() -> None:
    body = {"messages": [user("call magic_function(3)")], "tools": [MAGIC], "tool_choice": "none"}
    reply = chat_reply(dep("gpt-4o"), body)
    assert reply.tool_calls == [] and reply.finish_reason == "stop"


@pytest.mark.parametrize("choice", ["required", "any"])
def test_required_calls_the_first_tool_when_none_is_mentioned(choice: str) -> None:
    body = {"messages": [user("Hello!")], "tools": [MAGIC, WEATHER], "tool_choice": choice}
    assert args_of(chat_reply(dep("gpt-4o"), body)) == [("magic_function", {"input": 1})]


def test_named_tool_choice_calls_that_tool() -> None:
    body = {
        "messages": [user("Hello!")],
        "tools": [MAGIC, WEATHER],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
    }
    reply = chat_reply(dep("gpt-4o"), body)
    assert [name for name, _ in args_of(reply)] == ["get_weather"]


def test_parallel_calls_for_several_mentioned_tools() -> None:
    body = {
        "messages": [user("Check the weather in Paris and run magic_function on 7.")],
        "tools": [MAGIC, WEATHER],
    }
    reply = chat_reply(dep("gpt-4o"), body)
    assert args_of(reply) == [
        ("magic_function", {"input": 7}),
        ("get_weather", {"location": "Paris"}),
    ]
    ids = [c["id"] for c in reply.tool_calls]
    assert len(set(ids)) == 2
    single = chat_reply(dep("gpt-4o"), {**body, "parallel_tool_calls": False})
    assert len(single.tool_calls) == 1


def test_integers_come_from_the_last_user_message_in_order() -> None:
    body = {"messages": [user("What is 3 + 4")], "tools": [ADDER], "tool_choice": "required"}
    assert args_of(chat_reply(dep("gpt-4o"), body)) == [("my_adder_tool", {"a": 3, "b": 4})]


def test_unicode_quoted_arguments_are_kept() -> None:
    customer = tool("unicode_customer", {"customer_name": {"type": "string"}})
    body = {
        "messages": [
            user("Create a customer named '\u4f60\u597d\u554a\u96c6\u56e2' (Hello Group)")
        ],
        "tools": [customer],
        "tool_choice": "required",
    }
    reply = chat_reply(dep("gpt-4o"), body)
    assert args_of(reply) == [
        ("unicode_customer", {"customer_name": "\u4f60\u597d\u554a\u96c6\u56e2"})
    ]
    assert "\u4f60" in reply.tool_calls[0]["function"]["arguments"]


def _after_tool_result(choice: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "messages": [
            user("What is the weather in Paris?"),
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"location": "Paris"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "It's sunny."},
        ],
        "tools": [WEATHER, tool("WeatherReport", {"summary": {"type": "string"}})],
    }
    if choice is not None:
        body["tool_choice"] = choice
    return body


def test_after_tool_results_auto_answers_with_the_results() -> None:
    reply = chat_reply(dep("gpt-4o"), _after_tool_result(None))
    assert reply.tool_calls == []
    assert reply.content == "Emulated reply from gpt-4o: tool results: It's sunny."


def test_images_relayed_after_tool_results_belong_to_them() -> None:
    body = _after_tool_result(None)
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
    # "tool" in the caption would make a new user turn call a tool again (the auto rule)
    caption = {"type": "text", "text": "Images returned by the tool call(s) above:"}
    body["messages"].append(user([caption, image]))
    reply = chat_reply(dep("gpt-4o"), body)
    assert reply.tool_calls == []
    assert reply.content == "Emulated reply from gpt-4o: tool results: It's sunny."
    # a text message after the tool results is a new turn
    body["messages"][-1] = user("Now use the tool for Rome")
    assert chat_reply(dep("gpt-4o"), body).tool_calls


def test_after_tool_results_required_calls_a_tool_not_yet_called() -> None:
    reply = chat_reply(dep("gpt-4o"), _after_tool_result("required"))
    assert [name for name, _ in args_of(reply)] == ["WeatherReport"]


def test_deployment_without_tools_answers_in_text() -> None:
    body = {"messages": [user("magic_function(3)")], "tools": [MAGIC], "tool_choice": "required"}
    assert chat_reply(dep("phi-4"), body).tool_calls == []


# ------------------------------------------------------------------------ JSON


def test_json_object_uses_quoted_keys_of_the_prompt() -> None:
    prompt = (
        "Tell me a joke about cats. Return the result as a JSON with 'setup' and "
        "'punchline' keys. Return nothing other than JSON."
    )
    body = {"messages": [user(prompt)], "response_format": {"type": "json_object"}}
    reply = chat_reply(dep("mistral-large"), body)
    assert reply.content is not None
    obj = json.loads(reply.content)
    assert set(obj) == {"setup", "punchline"}
    assert all(isinstance(v, str) and v for v in obj.values())


def test_json_object_keys_from_the_system_message() -> None:
    body = {
        "messages": [
            {"role": "system", "content": 'Answer in JSON with keys "city" and "country".'},
            user("Where is the Eiffel Tower?"),
        ],
        "response_format": {"type": "json_object"},
    }
    reply = chat_reply(dep("gpt-4o"), body)
    assert reply.content is not None
    assert set(json.loads(reply.content)) == {"city", "country"}


def test_json_object_without_keys_wraps_the_reply() -> None:
    body = {"messages": [user("Hello")], "response_format": {"type": "json_object"}}
    reply = chat_reply(dep("gpt-4o"), body)
    assert reply.content is not None
    assert json.loads(reply.content) == {"reply": "Emulated reply from gpt-4o: Hello"}


# ------------------------------------------------------------------------ reasoning, audio


def test_reasoning_deployment_returns_reasoning_and_counts_it() -> None:
    reply = chat_reply(dep("deepseek-r1"), {"messages": [user("Why is the sky blue?")]})
    assert reply.reasoning_content
    assert reply.reasoning_tokens == count_tokens(reply.reasoning_content) > 0
    assert reply.content is not None
    assert reply.completion_tokens == count_tokens(reply.content) + reply.reasoning_tokens
    assert chat_reply(dep("gpt-4o"), {"messages": [user("x")]}).reasoning_content is None


def test_audio_output_is_a_valid_wav_with_transcript() -> None:
    body = {"messages": [user("Say hi")], "modalities": ["text", "audio"]}
    reply = chat_reply(dep("gpt-4o"), body)
    assert reply.content is None
    assert reply.audio is not None
    assert set(reply.audio) == {"id", "expires_at", "data", "format", "transcript"}
    assert reply.audio["transcript"] == "Emulated reply from gpt-4o: Say hi"
    assert reply.audio["format"] == "wav"
    assert isinstance(reply.audio["expires_at"], int)
    with wave.open(io.BytesIO(base64.b64decode(reply.audio["data"]))) as wav:
        assert wav.getnframes() > 0 and wav.getnchannels() == 1
    assert reply.completion_tokens == count_tokens(reply.audio["transcript"])


# ------------------------------------------------------------------------ content filter


def test_prompt_filter_trigger() -> None:
    assert is_prompt_filtered({"messages": [user("harmless")]}) is None
    result = is_prompt_filtered({"messages": [user("say EMULATOR_FILTER_PROMPT now")]})
    assert result is not None
    assert result["hate"] == {"filtered": True, "severity": "high"}
    assert result["violence"]["filtered"] is False
    violent = is_prompt_filtered(
        {"messages": [{"role": "system", "content": "EMULATOR_FILTER_PROMPT_VIOLENCE"}]}
    )
    assert violent is not None and violent["violence"]["filtered"] is True
    assert violent["jailbreak"] == {"filtered": False, "detected": False}
    jailbreak = is_prompt_filtered({"messages": [user("EMULATOR_FILTER_PROMPT_JAILBREAK")]})
    assert jailbreak is not None
    assert jailbreak["jailbreak"] == {"filtered": True, "detected": True}
    assert not any(jailbreak[c]["filtered"] for c in ("hate", "sexual", "violence", "self_harm"))
    listed = is_prompt_filtered(
        {"messages": [user([{"type": "text", "text": "EMULATOR_FILTER_PROMPT"}])]}
    )
    assert listed is not None


def test_output_filter_trigger_truncates_with_content_filter() -> None:
    full = chat_reply(dep("gpt-4o"), {"messages": [user("tell EMULATOR_FILTER_OUTPUT me")]})
    assert full.finish_reason == "content_filter"
    assert full.content is not None
    assert full.content_filter_results is not None
    assert full.content_filter_results["violence"]["filtered"] is True
    expected = "Emulated reply from gpt-4o: tell EMULATOR_FILTER_OUTPUT me"
    assert expected.startswith(full.content) and len(full.content) < len(expected)


# ------------------------------------------------------------------------ streaming


@pytest.mark.parametrize("chunk_size", [0, 1, 5, 1000])
def test_stream_pieces_join_to_the_reply(chunk_size: int) -> None:
    reply = chat_reply(dep("deepseek-r1"), {"messages": [user("Stream this, please")]})
    deltas = stream_pieces(reply, chunk_size)
    reasoning = "".join(d.get("reasoning_content", "") for d in deltas)
    content = "".join(d.get("content", "") for d in deltas)
    assert (reasoning, content) == (reply.reasoning_content, reply.content)
    first_content = next(i for i, d in enumerate(deltas) if "content" in d)
    assert all("reasoning_content" in d for d in deltas[:first_content])
    if chunk_size > 0:
        assert all(len(d.get("content", "x")) <= chunk_size for d in deltas)


def test_stream_pieces_by_words() -> None:
    reply = Reply(content="one two  three")
    assert stream_pieces(reply, 0) == [
        {"content": "one "},
        {"content": "two  "},
        {"content": "three"},
    ]


def test_stream_pieces_tool_call_fragments() -> None:
    body = {
        "messages": [user("Check the weather in Paris and run magic_function on 7.")],
        "tools": [MAGIC, WEATHER],
    }
    reply = chat_reply(dep("gpt-4o"), body)
    deltas = stream_pieces(reply, 4)
    assert all("content" not in d for d in deltas)
    fragments = [d["tool_calls"][0] for d in deltas]
    for index, call in enumerate(reply.tool_calls):
        mine = [f for f in fragments if f["index"] == index]
        assert mine[0] == {
            "index": index,
            "id": call["id"],
            "type": "function",
            "function": {"name": call["function"]["name"], "arguments": ""},
        }
        assert all(set(f) == {"index", "function"} for f in mine[1:])
        joined = "".join(f["function"]["arguments"] for f in mine)
        assert joined == call["function"]["arguments"]
        json.loads(joined)
    assert len(fragments) > 4


def test_stream_pieces_audio() -> None:
    reply = chat_reply(dep("gpt-4o"), {"messages": [user("x")], "modalities": ["audio"]})
    assert stream_pieces(reply, 0) == [{"audio": reply.audio}]


@settings(max_examples=100, deadline=None)
@given(
    prompt=st.text(max_size=120),
    choice=st.sampled_from([None, "auto", "none", "required"]),
    max_tokens=st.one_of(st.none(), st.integers(0, 30)),
    stop=st.one_of(st.none(), st.text(min_size=1, max_size=3)),
)
def test_any_prompt_gives_a_consistent_reply(
    prompt: str, choice: str | None, max_tokens: int | None, stop: str | None
) -> None:
    body: dict[str, Any] = {"messages": [user(prompt)], "tools": [MAGIC, WEATHER, ADDER]}
    for key, value in (("tool_choice", choice), ("max_tokens", max_tokens), ("stop", stop)):
        if value is not None:
            body[key] = value
    reply = chat_reply(dep("gpt-4o"), body)
    assert reply == chat_reply(dep("gpt-4o"), json.loads(json.dumps(body)))
    deltas = stream_pieces(reply, 0)
    if reply.tool_calls:
        assert reply.finish_reason == "tool_calls" and reply.content is None
        for _, args in args_of(reply):
            assert isinstance(args, dict)
    else:
        assert reply.content is not None
        assert "".join(d.get("content", "") for d in deltas) == reply.content
        if max_tokens is not None:
            assert count_tokens(reply.content) <= max_tokens
        if stop is not None:
            assert stop not in reply.content


def test_json_object_follows_a_schema_written_in_the_prompt() -> None:
    schema = {
        "title": "Joke",
        "type": "object",
        "properties": {
            "setup": {"title": "Setup", "type": "string"},
            "punchline": {"title": "Punchline", "type": "string"},
            "rating": {"type": "integer"},
        },
        "required": ["setup", "punchline", "rating"],
    }
    system = (
        "Respond with a JSON object only, with the keys 'setup', 'punchline', following "
        f"this JSON schema: {json.dumps(schema)}"
    )
    body = {
        "messages": [{"role": "system", "content": system}, user("A joke rated 7, please.")],
        "response_format": {"type": "json_object"},
    }
    reply = chat_reply(dep("gpt-4o"), body)
    assert reply.content is not None
    obj = json.loads(reply.content)
    assert set(obj) == {"setup", "punchline", "rating"}
    assert obj["rating"] == 7


def test_parallel_calls_share_numbers_but_not_strings() -> None:
    population = tool("get_population", {"city": {"type": "string"}})
    body = {
        "messages": [user("What are the weather and the population in Paris?")],
        "tools": [WEATHER, population],
    }
    assert args_of(chat_reply(dep("gpt-4o"), body)) == [
        ("get_weather", {"location": "Paris"}),
        ("get_population", {"city": "Paris"}),
    ]
    multiply = tool("multiply", {"a": {"type": "integer"}, "b": {"type": "integer"}})
    add = tool("add", {"a": {"type": "integer"}, "b": {"type": "integer"}})
    body = {
        "messages": [user("Please add 2 and 3, and multiply 4 and 5.")],
        "tools": [add, multiply],
    }
    assert args_of(chat_reply(dep("gpt-4o"), body)) == [
        ("add", {"a": 2, "b": 3}),
        ("multiply", {"a": 4, "b": 5}),
    ]


def test_structured_reply_after_tool_results_takes_values_from_them() -> None:
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "temperature": {"type": "integer"}},
        "required": ["city", "temperature"],
    }
    body = _after_tool_result(None)
    body["messages"][-1]["content"] = "Sunny, 21 degrees"
    body["response_format"] = {
        "type": "json_schema",
        "json_schema": {"name": "Report", "schema": schema},
    }
    reply = chat_reply(dep("gpt-4o"), body)
    assert reply.content is not None
    assert json.loads(reply.content) == {"city": "Paris", "temperature": 21}


def test_many_parallel_calls_get_distinct_ids() -> None:
    tools = [tool(f"tool_number_{i}") for i in range(20)]
    prompt = " ".join(f"tool_number_{i}" for i in range(20))
    reply = chat_reply(dep("gpt-4o"), {"messages": [user(prompt)], "tools": tools})
    ids = [c["id"] for c in reply.tool_calls]
    assert len(ids) == 20 and len(set(ids)) == 20
    assert all(len(i) == len("call_") + 24 for i in ids)


_ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
_MESSAGE = st.fixed_dictionaries(
    {"role": st.sampled_from(["system", "developer", "user", "assistant", "tool"])},
    optional={"content": _ANY_JSON, "tool_calls": _ANY_JSON, "tool_call_id": _ANY_JSON},
)


@settings(max_examples=100, deadline=None)
@given(
    messages=st.lists(_MESSAGE, min_size=1, max_size=4),
    tools=st.lists(_ANY_JSON, max_size=3),
    extra=st.dictionaries(
        st.sampled_from(["tool_choice", "response_format", "stop", "modalities", "seed"]),
        _ANY_JSON,
        max_size=3,
    ),
)
def test_odd_bodies_never_crash(
    messages: list[dict[str, Any]], tools: list[Any], extra: dict[str, Any]
) -> None:
    body: dict[str, Any] = {"messages": messages, **extra}
    if tools:
        body["tools"] = tools
    for name in ("gpt-4o", "deepseek-r1"):
        reply = chat_reply(dep(name), body)
        stream_pieces(reply, 3)
    prompt_tokens(body)
    is_prompt_filtered(body)
