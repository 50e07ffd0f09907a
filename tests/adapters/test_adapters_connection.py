"""The shared adapter layer (``azureinfer.adapters``) as all four classes use it, end to end.

A copy with other connection fields sends through a client of its own, made from the copy's
fields: the endpoint, the credential and every other connection field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatMessage

from azureinfer import AuthenticationError, __version__
from azureinfer.emulator import Emulator
from langchain_azureinfer import AzureInferenceEmbeddings, ChatAzureInference
from llamaindex_azureinfer import AzureInference, AzureInferenceEmbedding

ROUTE = {"chat": "chat", "embed": "embeddings"}


def _chat_lc(obj: Any) -> None:
    obj.invoke("hi")


def _chat_li(obj: Any) -> None:
    obj.chat([ChatMessage(role="user", content="hi")])


def _embed_lc(obj: Any) -> None:
    obj.embed_query("hi")


def _embed_li(obj: Any) -> None:
    obj.get_query_embedding("hi")


# class, model, how to make one call, its route, the name of its headers field
CLASSES = {
    "ChatAzureInference": (ChatAzureInference, "gpt-4o", _chat_lc, "chat", "default_headers"),
    "AzureInference": (AzureInference, "gpt-4o", _chat_li, "chat", "headers"),
    "AzureInferenceEmbeddings": (
        AzureInferenceEmbeddings,
        "cohere-embed-v3-english",
        _embed_lc,
        "embeddings",
        "headers",
    ),
    "AzureInferenceEmbedding": (
        AzureInferenceEmbedding,
        "cohere-embed-v3-english",
        _embed_li,
        "embeddings",
        "headers",
    ),
}


@pytest.fixture(scope="module")
def second_emulator_session(azure_inference_emulator_session: Emulator) -> Iterator[Emulator]:
    """Another endpoint that accepts the same key."""
    with Emulator(key=azure_inference_emulator_session.key) as other:
        yield other


@pytest.fixture
def second(second_emulator_session: Emulator) -> Emulator:
    second_emulator_session.clear()
    return second_emulator_session


@pytest.fixture(params=sorted(CLASSES))
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _make(kind: str, emu: Emulator, **fields: Any) -> tuple[Any, Callable[[Any], None], str]:
    cls, model, call, route, _ = CLASSES[kind]
    return cls(endpoint=emu.endpoint, credential=emu.key, model=model, **fields), call, route


def test_a_copy_with_another_endpoint_sends_there(
    kind: str, azure_inference_emulator: Emulator, second: Emulator
) -> None:
    first = azure_inference_emulator
    obj, call, route = _make(kind, first, max_retries=0)
    call(obj)
    moved = obj.model_copy(update={"endpoint": second.endpoint})
    call(moved)
    call(obj)
    assert len(second.requests_for(route)) == 1  # the copy's request, with the kept key
    assert len(first.requests_for(route)) == 2  # the original's, before and after
    assert moved.endpoint == second.endpoint and obj.endpoint == first.endpoint
    obj.close()
    moved.close()


def test_a_copy_with_another_credential_uses_it_and_keeps_it_secret(
    kind: str, azure_inference_emulator: Emulator
) -> None:
    emu = azure_inference_emulator
    obj, call, route = _make(kind, emu, max_retries=0)
    wrong = obj.model_copy(update={"credential": "wrong-key-0123"})
    with pytest.raises(AuthenticationError):
        call(wrong)
    assert "wrong-key-0123" not in repr(wrong)
    call(obj)  # the original still sends its own key
    assert [r.status for r in emu.requests_for(route)] == [401, 200]
    obj.close()
    wrong.close()


def test_a_copy_with_other_connection_fields_sends_them(
    kind: str, azure_inference_emulator: Emulator
) -> None:
    emu = azure_inference_emulator
    headers_field = CLASSES[kind][4]
    obj, call, route = _make(kind, emu)
    copy = obj.model_copy(
        update={
            "api_version": "2025-04-01",
            headers_field: {"x-copy": "1"},
            "user_agent": "copyapp/2",
        }
    )
    call(copy)
    call(obj)
    sent_copy, sent_obj = emu.requests_for(route)
    assert sent_copy.query["api-version"] == "2025-04-01"
    assert sent_copy.headers["x-copy"] == "1" and "x-copy" not in sent_obj.headers
    assert sent_copy.headers["user-agent"].startswith("copyapp/2 ")
    assert sent_obj.query["api-version"] != "2025-04-01"
    assert not sent_obj.headers["user-agent"].startswith("copyapp/2")
    assert f"azureinfer/{__version__}" in sent_obj.headers["user-agent"]
    obj.close()
    copy.close()


def test_an_assigned_endpoint_is_used(
    kind: str, azure_inference_emulator: Emulator, second: Emulator
) -> None:
    obj, call, route = _make(kind, azure_inference_emulator)
    call(obj)
    obj.endpoint = second.endpoint
    call(obj)
    assert len(second.requests_for(route)) == 1
    assert len(azure_inference_emulator.requests_for(route)) == 1
    obj.close()


def test_a_copy_with_a_bad_endpoint_fails_at_the_copy(kind: str, emu_endpoint: str) -> None:
    cls, model, *_ = CLASSES[kind]
    obj = cls(endpoint=emu_endpoint, credential="k", model=model)
    with pytest.raises(ValueError, match="endpoint must be an http"):
        obj.model_copy(update={"endpoint": "ftp://nowhere"})


@pytest.fixture
def emu_endpoint(azure_inference_emulator: Emulator) -> str:
    return azure_inference_emulator.endpoint


PACKAGE = {
    "ChatAzureInference": "langchain_azureinfer",
    "AzureInferenceEmbeddings": "langchain_azureinfer",
    "AzureInference": "llamaindex_azureinfer",
    "AzureInferenceEmbedding": "llamaindex_azureinfer",
}


def test_every_class_sends_one_user_agent_rule(
    kind: str, azure_inference_emulator: Emulator
) -> None:
    # Regression: the LlamaIndex LLM hard-coded its own tag, the embeddings classes sent none and
    # only the LangChain chat class took the user's prefix.
    emu = azure_inference_emulator
    plain, call, route = _make(kind, emu)
    own, *_ = _make(kind, emu, user_agent="myapp/1.0")
    call(plain)
    call(own)
    sent_plain, sent_own = (r.headers["user-agent"] for r in emu.requests_for(route))
    core = f"{PACKAGE[kind]}/{__version__} azureinfer/{__version__} azsdk-python-ai-inference/"
    assert sent_plain.startswith(core)
    assert sent_own.startswith(f"myapp/1.0 {core}")
    plain.close()
    own.close()


def test_every_class_rejects_an_unknown_argument_the_same_way(emu_endpoint: str) -> None:
    # One function, one message (azureinfer.adapters.reject_unknown_arguments). Pydantic still
    # wraps it in its report inside validators (helper newcomer's branch unwraps that).
    expected = (
        "unknown argument(s) 'timeuot' (did you mean 'timeout'?); pass other request-body "
        "parameters in model_kwargs={...} and azure-core client options in client_kwargs={...}."
    )
    for cls, model, *_ in CLASSES.values():
        with pytest.raises(ValueError, match="timeuot") as info:
            cls(endpoint=emu_endpoint, credential="k", model=model, timeuot=5)
        assert expected in str(info.value), cls
