"""Unit tests: route detection, per-route settings and the decisions of ``azureinfer._routes``."""

from __future__ import annotations

import json
import logging
import pickle
from typing import Any

import pytest

from azureinfer import ChatClient, EmbeddingsClient, build_chat_request, resolve_settings
from azureinfer._routes import AI_SCOPE, MODEL_INFERENCE, OPENAI_V1, detect_route, get_route
from azureinfer.errors import (
    ConfigurationError,
    ContentFilterError,
    ModelNotFoundError,
    RateLimitError,
    RequestTooLargeError,
    UnsupportedParameterError,
    error_from_response,
)

KEY = "k-123"


@pytest.fixture(autouse=True)
def _no_route_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_INFERENCE_ROUTE", raising=False)


@pytest.mark.parametrize(
    ("endpoint", "route", "used"),
    [
        (
            "https://r.openai.azure.com/openai/v1",
            "openai_v1",
            "https://r.openai.azure.com/openai/v1",
        ),
        (
            "https://r.services.ai.azure.com/openai/v1/",
            "openai_v1",
            "https://r.services.ai.azure.com/openai/v1",
        ),
        ("https://r.openai.azure.com", "openai_v1", "https://r.openai.azure.com/openai/v1"),
        (
            "https://r.services.ai.azure.com/",
            "openai_v1",
            "https://r.services.ai.azure.com/openai/v1",
        ),
        ("http://127.0.0.1:8000/openai/v1", "openai_v1", "http://127.0.0.1:8000/openai/v1"),
        (
            "https://r.services.ai.azure.com/api/projects/p/openai/v1",
            "openai_v1",
            "https://r.services.ai.azure.com/api/projects/p/openai/v1",
        ),
        ("https://r.services.ai.azure.com/models", "model_inference", None),
        ("https://r.openai.azure.com/openai/deployments/gpt-4o", "model_inference", None),
        ("https://m.eastus2.models.ai.azure.com", "model_inference", None),
        ("https://e.westus.inference.ml.azure.com/score", "model_inference", None),
        ("https://models.inference.ai.azure.com", "model_inference", None),
        ("http://127.0.0.1:8000/models", "model_inference", None),
    ],
)
def test_auto_detects_the_route_from_the_endpoint(endpoint: str, route: str, used: Any) -> None:
    s = resolve_settings(endpoint, KEY)
    assert s.route == route
    assert s.endpoint == (used or endpoint.rstrip("/"))


def test_a_bare_foundry_host_says_it_uses_v1_in_one_info_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="azureinfer"):
        resolve_settings("https://r.services.ai.azure.com", KEY)
    infos = [r for r in caplog.records if r.levelno == logging.INFO]
    assert len(infos) == 1 and "OpenAI/v1" in infos[0].getMessage()
    assert KEY not in caplog.text


def test_route_is_named_explicitly_or_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # a gateway with its own path: taken as the v1 base when the route is named
    s = resolve_settings("https://gw.example.com/ai", KEY, route="openai_v1")
    assert (s.route, s.endpoint) == ("openai_v1", "https://gw.example.com/ai")
    monkeypatch.setenv("AZURE_INFERENCE_ROUTE", "openai_v1")
    assert resolve_settings("https://gw.example.com/ai", KEY).route == "openai_v1"
    # the argument wins over the environment
    assert resolve_settings("https://gw.example.com/ai", KEY, route="model_inference").route == (
        "model_inference"
    )
    monkeypatch.setenv("AZURE_INFERENCE_ROUTE", "v2")
    with pytest.raises(ConfigurationError, match=r"AZURE_INFERENCE_ROUTE.*'openai_v1'"):
        resolve_settings("https://gw.example.com/ai", KEY)


def test_bad_route_values_and_mismatched_endpoints_are_clear_errors() -> None:
    with pytest.raises(ConfigurationError, match="route must be one of"):
        resolve_settings("https://r.openai.azure.com/openai/v1", KEY, route="v1")
    with pytest.raises(ConfigurationError, match=r"route='openai_v1'.*model-inference"):
        resolve_settings("https://r.services.ai.azure.com/models", KEY, route="openai_v1")
    with pytest.raises(ConfigurationError, match=r"route='model_inference'.*OpenAI/v1"):
        resolve_settings("https://r.openai.azure.com/openai/v1", KEY, route="model_inference")
    # a bare host with the route named: the v1 base path is added
    s = resolve_settings("https://r.openai.azure.com", KEY, route="openai_v1")
    assert s.endpoint == "https://r.openai.azure.com/openai/v1"


def test_v1_takes_no_dated_api_version_and_names_both_fixes() -> None:
    v1 = "https://r.openai.azure.com/openai/v1"
    with pytest.raises(ConfigurationError) as info:
        resolve_settings(v1, KEY, api_version="2024-05-01-preview")
    message = str(info.value)
    assert "leave api_version unset" in message and "route='model_inference'" in message
    with pytest.raises(ConfigurationError, match="dated version"):
        resolve_settings(v1 + "?api-version=2025-04-01", KEY)
    for version in ("v1", "preview"):
        assert ChatClient(resolve_settings(v1, KEY, api_version=version)).api_version == version
    assert ChatClient(resolve_settings(v1, KEY)).api_version is None
    mi = ChatClient(resolve_settings("https://r.services.ai.azure.com/models", KEY))
    assert mi.api_version == "2024-05-01-preview"


def test_entra_scope_per_route_and_overridable() -> None:
    assert resolve_settings("https://r.openai.azure.com/openai/v1").credential_scopes == (AI_SCOPE,)
    assert resolve_settings("https://r.services.ai.azure.com/models").credential_scopes == (
        "https://cognitiveservices.azure.com/.default",
    )
    own = resolve_settings("https://r.openai.azure.com/openai/v1", credential_scopes=["s/.default"])
    assert own.credential_scopes == ("s/.default",)


def test_route_in_repr_and_kept_by_pickle() -> None:
    s = resolve_settings("https://r.openai.azure.com/openai/v1", KEY)
    assert "route='openai_v1'" in repr(s) and KEY not in repr(s)
    assert pickle.loads(pickle.dumps(s)).route == "openai_v1"
    client = ChatClient(s)
    assert "route='openai_v1'" in repr(client) and client.route == "openai_v1"
    assert pickle.loads(pickle.dumps(OPENAI_V1)) is OPENAI_V1
    assert get_route("model_inference") is MODEL_INFERENCE
    assert detect_route("https://r.openai.azure.com/openai/v1")[0] == "openai_v1"


def test_v1_needs_model_before_any_request() -> None:
    client = ChatClient(resolve_settings("http://127.0.0.1:9/openai/v1", KEY))
    with pytest.raises(ConfigurationError, match="needs `model`"):
        client.check_request(build_chat_request([{"role": "user", "content": "hi"}]))
    # nothing listens on port 9: the error comes before any connection attempt
    with pytest.raises(ConfigurationError, match="needs `model`"):
        client.complete(build_chat_request([{"role": "user", "content": "hi"}]))
    with pytest.raises(ConfigurationError, match="needs `model`"):
        client.get_model_info()
    client.check_request(build_chat_request([{"role": "user", "content": "hi"}], model="m"))


def test_image_embeddings_on_v1_name_the_route_and_the_endpoint_that_serves_them() -> None:
    settings = resolve_settings("https://r.openai.azure.com/openai/v1", KEY)
    with pytest.raises(ConfigurationError) as info:
        EmbeddingsClient(settings, kind="images/embeddings")
    assert "route='openai_v1'" in str(info.value)
    assert "https://<resource>.services.ai.azure.com/models" in str(info.value)


def test_v1_wire_has_no_extra_parameters_header_and_keeps_stream_usage() -> None:
    req = build_chat_request(
        [{"role": "user", "content": "hi"}],
        model="m",
        stream=True,
        model_extras={"safe_prompt": True},
        extra_parameters="error",
    )
    assert req.headers == {"extra-parameters": "error"}
    body, headers, policy = OPENAI_V1.wire(
        "chat", req.body, req.headers, stream_usage=req.stream_usage
    )
    assert headers == {} and policy == "error"
    assert body["safe_prompt"] is True and body["stream_options"] == {"include_usage": True}
    body, headers, _ = MODEL_INFERENCE.wire("chat", req.body, req.headers, stream_usage=True)
    assert headers == {"extra-parameters": "error"} and "stream_options" not in body


class FakeResponse:
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self.status_code = status
        self.reason = "R"
        self.headers = headers or {}
        self._text = json.dumps(body)

    def text(self) -> str:
        return self._text


def _v1_error(status: int, body: Any, headers: dict[str, str] | None = None) -> Any:
    return error_from_response(
        FakeResponse(status, body, headers),
        not_found_hint=OPENAI_V1.not_found_hint("gpt-x", "https://r/openai/v1"),
        unsupported_hint=OPENAI_V1.unsupported_hint,
    )


def test_openai_envelope_errors_become_the_typed_errors() -> None:
    err = _v1_error(
        400,
        {
            "error": {
                "message": "Unrecognized request argument supplied: safe_prompt",
                "type": "invalid_request_error",
                "param": None,
                "code": None,
            }
        },
    )
    assert isinstance(err, UnsupportedParameterError) and err.param == "safe_prompt"
    assert 'extra_parameters="drop"' in str(err)
    assert OPENAI_V1.refused_parameter(err) == "safe_prompt"
    assert MODEL_INFERENCE.refused_parameter(err) is None

    err = _v1_error(404, {"error": {"code": "DeploymentNotFound", "message": "nope"}})
    assert isinstance(err, ModelNotFoundError) and "'gpt-x'" in str(err)
    assert "openai_v1" in str(err)

    err = _v1_error(
        400,
        {
            "error": {
                "code": "content_filter",
                "message": "filtered",
                "innererror": {
                    "code": "ResponsibleAIPolicyViolation",
                    "content_filter_result": {"hate": {"filtered": True, "severity": "high"}},
                },
            }
        },
    )
    assert isinstance(err, ContentFilterError)
    assert err.content_filter_results == {"hate": {"filtered": True, "severity": "high"}}

    err = _v1_error(
        400,
        {"error": {"code": "context_length_exceeded", "message": "too long", "param": "messages"}},
    )
    assert isinstance(err, RequestTooLargeError)

    err = _v1_error(429, {"error": {"code": "429", "message": "slow"}}, {"retry-after-ms": "1500"})
    assert isinstance(err, RateLimitError) and err.retry_after == 1.5


def test_model_info_on_v1_is_the_deployments_entry() -> None:
    data = {
        "object": "list",
        "data": [
            {"id": "a", "object": "model", "created": 1, "owned_by": "system"},
            {"id": "gpt-x", "object": "model", "created": 2, "owned_by": "system"},
        ],
    }
    assert OPENAI_V1.read_model_info(data, "gpt-x", "https://r/openai/v1")["created"] == 2
    with pytest.raises(ModelNotFoundError, match=r"'nope'.*openai_v1"):
        OPENAI_V1.read_model_info(data, "nope", "https://r/openai/v1")
    assert MODEL_INFERENCE.read_model_info({"model_name": "x"}, None, "e") == {"model_name": "x"}
