"""Mutable emulator state: settings, recorded requests, scripted replies, faults, rate windows.

One `EmulatorState` is shared by the aiohttp handlers (running on the server's event loop) and the
control API (`Emulator.script_reply`, `/_emulator/...`), which may run on another thread. Every
mutation of a queue happens under `lock`; the hot path only looks at a queue when it is non-empty.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from typing import Any, TypeVar

ROUTES = ("chat", "embeddings", "images/embeddings", "info", "models")
APIS = ("model_inference", "openai_v1")
FAULT_KINDS = ("status", "reset", "delay", "truncate", "stream_error", "malformed_json")
SECRET_HEADERS = frozenset({"api-key", "authorization", "ocp-apim-subscription-key"})
REDACTED = "***"


@dataclass
class RecordedRequest:
    """One request the emulator received (secrets in `headers` are redacted)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    route: str | None
    """"chat", "embeddings", "images/embeddings", "info" or "models" (None: no API route)."""
    deployment: str | None = None
    status: int = 0
    """Status answered (0: the connection was dropped by a `reset` fault)."""
    stream: bool = False
    forwarded: dict[str, Any] = field(default_factory=dict)
    """Extra body keys passed through to the model (`extra-parameters: pass-through`)."""
    dropped: list[str] = field(default_factory=list)
    """Extra body keys removed because of `extra-parameters: drop`."""
    time: float = 0.0
    api: str = "model_inference"
    """Which API the request used: "openai_v1" (under ``/openai/v1``) or "model_inference"."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy (used by the `/_emulator/requests` route)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class Settings:
    """Tunable behaviour: `Emulator.configure(...)` changes it, `clear()` restores the start."""

    latency: float = 0.0
    """Seconds to wait before answering any API request."""
    stream_delay: float = 0.0
    """Seconds between two streamed events."""
    chunk_size: int = 0
    """Characters per streamed content delta (0: one word per delta)."""
    rate_limit_rpm: int = 0
    """Requests per minute per deployment before 429 (0: unlimited)."""
    rate_limit_tpm: int = 0
    """Tokens (prompt + completion) per minute per deployment before 429 (0: unlimited)."""
    rate_limit_window: float = 60.0
    """Seconds of the sliding window the quotas are counted over, with the quotas scaled to it
    (``rpm * window / 60`` requests and ``tpm * window / 60`` tokens per window): a short window
    makes quota tests fast and is how the service enforces a per-minute quota (over a few
    seconds, so a whole minute's requests at once get 429s)."""
    max_body_bytes: int = 20 * 1024 * 1024
    """Larger request bodies get 413."""
    default_deployment: str | None = "gpt-4o"
    """Chat deployment used when the body names no `model` (None: 422 `model` required)."""
    default_embeddings_deployment: str | None = "text-embedding-3-small"
    default_image_embeddings_deployment: str | None = "embed-v-4-0"
    api_versions: tuple[str, ...] = ("2024-05-01-preview", "2025-04-01")
    """api-versions accepted outside `/openai/deployments/` (there: any YYYY-MM-DD[-preview])."""
    strict: bool = False
    """Strict validation: temperature in [0, 1], array content only on user messages."""
    accept_any_bearer_token: bool = True
    """Accept any `Authorization: Bearer <token>` that is not the key (token credentials)."""
    allowed_tokens: tuple[str, ...] = ()
    """Bearer tokens accepted besides the key when accept_any_bearer_token is False."""
    token_audiences: tuple[str, ...] = ()
    """When set, bearer tokens must be JWTs whose `aud` is one of these (else 401, APIM shape)."""
    v1_token_audiences: tuple[str, ...] = ("https://ai.azure.com",)
    """The audiences bearer JWTs must have on ``/openai/v1`` when audience checking is on
    (`token_audiences` set)."""
    custom_header_limit: int = 0
    """More custom request headers than this get 431 (0: off)."""
    sse_crlf: bool = False
    """Compatibility-bug mode: CRLF line endings in streams (the SDK raises ValueError)."""
    sse_keepalive: bool = False
    """Compatibility-bug mode: `: keep-alive` comment lines in streams (SDK: ValueError)."""
    foundry_info: bool = True
    """``GET /models/info`` (and ``/info``, ``/api/models/info``) answers 200 with the default or
    header-named deployment's info; False: 404, as the service is said to answer there."""
    info_model_type: str | None = None
    """Override `/info` `model_type` (e.g. a legacy spelling such as "chat_completion")."""
    prompt_cache: bool = True
    """Report `prompt_tokens_details.cached_tokens` for message prefixes seen before."""


SETTING_NAMES = frozenset(f.name for f in fields(Settings))


@dataclass
class Fault:
    """An injected failure, consumed by the next `times` matching requests."""

    kind: str
    times: int
    deployment: str | None
    route: str | None
    params: dict[str, Any]
    api: str | None = None
    """Only requests of this API ("openai_v1" or "model_inference"; None: both)."""

    def matches(self, route: str, deployment: str | None, stream: bool, api: str) -> bool:
        """Whether this fault applies to a request."""
        if self.route is not None and self.route != route:
            return False
        if self.api is not None and self.api != api:
            return False
        if self.deployment is not None and self.deployment != deployment:
            return False
        return not (self.kind in ("truncate", "stream_error") and not stream)

    def use(self) -> bool:
        """Spend one of the `times`; whether the fault is used up."""
        self.times -= 1
        return self.times <= 0


@dataclass
class ScriptedReply:
    """A queued chat reply (used instead of the rule-based one)."""

    deployment: str | None
    content: str | None
    tool_calls: list[dict[str, Any]]
    reasoning_content: str | None
    finish_reason: str | None
    usage: dict[str, Any] | None


@dataclass
class RawReply:
    """A queued exact HTTP answer."""

    status: int
    body: Any
    headers: dict[str, str]
    deployment: str | None
    route: str | None
    api: str | None = None
    """Only requests of this API ("openai_v1" or "model_inference"; None: both)."""

    def matches(self, route: str, deployment: str | None, api: str) -> bool:
        """Whether this answer is for a request."""
        return (
            (self.route is None or self.route == route)
            and (self.deployment is None or self.deployment == deployment)
            and (self.api is None or self.api == api)
        )


class EmulatorState:
    """Everything the handlers read and the control API changes."""

    def __init__(self, key: str, settings: Settings, max_recorded: int = 100_000) -> None:
        self.key = key
        self.max_recorded = max_recorded
        self.initial_settings = replace(settings)
        self.settings = replace(settings)
        self.lock = threading.Lock()
        # The newest `max_recorded` requests (a long-running server must not grow without bound).
        self.requests: deque[RecordedRequest] = deque(maxlen=max_recorded)
        self.scripts: list[ScriptedReply] = []
        self.raw: list[RawReply] = []
        self.faults: list[Fault] = []
        self.windows: dict[str, deque[tuple[float, int]]] = {}
        self.seen_prefixes: dict[int, int] = {}
        self.unexpected: list[str] = []

    # -- control ------------------------------------------------------------------------------
    def clear(self) -> None:
        """Forget requests, scripts, faults, rate windows and the prompt cache; reset settings."""
        with self.lock:
            self.requests = deque(maxlen=self.max_recorded)
            # Emptied in place: the take_* read a queue before they take the lock.
            self.scripts.clear()
            self.raw.clear()
            self.faults.clear()
            self.windows = {}
            self.seen_prefixes = {}
            self.unexpected = []
            self.settings = replace(self.initial_settings)

    def configure(self, **changes: Any) -> Settings:
        """Change settings; unknown names raise TypeError, bad values ValueError."""
        unknown = sorted(set(changes) - SETTING_NAMES)
        if unknown:
            raise TypeError(f"unknown emulator setting(s): {', '.join(unknown)}")
        normalised: dict[str, Any] = {}
        for name, value in changes.items():
            if name in ("api_versions", "allowed_tokens", "token_audiences", "v1_token_audiences"):
                if isinstance(value, str):
                    value = (value,)
                value = tuple(str(v) for v in value)
            elif name in ("latency", "stream_delay"):
                value = float(value)
                if value < 0:
                    raise ValueError(f"{name} must be >= 0, got {value}")
            elif name == "rate_limit_window":
                if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                    raise ValueError(f"rate_limit_window must be seconds > 0, got {value!r}")
                value = float(value)
            elif name in (
                "chunk_size",
                "rate_limit_rpm",
                "rate_limit_tpm",
                "max_body_bytes",
                "custom_header_limit",
            ):
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise ValueError(f"{name} must be an int >= 0, got {value!r}")
            elif name in (
                "strict",
                "accept_any_bearer_token",
                "sse_crlf",
                "sse_keepalive",
                "prompt_cache",
                "foundry_info",
            ):
                value = bool(value)
            elif value is not None and not isinstance(value, str):
                raise ValueError(f"{name} must be a string or None, got {value!r}")
            normalised[name] = value
        with self.lock:
            self.settings = replace(self.settings, **normalised)
            if changes.keys() & {"rate_limit_rpm", "rate_limit_tpm", "rate_limit_window"}:
                self.windows = {}
            return self.settings

    def script_reply(self, reply: ScriptedReply) -> None:
        """Queue a chat reply."""
        with self.lock:
            self.scripts.append(reply)

    def script_raw(self, raw: RawReply) -> None:
        """Queue an exact HTTP answer."""
        with self.lock:
            self.raw.append(raw)

    def inject_fault(self, fault: Fault) -> None:
        """Queue a fault."""
        if fault.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {fault.kind!r}; expected one of {FAULT_KINDS}")
        if fault.route is not None and fault.route not in ROUTES:
            raise ValueError(f"unknown route {fault.route!r}; expected one of {ROUTES}")
        if fault.api is not None and fault.api not in APIS:
            raise ValueError(f"unknown api {fault.api!r}; expected one of {APIS}")
        if fault.times < 1:
            raise ValueError(f"times must be >= 1, got {fault.times}")
        if fault.kind == "status":
            status = fault.params.get("status")
            if not isinstance(status, int) or not 400 <= status <= 599:
                raise ValueError("a 'status' fault needs status=<int 400..599>")
            if fault.params.get("shape", "A") not in ("A", "B", "C", "D", "E"):
                raise ValueError("shape must be one of 'A', 'B', 'C', 'D', 'E' (spec §7.1)")
        with self.lock:
            self.faults.append(fault)

    # -- hot path -----------------------------------------------------------------------------
    def record(self, rec: RecordedRequest) -> None:
        """Remember a request."""
        with self.lock:
            self.requests.append(rec)

    def add_unexpected(self, report: str) -> None:
        """Keep the report of a 5xx that no fault or script asked for."""
        with self.lock:
            self.unexpected.append(report)

    def take_unexpected(self) -> list[str]:
        """The unexpected-5xx reports, forgotten once taken."""
        with self.lock:
            taken, self.unexpected = self.unexpected, []
            return taken

    def recorded(self) -> list[RecordedRequest]:
        """A copy of the recorded requests, oldest first (safe while the server appends)."""
        with self.lock:
            return list(self.requests)

    def take_fault(
        self, route: str, deployment: str | None, stream: bool, api: str = "model_inference"
    ) -> Fault | None:
        """Consume one use of the first matching fault."""
        return _take(
            self.lock, self.faults, lambda f: f.matches(route, deployment, stream, api), Fault.use
        )

    def take_raw(
        self, route: str, deployment: str | None, api: str = "model_inference"
    ) -> RawReply | None:
        """Consume the first queued raw answer for this request."""
        return _take(self.lock, self.raw, lambda r: r.matches(route, deployment, api))

    def take_script(self, deployment: str) -> ScriptedReply | None:
        """Consume the first queued chat reply for this deployment."""
        return _take(self.lock, self.scripts, lambda s: s.deployment in (None, deployment))

    def rate_caps(self) -> tuple[float, float]:
        """The request and token quotas of one `rate_limit_window` (0: unlimited)."""
        s = self.settings
        scale = s.rate_limit_window / 60.0
        return s.rate_limit_rpm * scale, s.rate_limit_tpm * scale

    def rate_check(self, deployment: str, tokens: int) -> tuple[float, dict[str, str]] | None:
        """Admit a request against the sliding `rate_limit_window` (the per-minute quotas scaled
        to it).

        Returns None when admitted (the quota headers then come from `quota_headers`), or
        `(retry_after_seconds, headers)` when the request must get 429.
        """
        s = self.settings
        span = s.rate_limit_window
        max_requests, max_tokens = self.rate_caps()
        now = time.monotonic()
        with self.lock:
            window = self.windows.setdefault(deployment, deque())
            while window and now - window[0][0] >= span:
                window.popleft()
            used_tokens = sum(t for _, t in window)
            over_rpm = s.rate_limit_rpm and len(window) + 1 > max_requests
            over_tpm = s.rate_limit_tpm and used_tokens + tokens > max_tokens
            if over_rpm or over_tpm:
                wait = span - (now - window[0][0]) if window else span
                return max(wait, 0.001), self._quota_headers(window, wait)
            window.append((now, tokens))
            return None

    def add_tokens(self, deployment: str, tokens: int) -> None:
        """Charge completion tokens to the newest window entry of a deployment."""
        with self.lock:
            window = self.windows.get(deployment)
            if window:
                at, used = window[-1]
                window[-1] = (at, used + tokens)

    def quota_headers(self, deployment: str) -> dict[str, str]:
        """`x-ratelimit-*` headers for a 200 answer (only when a limit is configured)."""
        with self.lock:
            window = self.windows.get(deployment) or deque()
            now = time.monotonic()
            wait = self.settings.rate_limit_window - (now - window[0][0]) if window else 0.0
            return self._quota_headers(window, wait)

    def _quota_headers(self, window: deque[tuple[float, int]], wait: float) -> dict[str, str]:
        # limit-*: the per-minute quota, as the service reports it; remaining-*: what is left
        # of the current window's share of it.
        s = self.settings
        max_requests, max_tokens = self.rate_caps()
        headers: dict[str, str] = {}
        reset = f"{max(wait, 0.0):.0f}s"
        if s.rate_limit_rpm:
            headers["x-ratelimit-limit-requests"] = str(s.rate_limit_rpm)
            headers["x-ratelimit-remaining-requests"] = str(max(int(max_requests) - len(window), 0))
            headers["x-ratelimit-reset-requests"] = reset
        if s.rate_limit_tpm:
            used = sum(t for _, t in window)
            headers["x-ratelimit-limit-tokens"] = str(s.rate_limit_tpm)
            headers["x-ratelimit-remaining-tokens"] = str(max(int(max_tokens) - used, 0))
            headers["x-ratelimit-reset-tokens"] = reset
        return headers


_T = TypeVar("_T")


def _take(
    lock: threading.Lock,
    queue: list[_T],
    wanted: Callable[[_T], bool],
    used_up: Callable[[_T], bool] = lambda item: True,
) -> _T | None:
    """The first `wanted` item of `queue`, removed once `used_up` says so (None: no such item).
    An empty queue is answered without the lock (the hot path)."""
    if not queue:
        return None
    with lock:
        for i, item in enumerate(queue):
            if wanted(item):
                if used_up(item):
                    del queue[i]
                return item
    return None
