"""Emulator throughput: small chat requests per second from a separate process.

Starts ``python -m azureinfer.emulator --port N`` in a subprocess, then fires small non-streaming
chat requests with aiohttp over several keep-alive connections and prints requests per second.
It also prints the server's CPU time per request (read from /proc, Linux), which gives its
capacity on one core independently of what else runs on the machine (the client competes for
the same cores).

    python bench/emulator_throughput.py [--seconds 5] [--connections 8] [--stream] [--baseline]

`--baseline` also measures a bare aiohttp server answering a constant JSON body, run the same
way: the ceiling of this machine and client at that moment (the emulator's figure is worth
reading against it when the machine is busy).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import time

import aiohttp

BARE_SERVER = """
import signal, sys
from aiohttp import web

async def handle(request):
    await request.read()
    return web.Response(body=b'{"ok":true}', content_type="application/json")

app = web.Application()
app.router.add_route("*", "/{tail:.*}", handle)
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
port = int(sys.argv[1])
web.run_app(app, host="127.0.0.1", port=port, access_log=None,
            print=lambda *a: print(f"endpoint: http://127.0.0.1:{port}/models", flush=True))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _worker(
    session: aiohttp.ClientSession, url: str, payload: bytes, headers: dict[str, str], until: float
) -> tuple[int, int]:
    ok = failed = 0
    while time.perf_counter() < until:
        async with session.post(url, data=payload, headers=headers) as resp:
            await resp.read()
            if resp.status == 200:
                ok += 1
            else:
                failed += 1
    return ok, failed


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process (Linux /proc), None elsewhere."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _run(
    base: str, key: str, seconds: float, connections: int, stream: bool, pid: int
) -> None:
    url = f"{base}/models/chat/completions?api-version=2024-05-01-preview"
    body = {"messages": [{"role": "user", "content": "Hi"}], "model": "gpt-4o", "max_tokens": 8}
    if stream:
        body["stream"] = True
    payload = json.dumps(body).encode()
    headers = {"api-key": key, "Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:
        await _worker(session, url, payload, headers, time.perf_counter() + 0.5)  # warm-up
        cpu_before = _cpu_seconds(pid)
        start = time.perf_counter()
        until = start + seconds
        results = await asyncio.gather(
            *(_worker(session, url, payload, headers, until) for _ in range(connections))
        )
        elapsed = time.perf_counter() - start
        cpu_after = _cpu_seconds(pid)
    ok = sum(r[0] for r in results)
    failed = sum(r[1] for r in results)
    kind = "streamed" if stream else "small"
    print(
        f"{ok / elapsed:,.0f} {kind} chat requests/s "
        f"({ok} ok, {failed} failed, {connections} connections, {elapsed:.1f} s)"
    )
    if cpu_before is not None and cpu_after is not None and ok:
        per_request = (cpu_after - cpu_before) / (ok + failed)
        print(
            f"server CPU: {per_request * 1e6:,.0f} us per request "
            f"(capacity about {1 / per_request:,.0f} requests/s on one core)"
        )


def _measure(command: list[str], args: argparse.Namespace, label: str) -> int:
    """Start a server subprocess that prints its endpoint first, then load it."""
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"}
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"(https?://[^/\s]+)", line)
        if not match:
            print(f"{label} did not start: {line!r}", file=sys.stderr)
            return 1
        print(f"-- {label}")
        asyncio.run(
            _run(match.group(1), "bench-key", args.seconds, args.connections, args.stream, proc.pid)
        )
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
    return 0


def main() -> int:
    """Start the emulator in a subprocess and measure it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--stream", action="store_true", help="streamed requests instead")
    parser.add_argument("--baseline", action="store_true", help="also measure bare aiohttp")
    args = parser.parse_args()
    emulator = [
        sys.executable,
        "-m",
        "azureinfer.emulator",
        "--quiet",
        "--key",
        "bench-key",
        "--port",
    ]
    status = _measure([*emulator, str(_free_port())], args, "azureinfer.emulator")
    if args.baseline and status == 0:
        bare = [sys.executable, "-c", BARE_SERVER, str(_free_port())]
        status = _measure(bare, args, "bare aiohttp (constant body)")
    return status


if __name__ == "__main__":
    sys.exit(main())
