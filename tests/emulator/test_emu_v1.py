"""The OpenAI/v1 API under /openai/v1: routes, model, api-version, arguments, errors, streams,
auth, faults, scripts and recording; over raw HTTP and through the `openai` SDK."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import openai
import pytest
import requests

from azureinfer.emulator import DEFAULT_CATALOGUE, Emulator, RemoteEmulator

MSG = [{"role": "user", "content": "How many feet are in a mile?"}]
COGNITIVE = "https://cognitiveservices.azure.com"


def _client(emu: Emulator, **kwargs: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=emu.v1_endpoint, api_key=emu.key, max_retries=0, **kwargs)


def _post(
    emu: Emulator,
    path: str,
    body: Any,
    headers: dict[str, str] | None = None,
    query: str = "",
) -> requests.Response:
    return requests.post(
        f"{emu.v1_endpoint}{path}{query}",
        json=body,
        headers={"api-key": emu.key} if headers is None else headers,
        timeout=10,
    )


def _sse(resp: requests.Response) -> list[Any]:
    """The events of an LF-framed stream (fails on any other framing)."""
    text = resp.content.decode()
    assert "\r" not in text
    assert text.endswith("data: [DONE]\n\n")
    frames = text.split("\n\n")[:-1]
    assert all(f.startswith("data: ") for f in frames)
    return [json.loads(f[6:]) for f in frames[:-1]]


def _jwt(aud: str) -> str:
    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part({'aud': aud, 'exp': 9999999999})}.sig"


# ------------------------------------------------------------------ endpoints and routes
def test_v1_endpoint_shapes() -> None:
    """`v1_endpoint` beside `endpoint`, on Emulator and RemoteEmulator."""
    with Emulator() as emu:
        assert emu.v1_endpoint == f"http://127.0.0.1:{emu.port}/openai/v1"
        assert emu.endpoint == f"http://127.0.0.1:{emu.port}/models"
        remote = RemoteEmulator(emu.base_url + "/")
        assert remote.v1_endpoint == emu.v1_endpoint
        assert remote.endpoint == emu.endpoint
        remote.script_reply("gpt-4o", content="from the control channel")
        with _client(emu) as client:
            reply = client.chat.completions.create(model="gpt-4o", messages=MSG)  # type: ignore[arg-type]
        assert reply.choices[0].message.content == "from the control channel"
        assert remote.requests[-1]["api"] == "openai_v1"


def test_sdk_chat_completion_and_wire(azure_inference_emulator: Emulator) -> None:
    """`chat.completions.create` answers with Azure OpenAI's annotations; the request is
    recorded as the v1 API with no api-version."""
    emu = azure_inference_emulator
    with _client(emu) as client:
        reply = client.chat.completions.create(model="gpt-4o", messages=MSG)  # type: ignore[arg-type]
    assert reply.choices[0].message.content == (
        "Emulated reply from gpt-4o: How many feet are in a mile?"
    )
    assert reply.model == "gpt-4o-2024-11-20"
    assert reply.object == "chat.completion"
    raw = reply.model_dump(exclude_unset=True)
    choice = raw["choices"][0]
    assert choice["message"]["refusal"] is None
    assert set(choice["content_filter_results"]) == {
        "hate",
        "protected_material_code",
        "protected_material_text",
        "self_harm",
        "sexual",
        "violence",
    }
    assert raw["prompt_filter_results"][0]["content_filter_results"]["jailbreak"] == {
        "filtered": False,
        "detected": False,
    }
    assert raw["usage"]["completion_tokens_details"] == {
        "accepted_prediction_tokens": 0,
        "audio_tokens": 0,
        "reasoning_tokens": 0,
        "rejected_prediction_tokens": 0,
    }
    assert raw["usage"]["prompt_tokens_details"] == {"audio_tokens": 0, "cached_tokens": 0}
    rec = emu.requests[-1]
    assert (rec.api, rec.route, rec.path, rec.query) == (
        "openai_v1",
        "chat",
        "/openai/v1/chat/completions",
        {},
    )
    assert rec.deployment == "gpt-4o"
    assert rec.headers["authorization"] == "Bearer ***"
    assert emu.requests_for("chat") == [rec]


async def test_sdk_async_chat(azure_inference_emulator: Emulator) -> None:
    """The async SDK client on the same route."""
    emu = azure_inference_emulator
    async with openai.AsyncOpenAI(
        base_url=emu.v1_endpoint, api_key=emu.key, max_retries=0
    ) as client:
        reply = await client.chat.completions.create(model="mistral-large", messages=MSG)  # type: ignore[arg-type]
    assert reply.choices[0].message.content.startswith("Emulated reply from mistral-large:")  # type: ignore[union-attr]
    assert emu.requests[-1].api == "openai_v1"


def test_model_inference_requests_say_so(azure_inference_emulator: Emulator) -> None:
    """Requests on the other surfaces are recorded as the model-inference API."""
    emu = azure_inference_emulator
    requests.post(
        f"{emu.endpoint}/chat/completions?api-version=2024-05-01-preview",
        json={"model": "gpt-4o", "messages": MSG},
        headers={"api-key": emu.key},
        timeout=10,
    ).raise_for_status()
    assert emu.requests[-1].api == "model_inference"
    assert emu.requests[-1].to_dict()["api"] == "model_inference"


def test_models_list_and_retrieve(azure_inference_emulator: Emulator) -> None:
    """`GET /openai/v1/models` lists the deployments; `/models/{name}` one; unknown: 404."""
    emu = azure_inference_emulator
    with _client(emu) as client:
        ids = [m.id for m in client.models.list()]
        assert ids == [d.name for d in emu.catalogue]
        model = client.models.retrieve("cohere-embed-v3-english")
        assert (model.id, model.object, model.owned_by) == (
            "cohere-embed-v3-english",
            "model",
            "Cohere",
        )
        with pytest.raises(openai.NotFoundError) as info:
            client.models.retrieve("nope")
    assert info.value.body == {  # type: ignore[comparison-overlap]
        "code": "DeploymentNotFound",
        "message": "The API deployment for this resource does not exist. If you created the "
        "deployment within the last 5 minutes, please wait a moment and try again.",
    }
    assert [r.route for r in emu.requests] == ["models", "models", "models"]


@pytest.mark.parametrize("path", ["/images/embeddings", "/info", "/responses/x"])
def test_routes_the_v1_api_lacks_answer_404(azure_inference_emulator: Emulator, path: str) -> None:
    """No image embeddings and no /info on v1."""
    emu = azure_inference_emulator
    resp = requests.post(
        emu.v1_endpoint + path, json={"model": "embed-v-4-0"}, headers={"api-key": emu.key}
    )
    assert resp.status_code == 404
    assert resp.json() == {"error": {"code": "404", "message": "Resource not found"}}
    assert requests.get(emu.v1_endpoint + path, timeout=10).status_code == 404


def test_wrong_method_is_405(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    resp = requests.get(emu.v1_endpoint + "/chat/completions", headers={"api-key": emu.key})
    assert resp.status_code == 405
    assert resp.json()["error"]["type"] == "invalid_request_error"


# ------------------------------------------------------------------ model and api-version
def test_model_is_required(azure_inference_emulator: Emulator) -> None:
    """No `model`: 400 naming it (no default deployment on v1)."""
    emu = azure_inference_emulator
    resp = _post(emu, "/chat/completions", {"messages": MSG})
    assert resp.status_code == 400
    assert resp.json() == {
        "error": {
            "message": "you must provide a model parameter",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    }
    resp = _post(emu, "/embeddings", {"input": ["x"]})
    assert resp.status_code == 400
    assert resp.json()["error"]["message"] == "you must provide a model parameter"
    resp = _post(emu, "/chat/completions", {"model": 3, "messages": MSG})
    assert resp.status_code == 400
    assert resp.json()["error"]["param"] == "model"


def test_unknown_deployment_is_404(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    with _client(emu) as client, pytest.raises(openai.NotFoundError) as info:
        client.chat.completions.create(model="gpt-5-nope", messages=MSG)  # type: ignore[arg-type]
    assert info.value.status_code == 404
    assert info.value.code == "DeploymentNotFound"
    assert info.value.response.headers["x-ms-error-code"] == "DeploymentNotFound"


def test_wrong_operation_is_400(azure_inference_emulator: Emulator) -> None:
    """An embeddings deployment asked for chat (and the reverse)."""
    emu = azure_inference_emulator
    resp = _post(emu, "/chat/completions", {"model": "text-embedding-3-small", "messages": MSG})
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "OperationNotSupported"
    resp = _post(emu, "/embeddings", {"model": "gpt-4o", "input": "x"})
    assert resp.status_code == 400
    assert "embeddings operation does not work" in resp.json()["error"]["message"]


@pytest.mark.parametrize("version", [None, "v1", "preview"])
def test_accepted_api_versions(azure_inference_emulator: Emulator, version: str | None) -> None:
    emu = azure_inference_emulator
    query = "" if version is None else f"?api-version={version}"
    resp = _post(emu, "/chat/completions", {"model": "gpt-4o", "messages": MSG}, query=query)
    assert resp.status_code == 200


@pytest.mark.parametrize("version", ["2024-05-01-preview", "2024-10-21", "v2"])
def test_dated_api_version_is_refused(azure_inference_emulator: Emulator, version: str) -> None:
    emu = azure_inference_emulator
    resp = _post(
        emu,
        "/chat/completions",
        {"model": "gpt-4o", "messages": MSG},
        query=f"?api-version={version}",
    )
    assert resp.status_code == 400
    error = resp.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["param"] == "api-version"
    assert version in error["message"]
    assert "'v1'" in error["message"] and "'preview'" in error["message"]


# ------------------------------------------------------------------ body arguments
def test_unknown_argument_is_400(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    resp = _post(emu, "/chat/completions", {"model": "gpt-4o", "messages": MSG, "top_k": 3})
    assert resp.status_code == 400
    assert resp.json() == {
        "error": {
            "message": "Unrecognized request argument supplied: top_k",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    }


@pytest.mark.parametrize(
    ("deployment", "extra", "accepted"),
    [
        ("mistral-large", {"safe_prompt": True}, True),
        ("gpt-4o", {"safe_prompt": True}, False),
        ("deepseek-r1", {"top_k": 5}, True),
        ("phi-4", {"top_k": 5}, False),
    ],
)
def test_chat_extras_per_deployment(
    azure_inference_emulator: Emulator, deployment: str, extra: dict[str, Any], accepted: bool
) -> None:
    """Each catalogue row lists the extra body arguments its deployment takes on v1."""
    emu = azure_inference_emulator
    with _client(emu) as client:
        if accepted:
            client.chat.completions.create(
                model=deployment,
                messages=MSG,  # type: ignore[arg-type]
                extra_body=extra,
            )
            assert emu.requests[-1].forwarded == extra
        else:
            with pytest.raises(openai.BadRequestError) as info:
                client.chat.completions.create(
                    model=deployment,
                    messages=MSG,  # type: ignore[arg-type]
                    extra_body=extra,
                )
            assert info.value.message.endswith(
                f"Unrecognized request argument supplied: {next(iter(extra))}"
            )


def test_openai_arguments_are_accepted(azure_inference_emulator: Emulator) -> None:
    """The OpenAI set (reasoning_effort, max_completion_tokens, parallel_tool_calls, ...)."""
    emu = azure_inference_emulator
    with _client(emu) as client:
        reply = client.chat.completions.create(
            model="gpt-4o",
            messages=MSG,  # type: ignore[arg-type]
            max_completion_tokens=3,
            parallel_tool_calls=False,
            reasoning_effort="low",
            user="u1",
            store=False,
        )
    assert reply.choices[0].finish_reason == "length"


def test_extra_parameters_header_means_nothing(azure_inference_emulator: Emulator) -> None:
    """There is no `extra-parameters` header on v1: ignored, unknown arguments still refused."""
    emu = azure_inference_emulator
    body = {"model": "gpt-4o", "messages": MSG, "top_k": 3}
    for mode in ("pass-through", "drop", "nonsense"):
        resp = _post(emu, "/chat/completions", body, {"api-key": emu.key, "extra-parameters": mode})
        assert resp.status_code == 400
        assert "Unrecognized request argument supplied: top_k" in resp.json()["error"]["message"]
    del body["top_k"]
    resp = _post(emu, "/chat/completions", body, {"api-key": emu.key, "extra-parameters": "x"})
    assert resp.status_code == 200


def test_embeddings_input_type_per_deployment(azure_inference_emulator: Emulator) -> None:
    """Cohere embeddings take `input_type` on v1; text-embedding-3-small does not."""
    emu = azure_inference_emulator
    with _client(emu) as client:
        result = client.embeddings.create(
            model="cohere-embed-v3-english",
            input=["first phrase", "second phrase"],
            extra_body={"input_type": "query"},
        )
        assert [len(d.embedding) for d in result.data] == [1024, 1024]
        assert emu.requests[-1].forwarded == {"input_type": "query"}
        with pytest.raises(openai.BadRequestError) as info:
            client.embeddings.create(
                model="text-embedding-3-small",
                input=["x"],
                extra_body={"input_type": "query"},
            )
        assert "Unrecognized request argument supplied: input_type" in info.value.message
        small = client.embeddings.create(
            model="text-embedding-3-small", input="x", dimensions=256, encoding_format="float"
        )
    assert len(small.data[0].embedding) == 256
    assert emu.requests[-1].api == "openai_v1"
    assert emu.requests[-1].route == "embeddings"


def test_validation_errors_are_openai_400s(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    resp = _post(emu, "/chat/completions", {"model": "gpt-4o", "messages": MSG, "temperature": 5})
    assert resp.status_code == 400
    assert resp.json()["error"] == {
        "message": "Invalid value for 'temperature': Input should be between 0 and 2.",
        "type": "invalid_request_error",
        "param": "temperature",
        "code": "invalid_value",
    }
    resp = _post(emu, "/chat/completions", {"model": "gpt-4o"})
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "missing_required_parameter"
    assert resp.json()["error"]["param"] == "messages"
    resp = _post(
        emu,
        "/chat/completions",
        {"model": "gpt-4o", "messages": [{"role": "robot", "content": "x"}]},
    )
    assert resp.json()["error"]["param"] == "messages[0].role"


def test_capability_errors_are_400s(azure_inference_emulator: Emulator) -> None:
    """A deployment asked for what it lacks: 400 `unsupported_parameter` naming the parameter."""
    emu = azure_inference_emulator
    schema = {"name": "x", "schema": {"type": "object", "properties": {}}}
    with _client(emu) as client, pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(
            model="mistral-large",
            messages=MSG,  # type: ignore[arg-type]
            response_format={"type": "json_schema", "json_schema": schema},  # type: ignore[typeddict-item]
        )
    assert info.value.code == "unsupported_parameter"
    assert info.value.param == "response_format"


# ------------------------------------------------------------------ errors
def test_bad_key_is_401_on_both_auth_headers(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    body = {"model": "gpt-4o", "messages": MSG}
    expected = {
        "error": {
            "code": "401",
            "message": "Access denied due to invalid subscription key or wrong API endpoint. "
            "Make sure to provide a valid key for an active subscription and use a correct "
            "regional API endpoint for your resource.",
        }
    }
    for headers in ({"api-key": "bad"}, {"Authorization": "Bearer bad-but-not-a-token"}, {}):
        if "Authorization" in headers:
            emu.configure(accept_any_bearer_token=False)
        resp = _post(emu, "/chat/completions", body, headers)
        assert resp.status_code == 401
        assert resp.json() == expected
    assert _post(emu, "/chat/completions", body, {"api-key": emu.key}).status_code == 200
    auth = {"Authorization": f"Bearer {emu.key}"}
    assert _post(emu, "/chat/completions", body, auth).status_code == 200
    with (
        openai.OpenAI(base_url=emu.v1_endpoint, api_key="wrong", max_retries=0) as client,
        pytest.raises(openai.AuthenticationError),
    ):
        client.chat.completions.create(model="gpt-4o", messages=MSG)  # type: ignore[arg-type]


def test_entra_audience_on_v1(azure_inference_emulator: Emulator) -> None:
    """With audience checking on, v1 wants tokens for https://ai.azure.com; the other
    surfaces keep their own audiences."""
    emu = azure_inference_emulator
    emu.configure(token_audiences=[COGNITIVE])
    body = {"model": "gpt-4o", "messages": MSG}
    good = {"Authorization": f"Bearer {_jwt('https://ai.azure.com')}"}
    old = {"Authorization": f"Bearer {_jwt(COGNITIVE)}"}
    assert _post(emu, "/chat/completions", body, good).status_code == 200
    resp = _post(emu, "/chat/completions", body, old)
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "401"
    assert "audience is incorrect (https://ai.azure.com)" in resp.json()["error"]["message"]
    inference = requests.post(
        f"{emu.endpoint}/chat/completions?api-version=2024-05-01-preview",
        json=body,
        headers=old,
        timeout=10,
    )
    assert inference.status_code == 200
    emu.configure(v1_token_audiences=[COGNITIVE])
    assert _post(emu, "/chat/completions", body, old).status_code == 200


def test_rate_limit_429(azure_inference_emulator: Emulator) -> None:
    """The rate limiter's 429 on v1: code "429", retry-after, retry-after-ms, x-ratelimit-*."""
    emu = azure_inference_emulator
    emu.configure(rate_limit_rpm=1)
    body = {"model": "gpt-4o", "messages": MSG}
    first = _post(emu, "/chat/completions", body)
    assert first.status_code == 200
    assert first.headers["x-ratelimit-remaining-requests"] == "0"
    resp = _post(emu, "/chat/completions", body)
    assert resp.status_code == 429
    error = resp.json()["error"]
    assert error["code"] == "429"
    assert "ChatCompletions_Create" in error["message"]
    assert int(resp.headers["retry-after"]) >= 1
    assert int(resp.headers["retry-after-ms"]) > 0
    assert resp.headers["x-ratelimit-limit-requests"] == "1"
    with _client(emu) as client, pytest.raises(openai.RateLimitError) as info:
        client.embeddings.create(model="text-embedding-3-small", input="x")
        client.embeddings.create(model="text-embedding-3-small", input="x")
    assert "Embeddings_Create" in info.value.message


def test_fault_429_and_500_in_v1_envelopes(azure_inference_emulator: Emulator) -> None:
    """The same faults as on the other route, in this route's envelopes."""
    emu = azure_inference_emulator
    emu.inject_fault("status", status=429, retry_after=2)
    body = {"model": "gpt-4o", "messages": MSG}
    resp = _post(emu, "/chat/completions", body)
    assert resp.status_code == 429
    assert resp.json()["error"]["code"] == "429"
    assert "retry after 2 seconds" in resp.json()["error"]["message"]
    assert resp.headers["retry-after"] == "2"
    assert resp.headers["retry-after-ms"] == "2000"
    assert resp.headers["x-ratelimit-remaining-requests"] == "0"
    emu.inject_fault("status", status=500, route="chat")
    resp = _post(emu, "/chat/completions", body)
    assert resp.status_code == 500
    assert resp.json() == {
        "error": {
            "message": "The server had an error while processing your request. Sorry about that!",
            "type": "server_error",
            "param": None,
            "code": None,
        }
    }
    emu.inject_fault("status", status=503, shape="C")
    resp = _post(emu, "/chat/completions", body)
    assert resp.status_code == 503
    assert resp.json()["statusCode"] == 503
    emu.inject_fault("status", status=404)
    assert _post(emu, "/chat/completions", body).json() == {
        "error": {"code": "404", "message": "Resource not found"}
    }
    emu.inject_fault("status", status=429, route="models")
    models = requests.get(emu.v1_endpoint + "/models", headers={"api-key": emu.key}, timeout=10)
    assert models.status_code == 429
    assert _post(emu, "/chat/completions", body).status_code == 200


def test_sdk_retries_a_500_fault(azure_inference_emulator: Emulator) -> None:
    """A fault consumed once, then the normal answer (the SDK's own retry)."""
    emu = azure_inference_emulator
    emu.inject_fault("status", status=500, times=1)
    with openai.OpenAI(base_url=emu.v1_endpoint, api_key=emu.key, max_retries=1) as client:
        reply = client.chat.completions.create(model="gpt-4o", messages=MSG)  # type: ignore[arg-type]
    assert reply.choices[0].message.content
    assert [r.status for r in emu.requests] == [500, 200]


def test_other_faults_on_v1(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    emu.inject_fault("reset")
    with pytest.raises(requests.ConnectionError):
        _post(emu, "/chat/completions", {"model": "gpt-4o", "messages": MSG})
    assert emu.requests[-1].status == 0
    emu.inject_fault("truncate", n_events=2)
    resp = _post(emu, "/chat/completions", {"model": "gpt-4o", "messages": MSG, "stream": True})
    assert b"[DONE]" not in resp.content
    assert resp.content.count(b"data: ") == 2


def test_content_filter_400(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    messages = [{"role": "user", "content": "EMULATOR_FILTER_PROMPT_VIOLENCE"}]
    with _client(emu) as client, pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="gpt-4o", messages=messages)  # type: ignore[arg-type]
    body: Any = info.value.body
    assert info.value.code == "content_filter"
    assert body["param"] == "prompt"
    assert body["innererror"]["code"] == "ResponsibleAIPolicyViolation"
    assert body["innererror"]["content_filter_result"]["violence"] == {
        "filtered": True,
        "severity": "high",
    }


@pytest.mark.parametrize("api", ["openai_v1", "model_inference"])
def test_context_length_exceeded(azure_inference_emulator: Emulator, api: str) -> None:
    """A prompt over the deployment's window (phi-4: 16384 tokens): 400 on both routes."""
    emu = azure_inference_emulator
    messages = [{"role": "user", "content": "word " * 16385}]
    if api == "openai_v1":
        resp = _post(emu, "/chat/completions", {"model": "phi-4", "messages": messages})
        error = resp.json()["error"]
        assert set(error) == {"message", "type", "param", "code"}
    else:
        resp = requests.post(
            f"{emu.endpoint}/chat/completions?api-version=2024-05-01-preview",
            json={"model": "phi-4", "messages": messages},
            headers={"api-key": emu.key},
            timeout=10,
        )
        error = resp.json()["error"]
    assert resp.status_code == 400
    assert error["code"] == "context_length_exceeded"
    assert error["param"] == "messages"
    assert "maximum context length is 16384 tokens" in error["message"]
    assert "16385 tokens" in error["message"]
    # At the window exactly: accepted.
    ok = [{"role": "user", "content": "word " * 16384}]
    if api == "openai_v1":
        assert _post(emu, "/chat/completions", {"model": "phi-4", "messages": ok}).ok


@pytest.mark.parametrize("api", ["openai_v1", "model_inference"])
def test_orphan_tool_message(azure_inference_emulator: Emulator, api: str) -> None:
    """A tool message that answers no assistant tool call: 400 on both routes."""
    emu = azure_inference_emulator
    orphan = [*MSG, {"role": "tool", "tool_call_id": "call_1", "content": "42"}]
    call = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    answered = [
        *MSG,
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_1", "content": "42"},
    ]

    def send(messages: list[dict[str, Any]]) -> requests.Response:
        if api == "openai_v1":
            return _post(emu, "/chat/completions", {"model": "gpt-4o", "messages": messages})
        return requests.post(
            f"{emu.base_url}/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21",
            json={"messages": messages},
            headers={"api-key": emu.key},
            timeout=10,
        )

    resp = send(orphan)
    assert resp.status_code == 400
    error = resp.json()["error"]
    assert error["param"] == "messages[1].role"
    assert "must be a response to a preceding message with 'tool_calls'" in error["message"]
    assert send(answered).status_code == 200
    # A tool message after a plain assistant turn is an orphan too.
    later = [*answered, {"role": "assistant", "content": "ok"}, answered[-1]]
    assert send(later).json()["error"]["param"] == "messages[4].role"


# ------------------------------------------------------------------ streams
def test_stream_shape_without_usage(azure_inference_emulator: Emulator) -> None:
    """Azure OpenAI's stream: a first `choices: []` chunk with `prompt_filter_results`,
    `content_filter_results` on content chunks, no usage unless asked; LF SSE and [DONE]."""
    emu = azure_inference_emulator
    resp = _post(emu, "/chat/completions", {"model": "gpt-4o", "messages": MSG, "stream": True})
    assert resp.headers["content-type"].startswith("text/event-stream")
    events = _sse(resp)
    first = events[0]
    assert {k: v for k, v in first.items() if k != "prompt_filter_results"} == {
        "id": "",
        "choices": [],
        "created": 0,
        "model": "",
        "object": "",
    }
    assert first["prompt_filter_results"][0]["prompt_index"] == 0
    assert all("usage" not in e for e in events)
    chunks = events[1:]
    assert all(len(e["choices"]) == 1 for e in chunks)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": "", "refusal": None}
    content = [e for e in chunks if e["choices"][0]["delta"].get("content")]
    assert content and all(e["choices"][0]["content_filter_results"]["hate"] for e in content)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    text = "".join(e["choices"][0]["delta"].get("content", "") for e in chunks)
    assert text == "Emulated reply from gpt-4o: How many feet are in a mile?"


def test_stream_usage_when_asked(azure_inference_emulator: Emulator) -> None:
    """`stream_options.include_usage: true`: usage in a last chunk with `choices: []`."""
    emu = azure_inference_emulator
    with _client(emu) as client:
        chunks = list(
            client.chat.completions.create(
                model="deepseek-r1",
                messages=MSG,  # type: ignore[arg-type]
                stream=True,
                stream_options={"include_usage": True},
            )
        )
    assert chunks[0].choices == [] and chunks[0].model_extra["prompt_filter_results"]  # type: ignore[index]
    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None and last.usage.total_tokens > 0
    assert last.usage.completion_tokens_details.reasoning_tokens > 0  # type: ignore[union-attr]
    assert all(c.usage is None for c in chunks[:-1])
    reasoning = "".join(
        getattr(c.choices[0].delta, "reasoning_content", None) or "" for c in chunks if c.choices
    )
    assert reasoning.startswith("Emulated reasoning:")
    with _client(emu) as client:
        plain = list(
            client.chat.completions.create(
                model="gpt-4o",
                messages=MSG,  # type: ignore[arg-type]
                stream=True,
                stream_options={"include_usage": False},
            )
        )
    assert all(c.usage is None for c in plain)


def test_stream_tool_calls(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    tool = {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
    messages = [{"role": "user", "content": "What is the weather in Paris?"}]
    with _client(emu) as client:
        stream = client.chat.completions.create(
            model="gpt-4o",
            messages=messages,  # type: ignore[arg-type]
            tools=[tool],  # type: ignore[list-item]
            stream=True,
        )
        args = ""
        finish = None
        for chunk in stream:
            for choice in chunk.choices:
                for call in choice.delta.tool_calls or []:
                    args += call.function.arguments or ""  # type: ignore[union-attr]
                finish = choice.finish_reason or finish
    assert json.loads(args) == {"city": "Paris"}
    assert finish == "tool_calls"


# ------------------------------------------------------------------ scripts, CLI
def test_scripted_replies_and_raw_answers(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    emu.script_reply("mistral-large", tool_calls=[{"name": "f", "arguments": {"a": 1}}])
    emu.script_raw(418, {"error": {"code": "teapot", "message": "short and stout"}}, route="chat")
    with _client(emu) as client:
        with pytest.raises(openai.APIStatusError) as info:
            client.chat.completions.create(model="gpt-4o", messages=MSG)  # type: ignore[arg-type]
        assert info.value.status_code == 418
        reply = client.chat.completions.create(model="mistral-large", messages=MSG)  # type: ignore[arg-type]
    calls = reply.choices[0].message.tool_calls
    assert calls is not None
    assert calls[0].function.name == "f"  # type: ignore[union-attr]
    assert json.loads(calls[0].function.arguments) == {"a": 1}  # type: ignore[union-attr]


def test_cli_prints_both_endpoint_shapes() -> None:
    """`python -m azureinfer.emulator` prints the model-inference and the v1 endpoints."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "azureinfer.emulator", "--port", "0", "--key", "cli-key"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        endpoint, v1 = lines[0].split()[-1], lines[2].split()[-1]
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/models", endpoint)
        assert v1 == endpoint[: -len("/models")] + "/openai/v1"
        with openai.OpenAI(base_url=v1, api_key="cli-key", max_retries=0) as client:
            assert client.chat.completions.create(model="gpt-4o", messages=MSG).choices  # type: ignore[arg-type]
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
        if proc.stdout is not None:
            proc.stdout.close()


# ------------------------------------------------------------------ docs
DOC = (Path(__file__).parents[2] / "docs" / "emulator.md").read_text(encoding="utf-8")


def test_doc_v1_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    block = next(b for b in re.findall(r"```python\n(.*?)```", DOC, re.S) if "v1_endpoint" in b)
    exec(compile(block, "docs/emulator.md", "exec"), {})
    assert capsys.readouterr().out.splitlines() == [
        "Emulated reply from mistral-large: Hello!",
        "openai_v1",
    ]


def test_doc_catalogue_windows_extras_and_profiles_match_the_code() -> None:
    section = DOC.split("## The default catalogue", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    documented = [[c.strip() for c in row.strip("|").split("|")] for row in rows]
    assert [
        (r[0].strip("`"), int(r[5]), re.findall(r"`(\w+)`", r[6]), r[7].strip("`"))
        for r in documented
    ] == [(d.name, d.context_window, list(d.v1_extras), d.profile) for d in DEFAULT_CATALOGUE]


def test_faults_and_raw_answers_by_api(azure_inference_emulator: Emulator) -> None:
    """`api=` limits a fault or a raw answer to one API; unknown values are refused."""
    emu = azure_inference_emulator
    emu.inject_fault("status", status=503, api="openai_v1")
    emu.script_raw(200, {"scripted": True}, api="model_inference")
    inference = f"{emu.endpoint}/chat/completions?api-version=2024-05-01-preview"
    body = {"model": "gpt-4o", "messages": MSG}
    first = requests.post(inference, json=body, headers={"api-key": emu.key}, timeout=10)
    assert first.json() == {"scripted": True}
    assert _post(emu, "/chat/completions", body).status_code == 503
    assert _post(emu, "/chat/completions", body).status_code == 200
    again = requests.post(inference, json=body, headers={"api-key": emu.key}, timeout=10)
    assert again.json()["object"] == "chat.completion"
    with pytest.raises(ValueError, match="unknown api 'v1'; expected one of"):
        emu.inject_fault("status", status=500, api="v1")
    with pytest.raises(ValueError, match="unknown api"):
        emu.script_raw(200, {}, api="v1")
    remote = RemoteEmulator(emu.base_url)
    remote.inject_fault("status", status=500, api="model_inference")
    assert _post(emu, "/chat/completions", body).status_code == 200
    assert requests.post(inference, json=body, headers={"api-key": emu.key}).status_code == 500
