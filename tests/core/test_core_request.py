"""Unit tests: wire request building (parameter policy applied once)."""

from __future__ import annotations

from typing import Optional

import pytest
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from azureinfer import ConfigurationError, build_chat_request, build_embeddings_request
from azureinfer.request import build_response_format, make_strict_schema, normalize_tool_choice

MSGS = [{"role": "user", "content": "hi"}]
TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
TOOL2 = {"type": "function", "function": {"name": "other", "parameters": {"type": "object"}}}


def test_zero_values_are_sent() -> None:
    body = build_chat_request(
        MSGS, temperature=0, top_p=0, seed=0, frequency_penalty=0, presence_penalty=0, max_tokens=0
    ).body
    for key in (
        "temperature",
        "top_p",
        "seed",
        "frequency_penalty",
        "presence_penalty",
        "max_tokens",
    ):
        assert body[key] == 0, key


def test_unset_values_are_left_out_and_no_extras_header() -> None:
    req = build_chat_request(MSGS)
    assert req.body == {"messages": MSGS}
    assert req.headers == {}


def test_stop_is_always_a_list() -> None:
    assert build_chat_request(MSGS, stop="END").body["stop"] == ["END"]
    assert build_chat_request(MSGS, stop=("a", "b")).body["stop"] == ["a", "b"]
    assert "stop" not in build_chat_request(MSGS, stop=[]).body
    with pytest.raises(ConfigurationError, match="stop"):
        build_chat_request(MSGS, stop=[1])  # type: ignore[list-item]


def test_max_tokens_and_max_completion_tokens() -> None:
    req = build_chat_request(MSGS, max_tokens=5, max_completion_tokens=7)
    assert req.body["max_tokens"] == 5 and req.body["max_completion_tokens"] == 7
    # max_completion_tokens is not a key the API defines: it needs the extras header
    assert req.headers == {"extra-parameters": "pass-through"}


@pytest.mark.parametrize(
    ("choice", "wire"),
    [
        ("auto", "auto"),
        ("none", "none"),
        ("required", "required"),
        ("any", "required"),
        ("get_weather", {"type": "function", "function": {"name": "get_weather"}}),
        (
            {"type": "function", "function": {"name": "x"}},
            {"type": "function", "function": {"name": "x"}},
        ),
        (True, {"type": "function", "function": {"name": "get_weather"}}),
        (False, "none"),
    ],
)
def test_tool_choice_normalised(choice: object, wire: object) -> None:
    assert build_chat_request(MSGS, tools=[TOOL], tool_choice=choice).body["tool_choice"] == wire


def test_tool_choice_true_with_several_tools_is_required() -> None:
    assert normalize_tool_choice(True, [TOOL, TOOL2]) == "required"


def test_unknown_tool_name_is_an_error() -> None:
    with pytest.raises(ConfigurationError, match="nope"):
        build_chat_request(MSGS, tools=[TOOL], tool_choice="nope")


def test_empty_tools_never_sent_and_tool_choice_only_with_tools() -> None:
    body = build_chat_request(MSGS, tools=[], tool_choice="auto", parallel_tool_calls=False).body
    assert "tools" not in body and "tool_choice" not in body and "parallel_tool_calls" not in body
    with pytest.raises(ConfigurationError, match="needs tools"):
        build_chat_request(MSGS, tools=[], tool_choice="required")


def test_parallel_tool_calls_goes_in_the_body_with_the_header() -> None:
    req = build_chat_request(MSGS, tools=[TOOL], parallel_tool_calls=False)
    assert req.body["parallel_tool_calls"] is False
    assert req.headers["extra-parameters"] == "pass-through"


def test_stream_options_when_streaming_with_usage() -> None:
    req = build_chat_request(MSGS, stream=True)
    assert req.body["stream"] is True and req.body["stream_options"] == {"include_usage": True}
    assert req.headers["extra-parameters"] == "pass-through"
    assert "stream_options" not in build_chat_request(MSGS, stream=True, stream_usage=False).body
    # with the "error" policy the service would reject stream_options: not added
    req = build_chat_request(MSGS, stream=True, extra_parameters="error")
    assert "stream_options" not in req.body and req.headers == {}
    assert "stream" not in build_chat_request(MSGS).body


@pytest.mark.parametrize("policy", ["pass-through", "drop", "error"])
def test_model_extras_travel_with_the_chosen_policy(policy: str) -> None:
    req = build_chat_request(MSGS, model_extras={"safe_prompt": True}, extra_parameters=policy)
    assert req.body["safe_prompt"] is True
    assert req.headers == {"extra-parameters": policy}


def test_unknown_policy_rejected() -> None:
    with pytest.raises(ConfigurationError, match="extra_parameters"):
        build_chat_request(MSGS, extra_parameters="passthrough")
    with pytest.raises(ConfigurationError, match="extra_parameters"):
        build_embeddings_request(["a"], extra_parameters="allow")


def test_known_keys_in_model_extras_are_standard_parameters() -> None:
    req = build_chat_request(MSGS, model_extras={"temperature": 0.5, "modalities": ["text"]})
    assert req.body["temperature"] == 0.5
    assert req.headers == {}  # no extra key: no header


def test_model_extras_conflicts_and_reserved_keys() -> None:
    with pytest.raises(ConfigurationError, match="twice"):
        build_chat_request(MSGS, temperature=0.1, model_extras={"temperature": 0.9})
    assert (
        build_chat_request(MSGS, temperature=0.1, model_extras={"temperature": 0.1}).body[
            "temperature"
        ]
        == 0.1
    )
    with pytest.raises(ConfigurationError, match="messages"):
        build_chat_request(MSGS, model_extras={"messages": []})


def test_user_dicts_not_mutated() -> None:
    msgs = [{"role": "user", "content": "hi"}]
    extras = {"n": 1}
    tools = [dict(TOOL)]
    req = build_chat_request(msgs, model_extras=extras, tools=tools)
    req.body["messages"][0]["content"] = "changed"
    req.body["tools"][0]["function"]["name"] = "changed"
    assert msgs == [{"role": "user", "content": "hi"}] and extras == {"n": 1}
    assert tools[0]["function"]["name"] == "get_weather"


def test_user_header_policy_is_kept() -> None:
    req = build_chat_request(MSGS, model_extras={"n": 1}, headers={"extra-parameters": "drop"})
    assert req.headers == {"extra-parameters": "drop"}
    with pytest.raises(ConfigurationError):
        build_chat_request(MSGS, headers={"extra-parameters": "bogus"})


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"temperature": "hot"}, "temperature"),
        ({"temperature": 3}, "temperature"),
        ({"top_p": 1.5}, "top_p"),
        ({"max_tokens": -1}, "max_tokens"),
        ({"seed": 1.5}, "seed"),
        ({"frequency_penalty": 5}, "frequency_penalty"),
        ({"model": ""}, "model"),
    ],
)
def test_bad_values_rejected_with_their_name(kwargs: dict, match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        build_chat_request(MSGS, **kwargs)


def test_bad_messages_rejected() -> None:
    with pytest.raises(ConfigurationError, match="empty"):
        build_chat_request([])
    with pytest.raises(ConfigurationError, match="role"):
        build_chat_request([{"content": "x"}])
    with pytest.raises(ConfigurationError, match="list"):
        build_chat_request("hi")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- response_format


class Joke(BaseModel):
    """A joke."""

    setup: str = Field(description="the setup")
    punchline: Optional[str] = None  # noqa: UP045 - pydantic must see Optional


class JokeTD(TypedDict):
    """A joke as a dict."""

    setup: str
    rating: int


def test_response_format_strings_and_wire_dicts() -> None:
    assert build_response_format("json_object") == {"type": "json_object"}
    assert build_response_format("text") == {"type": "text"}
    wire = {"type": "json_schema", "json_schema": {"name": "n", "schema": {"type": "object"}}}
    assert build_response_format(wire) == wire
    with pytest.raises(ConfigurationError, match="json_object"):
        build_response_format("json")


def test_wire_json_schema_sent_as_given_unless_strict_is_asked() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    wire = {"type": "json_schema", "json_schema": {"name": "n", "schema": schema, "strict": True}}
    assert build_response_format(wire) == wire
    made = build_response_format(wire, strict=True)
    assert made is not None and made["json_schema"]["schema"]["additionalProperties"] is False
    assert "additionalProperties" not in schema  # the caller's dict is untouched


def test_response_format_from_pydantic_v2() -> None:
    rf = build_response_format(Joke)
    assert rf is not None
    js = rf["json_schema"]
    assert js["name"] == "Joke" and js["description"] == "A joke."
    assert js["schema"]["properties"]["setup"]["description"] == "the setup"
    assert "strict" not in js


def test_response_format_from_pydantic_v1() -> None:
    from pydantic import v1

    class Old(v1.BaseModel):
        a: int

    rf = build_response_format(Old, strict=True)
    assert rf is not None
    assert rf["json_schema"]["name"] == "Old"
    assert rf["json_schema"]["schema"]["required"] == ["a"]


def test_response_format_from_typeddict_typing_module() -> None:
    import typing

    class Plain(typing.TypedDict):
        x: int

    for td in (JokeTD, Plain):
        rf = build_response_format(td)
        assert rf is not None
        assert rf["json_schema"]["name"] == td.__name__
        assert rf["json_schema"]["schema"]["type"] == "object"


def test_response_format_from_json_schema_dict_takes_the_title_as_name() -> None:
    rf = build_response_format({"title": "My Schema!", "type": "object", "properties": {}})
    assert rf is not None and rf["json_schema"]["name"] == "My_Schema"
    rf = build_response_format({"type": "object", "properties": {}})
    assert rf is not None and rf["json_schema"]["name"] == "response"
    rf = build_response_format({"name": "f", "description": "d", "parameters": {"type": "object"}})
    assert (
        rf is not None
        and rf["json_schema"]["name"] == "f"
        and rf["json_schema"]["description"] == "d"
    )


def test_strict_schema_transformation() -> None:
    rf = build_response_format(Joke, strict=True)
    assert rf is not None
    schema = rf["json_schema"]["schema"]
    assert rf["json_schema"]["strict"] is True
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["setup", "punchline"]
    assert {"type": "null"} in schema["properties"]["punchline"]["anyOf"]
    assert "default" not in schema["properties"]["punchline"]


def test_make_strict_schema_walks_nested_objects_and_does_not_mutate() -> None:
    schema = {
        "type": "object",
        "properties": {
            "items": {
                "type": "array",
                "items": {"type": "object", "properties": {"a": {"type": "string"}}},
            },
            "ref": {"$ref": "#/$defs/Sub"},
        },
        "required": ["items"],
        "$defs": {"Sub": {"type": "object", "properties": {"b": {"type": "integer"}}}},
    }
    before = repr(schema)
    out = make_strict_schema(schema)
    assert repr(schema) == before
    inner = out["properties"]["items"]["items"]
    assert inner["additionalProperties"] is False and inner["required"] == ["a"]
    assert out["$defs"]["Sub"]["additionalProperties"] is False
    assert out["properties"]["ref"] == {"anyOf": [{"$ref": "#/$defs/Sub"}, {"type": "null"}]}
    assert out["properties"]["items"]["items"]["properties"]["a"]["type"] == ["string", "null"]


def test_response_format_in_chat_request() -> None:
    req = build_chat_request(MSGS, response_format=Joke)
    assert req.body["response_format"]["type"] == "json_schema"
    assert req.headers == {}


def test_unsupported_response_format() -> None:
    with pytest.raises(ConfigurationError, match="response_format"):
        build_response_format(42)
    with pytest.raises(ConfigurationError):
        build_response_format({"foo": 1})


# ---------------------------------------------------------------------------- embeddings


def test_embeddings_request() -> None:
    req = build_embeddings_request(
        ["a", "b"], model="m", dimensions=8, encoding_format="base64", input_type="query"
    )
    assert req.body == {
        "input": ["a", "b"],
        "dimensions": 8,
        "encoding_format": "base64",
        "input_type": "query",
        "model": "m",
    }
    assert req.headers == {}
    req = build_embeddings_request(["a"], model_extras={"truncate": "END"})
    assert req.body["truncate"] == "END" and req.headers == {"extra-parameters": "pass-through"}


def test_image_embeddings_inputs() -> None:
    item = {"image": "data:image/png;base64,AAAA", "text": "cap"}
    assert build_embeddings_request([item]).body["input"] == [item]


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ("a", {}, "list"),
        ([], {}, "empty"),
        ([1], {}, "inputs\\[0\\]"),
        (["a"], {"encoding_format": "float16"}, "encoding_format"),
        (["a"], {"input_type": "passage"}, "input_type"),
        (["a"], {"dimensions": 0}, "dimensions"),
        (["a"], {"model_extras": {"input": ["b"]}}, "input"),
    ],
)
def test_bad_embeddings_input(args: object, kwargs: dict, match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        build_embeddings_request(args, **kwargs)  # type: ignore[arg-type]
