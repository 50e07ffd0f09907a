"""azure-core retry policies tuned for inference calls (all of them POSTs).

azure-core's default retries a POST only on 500/503/504, or on any status >= 400 when a
``Retry-After`` header is present (even a 400 that cannot succeed), and ignores
``retry-after-ms`` when ``Retry-After: 0``. Ours:

- retries 408, 429, 500, 502, 503, 504 and connection/read errors, for every method, up to
  ``max_retries`` times; never a 4xx outside that list, whatever its headers say;
- waits what the service asks (``retry-after-ms``, ``x-ms-retry-after-ms``, ``Retry-After`` in
  seconds or as a date), else ``backoff_factor * 2**(n-1)`` capped at ``backoff_max``, with jitter;
- gives up when the next wait would take the total waited past ``max_wait`` (the last error is
  then raised with its ``retry_after``), so one call never sleeps unboundedly;
- does not retry a refused bearer token over plain http (it cannot succeed).
"""

from __future__ import annotations

import logging
import random
from typing import Any

from azure.core.exceptions import ServiceRequestError, ServiceResponseError
from azure.core.pipeline import PipelineResponse
from azure.core.pipeline.policies import AsyncRetryPolicy, RetryMode, RetryPolicy

from azureinfer.errors import parse_retry_after

__all__ = [
    "DEFAULT_BACKOFF_FACTOR",
    "DEFAULT_BACKOFF_MAX",
    "DEFAULT_MAX_WAIT",
    "RETRY_CLIENT_KWARGS",
    "RETRY_STATUSES",
    "InferenceAsyncRetryPolicy",
    "InferenceRetryPolicy",
    "retry_policy_kwargs",
]

_LOGGER = logging.getLogger("azureinfer.retry")

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
DEFAULT_BACKOFF_FACTOR = 0.5
DEFAULT_BACKOFF_MAX = 8.0
DEFAULT_MAX_WAIT = 60.0

#: The retry options ``client_kwargs`` may carry (`retry_policy_kwargs` takes them out).
RETRY_CLIENT_KWARGS = (
    "retry_backoff_factor",
    "retry_backoff_max",
    "retry_max_wait",
    "retry_mode",
    "retry_on_status_codes",
    "retry_connect",
    "retry_read",
)


def retry_policy_kwargs(max_retries: int, client_kwargs: dict[str, Any]) -> dict[str, Any]:
    """Pop the retry options out of ``client_kwargs`` into policy keyword arguments."""
    opts = {k: client_kwargs.pop(k) for k in RETRY_CLIENT_KWARGS if k in client_kwargs}
    out: dict[str, Any] = {
        "retry_total": max_retries,
        "retry_status": max_retries,
        "retry_connect": opts.get("retry_connect", max_retries),
        "retry_read": opts.get("retry_read", max_retries),
        "retry_backoff_factor": opts.get("retry_backoff_factor", DEFAULT_BACKOFF_FACTOR),
        "retry_backoff_max": opts.get("retry_backoff_max", DEFAULT_BACKOFF_MAX),
        "retry_mode": opts.get("retry_mode", RetryMode.Exponential),
        "max_wait": opts.get("retry_max_wait", DEFAULT_MAX_WAIT),
        "extra_statuses": tuple(opts.get("retry_on_status_codes", ())),
    }
    return out


class _InferenceRetryMixin:
    """The decisions shared by the sync and async policies."""

    max_wait: float
    statuses: frozenset[int]
    retry_mode: Any

    def __init__(
        self,
        *,
        max_wait: float = DEFAULT_MAX_WAIT,
        extra_statuses: tuple[int, ...] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)  # azure-core's policy: the retry_* options
        self.max_wait = float(max_wait)
        self.statuses = RETRY_STATUSES | frozenset(extra_statuses)

    def configure_retries(self, options: dict[str, Any]) -> dict[str, Any]:
        settings: dict[str, Any] = super().configure_retries(options)  # type: ignore[misc]
        settings["waited"] = 0.0
        settings["max_wait"] = options.pop("retry_max_wait", self.max_wait)
        settings["next_delay"] = 0.0
        return settings

    def _is_method_retryable(self, settings: Any, request: Any, response: Any = None) -> bool:
        return True  # inference POSTs have no side effects worth protecting

    def _hint(self, response: PipelineResponse[Any, Any]) -> float | None:
        headers = response.http_response.headers
        return parse_retry_after(dict(headers) if headers is not None else None)

    def _backoff(self, settings: dict[str, Any]) -> float:
        n = max(1, len(settings["history"]))
        if self.retry_mode == RetryMode.Fixed:
            delay = settings["backoff"]
        else:
            delay = settings["backoff"] * (2 ** (n - 1))
        delay = min(settings["max_backoff"], delay)
        return float(delay) * (1.0 - 0.25 * random.random())

    def is_retry(self, settings: dict[str, Any], response: PipelineResponse[Any, Any]) -> bool:
        status = response.http_response.status_code
        if status not in self.statuses or settings["total"] <= 0:
            return False
        hint = self._hint(response)
        delay = hint if hint is not None else None
        # Decide now whether the wait fits the budget, so the caller gets the error at once.
        if delay is not None and settings["waited"] + delay > settings["max_wait"]:
            return False
        settings["next_hint"] = delay
        return True

    def increment(self, settings: dict[str, Any], response: Any = None, error: Any = None) -> bool:
        if error is not None:
            if not isinstance(error, (ServiceRequestError, ServiceResponseError)):
                return False
            if "non-TLS" in str(error):  # bearer token over http: cannot succeed
                return False
        if not super().increment(settings, response=response, error=error):  # type: ignore[misc]
            return False
        hint = settings.pop("next_hint", None) if error is None else None
        delay = hint if hint is not None else self._backoff(settings)
        if settings["waited"] + delay > settings["max_wait"]:
            return False
        settings["next_delay"] = delay
        if error is not None:
            reason = type(error).__name__
        else:
            reason = (
                f"status {getattr(getattr(response, 'http_response', None), 'status_code', '?')}"
            )
        _LOGGER.info(
            "Retrying after %s in %.2f s (retry %d)", reason, delay, len(settings["history"])
        )
        return True

    def _take_delay(self, settings: dict[str, Any]) -> float:
        delay = float(settings.get("next_delay", 0.0))
        settings["next_delay"] = 0.0
        settings["waited"] += delay
        return delay


class InferenceRetryPolicy(_InferenceRetryMixin, RetryPolicy):
    """Sync retry policy (see the module docstring)."""

    def sleep(self, settings: dict[str, Any], transport: Any, response: Any = None) -> None:
        delay = self._take_delay(settings)
        if delay > 0:
            transport.sleep(delay)


class InferenceAsyncRetryPolicy(_InferenceRetryMixin, AsyncRetryPolicy):
    """Async retry policy (see the module docstring)."""

    async def sleep(self, settings: dict[str, Any], transport: Any, response: Any = None) -> None:
        delay = self._take_delay(settings)
        if delay > 0:
            await transport.sleep(delay)
