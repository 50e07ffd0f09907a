"""Benchmark plumbing: the emulator in its own process, timers, medians and Markdown tables.

Nothing here knows about LangChain or LlamaIndex; the scenarios live in ``bench/run.py``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

#: Key the benchmark emulator accepts (a local throwaway, not a secret).
BENCH_KEY = "bench-key"

#: Override the server command (a shell string, ``{port}`` and ``{key}`` are substituted), e.g. to
#: benchmark against another local server. Default: ``python -m azureinfer.emulator``.
SERVER_ENV = "AZUREINFER_BENCH_SERVER"


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class EmulatorProcess:
    """The local endpoint running in a SEPARATE process, so its CPU time is not the client's.

    Configure it over the emulator's HTTP control API (``/_emulator/...``).
    """

    def __init__(self, *, key: str = BENCH_KEY, extra_args: Sequence[str] = ()) -> None:
        self.key = key
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        #: The Foundry-shaped endpoint the SDK and the integrations are given.
        self.endpoint = f"{self.base_url}/models"
        self._extra_args = list(extra_args)
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: Any = None

    def _command(self) -> list[str]:
        custom = os.environ.get(SERVER_ENV)
        if custom:
            return shlex.split(custom.format(port=self.port, key=self.key))
        return [
            sys.executable,
            "-m",
            "azureinfer.emulator",
            "--port",
            str(self.port),
            "--key",
            self.key,
            "--quiet",  # no access-log line per request: the server's own cost, not measured
            *self._extra_args,
        ]

    def start(self, timeout: float = 30.0) -> EmulatorProcess:
        """Start the server and wait until it answers HTTP."""
        # stderr goes to a file, not a pipe: a pipe nobody reads fills up (64 KiB of log lines)
        # and the server then blocks on its next write, in the middle of a request.
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop())
        self._proc = subprocess.Popen(
            self._command(), stdout=subprocess.DEVNULL, stderr=self._stderr
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                self._stderr.seek(0)
                err = self._stderr.read().decode(errors="replace")
                raise RuntimeError(f"emulator exited with {self._proc.returncode}: {err[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"emulator did not listen on port {self.port} within {timeout} s")

    def stop(self) -> None:
        """Terminate the server process (idempotent)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        self._stderr.close()

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- control API -------------------------------------------------------------------------

    def control(self, path: str, payload: dict[str, Any] | None = None) -> Any:
        """POST ``payload`` as JSON to ``/_emulator/<path>`` and return the decoded answer."""
        data = json.dumps(payload or {}).encode()
        req = urllib.request.Request(
            f"{self.base_url}/_emulator/{path}",
            data=data,
            method="POST",
            headers={"Content-Type": "application/json", "api-key": self.key},
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                body = resp.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")
            raise RuntimeError(f"emulator control {path} failed: {exc.code} {detail}") from exc
        return json.loads(body) if body else None

    def configure(self, **settings: Any) -> None:
        """Change server settings (``latency``, ``chunk_size``, ...)."""
        self.control("configure", settings)

    def script_reply(self, deployment: str, **reply: Any) -> None:
        """Queue one scripted chat reply for ``deployment``."""
        self.control("script_reply", {"deployment": deployment, **reply})

    def clear(self) -> None:
        """Forget recorded requests, scripts and faults; reset settings."""
        self.control("clear")


# -- timing ----------------------------------------------------------------------------------


def time_each(fn: Callable[[], Any], n: int) -> list[float]:
    """Call ``fn`` ``n`` times and return each call's duration in seconds."""
    clock = time.perf_counter
    out: list[float] = []
    for _ in range(n):
        t0 = clock()
        fn()
        out.append(clock() - t0)
    return out


@contextlib.contextmanager
def stopwatch() -> Iterator[list[float]]:
    """``with stopwatch() as t: ...`` then ``t[0]`` is the elapsed seconds."""
    box: list[float] = []
    t0 = time.perf_counter()
    try:
        yield box
    finally:
        box.append(time.perf_counter() - t0)


def median(values: Sequence[float]) -> float:
    """Median, or NaN for no values."""
    return statistics.median(values) if values else float("nan")


def fmt_seconds(seconds: float) -> str:
    """Human units: us below 1 ms, ms below 10 s, else s."""
    if seconds != seconds:  # NaN
        return "n/a"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} us"
    if seconds < 10:
        return f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"
    return f"{seconds:.1f} s"


def fmt_ratio(value: float, base: float) -> str:
    """``value / base`` as ``1.04x``; empty when either is missing."""
    if not base or value != value or base != base:
        return ""
    return f"{value / base:.2f}x"


# -- tables ----------------------------------------------------------------------------------


@dataclass
class Table:
    """One scenario's results, printed as a Markdown table."""

    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *cells: object) -> None:
        """Append a row (cells are str()-ed; missing trailing cells are blank)."""
        row = [str(c) for c in cells]
        row += [""] * (len(self.columns) - len(row))
        self.rows.append(row)

    def to_markdown(self) -> str:
        """The table with its title as a heading and notes underneath."""
        lines = [f"### {self.title}", ""]
        lines.append("| " + " | ".join(self.columns) + " |")
        lines.append("|" + "|".join("---" for _ in self.columns) + "|")
        lines += ["| " + " | ".join(r) + " |" for r in self.rows]
        if self.notes:
            lines.append("")
            lines += [f"- {n}" for n in self.notes]
        return "\n".join(lines) + "\n"


def short_error(exc: BaseException) -> str:
    """One line naming an exception, for a table cell."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    text = text.replace("|", "/")
    return f"{type(exc).__name__}: {text[:90]}" if text else type(exc).__name__
