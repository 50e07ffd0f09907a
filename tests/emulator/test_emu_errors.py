"""Errors, retries and faults (spec §9 rows 27, 28, 29, 30, 31, 32, 33)."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests
from azure.ai.inference import ChatCompletionsClient, EmbeddingsClient
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import (
    DecodeError,
    HttpResponseError,
    ServiceRequestError,
    ServiceResponseError,
)

from azureinfer.emulator import Emulator

MSG = [{"role": "user", "content": "hello"}]
FAST = {"retry_backoff_factor": 0.01}


def _chat(emu: Emulator, **kwargs: Any) -> ChatCompletionsClient:
    return ChatCompletionsClient(emu.endpoint, AzureKeyCredential(emu.key), **{**FAST, **kwargs})


def _hits(emu: Emulator) -> int:
    return len(emu.requests_for("chat"))


def test_row27_prompt_filter_400(azure_inference_emulator: Emulator) -> None:
    """Row 27: a prompt trigger -> 400 content_filter, param prompt, innererror."""
    emu = azure_inference_emulator
    msgs = [{"role": "user", "content": "EMULATOR_FILTER_PROMPT_VIOLENCE please"}]
    with _chat(emu) as client, pytest.raises(HttpResponseError) as info:
        client.complete(messages=msgs)
    err = info.value
    assert err.status_code == 400
    assert err.error is not None
    assert err.error.code == "content_filter"
    body = err.response.json()["error"]
    assert body["param"] == "prompt"
    result = body["innererror"]["content_filter_result"]
    assert result["violence"] == {"filtered": True, "severity": "high"}
    assert err.response.headers["x-ms-error-code"] == "content_filter"
    assert _hits(emu) == 1


def test_row27_output_filter_finish_reason(azure_inference_emulator: Emulator) -> None:
    """Row 27: an output trigger -> 200 with finish_reason content_filter."""
    emu = azure_inference_emulator
    with _chat(emu) as client:
        r = client.complete(messages=[{"role": "user", "content": "EMULATOR_FILTER_OUTPUT"}])
    assert r.choices[0].finish_reason == "content_filter"


def test_row28_429_with_retry_after_is_retried(azure_inference_emulator: Emulator) -> None:
    """Row 28: 429 with Retry-After -> the SDK tries 4 times; headers and body as the service."""
    emu = azure_inference_emulator
    emu.inject_fault("status", times=10, status=429, retry_after=0, retry_after_ms=10)
    with _chat(emu) as client, pytest.raises(HttpResponseError) as info:
        client.complete(messages=MSG)
    assert _hits(emu) == 4
    err = info.value
    assert err.status_code == 429
    assert err.error is not None
    assert err.error.code == "RateLimitReached"
    headers = err.response.headers
    assert headers["Retry-After"] == "0"
    assert headers["retry-after-ms"] == "10"
    assert headers["x-ratelimit-remaining-requests"] == "0"
    assert headers["x-ms-error-code"] == "RateLimitReached"


def test_row28_429_without_retry_after_is_not_retried(azure_inference_emulator: Emulator) -> None:
    """Row 28: without Retry-After (even with retry-after-ms) the POST is tried once."""
    emu = azure_inference_emulator
    emu.inject_fault("status", times=10, status=429, retry_after_ms=10)
    with _chat(emu) as client, pytest.raises(HttpResponseError) as info:
        client.complete(messages=MSG)
    assert info.value.status_code == 429
    assert "Retry-After" not in info.value.response.headers
    assert _hits(emu) == 1


def test_row28_rate_limit_rpm(azure_inference_emulator: Emulator) -> None:
    """Row 28: configure(rate_limit_rpm) answers 429 like the service, per deployment."""
    emu = azure_inference_emulator
    emu.configure(rate_limit_rpm=2)
    with _chat(emu, retry_total=0) as client:
        first = client.complete(messages=MSG, raw_response_hook=None)
        assert first.choices
        client.complete(messages=MSG)
        with pytest.raises(HttpResponseError) as info:
            client.complete(messages=MSG)
        assert client.complete(messages=MSG, model="phi-4").choices  # another deployment
    err = info.value
    assert err.status_code == 429
    assert int(err.response.headers["Retry-After"]) >= 1
    assert int(err.response.headers["retry-after-ms"]) > 0
    assert err.response.headers["x-ratelimit-limit-requests"] == "2"
    assert err.response.headers["x-ratelimit-remaining-requests"] == "0"
    assert "Please wait" in err.response.json()["error"]["message"]


def test_row28_rate_limit_tpm_and_quota_headers(azure_inference_emulator: Emulator) -> None:
    """Row 28: a tokens-per-minute limit; 200 answers carry x-ratelimit-* headers."""
    emu = azure_inference_emulator
    emu.configure(rate_limit_tpm=60)
    url = emu.endpoint + "/chat/completions?api-version=2024-05-01-preview"
    r = requests.post(url, json={"messages": MSG}, headers={"api-key": emu.key}, timeout=10)
    assert r.status_code == 200
    assert r.headers["x-ratelimit-limit-tokens"] == "60"
    used = r.json()["usage"]["total_tokens"]
    assert int(r.headers["x-ratelimit-remaining-tokens"]) == 60 - used
    statuses = [
        requests.post(url, json={"messages": MSG}, headers={"api-key": emu.key}, timeout=10)
        for _ in range(60 // used + 1)
    ]
    assert statuses[-1].status_code == 429
    assert int(statuses[-1].headers["x-ratelimit-remaining-tokens"]) < used


@pytest.mark.parametrize("status", [500, 503, 504])
def test_row29_fail_n_times_then_succeed(azure_inference_emulator: Emulator, status: int) -> None:
    """Row 29: 5xx twice then success: the SDK recovers, 3 hits."""
    emu = azure_inference_emulator
    emu.inject_fault("status", times=2, status=status)
    with _chat(emu) as client:
        assert client.complete(messages=MSG).choices
    assert [r.status for r in emu.requests_for("chat")] == [status, status, 200]


def test_row29_retry_total_zero(azure_inference_emulator: Emulator) -> None:
    """Row 29: retry_total=0 -> one hit."""
    emu = azure_inference_emulator
    emu.inject_fault("status", times=3, status=500)
    with _chat(emu, retry_total=0) as client, pytest.raises(HttpResponseError) as info:
        client.complete(messages=MSG)
    assert info.value.status_code == 500
    assert info.value.error is not None
    assert info.value.error.code == "InternalServerError"
    assert _hits(emu) == 1


def test_row30_body_too_large(azure_inference_emulator: Emulator) -> None:
    """Row 30: a body over max_body_bytes -> 413, one hit."""
    emu = azure_inference_emulator
    emu.configure(max_body_bytes=200)
    with _chat(emu) as client, pytest.raises(HttpResponseError) as info:
        client.complete(messages=[{"role": "user", "content": "x" * 500}])
    assert info.value.status_code == 413
    assert info.value.response.headers["x-ms-error-code"] == "RequestEntityTooLarge"
    assert _hits(emu) == 1


@pytest.mark.parametrize(("status", "code"), [(408, "Timeout"), (502, "BadGateway")])
def test_row30_408_502_on_demand(
    azure_inference_emulator: Emulator, status: int, code: str
) -> None:
    """Row 30: 408 / 502 on demand; POST is not retried."""
    emu = azure_inference_emulator
    emu.inject_fault("status", times=5, status=status)
    with _chat(emu) as client, pytest.raises(HttpResponseError) as info:
        client.complete(messages=MSG)
    assert info.value.status_code == status
    assert info.value.error is not None
    assert info.value.error.code == code
    assert _hits(emu) == 1


def test_row31_plain_text_500(azure_inference_emulator: Emulator) -> None:
    """Row 31: an optional text/plain 500 -> HttpResponseError, not DecodeError."""
    emu = azure_inference_emulator
    emu.inject_fault("status", status=500, plain_text=True, message="upstream exploded")
    with _chat(emu, retry_total=0) as client, pytest.raises(HttpResponseError) as info:
        client.complete(messages=MSG)
    assert not isinstance(info.value, DecodeError)
    assert info.value.response.headers["Content-Type"].startswith("text/plain")
    assert info.value.response.text() == "upstream exploded"


def test_row31_malformed_json_fault(azure_inference_emulator: Emulator) -> None:
    """Row 31: the broken-JSON fault: labelled JSON but not JSON -> DecodeError (200 or 500)."""
    emu = azure_inference_emulator
    emu.inject_fault("malformed_json", status=500)
    with _chat(emu, retry_total=0) as client:
        with pytest.raises(DecodeError):
            client.complete(messages=MSG)
        emu.inject_fault("malformed_json")
        with pytest.raises(DecodeError):
            client.complete(messages=MSG)
        assert client.complete(messages=MSG).choices


def test_row31_error_bodies_are_json(azure_inference_emulator: Emulator) -> None:
    """Row 31: every default error answer is JSON under application/json."""
    emu = azure_inference_emulator
    for status in (400, 401, 403, 404, 408, 409, 413, 422, 429, 500, 502, 503, 504):
        emu.inject_fault("status", status=status)
        r = requests.post(
            emu.endpoint + "/chat/completions?api-version=2024-05-01-preview",
            json={"messages": MSG},
            headers={"api-key": emu.key},
            timeout=10,
        )
        assert r.status_code == status
        assert r.headers["Content-Type"].startswith("application/json")
        code = r.json()["error"]["code"]
        assert r.headers["x-ms-error-code"] == code  # row 32


def test_row32_error_code_header_on_every_error(azure_inference_emulator: Emulator) -> None:
    """Row 32: x-ms-error-code equals error.code on service errors."""
    emu = azure_inference_emulator
    url = emu.endpoint + "/chat/completions?api-version=2024-05-01-preview"
    cases = [
        ({"api-key": "bad"}, {"messages": MSG}),
        ({"api-key": emu.key}, {"messages": MSG, "model": "nope"}),
        ({"api-key": emu.key}, {"messages": []}),
        ({"api-key": emu.key}, {"messages": MSG, "foo": 1}),
        ({"api-key": emu.key}, {"messages": MSG, "tools": [], "model": "phi-4"}),
    ]
    for headers, body in cases:
        r = requests.post(url, json=body, headers=headers, timeout=10)
        assert r.status_code >= 400
        assert r.headers["x-ms-error-code"] == r.json()["error"]["code"]


def test_row33_request_id_echo(azure_inference_emulator: Emulator) -> None:
    """Row 33: x-ms-client-request-id is echoed; apim-request-id is added."""
    emu = azure_inference_emulator
    seen: dict[str, str] = {}

    def hook(response: Any) -> None:
        seen.update(response.http_response.headers)

    with _chat(emu) as client:
        client.complete(messages=MSG, request_id="my-request-1", raw_response_hook=hook)
    assert seen["x-ms-client-request-id"] == "my-request-1"
    assert seen["apim-request-id"]
    emu.inject_fault("status", status=500, times=2)
    with _chat(emu) as client:
        client.complete(messages=MSG, request_id="my-request-2")
    ids = [r.headers["x-ms-client-request-id"] for r in emu.requests_for("chat")[1:]]
    assert ids == ["my-request-2"] * 3


def test_fault_targeting_by_deployment_and_route(azure_inference_emulator: Emulator) -> None:
    """Faults can target one deployment or one route."""
    emu = azure_inference_emulator
    emu.inject_fault("status", status=500, deployment="phi-4", times=4)
    emu.inject_fault("status", status=503, route="embeddings", times=4)
    with _chat(emu, retry_total=0) as client:
        assert client.complete(messages=MSG, model="gpt-4o").choices
        with pytest.raises(HttpResponseError) as info:
            client.complete(messages=MSG, model="phi-4")
        assert info.value.status_code == 500
    with (
        EmbeddingsClient(emu.endpoint, AzureKeyCredential(emu.key), retry_total=0) as emb,
        pytest.raises(HttpResponseError) as info,
    ):
        emb.embed(input=["x"])
    assert info.value.status_code == 503


def test_fault_reset_drops_connection(azure_inference_emulator: Emulator) -> None:
    """A `reset` fault drops the connection: a transport error, then the server works."""
    emu = azure_inference_emulator
    emu.inject_fault("reset", times=2)
    with _chat(emu) as client:
        for _ in range(2):
            with pytest.raises((ServiceResponseError, ServiceRequestError)):
                client.complete(messages=MSG)
        assert client.complete(messages=MSG).choices
    assert [r.status for r in emu.requests] == [0, 0, 200]


def test_fault_delay(azure_inference_emulator: Emulator) -> None:
    """A `delay` fault slows one answer; configure(latency) slows all."""
    emu = azure_inference_emulator
    emu.inject_fault("delay", seconds=0.5)
    with _chat(emu) as client:
        start = time.perf_counter()
        assert client.complete(messages=MSG).choices
        delayed = time.perf_counter() - start
        start = time.perf_counter()
        client.complete(messages=MSG)
        normal = time.perf_counter() - start
        emu.configure(latency=0.2)
        start = time.perf_counter()
        client.complete(messages=MSG)
        slow = time.perf_counter() - start
    assert delayed >= 0.5
    assert normal < delayed  # the fault was used up
    assert slow >= 0.2


def test_script_raw_exact_answer(azure_inference_emulator: Emulator) -> None:
    """script_raw sends an exact answer (status, body, headers)."""
    emu = azure_inference_emulator
    body = {"error": {"code": "Forbidden", "message": "network rule"}}
    emu.script_raw(403, body, headers={"x-extra": "1"}, deployment="gpt-4o")
    with _chat(emu) as client, pytest.raises(HttpResponseError) as info:
        client.complete(messages=MSG, model="gpt-4o")
    assert info.value.status_code == 403
    assert info.value.response.json() == body
    assert info.value.response.headers["x-extra"] == "1"
    assert info.value.response.headers["x-ms-error-code"] == "Forbidden"
    emu.script_raw(200, {"id": "x", "choices": [], "created": 1, "model": "m"}, route="chat")
    with _chat(emu) as client:
        assert client.complete(messages=MSG).choices == []


def test_emulator_bug_still_answers_json(
    azure_inference_emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An exception inside the emulator becomes a JSON 500 envelope, not a text page."""
    from azureinfer.emulator import _app

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(_app, "chat_reply", broken)
    emu = azure_inference_emulator
    with _chat(emu, retry_total=0) as client, pytest.raises(HttpResponseError) as info:
        client.complete(messages=MSG)
    assert info.value.status_code == 500
    assert info.value.error is not None
    assert "RuntimeError: boom" in info.value.error.message
    (report,) = emu.unexpected_errors  # logged and kept; taken so the fixture does not fail
    assert "RuntimeError: boom" in report
    emu.clear()


def test_error_shapes_as_seen_in_the_wild(azure_inference_emulator: Emulator) -> None:
    """Spec §7.1: envelopes B-E on demand, parsed by azure-core as documented."""
    emu = azure_inference_emulator
    with _chat(emu, retry_total=0) as client:
        emu.inject_fault("status", status=422, shape="B", code="parameter_not_supported")
        with pytest.raises(HttpResponseError) as info:
            client.complete(messages=MSG)
        assert info.value.error is not None
        assert info.value.error.code == "parameter_not_supported"
        assert info.value.response.headers["x-ms-error-code"] == "parameter_not_supported"

        emu.inject_fault("status", status=401, shape="C")
        with pytest.raises(HttpResponseError) as info:
            client.complete(messages=MSG)
        assert info.value.response.json()["statusCode"] == 401
        assert info.value.error is None or info.value.error.code is None
        assert "x-ms-error-code" not in info.value.response.headers

        emu.inject_fault("status", status=422, shape="D")
        with pytest.raises(HttpResponseError) as info:
            client.complete(messages=MSG)
        assert info.value.message == "Operation returned an invalid status 'Unprocessable Entity'"
        assert info.value.response.json()["detail"][0]["loc"] == ["body"]

        emu.inject_fault("status", status=401, shape="E")
        with pytest.raises(HttpResponseError) as info:
            client.complete(messages=MSG)
        assert info.value.response.json()["error"] == "401"
    with pytest.raises(ValueError, match="shape"):
        emu.inject_fault("status", status=500, shape="Z")
