"""Error answers exactly as the service sends them (spec §7): envelopes, codes and headers."""

from __future__ import annotations

from typing import Any

try:  # orjson is optional: several times faster on the hot path when present.
    import orjson

    def dumps(obj: Any) -> bytes:
        """Compact JSON bytes."""
        return orjson.dumps(obj)

    def loads(data: bytes) -> Any:
        """Parse JSON bytes (ValueError when invalid)."""
        return orjson.loads(data)

except ImportError:  # pragma: no cover - depends on the environment
    import json

    def dumps(obj: Any) -> bytes:
        """Compact JSON bytes."""
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()

    def loads(data: bytes) -> Any:
        """Parse JSON bytes (ValueError when invalid)."""
        return json.loads(data)


# Default (code, message) per status for injected faults and service errors (spec §7.2).
DEFAULT_ERRORS: dict[int, tuple[str, str]] = {
    400: ("BadRequest", "The request is invalid."),
    401: (
        "401",
        "Access denied due to invalid subscription key or wrong API endpoint. Make sure to "
        "provide a valid key for an active subscription and use a correct regional API endpoint "
        "for your resource.",
    ),
    403: ("Forbidden", "Access to this resource is forbidden."),
    404: ("404", "Resource not found"),
    405: ("MethodNotAllowed", "The HTTP method is not allowed on this route."),
    408: ("Timeout", "The operation was timeout."),
    409: ("Conflict", "The request conflicts with the current state of the resource."),
    413: ("RequestEntityTooLarge", "The request body is too large."),
    422: ("Invalid input", "invalid input error"),
    429: (
        "RateLimitReached",
        "Rate limit is exceeded. Try again later.",
    ),
    431: (
        "RequestHeaderFieldsTooLarge",
        "Too many custom request headers: the service forwards at most the configured number.",
    ),
    500: ("InternalServerError", "The server had an error while processing your request."),
    502: ("BadGateway", "Bad gateway."),
    503: ("ServiceUnavailable", "The service is temporarily unable to process your request."),
    504: ("GatewayTimeout", "The operation timed out at the gateway."),
}

CONTENT_FILTER_MESSAGE = (
    "The response was filtered due to the prompt triggering Microsoft's content management "
    "policy. Please modify your prompt and retry."
)


class ApiError(Exception):
    """An error answer: status, JSON (or text) body, extra headers.

    `code` is mirrored into `x-ms-error-code` (None: no header, as for the APIM flat shape).
    """

    def __init__(
        self,
        status: int,
        body: Any,
        *,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> None:
        super().__init__(f"{status} {code}")
        self.status = status
        self.body = body
        self.code = code
        self.headers = headers or {}
        self.content_type = content_type
        self.v1: ApiError | None = None
        """The same error as ``/openai/v1`` answers it (None: derived by `for_v1`)."""

    def payload(self) -> bytes:
        """The body as bytes."""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return dumps(self.body)


def service_error(
    http_status: int,
    code: str | None = None,
    message: str | None = None,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> ApiError:
    """Envelope A: ``{"error": {"code", "message", ...extra}}`` with defaults per status."""
    default_code, default_message = DEFAULT_ERRORS.get(http_status, (str(http_status), "Error"))
    code = default_code if code is None else code
    err: dict[str, Any] = {"code": code, "message": message or default_message, **extra}
    return ApiError(http_status, {"error": err}, code=code, headers=headers)


def invalid_input(details: list[dict[str, Any]], code: str = "Invalid input") -> ApiError:
    """422, Azure-wrapped FastAPI shape: ``error.details[]`` each with `loc` (spec §7.2)."""
    message = "; ".join(
        f"{'.'.join(str(p) for p in d['loc'][1:])}: {d['msg']}" for d in details[:5]
    )
    return service_error(422, code, message or "invalid input error", status=422, details=details)


def unsupported_api_version(version: str | None, accepted: tuple[str, ...]) -> ApiError:
    """400 `unsupported_api_version` for a missing or unknown api-version."""
    if version is None:
        message = "Missing required query parameter: api-version."
    else:
        message = f"Unsupported api-version {version!r}. Supported: {', '.join(accepted)}."
    return service_error(400, "unsupported_api_version", message)


def content_filter(result: dict[str, Any]) -> ApiError:
    """400 `content_filter` for a filtered prompt (spec §7.2), the same body on both APIs."""
    inner = {"code": "ResponsibleAIPolicyViolation", "content_filter_result": result}
    err = service_error(
        400,
        "content_filter",
        CONTENT_FILTER_MESSAGE,
        type=None,
        param="prompt",
        status=400,
        innererror=inner,
    )
    err.v1 = openai_error(
        400,
        CONTENT_FILTER_MESSAGE,
        param="prompt",
        code="content_filter",
        status=400,
        innererror=inner,
    )
    return err


def token_audience_error(audience: str) -> ApiError:
    """401 in the flat APIM shape (no `error.code`) for a token with the wrong audience."""
    message = (
        "Unauthorized. Access token is missing, invalid, audience is incorrect "
        f"({audience}), or have expired."
    )
    err = ApiError(401, {"statusCode": 401, "message": message}, code=None)
    err.v1 = gateway_error(401, "401", message)
    return err


MAAS_UNAUTHORIZED = "Auth token validation failed. Please provide a valid key or a valid AAD token"


def maas_unauthorized() -> ApiError:
    """A serverless (MaaS) endpoint's 401: flat ``{"statusCode", "message"}`` (recorded)."""
    return ApiError(
        401,
        {"statusCode": 401, "message": MAAS_UNAUTHORIZED},
        code=None,
        headers={"x-ms-error-reason": "Invalid JWT."},
    )


def rate_limited(
    limit_text: str, wait: float, quota_headers: dict[str, str], operation: str = "ChatCompletions"
) -> ApiError:
    """429 `RateLimitReached` with `Retry-After`, `retry-after-ms` and `x-ratelimit-*`
    (on v1: code "429" and Azure OpenAI's message naming `operation`)."""
    seconds = max(1, int(wait + 0.999))
    message = (
        f"Rate limit of {limit_text} exceeded for UserByModelByMinute. "
        f"Please wait {seconds} seconds before retrying."
    )
    headers = {
        "Retry-After": str(seconds),
        "retry-after-ms": str(int(wait * 1000)),
        **quota_headers,
    }
    err = service_error(429, "RateLimitReached", message, headers=headers, details=message)
    err.v1 = gateway_error(
        429,
        "429",
        f"Requests to the {operation}_Create Operation under Azure OpenAI API version v1 have "
        f"exceeded the rate limit of {limit_text}. Please retry after {seconds} "
        f"second{'s' if seconds != 1 else ''}.",
        headers=headers,
    )
    return err


# -------------------------------------------------------------------- /openai/v1 envelopes
V1_API_VERSIONS = ("v1", "preview")
V1_MESSAGES: dict[int, str] = {
    400: "The request is invalid.",
    500: "The server had an error while processing your request. Sorry about that!",
    503: "The service is temporarily unable to process your request. Please try again later.",
}
V1_GATEWAY_CODES: dict[int, str] = {401: "401", 403: "PermissionDenied", 404: "404", 429: "429"}
V1_GATEWAY_MESSAGES: dict[int, str] = {
    403: "Principal does not have access to API/Operation.",
    429: "Requests to the Operation under Azure OpenAI API version v1 have exceeded call rate "
    "limit of your current AIServices S0 pricing tier.",
}


def openai_error(
    http_status: int,
    message: str | None = None,
    *,
    type: str | None = None,
    param: str | None = None,
    code: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> ApiError:
    """The OpenAI envelope ``{"error": {"message", "type", "param", "code"}}`` (v1 400s, 5xx)."""
    if type is None and http_status >= 500:
        type = "server_error"
    err: dict[str, Any] = {
        "message": message or V1_MESSAGES.get(http_status) or DEFAULT_ERRORS[500][1],
        "type": type,
        "param": param,
        "code": code,
        **extra,
    }
    return ApiError(http_status, {"error": err}, code=code, headers=headers)


def gateway_error(
    http_status: int,
    code: str | None = None,
    message: str | None = None,
    *,
    headers: dict[str, str] | None = None,
) -> ApiError:
    """Azure's gateway envelope ``{"error": {"code", "message"}}`` (v1 401, 403, 404, 429): the
    service envelope with the gateway's own code and message where it has one."""
    return service_error(
        http_status,
        code or V1_GATEWAY_CODES.get(http_status),
        message or V1_GATEWAY_MESSAGES.get(http_status),
        headers=headers,
    )


def _v1_param(loc: list[Any]) -> str:
    out = ""
    for part in loc[1:]:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def for_v1(err: ApiError) -> ApiError:
    """The ``/openai/v1`` form of an error raised in the model-inference form."""
    if err.v1 is not None:
        return err.v1
    inner = err.body.get("error") if isinstance(err.body, dict) else None
    if not isinstance(inner, dict):  # a flat or text body: a gateway answer on v1
        if err.status in V1_GATEWAY_CODES:
            return gateway_error(err.status, headers=err.headers)
        return openai_error(err.status, headers=err.headers)
    code, message = inner.get("code"), inner.get("message")
    details = inner.get("details")
    if err.status == 422 and isinstance(details, list) and details:
        # Validation: the OpenAI 400 naming the first parameter.
        first = details[0]
        param = _v1_param(first.get("loc") or ["body"])
        kind = first.get("type")
        if kind == "missing":
            v1_code = "missing_required_parameter"
            text = f"Missing required parameter: '{param}'."
        elif code == "parameter_not_supported" or kind == "parameter_not_supported":
            v1_code = "unsupported_parameter"
            text = f"Unsupported parameter: '{param}': {first.get('msg')}."
        else:
            v1_code = "invalid_value"
            text = f"Invalid value for '{param}': {first.get('msg')}."
        more = len(details) - 1
        if more > 0:
            text += f" ({more} more error{'s' if more > 1 else ''})"
        return openai_error(
            400, text, type="invalid_request_error", param=param, code=v1_code, headers=err.headers
        )
    if err.status in V1_GATEWAY_CODES:
        return gateway_error(
            err.status,
            code if err.status == 404 else None,
            message if err.status != 401 else None,
            headers=err.headers,
        )
    extra = {
        k: v
        for k, v in inner.items()
        if k not in ("code", "message", "type", "param", "details", "status")
    }
    return openai_error(
        err.status,
        message,
        type=inner.get("type", "invalid_request_error" if err.status < 500 else "server_error"),
        param=inner.get("param"),
        code=None if err.status >= 500 else code,
        headers=err.headers,
        **extra,
    )


def v1_model_required() -> ApiError:
    """400 when the body has no `model` (``/openai/v1``)."""
    return openai_error(400, "you must provide a model parameter", type="invalid_request_error")


def v1_unsupported_api_version(version: str) -> ApiError:
    """400 for a dated (or any unknown) api-version on ``/openai/v1``."""
    return openai_error(
        400,
        f"The api-version {version!r} is not supported on the /openai/v1 route; omit it or use "
        f"{' or '.join(repr(v) for v in V1_API_VERSIONS)}.",
        type="invalid_request_error",
        param="api-version",
        code="unsupported_api_version",
    )


def unrecognized_argument(name: str) -> ApiError:
    """400 for a body argument the deployment does not take (Azure OpenAI's message)."""
    err = service_error(
        400,
        "BadRequest",
        f"Unrecognized request argument supplied: {name}",
        type="invalid_request_error",
        param=None,
    )
    err.v1 = openai_error(
        400,
        f"Unrecognized request argument supplied: {name}",
        type="invalid_request_error",
    )
    return err


def context_length_exceeded(window: int, tokens: int, param: str = "messages") -> ApiError:
    """400 `context_length_exceeded` when the prompt is longer than the deployment's window."""
    message = (
        f"This model's maximum context length is {window} tokens. However, your messages "
        f"resulted in {tokens} tokens. Please reduce the length of the messages."
    )
    err = service_error(
        400, "context_length_exceeded", message, param=param, type="invalid_request_error"
    )
    err.v1 = openai_error(
        400, message, type="invalid_request_error", param=param, code="context_length_exceeded"
    )
    return err


def orphan_tool_message(index: int) -> ApiError:
    """400 for a `tool` message that answers no preceding assistant tool call."""
    message = (
        "Invalid parameter: messages with role 'tool' must be a response to a preceding "
        "message with 'tool_calls'."
    )
    param = f"messages[{index}].role"
    err = service_error(
        400, "invalid_request_error", message, param=param, type="invalid_request_error"
    )
    err.v1 = openai_error(400, message, type="invalid_request_error", param=param)
    return err
