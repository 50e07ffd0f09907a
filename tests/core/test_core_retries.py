"""End to end: typed errors and the retry policy, counting the attempts the emulator saw."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
)

from azureinfer import (
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    ChatClient,
    ContentFilterError,
    EmbeddingsClient,
    ModelNotFoundError,
    RateLimitError,
    RequestTooLargeError,
    ServiceError,
    UnsupportedParameterError,
    build_chat_request,
    build_embeddings_request,
    resolve_settings,
)
from azureinfer.emulator import Emulator

HI = [{"role": "user", "content": "hi"}]
FAST = {"retry_backoff_factor": 0.001, "retry_backoff_max": 0.01}


def make(
    emu: Emulator, *, max_retries: int = 3, key: str | None = None, **client_kwargs: Any
) -> ChatClient:
    kwargs = {**FAST, **client_kwargs}
    return ChatClient(
        resolve_settings(
            emu.endpoint, key or emu.key, max_retries=max_retries, client_kwargs=kwargs
        )
    )


def chat(model: str = "gpt-4o", content: str = "hi") -> Any:
    return build_chat_request([{"role": "user", "content": content}], model=model)


def attempts(emu: Emulator) -> int:
    return len(emu.requests_for("chat"))


# ---------------------------------------------------------------------------- typed errors


def test_wrong_key_is_an_authentication_error_without_the_key(
    azure_inference_emulator: Emulator,
) -> None:
    emu = azure_inference_emulator
    with make(emu, key="wrong-secret-key") as client, pytest.raises(AuthenticationError) as info:
        client.complete(chat())
    err = info.value
    assert isinstance(err, ClientAuthenticationError) and err.status_code == 401
    assert "wrong-secret-key" not in str(err) and "wrong-secret-key" not in repr(err)
    assert attempts(emu) == 1


def test_unknown_deployment_is_model_not_found_with_a_hint(
    azure_inference_emulator: Emulator,
) -> None:
    with make(azure_inference_emulator) as client, pytest.raises(ModelNotFoundError) as info:
        client.complete(chat(model="gpt-5-nope"))
    err = info.value
    assert isinstance(err, ResourceNotFoundError) and err.code == "unknown_model"
    assert "deployment" in str(err)
    assert attempts(azure_inference_emulator) == 1


def test_filtered_prompt_is_a_content_filter_error(azure_inference_emulator: Emulator) -> None:
    with make(azure_inference_emulator) as client, pytest.raises(ContentFilterError) as info:
        client.complete(chat(content="please EMULATOR_FILTER_PROMPT_HATE"))
    err = info.value
    assert err.status_code == 400 and err.code == "content_filter"
    assert err.content_filter_results and err.content_filter_results["hate"]["filtered"] is True
    assert attempts(azure_inference_emulator) == 1


def test_filtered_output_is_a_finish_reason_not_an_error(
    azure_inference_emulator: Emulator,
) -> None:
    with make(azure_inference_emulator) as client:
        result = client.complete(chat(content="EMULATOR_FILTER_OUTPUT"))
    assert result.finish_reason == "content_filter"


def test_unsupported_parameter_names_it(azure_inference_emulator: Emulator) -> None:
    req = build_chat_request(
        HI, model="phi-4", tools=[{"type": "function", "function": {"name": "f"}}]
    )
    with make(azure_inference_emulator) as client, pytest.raises(UnsupportedParameterError) as info:
        client.complete(req)
    assert info.value.status_code == 422 and info.value.param == "tools"
    assert "'tools'" in str(info.value)
    assert attempts(azure_inference_emulator) == 1


def test_request_too_large(azure_inference_emulator: Emulator) -> None:
    azure_inference_emulator.configure(max_body_bytes=200)
    with make(azure_inference_emulator) as client, pytest.raises(RequestTooLargeError):
        client.complete(chat(content="x" * 500))
    assert attempts(azure_inference_emulator) == 1


@pytest.mark.parametrize(
    ("status", "cls"),
    [(400, APIStatusError), (403, AuthenticationError), (422, UnsupportedParameterError)],
)
def test_non_retryable_statuses_are_tried_once_even_with_retry_after(
    azure_inference_emulator: Emulator, status: int, cls: type
) -> None:
    emu = azure_inference_emulator
    emu.inject_fault("status", times=5, status=status, retry_after=0)
    with make(emu) as client, pytest.raises(cls) as info:
        client.complete(chat())
    assert isinstance(info.value, HttpResponseError) and info.value.status_code == status
    assert attempts(emu) == 1


# ---------------------------------------------------------------------------- retries


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_retryable_statuses_recover(azure_inference_emulator: Emulator, status: int) -> None:
    emu = azure_inference_emulator
    emu.inject_fault("status", times=2, status=status)
    with make(emu) as client:
        assert client.complete(chat()).content
    assert attempts(emu) == 3
    assert [r.status for r in emu.requests_for("chat")] == [status, status, 200]


@pytest.mark.parametrize(
    ("status", "cls"),
    [(429, RateLimitError), (500, ServiceError), (503, ServiceError), (408, APIStatusError)],
)
def test_retries_are_bounded_by_max_retries(
    azure_inference_emulator: Emulator, status: int, cls: type
) -> None:
    emu = azure_inference_emulator
    emu.inject_fault("status", times=10, status=status)
    with make(emu, max_retries=2) as client, pytest.raises(cls):
        client.complete(chat())
    assert attempts(emu) == 3


def test_max_retries_zero_means_one_attempt(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    emu.inject_fault("status", times=3, status=503)
    with make(emu, max_retries=0) as client, pytest.raises(ServiceError):
        client.complete(chat())
    assert attempts(emu) == 1


def test_429_without_retry_after_is_retried_with_backoff(
    azure_inference_emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    # azure-core's default would try a POST once here
    emu = azure_inference_emulator
    emu.inject_fault("status", times=1, status=429)
    with caplog.at_level("INFO", logger="azureinfer.retry"), make(emu) as client:
        assert client.complete(chat()).content
    assert attempts(emu) == 2
    assert "Retrying after status 429" in caplog.text and emu.key not in caplog.text


def test_retry_after_ms_is_honoured(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    emu.inject_fault("status", times=2, status=429, retry_after_ms=150)
    with make(emu) as client:
        start = time.monotonic()
        client.complete(chat())
        elapsed = time.monotonic() - start
    assert attempts(emu) == 3 and elapsed >= 0.3


def test_retry_after_beyond_the_wait_budget_fails_fast_with_the_hint(
    azure_inference_emulator: Emulator,
) -> None:
    emu = azure_inference_emulator
    emu.inject_fault("status", times=3, status=429, retry_after=30)
    with make(emu, retry_max_wait=1.0) as client, pytest.raises(RateLimitError) as info:
        start = time.monotonic()
        client.complete(chat())
    assert time.monotonic() - start < 5
    assert info.value.retry_after == 30.0 and attempts(emu) == 1


def test_total_backoff_is_bounded(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    emu.inject_fault("status", times=10, status=503)
    client = make(
        emu, max_retries=10, retry_backoff_factor=0.1, retry_backoff_max=1.0, retry_max_wait=0.5
    )
    with client, pytest.raises(ServiceError):
        start = time.monotonic()
        client.complete(chat())
    assert time.monotonic() - start < 2.0
    assert 2 <= attempts(emu) < 11


def test_attempts_share_the_client_request_id(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    emu.inject_fault("status", times=2, status=500)
    with make(emu) as client:
        client.complete(chat())
    ids = {r.headers.get("x-ms-client-request-id") for r in emu.requests_for("chat")}
    assert len(ids) == 1 and None not in ids


def test_connection_resets_are_retried(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    emu.inject_fault("reset", times=2)
    with make(emu) as client:
        assert client.complete(chat()).content
    assert attempts(emu) == 3


def test_connection_resets_exhaust_into_a_connection_error(
    azure_inference_emulator: Emulator,
) -> None:
    emu = azure_inference_emulator
    emu.inject_fault("reset", times=10)
    with make(emu, max_retries=1) as client, pytest.raises(APIConnectionError):
        client.complete(chat())
    assert attempts(emu) == 2


def test_connection_refused_is_a_connection_error() -> None:
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    settings = resolve_settings(
        f"http://127.0.0.1:{port}/models", "k", max_retries=1, client_kwargs=FAST
    )
    with ChatClient(settings) as client, pytest.raises(APIConnectionError):
        client.complete(chat())


def test_async_retries_and_errors(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator

    async def main() -> None:
        async with make(emu) as client:
            emu.inject_fault("status", times=2, status=429, retry_after=0)
            assert (await client.acomplete(chat())).content
            emu.inject_fault("reset", times=1)
            assert (await client.acomplete(chat())).content
            with pytest.raises(ModelNotFoundError):
                await client.acomplete(chat(model="nope"))

    asyncio.run(main())
    assert attempts(emu) == 3 + 2 + 1


def test_embeddings_are_retried_too(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    emu.inject_fault("status", times=2, status=429, route="embeddings")
    settings = resolve_settings(emu.endpoint, emu.key, client_kwargs=FAST)
    with EmbeddingsClient(settings) as client:
        client.embed(build_embeddings_request(["a"], model="text-embedding-3-small"))
    assert len(emu.requests_for("embeddings")) == 3
