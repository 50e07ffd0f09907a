"""The OpenAI/v1 route end to end against the emulator: wire, route decisions, errors."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from typing import Any

import pytest
from azure.core.credentials import AccessToken

from azureinfer import (
    ChatClient,
    EmbeddingsClient,
    build_chat_request,
    build_embeddings_request,
    resolve_settings,
)
from azureinfer.emulator import Emulator
from azureinfer.errors import (
    AuthenticationError,
    ContentFilterError,
    ModelNotFoundError,
    RateLimitError,
    UnsupportedParameterError,
)

HI = [{"role": "user", "content": "Hello there"}]


@pytest.fixture
def chat(emu: Emulator) -> Any:
    with ChatClient(resolve_settings(emu.v1_endpoint, emu.key, max_retries=1)) as client:
        yield client


def test_first_class_parameters_and_stream_usage_go_on_the_v1_wire(
    emu: Emulator, chat: Any
) -> None:
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
    req = build_chat_request(
        HI,
        model="gpt-4o",
        max_completion_tokens=50,
        reasoning_effort="low",
        tools=[tool],
        parallel_tool_calls=False,
        stream=True,
        extra_parameters="error",  # no header on v1: stream usage is still asked for
    )
    chunks = list(chat.stream(req))
    sent = emu.requests[-1]
    assert (sent.path, sent.query, sent.status) == ("/openai/v1/chat/completions", {}, 200)
    assert "extra-parameters" not in {k.lower() for k in sent.headers}
    assert sent.body["stream_options"] == {"include_usage": True}
    assert sent.body["max_completion_tokens"] == 50 and sent.body["reasoning_effort"] == "low"
    assert sent.body["parallel_tool_calls"] is False
    # the filter-results-first chunk and the usage-only last chunk are folded in
    assert chunks[-1].finish_reason is not None and chunks[-1].usage is not None


def test_json_schema_output_on_v1(emu: Emulator, chat: Any) -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    req = build_chat_request(HI, model="gpt-4o", response_format={"name": "c", "schema": schema})
    result = chat.complete(req)
    assert set(json.loads(result.content or "{}")) == {"city"}
    assert emu.requests[-1].body["response_format"]["type"] == "json_schema"


def test_reasoning_content_on_v1(emu: Emulator, chat: Any) -> None:
    result = chat.complete(build_chat_request(HI, model="deepseek-r1"))
    assert result.reasoning_content and result.content
    streamed = list(chat.stream(build_chat_request(HI, model="deepseek-r1", stream=True)))
    assert "".join(c.reasoning_content or "" for c in streamed) == result.reasoning_content


def test_think_tags_are_split_on_v1(emu: Emulator, chat: Any) -> None:
    for _ in range(2):
        emu.script_reply("mistral-large", content="<think>First, the sky.</think>It is blue.")
    result = chat.complete(build_chat_request(HI, model="mistral-large"))
    assert (result.reasoning_content, result.content) == ("First, the sky.", "It is blue.")
    streamed = list(chat.stream(build_chat_request(HI, model="mistral-large", stream=True)))
    assert "".join(c.reasoning_content or "" for c in streamed) == "First, the sky."
    assert "".join(c.content or "" for c in streamed) == "It is blue."


def test_drop_policy_resends_without_the_refused_extra_once_and_remembers(
    emu: Emulator, chat: Any, caplog: pytest.LogCaptureFixture
) -> None:
    req = build_chat_request(
        HI, model="gpt-4o", model_extras={"safe_prompt": True}, extra_parameters="drop"
    )
    with caplog.at_level(logging.WARNING, logger="azureinfer"):
        assert chat.complete(req).content
        assert chat.complete(req).content
    assert [(r.status, "safe_prompt" in r.body) for r in emu.requests] == [
        (400, True),
        (200, False),
        (200, False),  # remembered: not sent again to this deployment
    ]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "'safe_prompt'" in warnings[0].getMessage()
    # a deployment that takes it (its v1 extras) still gets it
    chat.complete(
        build_chat_request(
            HI, model="mistral-large", model_extras={"safe_prompt": True}, extra_parameters="drop"
        )
    )
    assert emu.requests[-1].body["safe_prompt"] is True and emu.requests[-1].status == 200


@pytest.mark.parametrize("policy", ["pass-through", "error"])
def test_refused_extra_is_unsupported_parameter_error_naming_it(
    emu: Emulator, chat: Any, policy: str
) -> None:
    req = build_chat_request(
        HI, model="gpt-4o", model_extras={"safe_prompt": True}, extra_parameters=policy
    )
    with pytest.raises(UnsupportedParameterError) as info:
        chat.complete(req)
    assert info.value.param == "safe_prompt" and 'extra_parameters="drop"' in str(info.value)
    assert len(emu.requests) == 1  # a 400 is not retried


def test_errors_in_the_openai_envelope_are_typed(emu: Emulator, chat: Any) -> None:
    with pytest.raises(ModelNotFoundError, match=r"openai_v1.*'no-such'"):
        chat.complete(build_chat_request(HI, model="no-such"))
    with pytest.raises(ContentFilterError) as filtered:
        chat.complete(
            build_chat_request(
                [{"role": "user", "content": "EMULATOR_FILTER_PROMPT_VIOLENCE"}], model="gpt-4o"
            )
        )
    assert filtered.value.content_filter_results
    emu.inject_fault("status", status=429, retry_after_ms=50, times=2, route="chat")
    with pytest.raises(RateLimitError) as limited:
        chat.complete(build_chat_request(HI, model="gpt-4o"))
    assert limited.value.retry_after == pytest.approx(0.05) and len(emu.requests) == 4
    bad_key = ChatClient(resolve_settings(emu.v1_endpoint, "wrong-key"))
    with pytest.raises(AuthenticationError):
        bad_key.complete(build_chat_request(HI, model="gpt-4o"))
    bad_key.close()


def test_model_info_on_v1_reads_the_model_list(emu: Emulator, chat: Any) -> None:
    info = chat.get_model_info("mistral-large")
    assert info["id"] == "mistral-large" and info["object"] == "model"
    assert emu.requests[-1].path == "/openai/v1/models"
    other = ChatClient(resolve_settings(emu.v1_endpoint, emu.key))
    with pytest.raises(ModelNotFoundError, match=r"'nope'.*openai_v1"):
        other.get_model_info("nope")
    other.close()


def test_embeddings_on_v1_send_text_and_input_type_where_taken(emu: Emulator) -> None:
    with EmbeddingsClient(resolve_settings(emu.v1_endpoint, emu.key)) as client:
        result = client.embed(
            build_embeddings_request(
                ["a cat", "a dog"], model="cohere-embed-v3-english", input_type="document"
            )
        )
        assert len(result.vectors) == 2
        with pytest.raises(UnsupportedParameterError, match="input_type"):
            client.embed(
                build_embeddings_request(
                    ["a cat"], model="text-embedding-3-small", input_type="query"
                )
            )
        # under extra_parameters="drop" the core drops a refused input_type itself
        dropped = client.embed(
            build_embeddings_request(
                ["a cat"], model="text-embedding-3-small", input_type="query",
                extra_parameters="drop",
            )
        )  # fmt: skip
        assert len(dropped.vectors) == 1
    assert emu.requests[0].body["input"] == ["a cat", "a dog"]  # text, never token ids
    assert emu.requests[0].path == "/openai/v1/embeddings"
    assert [(r.status, "input_type" in r.body) for r in emu.requests[2:]] == [
        (400, True),
        (200, False),
    ]


def _jwt(aud: str) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none'})}.{part({'aud': aud})}.sig"


class _AudienceCredential:
    """Tokens whose audience is the scope's resource, as Entra ID issues them."""

    def __init__(self) -> None:
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.scopes.append(scopes)
        return AccessToken(_jwt(scopes[0].removesuffix("/.default")), int(time.time()) + 3600)


def test_entra_tokens_for_the_v1_audience_by_default(emu: Emulator) -> None:
    emu.configure(token_audiences=["https://cognitiveservices.azure.com"])
    credential = _AudienceCredential()
    with ChatClient(resolve_settings(emu.v1_endpoint, credential)) as client:
        assert client.complete(build_chat_request(HI, model="gpt-4o")).content
        assert asyncio.run(client.acomplete(build_chat_request(HI, model="gpt-4o"))).content
    assert set(credential.scopes) == {("https://ai.azure.com/.default",)}
    wrong = resolve_settings(
        emu.v1_endpoint,
        credential,
        credential_scopes=["https://cognitiveservices.azure.com/.default"],
    )
    with ChatClient(wrong) as client, pytest.raises(AuthenticationError):
        client.complete(build_chat_request(HI, model="gpt-4o"))


def test_environment_proxies_are_honoured_and_read_once_per_client(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    from azureinfer.errors import APIConnectionError

    with socket.socket() as s:  # a port nothing listens on: a dead proxy
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    for name in ("HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{dead}")
    for endpoint in (emu.v1_endpoint, emu.endpoint):
        client = ChatClient(resolve_settings(endpoint, emu.key, max_retries=0))
        with client, pytest.raises(APIConnectionError):  # sent to the (dead) proxy
            client.complete(build_chat_request(HI, model="gpt-4o"))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with ChatClient(resolve_settings(emu.v1_endpoint, emu.key, max_retries=0)) as client:
        assert client.complete(build_chat_request(HI, model="gpt-4o")).content  # bypassed
        monkeypatch.delenv("NO_PROXY")  # read when the client was made, not per request
        assert client.complete(build_chat_request(HI, model="gpt-4o")).content
