"""Regression tests for the bugs of the existing integration (langchain-azure-ai's
AzureAIChatCompletionsModel), each checked on the wire through the SDK against the emulator.
Pure translation bugs are pinned in test_lc_messages.py and construction ones in
test_lc_chat_construction.py."""

from __future__ import annotations

import time
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.rate_limiters import InMemoryRateLimiter
from langchain_core.tools import tool
from pydantic import BaseModel

from azureinfer.emulator import Emulator
from azureinfer.errors import (
    APITimeoutError,
    ContentFilterError,
    RateLimitError,
    ServiceError,
    UnsupportedParameterError,
)
from langchain_azureinfer import AzureAIChatCompletionsModel, ChatAzureInference


def last_body(emu: Emulator) -> dict[str, Any]:
    body = emu.requests_for("chat")[-1].body
    assert isinstance(body, dict)
    return body


def make(emu: Emulator, **kwargs: Any) -> ChatAzureInference:
    return ChatAzureInference(
        **{"endpoint": emu.endpoint, "credential": emu.key, "model": "gpt-4o", **kwargs}
    )


@tool
def get_weather(city: str) -> str:
    """Get the weather for a city."""
    return "sunny"


# ---- parameters --------------------------------------------------------------------------


def test_zero_valued_parameters_are_sent(emu: Emulator) -> None:
    # Anchor bug: parameters were filtered by truthiness, so 0 was never sent.
    make(emu, temperature=0, seed=0, presence_penalty=0, frequency_penalty=0, top_p=0).invoke("x")
    body = last_body(emu)
    for key in ("temperature", "seed", "presence_penalty", "frequency_penalty", "top_p"):
        assert body[key] == 0, key


def test_stop_list_from_constructor_and_per_call(emu: Emulator) -> None:
    model = make(emu, stop=["END", "STOP"])
    model.invoke("x")
    assert last_body(emu)["stop"] == ["END", "STOP"]
    model.invoke("x", stop=["HALT"])
    assert last_body(emu)["stop"] == ["HALT"]


def test_max_completion_tokens_and_reasoning_effort_are_sent(emu: Emulator) -> None:
    make(emu, max_completion_tokens=50, reasoning_effort="low").invoke("x")
    body = last_body(emu)
    assert body["max_completion_tokens"] == 50
    assert body["reasoning_effort"] == "low"


def test_per_call_overrides_reach_the_body(emu: Emulator) -> None:
    make(emu, temperature=0.5).invoke(
        "x", temperature=0.1, max_tokens=5, seed=7, model="gpt-4o-mini"
    )
    body = last_body(emu)
    assert (body["temperature"], body["max_tokens"], body["seed"], body["model"]) == (
        0.1,
        5,
        7,
        "gpt-4o-mini",
    )


def test_openai_parameters_go_in_the_body_not_to_the_transport(emu: Emulator) -> None:
    # Anchor bug: logprobs / parallel_tool_calls / max_completion_tokens ended as
    # "Session.request() got an unexpected keyword argument".
    model = make(emu)
    model.bind_tools([get_weather], parallel_tool_calls=False).invoke(
        "weather?", logprobs=True, top_logprobs=2, max_completion_tokens=9
    )
    body = last_body(emu)
    assert body["logprobs"] is True
    assert body["top_logprobs"] == 2
    assert body["max_completion_tokens"] == 9
    assert body["parallel_tool_calls"] is False
    assert emu.requests_for("chat")[-1].headers["extra-parameters"] == "pass-through"


def test_unknown_per_call_kwarg_is_a_clear_error_not_a_transport_leak(emu: Emulator) -> None:
    with pytest.raises(TypeError, match=r"Unknown per-call argument\(s\) 'foo_bar'.*model_kwargs"):
        make(emu).invoke("x", foo_bar=1)
    assert emu.requests_for("chat") == []


def test_model_kwargs_and_per_call_model_extras_merge(emu: Emulator) -> None:
    # Anchor bug: setting both gave "got multiple values for keyword argument 'model_extras'".
    make(emu, model_kwargs={"safe_prompt": True}).invoke("x", model_extras={"user": "u1"})
    body = last_body(emu)
    assert body["safe_prompt"] is True
    assert body["user"] == "u1"


def test_named_tool_choice_is_sent_as_an_object(emu: Emulator) -> None:
    # Anchor bug: a bare tool name was sent as a string; "any" must become "required".
    model = make(emu)
    model.bind_tools([get_weather], tool_choice="get_weather").invoke("x")
    assert last_body(emu)["tool_choice"] == {
        "type": "function",
        "function": {"name": "get_weather"},
    }
    model.bind_tools([get_weather], tool_choice="any").invoke("x")
    assert last_body(emu)["tool_choice"] == "required"
    model.bind_tools([get_weather], tool_choice=True).invoke("x")
    assert last_body(emu)["tool_choice"] == {
        "type": "function",
        "function": {"name": "get_weather"},
    }


def test_bind_tools_strict_is_sent(emu: Emulator) -> None:
    # Anchor bug: strict= gave a TypeError from requests.
    make(emu).bind_tools([get_weather], strict=True).invoke("weather in 'Oslo'")
    fn = last_body(emu)["tools"][0]["function"]
    assert fn["strict"] is True
    assert fn["parameters"]["additionalProperties"] is False


def test_anthropic_format_tool_dict_is_converted(emu: Emulator) -> None:
    picker = {
        "name": "color_picker",
        "input_schema": {"type": "object", "properties": {"fav_color": {"type": "string"}}},
        "description": "Pick a colour.",
        "cache_control": {"type": "ephemeral"},
    }
    make(emu).bind_tools([picker]).invoke("x")
    assert last_body(emu)["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "color_picker",
                "description": "Pick a colour.",
                "parameters": {"type": "object", "properties": {"fav_color": {"type": "string"}}},
            },
        }
    ]


# ---- messages on the wire ------------------------------------------------------------------


def test_v1_image_blocks_are_translated_on_the_wire(emu: Emulator) -> None:
    # Anchor bug: v1 {"type": "image", ...} blocks were passed through untranslated.
    msg = HumanMessage(
        [
            {"type": "text", "text": "what?"},
            {"type": "image", "base64": "iVBORw0KGgo=", "mime_type": "image/png"},
        ]
    )
    make(emu).invoke([msg])
    content = last_body(emu)["messages"][0]["content"]
    assert content[1] == {
        "type": "image_url",
        "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="},
    }


def test_agent_loop_with_v1_output_sends_translated_history(emu: Emulator) -> None:
    # Anchor bug: v1 tool_call content blocks were sent back raw.
    model = make(emu, output_version="v1").bind_tools([get_weather])
    first = model.invoke("What is the weather in 'Paris'? use get_weather")
    assert isinstance(first.content, list)
    assert any(b["type"] == "tool_call" for b in first.content)
    second = model.invoke(
        [
            HumanMessage("weather?"),
            first,
            ToolMessage("sunny", tool_call_id=first.tool_calls[0]["id"]),
        ]
    )
    assert isinstance(second, AIMessage)
    assistant = last_body(emu)["messages"][1]
    assert "content" not in assistant or isinstance(assistant["content"], str)
    assert assistant["tool_calls"][0]["function"]["name"] == "get_weather"


def test_system_messages_fold_for_models_without_system_role(emu: Emulator) -> None:
    model = make(emu, model="phi-4", fold_system_messages=True)
    reply = model.invoke([SystemMessage("Be terse."), HumanMessage("hello")])
    assert reply.text
    assert last_body(emu)["messages"] == [{"role": "user", "content": "Be terse.\n\nhello"}]


def test_developer_as_system_option(emu: Emulator) -> None:
    model = make(emu, developer_message_role="system")
    model.invoke(
        [
            SystemMessage("rules", additional_kwargs={"__openai_role__": "developer"}),
            HumanMessage("x"),
        ]
    )
    assert last_body(emu)["messages"][0] == {"role": "system", "content": "rules"}


# ---- responses ---------------------------------------------------------------------------------


def test_message_id_is_the_completion_id_and_metadata_is_standard(emu: Emulator) -> None:
    # Anchor bugs: the completion id was lost; response_metadata used "model", not "model_name".
    reply = make(emu).invoke("x")
    assert reply.id is not None and reply.id.startswith("chatcmpl-")
    meta = reply.response_metadata
    assert meta["model_name"].startswith("gpt-4o")
    assert meta["model_provider"] == "azure_ai_inference"
    assert meta["finish_reason"] == "stop"
    assert meta["id"] == reply.id


def test_malformed_tool_arguments_become_invalid_tool_calls_on_invoke(emu: Emulator) -> None:
    # Anchor bug: OutputParserException crashed the whole invoke.
    emu.script_reply(
        "gpt-4o", tool_calls=[{"name": "get_weather", "arguments": "{not json", "id": "c1"}]
    )
    reply = make(emu).bind_tools([get_weather]).invoke("x")
    assert reply.tool_calls == []
    assert reply.invalid_tool_calls[0]["args"] == "{not json"
    assert reply.invalid_tool_calls[0]["id"] == "c1"


def test_empty_choices_raise_a_typed_error(emu: Emulator) -> None:
    # Anchor bug: UnboundLocalError from _create_chat_result.
    emu.script_raw(
        200,
        {"id": "x", "object": "chat.completion", "created": 1, "model": "gpt-4o", "choices": []},
    )
    with pytest.raises(ServiceError, match="no choices"):
        make(emu).invoke("x")


def test_prompt_filtered_empty_choices_raise_content_filter_error(emu: Emulator) -> None:
    emu.script_raw(
        200,
        {
            "id": "x",
            "object": "chat.completion",
            "created": 1,
            "model": "gpt-4o",
            "choices": [],
            "prompt_filter_results": [
                {
                    "prompt_index": 0,
                    "content_filter_results": {"hate": {"filtered": True, "severity": "high"}},
                }
            ],
        },
    )
    with pytest.raises(ContentFilterError) as info:
        make(emu).invoke("x")
    assert isinstance(info.value, HttpResponseError)


def test_usage_details_cache_read_and_reasoning(emu: Emulator) -> None:
    # Anchor bug: no input_token_details / output_token_details.
    emu.script_reply(
        "deepseek-r1",
        content="42",
        reasoning_content="Let me think.",
        usage={
            "prompt_tokens": 20,
            "completion_tokens": 10,
            "total_tokens": 30,
            "prompt_tokens_details": {"cached_tokens": 8},
            "completion_tokens_details": {"reasoning_tokens": 6},
        },
    )
    reply = make(emu, model="deepseek-r1").invoke("x")
    assert reply.usage_metadata is not None
    assert reply.usage_metadata["input_token_details"] == {"cache_read": 8}
    assert reply.usage_metadata["output_token_details"] == {"reasoning": 6}
    # Anchor issue #49: reasoning content was not surfaced.
    assert reply.additional_kwargs["reasoning_content"] == "Let me think."
    assert reply.content_blocks[0] == {"type": "reasoning", "reasoning": "Let me think."}


def test_streamed_reasoning_is_surfaced(emu: Emulator) -> None:
    full: Any = None
    for chunk in make(emu, model="deepseek-r1").stream("why is the sky blue"):
        full = chunk if full is None else full + chunk
    assert full.additional_kwargs.get("reasoning_content")
    assert full.text


# ---- streaming -----------------------------------------------------------------------------------


def test_stream_usage_is_requested_and_arrives_on_exactly_one_chunk(emu: Emulator) -> None:
    # Anchor bug: no stream_options, and the OpenAI usage-only chunk was dropped.
    chunks = list(make(emu).stream("hello"))
    assert last_body(emu)["stream_options"] == {"include_usage": True}
    assert sum(1 for c in chunks if c.usage_metadata) == 1
    assert chunks[-1].chunk_position == "last"
    assert chunks[-1].usage_metadata is not None


def test_stream_usage_can_be_turned_off(emu: Emulator) -> None:
    chunks = list(make(emu, stream_usage=False).stream("hello"))
    assert "stream_options" not in last_body(emu)
    assert chunks[-1].chunk_position == "last"
    list(make(emu).stream("hello", stream_usage=False))
    assert "stream_options" not in last_body(emu)


def test_usage_on_the_finishing_chunk_profile(emu: Emulator) -> None:
    # mistral-large sends usage on the finishing chunk (non-OpenAI profile).
    chunks = list(make(emu, model="mistral-large").stream("hello"))
    assert sum(1 for c in chunks if c.usage_metadata) == 1


def test_stream_keeps_server_id_and_model_name(emu: Emulator) -> None:
    # Anchor bug: the chunk id was the LangChain run id; no model name on the last chunk.
    full: Any = None
    for chunk in make(emu).stream("hello"):
        full = chunk if full is None else full + chunk
    assert full.id.startswith("chatcmpl-")
    assert full.response_metadata["model_name"].startswith("gpt-4o")
    assert full.response_metadata["finish_reason"] == "stop"


def test_streamed_tool_calls_aggregate(emu: Emulator) -> None:
    full: Any = None
    for chunk in make(emu).bind_tools([get_weather]).stream("get_weather for 'Lima'"):
        full = chunk if full is None else full + chunk
    assert full.tool_calls[0]["name"] == "get_weather"
    assert full.tool_calls[0]["args"] == {"city": "Lima"}
    assert full.tool_call_chunks[0]["index"] == 0


# ---- structured output ----------------------------------------------------------------


class Person(BaseModel):
    """A person."""

    name: str
    age: int


class _Options(BaseCallbackHandler):
    def __init__(self) -> None:
        self.options: list[Any] = []

    def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
        self.options.append(kwargs.get("options"))


@pytest.mark.parametrize("method", ["function_calling", "json_schema", "json_mode"])
def test_ls_structured_output_format_is_reported_for_every_method(
    emu: Emulator, method: str
) -> None:
    # Anchor bug: json_schema / json_mode never set ls_structured_output_format.
    handler = _Options()
    prompt = "The person 'Ada' is 36. Return 'name' and 'age'."
    result = (
        make(emu)
        .with_structured_output(Person, method=method)
        .invoke(  # type: ignore[arg-type]
            prompt, config={"callbacks": [handler]}
        )
    )
    assert isinstance(result, Person)  # json_mode returns the Pydantic object (anchor: a dict)
    assert handler.options[0]["ls_structured_output_format"]["schema"]["title"] == "Person"


def test_json_schema_name_comes_from_the_dict_title(emu: Emulator) -> None:
    # Anchor bug: for a dict schema the name was only read from a "name" key.
    make(emu).with_structured_output(Person.model_json_schema(), method="json_schema").invoke(
        "x 'Ada' 3"
    )
    assert last_body(emu)["response_format"]["json_schema"]["name"] == "Person"


# ---- errors, retries, limits, lifecycle -----------------------------------------------


def test_unsupported_parameter_error_surfaces_typed(emu: Emulator) -> None:
    model = make(emu, model="phi-4")
    with pytest.raises(UnsupportedParameterError) as info:
        model.bind_tools([get_weather]).invoke("weather?")
    assert isinstance(info.value, HttpResponseError)
    assert info.value.status_code == 422


def test_max_retries_zero_means_one_attempt(emu: Emulator) -> None:
    emu.inject_fault("status", times=3, status=429, retry_after=0)
    with pytest.raises(RateLimitError):
        make(emu, max_retries=0).invoke("x")
    assert len(emu.requests_for("chat")) == 1


def test_max_retries_retries_a_429(emu: Emulator) -> None:
    emu.inject_fault("status", times=1, status=429, retry_after=0)
    assert make(emu, max_retries=2).invoke("x").text
    assert len(emu.requests_for("chat")) == 2


def test_timeout_is_a_real_field(emu: Emulator) -> None:
    emu.inject_fault("delay", times=1, seconds=3)
    start = time.monotonic()
    with pytest.raises(APITimeoutError):
        make(emu, timeout=0.5, max_retries=0).invoke("x")
    assert time.monotonic() - start < 2.5


def test_rate_limiter_is_honoured(emu: Emulator) -> None:
    limiter = InMemoryRateLimiter(
        requests_per_second=20, check_every_n_seconds=0.01, max_bucket_size=1
    )
    model = make(emu, rate_limiter=limiter)
    start = time.monotonic()
    for _ in range(3):
        model.invoke("x")
    assert time.monotonic() - start >= 0.09


def test_no_info_request_unless_asked(emu: Emulator) -> None:
    # Anchor bug: construction without a model did a blocking GET /info.
    model = ChatAzureInference(endpoint=emu.endpoint, credential=emu.key)
    assert emu.requests == []
    emu.configure(default_deployment="gpt-4o")
    info = model.get_model_info()
    assert info
    assert len(emu.requests_for("info")) == 1


async def test_async_calls_close_cleanly(emu: Emulator) -> None:
    # Anchor bug (langchain-azure#69): "Unclosed client session" after ainvoke. Warnings are
    # errors in this test run, so a leaked aiohttp session fails the test.
    model = make(emu)
    assert (await model.ainvoke("x")).text
    async for _ in model.astream("y"):
        pass
    await model.aclose()


def test_callbacks_never_receive_the_key(emu: Emulator) -> None:
    # Anchor bug: the serialized payload given to on_chat_model_start contained the key.
    seen: list[str] = []

    class Spy(BaseCallbackHandler):
        def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
            seen.append(repr(serialized) + repr(kwargs))

    make(emu).invoke("x", config={"callbacks": [Spy()]})
    assert seen
    assert emu.key not in seen[0]


def test_drop_in_alias_calls_the_service(emu: Emulator) -> None:
    model = AzureAIChatCompletionsModel(
        endpoint=emu.endpoint,
        credential=emu.key,
        model_name="gpt-4o",
        model_kwargs={"user": "u"},
        client_kwargs={"api_version": "2024-05-01-preview"},
    )
    assert model.invoke("hello alias").text
    request = emu.requests_for("chat")[-1]
    assert request.query["api-version"] == "2024-05-01-preview"
    assert request.body["user"] == "u"


def test_non_standard_fields_reach_response_metadata(emu: Emulator) -> None:
    # Anchor gap: no system_fingerprint, logprobs or content-filter results.
    logprobs = {"content": [{"token": "Hi", "logprob": -0.1, "top_logprobs": []}]}
    emu.script_raw(
        200,
        {
            "id": "cmpl-raw",
            "object": "chat.completion",
            "created": 1,
            "model": "gpt-4o-2024-11-20",
            "system_fingerprint": "fp_abc",
            "prompt_filter_results": [
                {"prompt_index": 0, "content_filter_results": {"hate": {"filtered": False}}}
            ],
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "Hi"},
                    "finish_reason": "stop",
                    "logprobs": logprobs,
                    "content_filter_results": {"hate": {"filtered": False, "severity": "safe"}},
                }
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        },
    )
    reply = make(emu).invoke("x", logprobs=True)
    meta = reply.response_metadata
    assert meta["system_fingerprint"] == "fp_abc"
    assert meta["logprobs"] == logprobs
    assert meta["content_filter_results"]["hate"]["severity"] == "safe"
    assert meta["prompt_filter_results"][0]["prompt_index"] == 0
    assert reply.id == "cmpl-raw"


def test_streaming_field_makes_invoke_stream_tokens_to_callbacks(emu: Emulator) -> None:
    tokens: list[str] = []

    class Tokens(BaseCallbackHandler):
        def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
            tokens.append(token)

    reply = make(emu, streaming=True).invoke("hello tokens", config={"callbacks": [Tokens()]})
    assert last_body(emu)["stream"] is True
    assert "".join(tokens) == reply.text
    assert reply.usage_metadata is not None
    assert reply.response_metadata["model_name"].startswith("gpt-4o")


def test_reasoning_is_a_v1_content_block_with_output_version_v1(emu: Emulator) -> None:
    reply = make(emu, model="deepseek-r1", output_version="v1").invoke("why?")
    assert isinstance(reply.content, list)
    assert reply.content[0]["type"] == "reasoning"
    assert reply.content[-1]["type"] == "text"


def test_per_call_tools_in_any_form(emu: Emulator) -> None:
    make(emu).invoke("weather in 'Rome'", tools=[get_weather], tool_choice="get_weather")
    body = last_body(emu)
    assert body["tools"][0]["function"]["name"] == "get_weather"
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}


@pytest.mark.parametrize(
    ("tool_choice", "expected"),
    [
        ("auto", "auto"),
        ("none", "none"),
        ("required", "required"),
        ("any", "required"),
        (True, {"type": "function", "function": {"name": "get_weather"}}),
        ("get_weather", {"type": "function", "function": {"name": "get_weather"}}),
        (
            {"type": "function", "function": {"name": "get_weather"}},
            {"type": "function", "function": {"name": "get_weather"}},
        ),
        (
            {"type": "tool", "name": "get_weather"},
            {"type": "function", "function": {"name": "get_weather"}},
        ),
        ({"type": "any"}, "required"),
        ({"type": "auto"}, "auto"),
    ],
)
def test_every_tool_choice_form(emu: Emulator, tool_choice: Any, expected: Any) -> None:
    make(emu).bind_tools([get_weather], tool_choice=tool_choice).invoke("weather in 'Oslo'")
    assert last_body(emu)["tool_choice"] == expected


def test_model_pickles_after_use_and_the_clone_works(emu: Emulator) -> None:
    import pickle

    model = make(emu)
    model.invoke("before")
    clone = pickle.loads(pickle.dumps(model))
    assert clone.invoke("after pickling").text
    model.close()
    clone.close()


class _Token:
    """A minimal Entra ID token credential."""

    def __init__(self) -> None:
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        self.scopes.append(scopes)
        return AccessToken("entra-token", int(time.time()) + 3600)


def test_entra_token_credential_object(emu: Emulator) -> None:
    emu.configure(accept_any_bearer_token=True)
    credential = _Token()
    model = ChatAzureInference(endpoint=emu.endpoint, credential=credential, model="gpt-4o")
    assert model.invoke("hello entra").text
    assert credential.scopes
    assert "entra-token" not in repr(model)
    assert emu.requests_for("chat")[-1].headers.get("authorization", "").startswith("Bearer")
    model.close()


def test_connection_settings_change_through_a_copy_not_per_call(
    emu: Emulator, slow_answers: Any
) -> None:
    # timeout and max_retries are per-call options (tests/langchain/test_lc_call_options.py);
    # the settings that shape the HTTP client are not.
    model = make(emu, temperature=0.2)
    with pytest.raises(TypeError, match=r"api_version cannot change per call.*model_copy"):
        model.invoke("x", api_version="2024-05-01-preview")
    slow_answers(1)
    quick = model.model_copy(update={"timeout": 0.25, "max_retries": 0})
    with pytest.raises(APITimeoutError):
        quick.invoke("x")
    assert model.timeout is None
    assert model.invoke("the original still works").text
    other = model.model_copy(update={"api_version": "2024-05-01-preview"})
    other.invoke("x")
    assert emu.requests_for("chat")[-1].query["api-version"] == "2024-05-01-preview"
    assert other.temperature == 0.2


@pytest.mark.parametrize("kind", ["truncate", "stream_error"])
def test_broken_streams_raise_a_typed_error(emu: Emulator, kind: str) -> None:
    from azure.core.exceptions import ServiceResponseError

    from azureinfer.errors import IncompleteStreamError

    emu.inject_fault(kind, times=1, n_events=2)
    with pytest.raises(IncompleteStreamError) as info:
        list(make(emu, max_retries=0).stream("a long answer please"))
    assert isinstance(info.value, ServiceResponseError)


async def test_broken_async_stream_raises_and_closes(emu: Emulator) -> None:
    from azureinfer.errors import IncompleteStreamError

    emu.inject_fault("truncate", times=1, n_events=2)
    model = make(emu, max_retries=0)
    with pytest.raises(IncompleteStreamError):
        async for _ in model.astream("a long answer please"):
            pass
    await model.aclose()


def test_leaving_a_stream_early_releases_the_connection(emu: Emulator) -> None:
    model = make(emu)
    for _ in range(3):  # more than the pool would tolerate if responses leaked
        for chunk in model.stream("a fairly long answer with several chunks please"):
            assert chunk is not None
            break
    assert model.invoke("still usable").text
    model.close()


async def test_leaving_an_async_stream_early_releases_the_connection(emu: Emulator) -> None:
    from contextlib import aclosing

    model = make(emu)
    for _ in range(3):
        async with aclosing(model.astream("a fairly long answer with several chunks")) as stream:
            async for _chunk in stream:
                break
    assert (await model.ainvoke("still usable")).text
    await model.aclose()
