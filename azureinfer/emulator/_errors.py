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
    """400 `content_filter` for a filtered prompt (spec §7.2)."""
    return service_error(
        400,
        "content_filter",
        CONTENT_FILTER_MESSAGE,
        type=None,
        param="prompt",
        status=400,
        innererror={"code": "ResponsibleAIPolicyViolation", "content_filter_result": result},
    )


def token_audience_error(audience: str) -> ApiError:
    """401 in the flat APIM shape (no `error.code`) for a token with the wrong audience."""
    body = {
        "statusCode": 401,
        "message": "Unauthorized. Access token is missing, invalid, audience is incorrect "
        f"({audience}), or have expired.",
    }
    return ApiError(401, body, code=None)


def rate_limited(limit_text: str, wait: float, quota_headers: dict[str, str]) -> ApiError:
    """429 `RateLimitReached` with `Retry-After`, `retry-after-ms` and `x-ratelimit-*`."""
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
    return service_error(429, "RateLimitReached", message, headers=headers, details=message)
