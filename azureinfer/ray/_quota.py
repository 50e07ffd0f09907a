"""The cluster's one quota: a schedule of request starts, held by a single Ray actor.

`Schedule` is the arithmetic (no Ray, no clock of its own, unit-tested alone); `QuotaActor` is
the async actor every worker awaits before each request (``acquire``) and tells afterwards
(``settle``), plus the 429 pause, the quota learnt from ``x-ratelimit-*`` headers and the run
counters behind `azureinfer.ray.summary`.

How starts are scheduled, for a quota of ``R`` requests and ``T`` tokens per minute enforced
by the service over a sliding window of ``W`` seconds (``window``):

- starts are spaced evenly: one request after another at ``60 / R`` seconds, and a request of
  ``n`` tokens holds the next one back ``60 * n / T`` seconds, so no few-second stretch gets more
  than its share of the minute (a whole minute's requests at once would draw 429s);
- a log of the starts of the last ``W`` seconds keeps every window within ``R * W / 60``
  requests and ``T * W / 60`` tokens (a large request must wait until it fits);
- both run ``margin`` slower than the quota (default 5%): the slack absorbs the jitter between
  a start here and the request's arrival at the service;
- tokens are estimated before the request and replaced by the usage the service reports;
- a 429 pauses every start in the cluster for the ``retry-after`` the service asked for.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from azureinfer.errors import ConfigurationError

__all__ = ["QuotaActor", "Schedule", "limits_from_headers"]

#: Seconds of the window the service enforces a per-minute quota over (Azure: a few seconds).
DEFAULT_QUOTA_WINDOW = 10.0
#: How much slower than the quota requests are scheduled (slack for network jitter).
DEFAULT_QUOTA_MARGIN = 0.05


@dataclass
class _Start:
    id: int
    at: float
    tokens: int


@dataclass
class Schedule:
    """Start times for requests within a per-minute quota (see the module docstring).

    ``requests_per_minute`` / ``tokens_per_minute`` of None do not limit; times are seconds on
    the caller's monotonic clock.
    """

    requests_per_minute: float | None = None
    tokens_per_minute: float | None = None
    window: float = DEFAULT_QUOTA_WINDOW
    margin: float = DEFAULT_QUOTA_MARGIN
    next_at: float = 0.0
    paused_until: float = 0.0
    log: deque[_Start] = field(default_factory=deque)
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        check_quota(self.requests_per_minute, self.tokens_per_minute, self.window, self.margin)

    @property
    def limited(self) -> bool:
        """Whether any quota applies."""
        return bool(self.requests_per_minute or self.tokens_per_minute)

    def caps(self) -> tuple[float | None, float | None]:
        """Requests and tokens allowed in one ``window``."""
        share = self.window / 60.0
        rpm, tpm = self.requests_per_minute, self.tokens_per_minute
        return (rpm * share if rpm else None), (tpm * share if tpm else None)

    def reserve(self, tokens: int, now: float) -> _Start:
        """The earliest start at or after ``now`` for a request of ``tokens`` (estimated); the
        start is recorded."""
        start = _Start(next(self._ids), max(now, self.next_at, self.paused_until), tokens)
        if not self.limited:
            return start
        cap_requests, cap_tokens = self.caps()
        if cap_tokens is not None and tokens > cap_tokens:
            raise ConfigurationError(
                f"one request of about {tokens} tokens is more than the quota allows in "
                f"{self.window:g} s ({cap_tokens:.0f} tokens of {self.tokens_per_minute:g} per "
                "minute); lower batch_size (inputs per request) or raise tokens_per_minute"
            )
        span = self.window * (1.0 + self.margin)
        while self.log and self.log[0].at <= start.at - span:
            self.log.popleft()
        used_requests = len(self.log)
        used_tokens = sum(s.tokens for s in self.log)
        for old in list(self.log):
            fits_requests = cap_requests is None or used_requests + 1 <= cap_requests
            fits_tokens = cap_tokens is None or used_tokens + tokens <= cap_tokens
            if fits_requests and fits_tokens:
                break
            start.at = max(start.at, old.at + span)  # once ``old`` has left the window
            used_requests -= 1
            used_tokens -= old.tokens
        self.record(start)
        return start

    def record(self, start: _Start) -> None:
        """Count ``start`` in the window and hold the next start back by its spacing (done by
        `reserve`; a start made before the quota was known is recorded once it is)."""
        self.log.append(start)
        gap = 0.0
        slow = 1.0 + self.margin
        if self.requests_per_minute:
            gap = 60.0 * slow / self.requests_per_minute
        if self.tokens_per_minute:
            gap = max(gap, 60.0 * slow * start.tokens / self.tokens_per_minute)
        self.next_at = max(self.next_at, start.at + gap)

    def cancel(self, start: _Start) -> None:
        """Forget a start that did not happen (its request waits for a pause to end)."""
        with contextlib.suppress(ValueError):
            self.log.remove(start)

    def settle(self, start_id: int, tokens: int) -> None:
        """Replace a start's estimated tokens with the ones the service counted (in the window
        and in the spacing of the starts after it)."""
        for start in self.log:
            if start.id == start_id:
                if self.tokens_per_minute:
                    slow = 1.0 + self.margin
                    self.next_at += 60.0 * slow * (tokens - start.tokens) / self.tokens_per_minute
                start.tokens = tokens
                return

    def pause(self, seconds: float, now: float) -> None:
        """No start before ``now + seconds`` (a 429's ``retry-after``)."""
        self.paused_until = max(self.paused_until, now + seconds)
        self.next_at = max(self.next_at, self.paused_until)


def check_quota(
    requests_per_minute: float | None,
    tokens_per_minute: float | None,
    window: float,
    margin: float,
) -> None:
    """Raise `ConfigurationError` for a quota that cannot be used."""
    for name, value in (
        ("requests_per_minute", requests_per_minute),
        ("tokens_per_minute", tokens_per_minute),
    ):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0
        ):
            raise ConfigurationError(f"{name} must be a positive number or None, got {value!r}")
    if isinstance(window, bool) or not isinstance(window, (int, float)) or window <= 0:
        raise ConfigurationError(f"quota_window must be seconds > 0, got {window!r}")
    if isinstance(margin, bool) or not isinstance(margin, (int, float)) or not 0 <= margin < 1:
        raise ConfigurationError(f"quota_margin must be a number in [0, 1), got {margin!r}")


def limits_from_headers(
    headers: Mapping[str, str], tokens: int
) -> tuple[float | None, float | None, bool]:
    """The per-minute quota an answer's ``x-ratelimit-*`` headers tell, and whether they told.

    ``x-ratelimit-limit-requests`` / ``-tokens`` are the quota. A service that sends only the
    ``remaining-*`` headers (Azure OpenAI) gets ``remaining + this request`` (``tokens`` for the
    token quota): a lower bound of the quota, exact when the window was empty.
    """
    lower = {k.lower(): v for k, v in headers.items()}

    def number(name: str) -> float | None:
        try:
            value = float(lower[name])
        except (KeyError, ValueError):
            return None
        return value if value >= 0 else None

    rpm = number("x-ratelimit-limit-requests")
    tpm = number("x-ratelimit-limit-tokens")
    if rpm is None and (left := number("x-ratelimit-remaining-requests")) is not None:
        rpm = left + 1
    if tpm is None and (left := number("x-ratelimit-remaining-tokens")) is not None:
        tpm = left + max(tokens, 0)
    told = rpm is not None or tpm is not None
    return rpm or None, tpm or None, told


_TIMELINE_LIMIT = 100_000


def _tells_limits(headers: Mapping[str, str]) -> bool:
    names = {k.lower() for k in headers}
    return bool(names & {"x-ratelimit-limit-requests", "x-ratelimit-limit-tokens"})


@dataclass
class _Run:
    requests: int = 0
    tokens: int = 0
    responses: int = 0
    rate_limited: int = 0
    failed_requests: int = 0
    rows: int = 0
    failed_rows: int = 0
    waited: float = 0.0
    first: float | None = None
    last: float | None = None
    workers: set[int] = field(default_factory=set)
    starts: list[float] = field(default_factory=list)
    pauses: list[tuple[float, float]] = field(default_factory=list)


class QuotaActor:
    """The cluster's quota (run as one named async Ray actor; see the module docstring).

    With no quota given, the first request goes alone and the quota is read from its answer's
    ``x-ratelimit-*`` headers (`limits_from_headers`); without such headers nothing is limited.
    """

    def __init__(
        self,
        requests_per_minute: float | None = None,
        tokens_per_minute: float | None = None,
        window: float = DEFAULT_QUOTA_WINDOW,
        margin: float = DEFAULT_QUOTA_MARGIN,
    ) -> None:
        self.schedule = Schedule()
        self.learning = True
        self._probing = False
        self._probe_ended: asyncio.Event | None = None
        self.runs: dict[str, _Run] = {}
        self._open: dict[int, tuple[_Start, str, float]] = {}
        self.configure(requests_per_minute, tokens_per_minute, window, margin)

    def _run(self, run: str) -> _Run:
        return self.runs.setdefault(run, _Run())

    def configure(
        self,
        requests_per_minute: float | None,
        tokens_per_minute: float | None,
        window: float,
        margin: float,
    ) -> None:
        """Set the quota (a later dataset on the same quota actor may give it); with neither
        limit, until one is given, it is read from the first answer's headers."""
        check_quota(requests_per_minute, tokens_per_minute, window, margin)
        s = self.schedule
        s.requests_per_minute, s.tokens_per_minute = requests_per_minute, tokens_per_minute
        s.window, s.margin = window, margin
        if s.limited:
            self.learning = False

    def register(self, run: str, pid: int) -> None:
        """A worker process of ``run`` started (the summary counts them)."""
        self._run(run).workers.add(pid)

    def workers(self, run: str) -> list[int]:
        """The process ids of ``run``'s workers so far."""
        return sorted(self._run(run).workers)

    async def acquire(self, run: str, tokens: int) -> int:
        """Wait until a request of about ``tokens`` may start; returns its ticket."""
        asked = time.monotonic()
        while self.learning:
            if not self._probing:
                self._probing = True
                return self._open_ticket(_Start(0, asked, tokens), run, asked)
            if self._probe_ended is None:
                self._probe_ended = asyncio.Event()
            await self._probe_ended.wait()
        while True:
            start = self.schedule.reserve(tokens, time.monotonic())
            delay = start.at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if self.schedule.paused_until <= time.monotonic():
                return self._open_ticket(start, run, asked)
            self.schedule.cancel(start)  # a 429 arrived meanwhile: queue again after the pause

    def _open_ticket(self, start: _Start, run: str, asked: float) -> int:
        ticket = next(self.schedule._ids)
        self._open[ticket] = (start, run, asked)
        r = self._run(run)
        now = time.time()
        r.first = now if r.first is None else r.first
        r.waited += time.monotonic() - asked
        if len(r.starts) < _TIMELINE_LIMIT:
            r.starts.append(time.monotonic())
        return ticket

    def answered(self, run_name: str, ticket: int, status: int, headers: dict[str, str]) -> None:
        """One HTTP answer to ``ticket``'s request: learn the quota, pause on a 429."""
        entry = self._open.get(ticket)
        run = self._run(run_name)
        if status == 429:
            run.rate_limited += 1
            from azureinfer.errors import parse_retry_after

            wait = 1.0 if (hint := parse_retry_after(headers)) is None else hint
            now = time.monotonic()
            self.schedule.pause(wait, now)
            run.pauses.append((now, now + wait))
        if self.learning and (status < 400 or _tells_limits(headers)):
            # A 429's remaining-* are 0: only its limit-* headers (if any) tell the quota.
            rpm, tpm, told = limits_from_headers(headers, entry[0].tokens if entry else 0)
            if told:
                self.schedule.requests_per_minute, self.schedule.tokens_per_minute = rpm, tpm
                if entry is not None:  # the probe counts in its window, and in the spacing
                    self.schedule.record(entry[0])
            self.learning = False  # told or not: no more probing
            self._end_probe()

    def settle(self, ticket: int, tokens: int | None, failed: bool, answers: int) -> None:
        """``ticket``'s request ended (``tokens``: the usage the service counted; ``answers``:
        the HTTP answers it got, retries included)."""
        entry = self._open.pop(ticket, None)
        if entry is None:
            return
        start, run_name, _ = entry
        run = self._run(run_name)
        run.requests += 1
        run.responses += answers
        run.failed_requests += int(failed)
        run.last = time.time()
        if tokens is not None:
            run.tokens += tokens
            self.schedule.settle(start.id, tokens)
        if start.id == 0:  # the probe ended without telling the quota: let the next one probe
            self._probing = False
            self._end_probe()

    def _end_probe(self) -> None:
        if self._probe_ended is not None:
            self._probe_ended.set()
            self._probe_ended = None

    def rows(self, run: str, rows: int, failed: int) -> None:
        """A worker finished a batch of ``rows`` rows, ``failed`` of them with an error."""
        r = self._run(run)
        r.rows += rows
        r.failed_rows += failed

    def timeline(self, run: str) -> dict[str, Any]:
        """When ``run``'s requests started (the first 100,000) and the pauses 429s caused (this
        actor's monotonic clock, seconds): ``{"starts": [...], "pauses": [(at, until), ...]}``."""
        r = self._run(run)
        return {"starts": list(r.starts), "pauses": list(r.pauses)}

    def summary(self, run: str) -> dict[str, Any]:
        """The counters of ``run`` (see `azureinfer.ray.RunSummary`)."""
        r = self._run(run)
        s = self.schedule
        return {
            "rows": r.rows,
            "failed_rows": r.failed_rows,
            "requests": r.requests,
            "failed_requests": r.failed_requests,
            "tokens": r.tokens,
            "retries": max(r.responses - r.requests, 0),
            "rate_limited": r.rate_limited,
            "seconds": (r.last - r.first) if r.first is not None and r.last is not None else 0.0,
            "waited_seconds": r.waited,
            "workers": len(r.workers),
            "requests_per_minute": s.requests_per_minute,
            "tokens_per_minute": s.tokens_per_minute,
        }
