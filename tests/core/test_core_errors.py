"""Unit tests: error body parsing and the status -> typed error mapping."""

from __future__ import annotations

import json
import pickle
from typing import Any

import pytest
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)

from azureinfer import errors as E
from azureinfer.errors import error_from_response, parse_error_body, parse_retry_after


class FakeResponse:
    """The few attributes error_from_response reads from an azure-core response."""

    def __init__(
        self, status: int, body: Any, headers: dict[str, str] | None = None, reason: str = "R"
    ):
        self.status_code = status
        self.reason = reason
        self.headers = headers or {}
        self._text = body if isinstance(body, str) else json.dumps(body)
        self.content_type = "application/json"

    def text(self) -> str:
        return self._text

    def body(self) -> bytes:
        return self._text.encode()


def test_hierarchy() -> None:
    assert issubclass(E.AuthenticationError, ClientAuthenticationError)
    assert issubclass(E.ModelNotFoundError, ResourceNotFoundError)
    for cls in (
        E.ContentFilterError,
        E.UnsupportedParameterError,
        E.RateLimitError,
        E.RequestTooLargeError,
        E.ServiceError,
    ):
        assert issubclass(cls, HttpResponseError) and issubclass(cls, E.AzureInferenceError)
    assert issubclass(E.ConfigurationError, ValueError)
    assert issubclass(E.IncompleteStreamError, ServiceResponseError)
    assert issubclass(E.APIConnectionError, ServiceRequestError)


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (401, {"error": {"code": "401", "message": "Access denied"}}, E.AuthenticationError),
        (403, {"error": {"code": "Forbidden", "message": "no"}}, E.AuthenticationError),
        (404, {"error": {"code": "DeploymentNotFound", "message": "nope"}}, E.ModelNotFoundError),
        (
            413,
            {"error": {"code": "RequestEntityTooLarge", "message": "big"}},
            E.RequestTooLargeError,
        ),
        (429, {"error": {"code": "RateLimitReached", "message": "slow down"}}, E.RateLimitError),
        (500, {"error": {"code": "InternalServerError", "message": "x"}}, E.ServiceError),
        (503, "plain text outage", E.ServiceError),
        (400, {"error": {"code": "BadRequest", "message": "bad"}}, E.APIStatusError),
        (408, {"error": {"code": "Timeout", "message": "slow"}}, E.APIStatusError),
    ],
)
def test_status_mapping(status: int, body: Any, cls: type) -> None:
    exc = error_from_response(FakeResponse(status, body))
    assert type(exc) is cls
    assert exc.status_code == status
    assert str(status) in str(exc)


def test_not_found_hint_names_the_deployment() -> None:
    exc = error_from_response(
        FakeResponse(404, {"error": {"code": "unknown_model", "message": "Unknown model: foo"}})
    )
    assert exc.code == "unknown_model"
    assert "deployment" in str(exc) and "Unknown model: foo" in str(exc)


def test_content_filter_with_results() -> None:
    body = {
        "error": {
            "message": "The response was filtered",
            "param": "prompt",
            "code": "content_filter",
            "status": 400,
            "innererror": {
                "code": "ResponsibleAIPolicyViolation",
                "content_filter_result": {"hate": {"filtered": True, "severity": "high"}},
            },
        }
    }
    exc = error_from_response(FakeResponse(400, body))
    assert isinstance(exc, E.ContentFilterError)
    assert exc.content_filter_results == {"hate": {"filtered": True, "severity": "high"}}
    assert exc.error is not None and exc.error.code == "content_filter"  # azure-core's view kept


@pytest.mark.parametrize(
    "body",
    [
        # Azure-wrapped FastAPI
        {
            "error": {
                "code": "Invalid input",
                "status": 422,
                "message": "invalid input error",
                "details": [
                    {
                        "type": "extra_forbidden",
                        "loc": ["body", "foo"],
                        "msg": "Extra inputs",
                        "input": 1,
                    }
                ],
            }
        },
        # raw FastAPI
        {
            "detail": [
                {
                    "type": "extra_forbidden",
                    "loc": ["body", "foo"],
                    "msg": "Extra inputs",
                    "input": 1,
                }
            ]
        },
        # flat with a dict detail
        {
            "status": 422,
            "code": "parameter_not_supported",
            "detail": {"loc": ["body", "foo"], "input": 1},
            "message": "One of the parameters contain invalid values.",
        },
    ],
)
def test_unsupported_parameter_names_the_parameter_and_value(body: Any) -> None:
    exc = error_from_response(FakeResponse(422, body))
    assert isinstance(exc, E.UnsupportedParameterError)
    assert exc.param == "foo" and exc.value == 1
    assert "'foo'" in str(exc) and "value 1" in str(exc)


def test_openai_unrecognized_argument_400() -> None:
    body = {
        "error": {
            "message": "Unrecognized request argument supplied: n",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    }
    exc = error_from_response(FakeResponse(400, body))
    assert isinstance(exc, E.UnsupportedParameterError) and exc.param == "n"


def test_rate_limit_retry_after_sources() -> None:
    body = {
        "error": {"code": "RateLimitReached", "message": "Please wait 38 seconds before retrying."}
    }
    assert error_from_response(FakeResponse(429, body)).retry_after == 38.0
    exc = error_from_response(FakeResponse(429, body, {"Retry-After": "7"}))
    assert (
        isinstance(exc, E.RateLimitError)
        and exc.retry_after == 7.0
        and "Retry after 7 s" in str(exc)
    )
    assert (
        error_from_response(FakeResponse(429, body, {"retry-after-ms": "250"})).retry_after == 0.25
    )
    assert parse_retry_after({"x-ms-retry-after-ms": "1500"}) == 1.5
    assert parse_retry_after({}) is None


def test_apim_and_old_shapes_parsed() -> None:
    assert parse_error_body(
        {"statusCode": 401, "message": "Unauthorized. Access token is missing"}
    ) == {"message": "Unauthorized. Access token is missing"}
    parsed = parse_error_body(
        {"status": 401, "error": "Unauthorized", "message": "bad key", "code": "X"}
    )
    assert parsed["message"] == "bad key" and parsed["code"] == "X"
    assert parse_error_body("oops")["message"] == "oops"


def test_messages_never_echo_secrets() -> None:
    resp = FakeResponse(
        401,
        {"error": {"code": "401", "message": "denied"}},
        {"api-key": "SECRET", "Authorization": "Bearer SECRET"},
    )
    assert "SECRET" not in str(error_from_response(resp))


def test_status_errors_pickle_without_the_response() -> None:
    exc = error_from_response(
        FakeResponse(
            429, {"error": {"code": "RateLimitReached", "message": "m"}}, {"Retry-After": "3"}
        )
    )
    again = pickle.loads(pickle.dumps(exc))
    assert type(again) is E.RateLimitError
    assert (again.status_code, again.code, again.retry_after, str(again)) == (
        429,
        "RateLimitReached",
        3.0,
        str(exc),
    )


def test_wrap_transport_errors() -> None:
    wrapped = E.wrap_azure_error(ServiceRequestError("connection refused"))
    assert isinstance(wrapped, E.APIConnectionError) and "connection refused" in str(wrapped)
    other = ValueError("x")
    assert E.wrap_azure_error(other) is other


@pytest.mark.parametrize(
    ("code", "param"),
    [("unsupported_parameter", "max_tokens"), ("unsupported_value", "temperature")],
)
def test_openai_unsupported_parameter_400(code: str, param: str) -> None:
    body = {
        "error": {
            "message": f"Unsupported parameter: '{param}' is not supported with this model.",
            "type": "invalid_request_error",
            "param": param,
            "code": code,
        }
    }
    exc = error_from_response(FakeResponse(400, body))
    assert isinstance(exc, E.UnsupportedParameterError) and exc.param == param
    assert exc.code == code


def test_a_400_about_messages_is_not_an_unsupported_parameter() -> None:
    body = {"error": {"message": "bad", "param": "messages", "code": "invalid_value"}}
    assert type(error_from_response(FakeResponse(400, body))) is E.APIStatusError
