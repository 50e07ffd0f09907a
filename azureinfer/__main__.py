"""Command line: ``python -m azureinfer demo`` (also the ``azureinfer`` console script).

``demo`` runs a short tour of the project. It talks to the endpoint named by
``AZURE_INFERENCE_ENDPOINT`` / ``AZURE_INFERENCE_CREDENTIAL`` when both are set, and otherwise
starts the local emulator in-process (rule-based, not a language model).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code."""
    parser = argparse.ArgumentParser(
        prog="azureinfer", description="azureinfer's command line: a demo tour, the local emulator."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="a short tour: LangChain, LlamaIndex, two deployments")
    demo.add_argument(
        "--only",
        choices=["sdk", "langchain", "llamaindex"],
        help="run one part of the tour only",
    )
    from azureinfer.emulator import __main__ as emulator_cli

    emulator = sub.add_parser(
        "emulator",
        help="serve the local emulator (python -m azureinfer.emulator)",
        description=emulator_cli.DESCRIPTION,
    )
    emulator_cli.add_arguments(emulator)
    args, rest = parser.parse_known_args(argv)
    if args.command == "emulator":
        if rest:
            emulator.error(f"unrecognized arguments: {' '.join(rest)}")
        return emulator_cli.serve(args)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    from azureinfer_demo import run_demo

    return run_demo(only=args.only)


if __name__ == "__main__":
    sys.exit(main())
