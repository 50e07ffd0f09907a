"""Typed errors raised by azureinfer.

Every error we raise derives from :class:`AzureInferenceError`. Errors that come from a service
answer also derive from the matching ``azure.core.exceptions`` class, so code written for the
``azure-ai-inference`` SDK (``except HttpResponseError``) keeps working::

    AzureInferenceError
    ├── ConfigurationError            (also ValueError) bad settings or arguments
    ├── APIConnectionError            (also azure.core ServiceRequestError)
    ├── APITimeoutError               (also azure.core ServiceResponseTimeoutError)
    ├── IncompleteStreamError         (also azure.core ServiceResponseError)
    └── APIStatusError                (also azure.core HttpResponseError) other statuses
        ├── AuthenticationError       (also ClientAuthenticationError)  401, 403
        ├── ModelNotFoundError        (also ResourceNotFoundError)      404
        ├── ContentFilterError        400 content_filter, or a filtered prompt
        ├── UnsupportedParameterError 422, or a 400 naming a parameter
        ├── RequestTooLargeError      413, or 400 context_length_exceeded
        ├── RateLimitError            429 (``retry_after``)
        └── ServiceError              5xx, or an answer that cannot be used
            └── EmbeddingsResponseError   not one valid embedding per input

``APIStatusError`` keeps azure-core's ``status_code``, ``reason``, ``response`` and ``error``
(``ODataV4Format`` or None) and adds the parsed ``code``, ``message``, ``param``, ``value`` and
``body``. Messages never contain credentials: only the status, the service's error code and
message, and the parameter are shown.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    DecodeError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
    ServiceResponseTimeoutError,
)

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "AzureInferenceError",
    "ConfigurationError",
    "ContentFilterError",
    "EmbeddingsResponseError",
    "IncompleteStreamError",
    "ModelNotFoundError",
    "RateLimitError",
    "RequestTooLargeError",
    "ServiceError",
    "UnsupportedParameterError",
    "error_from_response",
    "parse_error_body",
    "parse_retry_after",
    "wrap_azure_error",
]


class AzureInferenceError(Exception):
    """Base class of every error azureinfer raises."""


class ConfigurationError(AzureInferenceError, ValueError):
    """Invalid settings or arguments (missing endpoint, unknown option, bad value)."""


class APIConnectionError(AzureInferenceError, ServiceRequestError):
    """The request could not be sent (connection refused, DNS, TLS), after all retries."""

    def __init__(self, message: str, *, error: BaseException | None = None) -> None:
        ServiceRequestError.__init__(self, message, error=error)


class APITimeoutError(AzureInferenceError, ServiceResponseTimeoutError):
    """The service did not answer in time, after all retries."""

    def __init__(self, message: str, *, error: BaseException | None = None) -> None:
        ServiceResponseTimeoutError.__init__(self, message, error=error)


class IncompleteStreamError(AzureInferenceError, ServiceResponseError):
    """A stream ended without a finish reason or ``[DONE]``, or carried an error event.

    ``partial`` holds what had been received (a ``ChatResult`` or None); ``error`` the error
    event's payload when there was one, with ``code`` and ``message`` parsed from it.
    """

    def __init__(
        self,
        message: str,
        *,
        partial: Any = None,
        error_event: Mapping[str, Any] | None = None,
    ) -> None:
        ServiceResponseError.__init__(self, message)
        self.partial = partial
        self.error_event: dict[str, Any] | None = dict(error_event) if error_event else None
        parsed = parse_error_body(error_event) if error_event else {}
        self.code: str | None = parsed.get("code")
        self.service_message: str | None = parsed.get("message")


class APIStatusError(AzureInferenceError, HttpResponseError):
    """The service answered with an error status (or a 200 that cannot be used).

    Attributes: ``status_code``, ``reason``, ``response``, ``error`` (azure-core ``ODataV4Format``
    or None), and parsed from the body: ``code``, ``message``, ``param``, ``value``, ``details``,
    ``body`` (the decoded JSON body, or None).
    """

    def __init__(
        self,
        message: str,
        *,
        response: Any = None,
        body: Any = None,
        code: str | None = None,
        param: str | None = None,
        value: Any = None,
        details: Any = None,
        status_code: int | None = None,
    ) -> None:
        HttpResponseError.__init__(self, message=message, response=response)
        # azure-core replaces the message with its OData rendering; we want ours (it names
        # the parameter, the hint and the status).
        self.message = message
        self.args = (message,)
        if status_code is not None:
            self.status_code = status_code
        self.body = body
        self.code = code
        self.param = param
        self.value = value
        self.details = details

    def __str__(self) -> str:
        # azure-core appends the raw body ("Content: ...") when it found no OData error; our
        # message already carries the parsed code and message.
        return self.message

    def __reduce__(self) -> Any:
        # The live response cannot be pickled; keep what can.
        return (
            _rebuild_status_error,
            (
                type(self),
                self.message,
                {
                    "body": self.body,
                    "code": self.code,
                    "param": self.param,
                    "value": self.value,
                    "details": self.details,
                    "status_code": self.status_code,
                },
                _extra_state(self),
            ),
        )


def _extra_state(exc: APIStatusError) -> dict[str, Any]:
    keep = ("retry_after", "content_filter_results", "reason", "positions")
    return {k: getattr(exc, k) for k in keep if hasattr(exc, k)}


def _rebuild_status_error(
    cls: type[APIStatusError], message: str, kwargs: dict[str, Any], extra: dict[str, Any]
) -> APIStatusError:
    exc = cls.__new__(cls)
    APIStatusError.__init__(exc, message, **kwargs)
    for key, val in extra.items():
        setattr(exc, key, val)
    return exc


class AuthenticationError(APIStatusError, ClientAuthenticationError):
    """401 or 403: the key or token was refused, or the identity lacks access."""


class ModelNotFoundError(APIStatusError, ResourceNotFoundError):
    """404: unknown deployment or model name, or a route the endpoint does not serve."""


class ContentFilterError(APIStatusError):
    """The prompt (400 ``content_filter``) or the answer was blocked by the content filter.

    ``content_filter_results`` holds the per-category results the service sent, if any.
    """

    content_filter_results: dict[str, Any] | None = None


class UnsupportedParameterError(APIStatusError):
    """422 (or a 400 naming a parameter): the model does not accept a parameter or value.

    ``param`` names the parameter (from ``detail[].loc``) and ``value`` the value sent.
    """


class RequestTooLargeError(APIStatusError):
    """413: the request body is too large."""


class RateLimitError(APIStatusError):
    """429: rate limited. ``retry_after`` is the service's hint in seconds, or None."""

    retry_after: float | None = None


class ServiceError(APIStatusError):
    """5xx, or a 200 answer that cannot be used (for example no choices)."""


class EmbeddingsResponseError(ServiceError):
    """An embeddings answer without exactly one decodable embedding per input. ``positions``
    names the inputs (of the request) left without one, when that is the problem."""

    positions: list[int] | None = None


# --------------------------------------------------------------------------------------------
# Parsing


def parse_error_body(body: Any) -> dict[str, Any]:
    """Read ``code``, ``message``, ``param``, ``value``, ``details``, ``innererror``.

    Understands the shapes services send: the Azure Core / OpenAI envelope ``{"error": {...}}``,
    the flat ``{"code", "message", "detail"}``, APIM's ``{"statusCode", "message"}``, FastAPI's
    ``{"detail": [{"loc", "msg", "input"}]}`` and the old ``{"error": "<text>", "message"}``.
    """
    out: dict[str, Any] = {}
    if not isinstance(body, Mapping):
        if isinstance(body, str) and body.strip():
            out["message"] = body.strip()[:500]
        return out
    err = body.get("error")
    if isinstance(err, Mapping):
        src: Mapping[str, Any] = err
    else:
        src = body
        if isinstance(err, str) and err:
            out["message"] = err
    code = src.get("code")
    if code is not None:
        out["code"] = str(code)
    message = src.get("message") or src.get("msg")
    if isinstance(message, str) and message:
        out["message"] = message
    if isinstance(src.get("param"), str):
        out["param"] = src["param"]
    if isinstance(src.get("innererror"), Mapping):
        out["innererror"] = dict(src["innererror"])
    details = src.get("details", src.get("detail", body.get("detail")))
    if details is not None:
        out["details"] = details
    loc_entries: list[Any] = []
    if isinstance(details, Mapping):
        loc_entries = [details]
    elif isinstance(details, list):
        loc_entries = [d for d in details if isinstance(d, Mapping)]
    for entry in loc_entries:
        loc = entry.get("loc")
        if isinstance(loc, (list, tuple)) and loc:
            parts = [str(p) for p in loc if p not in ("body",)]
            if parts:
                out.setdefault("param", ".".join(parts))
                if "input" in entry:
                    out.setdefault("value", entry["input"])
                msg = entry.get("msg")
                if isinstance(msg, str) and "message" not in out:
                    out["message"] = msg
                break
    if "message" not in out and isinstance(details, str):
        out["message"] = details
    if "param" not in out and isinstance(out.get("message"), str):
        m = re.search(r"Unrecognized request argument supplied: ([\w.\-]+)", out["message"])
        if m:
            out["param"] = m.group(1)
    return out


_WAIT_RE = re.compile(r"(?:wait|after|retry in)\s+(\d+(?:\.\d+)?)\s*(?:seconds|second|s)\b", re.I)


def parse_retry_after(
    headers: Mapping[str, str] | None, message: str | None = None
) -> float | None:
    """Seconds to wait from ``retry-after-ms``, ``x-ms-retry-after-ms``, ``Retry-After``.

    Falls back to a "Please wait N seconds" sentence in the error message.
    """
    from azure.core.pipeline.policies._utils import parse_retry_after as _parse

    lower = {k.lower(): v for k, v in (headers or {}).items()}
    for name in ("retry-after-ms", "x-ms-retry-after-ms"):
        raw = lower.get(name)
        if raw:
            try:
                return max(0.0, float(raw) / 1000.0)
            except ValueError:
                pass
    raw = lower.get("retry-after")
    if raw:
        try:
            return max(0.0, float(_parse(raw)))
        except (ValueError, TypeError):
            pass
    if message:
        m = _WAIT_RE.search(message)
        if m:
            return float(m.group(1))
    return None


def _decode_body(response: Any) -> Any:
    try:
        text = response.text()
    except Exception:
        return None
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


_NOT_FOUND_HINT = (
    "Check the deployment or model name (`model=`) and the endpoint: on a "
    "'.../models' endpoint `model` must be the name of a deployment in the resource."
)


def error_from_response(
    response: Any,
    *,
    body: Any = None,
    not_found_hint: str | None = None,
    unsupported_hint: Callable[[str | None], str | None] | None = None,
) -> APIStatusError:
    """Build the typed error for an azure-core HTTP response with an error status.

    ``response`` must have been read (``.text()`` works). ``body`` may be passed when it was
    already decoded. ``not_found_hint`` replaces the sentence added to a 404;
    ``unsupported_hint(param)`` gives the one added to an ``UnsupportedParameterError``.
    """
    status = int(getattr(response, "status_code", 0) or 0)
    reason = getattr(response, "reason", None) or ""
    if body is None:
        body = _decode_body(response)
    parsed = parse_error_body(body)
    code = parsed.get("code")
    service_msg = parsed.get("message") or f"Operation returned an invalid status {reason!r}"
    param = parsed.get("param")
    value = parsed.get("value")
    details = parsed.get("details")
    inner = parsed.get("innererror") or {}

    cls: type[APIStatusError]
    hint = ""
    if status in (401, 403):
        cls = AuthenticationError
        hint = (
            "Check the key or token (and for Entra ID the scope, `credential_scopes`)."
            if status == 401
            else "The identity has no access to this resource or deployment."
        )
    elif status == 404:
        cls = ModelNotFoundError
        hint = not_found_hint if not_found_hint is not None else _NOT_FOUND_HINT
    elif status == 413 or code == "context_length_exceeded":
        cls = RequestTooLargeError
        hint = (
            "Send fewer or shorter inputs per request."
            if status == 413
            else "Shorten the conversation (or lower max_tokens) to fit the model's context."
        )
    elif status == 429:
        cls = RateLimitError
    elif status >= 500:
        cls = ServiceError
    elif (
        code == "content_filter"
        or inner.get("code") == "ResponsibleAIPolicyViolation"
        or (isinstance(code, str) and code.lower() == "contentfilter")
    ):
        cls = ContentFilterError
    elif status == 422 or (
        status == 400
        and (
            param not in (None, "prompt", "messages")
            and (code or "").lower()
            in {
                "unsupported_parameter",
                "parameter_not_supported",
                "unsupported_value",
                "invalid_value",
                "extra_forbidden",
                "",
            }
        )
    ):
        cls = UnsupportedParameterError
    else:
        cls = APIStatusError

    head = f"{status} {reason}".strip()
    text = f"{head}: ({code}) {service_msg}" if code else f"{head}: {service_msg}"
    if cls is UnsupportedParameterError and param:
        text += f" [parameter {param!r}" + (
            f", value {_short(value)}]" if value is not None else "]"
        )
    if cls is UnsupportedParameterError and unsupported_hint is not None:
        hint = unsupported_hint(param) or hint
    if hint:
        text += f" {hint}"
    retry_after = None
    if cls is RateLimitError:
        headers = getattr(response, "headers", None)
        retry_after = parse_retry_after(dict(headers) if headers else None, service_msg)
        if retry_after is not None:
            text += f" Retry after {retry_after:g} s."
    exc = cls(
        text,
        response=response,
        body=body,
        code=code,
        param=param,
        value=value,
        details=details,
        status_code=status,
    )
    if isinstance(exc, RateLimitError):
        exc.retry_after = retry_after
    if isinstance(exc, ContentFilterError):
        results = inner.get("content_filter_result") or inner.get("content_filter_results")
        exc.content_filter_results = dict(results) if isinstance(results, Mapping) else None
    return exc


def _short(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def wrap_azure_error(exc: BaseException, *, not_found_hint: str | None = None) -> BaseException:
    """Convert an azure-core exception into ours; return other exceptions unchanged."""
    if isinstance(exc, AzureInferenceError):
        return exc
    response = getattr(exc, "response", None)
    if isinstance(exc, DecodeError) and response is not None and response.status_code < 400:
        return ServiceError(
            f"The service answered {response.status_code} with a body that is not valid JSON: "
            f"{_decode_body(response)!r:.120}",
            response=response,
        )
    if isinstance(exc, HttpResponseError) and response is not None:
        try:
            return error_from_response(exc.response, not_found_hint=not_found_hint)
        except Exception:  # pragma: no cover - never hide the original on a parsing bug
            return exc
    if isinstance(exc, ServiceResponseTimeoutError) or (
        isinstance(exc, AzureError) and type(exc).__name__.endswith("TimeoutError")
    ):
        return APITimeoutError(f"The request timed out: {exc}", error=exc)
    if isinstance(exc, ServiceRequestError):
        return APIConnectionError(f"Could not send the request: {exc}{_tls_hint(exc)}", error=exc)
    if isinstance(exc, ServiceResponseError):
        return APIConnectionError(
            f"The connection failed while reading the answer: {exc}", error=exc
        )
    return exc


def _tls_hint(exc: BaseException) -> str:
    """A hint when an https:// URL reached a server that speaks plain HTTP (e.g. the emulator)."""
    if "WRONG_VERSION_NUMBER" in str(exc) or "record layer failure" in str(exc):
        return (
            "\n(the server may speak plain http: try the endpoint with http:// instead of https://)"
        )
    return ""
