"""Emulator throughput: small chat requests per second from a separate process.

Starts ``python -m azureinfer.emulator --port N`` in a subprocess, then fires small non-streaming
chat requests with aiohttp over several keep-alive connections and prints requests per second.

    python bench/emulator_throughput.py [--seconds 5] [--connections 8] [--stream]
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


async def _run(base: str, key: str, seconds: float, connections: int, stream: bool) -> None:
    url = f"{base}/models/chat/completions?api-version=2024-05-01-preview"
    body = {"messages": [{"role": "user", "content": "Hi"}], "model": "gpt-4o", "max_tokens": 8}
    if stream:
        body["stream"] = True
    payload = json.dumps(body).encode()
    headers = {"api-key": key, "Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:
        await _worker(session, url, payload, headers, time.perf_counter() + 0.5)  # warm-up
        start = time.perf_counter()
        until = start + seconds
        results = await asyncio.gather(
            *(_worker(session, url, payload, headers, until) for _ in range(connections))
        )
        elapsed = time.perf_counter() - start
    ok = sum(r[0] for r in results)
    failed = sum(r[1] for r in results)
    kind = "streamed" if stream else "small"
    print(
        f"{ok / elapsed:,.0f} {kind} chat requests/s "
        f"({ok} ok, {failed} failed, {connections} connections, {elapsed:.1f} s)"
    )


def main() -> int:
    """Start the emulator in a subprocess and measure it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--stream", action="store_true", help="streamed requests instead")
    args = parser.parse_args()
    port = _free_port()
    key = "bench-key"
    proc = subprocess.Popen(
        [sys.executable, "-m", "azureinfer.emulator", "--port", str(port), "--key", key],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"(https?://[^/\s]+)", line)
        if not match:
            print(f"emulator did not start: {line!r}", file=sys.stderr)
            return 1
        asyncio.run(_run(match.group(1), key, args.seconds, args.connections, args.stream))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
