"""One regression test per LLM bug of the anchor (llama-index-llms-azure-inference 0.8.0).

Each test is named after the bug in ``existing-llamaindex-integration.md`` (§0, §1) and runs end
to end against the emulator, asserting on the result and on the recorded wire request.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
from typing import Any

import pytest
from azure.core.credentials import AccessToken
from azure.core.exceptions import HttpResponseError
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ImageBlock,
    MessageRole,
    TextBlock,
    ToolCallBlock,
)
from llama_index.core.program.function_program import FunctionCallingProgram
from llama_index.core.program.utils import get_program_for_llm
from llama_index.core.prompts import ChatPromptTemplate, PromptTemplate
from llama_index.core.tools import FunctionTool
from llama_index.core.types import PydanticProgramMode
from pydantic import BaseModel

from azureinfer.errors import (
    APITimeoutError,
    ConfigurationError,
    ContentFilterError,
    IncompleteStreamError,
    RateLimitError,
)
from llamaindex_azureinfer import AzureInference


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


ADD = FunctionTool.from_defaults(add)
MUL = FunctionTool.from_defaults(multiply)


class Pet(BaseModel):
    """A pet."""

    name: str
    age: int


def _bodies(emu: Any) -> list[dict[str, Any]]:
    return [r.body for r in emu.requests_for("chat")]


def _user(text: str) -> ChatMessage:
    return ChatMessage(role="user", content=text)


# -- §0.1 is_function_calling_model was always False ---------------------------------------------


def test_anchor_is_function_calling_model_always_false(llm: Any) -> None:
    assert llm.metadata.is_function_calling_model is True
    program = get_program_for_llm(Pet, PromptTemplate("a pet"), llm)
    assert isinstance(program, FunctionCallingProgram)


async def test_anchor_apredict_and_call_fell_into_react_fallback(emu: Any) -> None:
    async with AzureInference(endpoint=emu.endpoint, credential=emu.key, model="gpt-4o") as llm:
        resp = await llm.apredict_and_call([ADD, MUL], user_msg="add 2 and 3")
    assert resp.sources[0].tool_name == "add"
    assert _bodies(emu)[0]["tools"]


# -- §0.2 streaming tool calls were lost ----------------------------------------------------------


def test_anchor_stream_chat_dropped_tool_call_deltas(llm: Any, emu: Any) -> None:
    chunks = list(llm.stream_chat([_user("add 2 and 3")], tools=[ADD]))
    (call,) = llm.get_tool_calls_from_response(chunks[-1])
    assert call.tool_name == "add" and set(call.tool_kwargs) == {"a", "b"}
    assert _bodies(emu)[0]["stream"] is True


def test_anchor_stream_chat_with_tools_dropped_chat_message_user_msg(llm: Any, emu: Any) -> None:
    list(llm.stream_chat_with_tools([ADD], user_msg=_user("add 2 and 3")))
    assert _bodies(emu)[0]["messages"] == [{"role": "user", "content": "add 2 and 3"}]


def test_anchor_first_stream_chunk_had_empty_delta(llm: Any) -> None:
    chunks = list(llm.stream_chat([_user("hello")]))
    assert all(c.delta or c.additional_kwargs for c in chunks)


# -- §0.3 tool_choice could not be passed ---------------------------------------------------------


def test_anchor_tool_choice_duplicate_kwarg_from_function_calling_program(
    llm: Any, emu: Any
) -> None:
    program = FunctionCallingProgram.from_defaults(
        output_cls=Pet, prompt=PromptTemplate("a pet called {name}"), llm=llm
    )
    pet = program(name="Rex")
    assert isinstance(pet, Pet)
    assert _bodies(emu)[0]["tool_choice"] == "required"


def test_anchor_tool_choice_only_auto_or_required(llm: Any, emu: Any) -> None:
    llm.chat_with_tools([ADD, MUL], user_msg="add 1 and 2", tool_choice="none")
    llm.chat_with_tools([ADD, MUL], user_msg="add 1 and 2", tool_choice="multiply")
    b1, b2 = _bodies(emu)
    assert b1["tool_choice"] == "none"
    assert b2["tool_choice"] == {"type": "function", "function": {"name": "multiply"}}


# -- §0.4 metadata ------------------------------------------------------------------------------


def test_anchor_metadata_made_a_blocking_get_info(emu: Any) -> None:
    unreachable = AzureInference(endpoint="http://127.0.0.1:9/models", credential="k")
    assert unreachable.metadata.model_name  # no network, no error
    assert unreachable.to_payload()["class_name"] == "AzureInference"
    with AzureInference(endpoint=emu.endpoint, credential=emu.key, model="gpt-4o") as llm:
        llm.chat([_user("hi")])
        asyncio.run(llm.achat([_user("hi")]))
    assert [r.route for r in emu.requests] == ["chat", "chat"]
    assert emu.requests_for("info") == []


def test_anchor_context_window_and_num_output_fixed_at_core_defaults() -> None:
    llm = AzureInference(
        endpoint="http://127.0.0.1:9", credential="k", context_window=131072, max_tokens=1024
    )
    assert (llm.metadata.context_window, llm.metadata.num_output) == (131072, 1024)


def test_anchor_is_chat_model_false_flattened_prompts(llm: Any, emu: Any) -> None:
    template = ChatPromptTemplate.from_messages([("system", "Be terse."), ("user", "{q}")])
    llm.predict(template, q="hello")
    assert _bodies(emu)[0]["messages"] == [
        {"role": "system", "content": "Be terse."},
        {"role": "user", "content": "hello"},
    ]


def test_anchor_model_name_overwritten_by_info(llm: Any) -> None:
    assert llm.metadata.model_name == "gpt-4o"


# -- §0.5 tool-call history was not portable -----------------------------------------------------


def test_anchor_tool_calls_stored_as_sdk_objects_not_json(llm: Any) -> None:
    # (SimpleChatStore.persist itself fails on any ChatMessage with llama-index-core 0.14.25 and
    # pydantic 2.14, ours or not; Memory.from_defaults persistence is covered in
    # test_li_consumers.py. Here: the message's own JSON round trip.)
    resp = llm.chat_with_tools([ADD], user_msg="add 2 and 3")
    text = resp.message.model_dump_json()
    loaded = ChatMessage.model_validate_json(text)
    assert loaded == resp.message
    again = json.loads(json.dumps(resp.message.model_dump(mode="json")))
    assert ChatMessage.model_validate(again) == resp.message
    assert llm.get_tool_calls_from_response(ChatResponse(message=loaded))[0].tool_name == "add"


def test_anchor_get_tool_calls_rejected_plain_dicts(llm: Any) -> None:
    msg = ChatMessage(
        role="assistant",
        additional_kwargs={
            "tool_calls": [{"id": "c", "function": {"name": "add", "arguments": "{}"}}]
        },
    )
    assert llm.get_tool_calls_from_response(ChatResponse(message=msg))[0].tool_id == "c"


def test_anchor_tool_call_block_dropped_on_the_way_out(llm: Any, emu: Any) -> None:
    history = [
        _user("add 2 and 3"),
        ChatMessage(
            role="assistant",
            blocks=[
                ToolCallBlock(tool_call_id="call_1", tool_name="add", tool_kwargs={"a": 2, "b": 3})
            ],
        ),
        ChatMessage(role="tool", content="5", additional_kwargs={"tool_call_id": "call_1"}),
    ]
    resp = llm.chat(history)
    assert "tool results: 5" in resp.message.content
    sent = _bodies(emu)[0]["messages"][1]
    assert sent["tool_calls"] == [
        {
            "id": "call_1",
            "type": "function",
            "function": {"name": "add", "arguments": '{"a": 2, "b": 3}'},
        }
    ]


# -- §0.7 smaller confirmed bugs -----------------------------------------------------------------


async def test_anchor_astream_complete_always_raised_type_error(emu: Any) -> None:
    async with AzureInference(endpoint=emu.endpoint, credential=emu.key, model="gpt-4o") as llm:
        chunks = [c async for c in await llm.astream_complete("hello")]
    assert "hello" in chunks[-1].text


def test_anchor_seed_typed_str_and_never_sent(emu: Any) -> None:
    with AzureInference(endpoint=emu.endpoint, credential=emu.key, model="gpt-4o", seed=42) as llm:
        llm.chat([_user("x")])
    assert _bodies(emu)[0]["seed"] == 42


def test_anchor_temperature_capped_at_one_and_not_none(emu: Any) -> None:
    with AzureInference(
        endpoint=emu.endpoint, credential=emu.key, model="gpt-4o", temperature=1.5
    ) as hot:
        hot.chat([_user("x")])
    with AzureInference(endpoint=emu.endpoint, credential=emu.key, model="gpt-4o") as unset:
        unset.chat([_user("x")])
    b1, b2 = _bodies(emu)
    assert b1["temperature"] == 1.5
    assert "temperature" not in b2


def test_anchor_unknown_model_kwargs_leaked_to_transport(emu: Any) -> None:
    llm = AzureInference(
        endpoint=emu.endpoint,
        credential=emu.key,
        model="gpt-4o",
        model_kwargs={"safe_prompt": True, "model_extras": {"logit_bias": {}}},
    )
    with llm:
        llm.chat([_user("x")])
    (req,) = emu.requests_for("chat")
    assert req.body["safe_prompt"] is True and req.body["logit_bias"] == {}
    assert req.headers["extra-parameters"] == "pass-through"


def test_anchor_chat_with_tools_mutated_chat_history(llm: Any) -> None:
    history = [_user("earlier")]
    before = copy.deepcopy(history)
    llm.chat_with_tools([ADD], user_msg="add 2 and 3", chat_history=history)
    assert history == before


def test_anchor_from_dict_to_dict_always_failed(llm: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("AZURE_INFERENCE_CREDENTIAL", "k")
    assert AzureInference.from_dict(llm.to_dict()).to_dict() == llm.to_dict()


def test_anchor_unknown_constructor_kwargs_silently_ignored() -> None:
    with pytest.raises(ConfigurationError, match="temprature"):
        AzureInference(endpoint="http://127.0.0.1:9", credential="k", temprature=0.9)


# -- §1 feature-table bugs -----------------------------------------------------------------------


def test_anchor_empty_tool_list_sent_tools_empty_array(llm: Any, emu: Any) -> None:
    llm.chat_with_tools([], user_msg="hi")
    list(llm.stream_chat_with_tools([], user_msg="hi"))
    for body in _bodies(emu):
        assert "tools" not in body and "tool_choice" not in body


def test_anchor_stream_path_did_not_sanitise_tool_names(llm: Any, emu: Any) -> None:
    odd = FunctionTool.from_defaults(add, name="get weather[v2]")
    llm.chat_with_tools([odd], user_msg="x")
    list(llm.stream_chat_with_tools([odd], user_msg="x"))
    names = [b["tools"][0]["function"]["name"] for b in _bodies(emu)]
    assert names == ["get_weather_v2_", "get_weather_v2_"]


@pytest.mark.parametrize("arguments", [None, "", "{oops"])
def test_anchor_get_tool_calls_crashed_on_none_empty_or_malformed_arguments(
    llm: Any, emu: Any, arguments: Any
) -> None:
    emu.script_reply(
        "gpt-4o", tool_calls=[{"id": "c1", "name": "add", "arguments": arguments or ""}]
    )
    resp = llm.chat_with_tools([ADD], user_msg="add")
    (sel,) = llm.get_tool_calls_from_response(resp)
    assert sel.tool_name == "add" and sel.tool_kwargs == {}
    json.loads(resp.message.model_dump_json())


def test_anchor_parallel_tool_calls_never_sent(llm: Any, emu: Any) -> None:
    resp = llm.chat_with_tools([ADD, MUL], user_msg="add 1 and 2, multiply 3 and 4")
    assert len(llm.get_tool_calls_from_response(resp)) == 1
    assert _bodies(emu)[0]["parallel_tool_calls"] is False


def test_anchor_no_strict_mode(llm: Any, emu: Any) -> None:
    llm.chat_with_tools([ADD], user_msg="add 1 and 2", strict=True)
    assert _bodies(emu)[0]["tools"][0]["function"]["strict"] is True


def test_anchor_pydantic_program_mode_function_raised(emu: Any) -> None:
    llm = AzureInference(
        endpoint=emu.endpoint,
        credential=emu.key,
        model="gpt-4o",
        pydantic_program_mode=PydanticProgramMode.FUNCTION,
    )
    with llm:
        assert isinstance(llm.structured_predict(Pet, PromptTemplate("a pet")), Pet)


def test_anchor_no_native_json_schema_response_format(emu: Any) -> None:
    llm = AzureInference(
        endpoint=emu.endpoint,
        credential=emu.key,
        model="gpt-4o",
        structured_output_method="json_schema",
    )
    with llm:
        pet = llm.structured_predict(Pet, PromptTemplate("a pet"))
    assert isinstance(pet, Pet)
    assert _bodies(emu)[0]["response_format"]["type"] == "json_schema"


def test_anchor_image_blocks_silently_dropped(llm: Any, emu: Any) -> None:
    png = (
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5E"
        "rkJggg=="
    )
    msg = ChatMessage(
        role="user",
        blocks=[
            TextBlock(text="describe"),
            ImageBlock(image=png.encode(), image_mimetype="image/png"),
        ],
    )
    llm.chat([msg])
    content = _bodies(emu)[0]["messages"][0]["content"]
    assert content[1] == {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{png}"}}


def test_anchor_arbitrary_additional_kwargs_leaked_into_wire_messages(llm: Any, emu: Any) -> None:
    msg = ChatMessage(role=MessageRole.USER, content="x", additional_kwargs={"thinking": "secret"})
    llm.chat([msg])
    assert _bodies(emu)[0]["messages"] == [{"role": "user", "content": "x"}]


def test_anchor_finish_reason_and_usage_discarded(llm: Any) -> None:
    resp = llm.chat([_user("x")])
    chunks = list(llm.stream_chat([_user("x")]))
    for kwargs in (resp.additional_kwargs, chunks[-1].additional_kwargs):
        assert kwargs["finish_reason"] == "stop" and kwargs["total_tokens"] > 0


def test_anchor_raw_was_an_sdk_object(llm: Any) -> None:
    assert type(llm.chat([_user("x")]).raw) is dict
    assert all(type(c.raw) is dict for c in llm.stream_chat([_user("x")]))


def test_anchor_no_timeout_or_max_retries_fields(emu: Any) -> None:
    emu.inject_fault("status", times=5, status=429, retry_after=0)
    with (
        AzureInference(
            endpoint=emu.endpoint, credential=emu.key, model="gpt-4o", max_retries=0
        ) as llm,
        pytest.raises(RateLimitError) as info,
    ):
        llm.chat([_user("x")])
    assert isinstance(info.value, HttpResponseError)
    assert len(emu.requests_for("chat")) == 1
    emu.clear()
    emu.inject_fault("delay", seconds=2.0)
    start = time.monotonic()
    with (
        AzureInference(
            endpoint=emu.endpoint, credential=emu.key, model="gpt-4o", timeout=0.3, max_retries=0
        ) as llm,
        pytest.raises(APITimeoutError),
    ):
        llm.chat([_user("x")])
    assert time.monotonic() - start < 1.9


async def test_anchor_no_close_or_context_manager(emu: Any) -> None:
    llm = AzureInference(endpoint=emu.endpoint, credential=emu.key, model="gpt-4o")
    await llm.achat([_user("x")])
    await llm.aclose()
    llm.close()
    async with llm:
        await llm.achat([_user("y")])


class _AsyncTokenCredential:
    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken("token-from-async-credential", int(time.time()) + 3600)

    async def close(self) -> None:
        pass

    async def __aenter__(self) -> _AsyncTokenCredential:
        return self

    async def __aexit__(self, *exc: object) -> None:
        pass


async def test_anchor_async_credential_broke_sync_chat(emu: Any) -> None:
    """The anchor failed with "'coroutine' object has no attribute 'expires_on'"; now the async
    path uses the async credential and the sync path says clearly what to pass instead."""
    llm = AzureInference(endpoint=emu.endpoint, credential=_AsyncTokenCredential(), model="gpt-4o")
    async with llm:
        resp = await llm.achat([_user("async with async credential")])
        assert "async with async credential" in resp.message.content
        with pytest.raises(ValueError, match="AsyncTokenCredential"):
            llm.chat([_user("sync")])
    assert emu.requests_for("chat")[0].status == 200


def test_anchor_no_content_filter_handling(llm: Any, emu: Any) -> None:
    with pytest.raises(ContentFilterError) as info:
        llm.chat([_user("please EMULATOR_FILTER_PROMPT now")])
    assert isinstance(info.value, HttpResponseError) and info.value.status_code == 400
    resp = llm.chat([_user("say EMULATOR_FILTER_OUTPUT")])
    assert resp.additional_kwargs["finish_reason"] == "content_filter"


def test_anchor_stream_errors_and_truncation_went_unnoticed(llm: Any, emu: Any) -> None:
    emu.inject_fault("truncate", n_events=2)
    with pytest.raises(IncompleteStreamError):
        list(llm.stream_chat([_user("a long enough answer to be cut")]))
    emu.inject_fault("stream_error", n_events=2)
    with pytest.raises(IncompleteStreamError):
        list(llm.stream_chat([_user("a long enough answer to be cut")]))


async def test_anchor_abandoned_stream_kept_its_client_open(emu: Any) -> None:
    llm = AzureInference(endpoint=emu.endpoint, credential=emu.key, model="gpt-4o")
    sync_gen = llm.stream_chat([_user("one two three four five six")])
    next(sync_gen)
    sync_gen.close()  # closes the HTTP response; no unclosed-resource warning afterwards
    async with llm:
        agen = await llm.astream_chat([_user("one two three four five six")])
        await agen.__anext__()
        await agen.aclose()
        again = await llm.achat([_user("still works")])
    assert "still works" in again.message.content


class _SyncTokenCredential:
    def __init__(self) -> None:
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.scopes.append(scopes)
        return AccessToken("token-from-sync-credential", int(time.time()) + 3600)


def test_anchor_token_credential_over_http_failed_with_service_request_error(emu: Any) -> None:
    cred = _SyncTokenCredential()
    with AzureInference(
        endpoint=emu.endpoint,
        credential=cred,
        model="gpt-4o",
        credential_scopes=["https://cognitiveservices.azure.com/.default"],
    ) as llm:
        resp = llm.chat([_user("token over loopback http")])
    assert "token over loopback http" in resp.message.content
    assert cred.scopes and cred.scopes[0] == ("https://cognitiveservices.azure.com/.default",)
    assert emu.requests_for("chat")[0].status == 200


def test_anchor_reasoning_content_dropped(emu: Any) -> None:
    with AzureInference(endpoint=emu.endpoint, credential=emu.key, model="deepseek-r1") as llm:
        resp = llm.chat([_user("why")])
    assert resp.message.additional_kwargs["reasoning_content"]
    assert any(b.block_type == "thinking" and b.content for b in resp.message.blocks)
