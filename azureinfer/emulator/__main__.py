"""`python -m azureinfer.emulator` (also `azureinfer emulator`): serve the emulator until Ctrl-C.

It prints the endpoint and the key, then one access-log line per request on stderr (`--quiet`:
none).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence

DESCRIPTION = (
    "Serve a local Azure AI Model Inference API emulator (rule-based, not a language model). "
    "It prints the endpoint and the key, then one line per request."
)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value >= 0.0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be between 0 and 65535, got {value}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The emulator's options (shared by `python -m azureinfer.emulator` and `azureinfer`)."""
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=_port, default=8765, help="port to listen on (default 8765; 0: any free one)"
    )
    parser.add_argument("--key", default=None, help="API key to accept (default: a random one)")
    parser.add_argument(
        "--latency",
        type=_seconds,
        default=0.0,
        metavar="SECONDS",
        help="least seconds between a request's arrival and its answer (default 0)",
    )
    parser.add_argument(
        "--tls",
        action="store_true",
        help="serve HTTPS with a generated certificate (its CA file path is printed)",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="no access-log line per request (errors still print)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, then serve; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m azureinfer.emulator", description=DESCRIPTION)
    add_arguments(parser)
    return serve(parser.parse_args(list(argv) if argv is not None else None))


def serve(args: argparse.Namespace) -> int:
    """Run the emulator in the foreground with the options of `add_arguments`."""
    from azureinfer.emulator._server import Emulator

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    log = logging.getLogger("azureinfer.emulator")
    level = log.level
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    emu = Emulator(
        key=args.key,
        host=args.host,
        port=args.port,
        tls=args.tls,
        latency=args.latency,
        access_log=not args.quiet,
    )
    # SIGTERM stops it cleanly from the start: a client may be served (and send SIGTERM) before
    # the lines below are printed.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        try:
            emu.start()
        except RuntimeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"endpoint: {emu.endpoint}")
        print(f"key:      {emu.key}")
        if emu.ca_file:
            print(f"ca_file:  {emu.ca_file}")
        print(f"control:  {emu.base_url}/_emulator/  (Ctrl-C to stop)", flush=True)
        asyncio.run(_wait_forever())
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        emu.stop()
        log.removeHandler(handler)
        log.setLevel(level)
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


async def _wait_forever() -> None:
    await asyncio.Event().wait()


if __name__ == "__main__":
    sys.exit(main())
