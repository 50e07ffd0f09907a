"""``python -m azureinfer.emulator``: serve the emulator until Ctrl-C (prints the Model Inference
endpoint, the key and the OpenAI/v1 endpoint)."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run the emulator server in the foreground; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m azureinfer.emulator",
        description="Serve a local Azure AI Model Inference API emulator.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765; 0: any free)")
    parser.add_argument("--key", default=None, help="API key to accept (default: random)")
    parser.add_argument(
        "--latency", type=float, default=0.0, help="least seconds before each answer"
    )
    parser.add_argument("--tls", action="store_true", help="serve HTTPS with a generated cert")
    args = parser.parse_args(list(argv) if argv is not None else None)

    from azureinfer.emulator._server import Emulator

    emu = Emulator(key=args.key, host=args.host, port=args.port, tls=args.tls, latency=args.latency)
    try:
        emu.start()
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"endpoint: {emu.endpoint}")
    print(f"key:      {emu.key}")
    print(f"v1:       {emu.v1_endpoint}")
    if emu.ca_file:
        print(f"ca_file:  {emu.ca_file}")
    print(f"control:  {emu.base_url}/_emulator/  (Ctrl-C to stop)", flush=True)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        asyncio.run(_wait_forever())
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        emu.stop()
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


async def _wait_forever() -> None:
    await asyncio.Event().wait()


if __name__ == "__main__":
    sys.exit(main())
