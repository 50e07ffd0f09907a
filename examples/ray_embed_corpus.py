"""Embed a corpus on Ray within the deployment's quota, and write the vectors to Parquet.

Copy this file and adapt it. Needs ``pip install "azureinfer[langchain,ray]"``.

    # your deployment (AZURE_INFERENCE_ENDPOINT / AZURE_INFERENCE_CREDENTIAL), a local cluster
    python ray_embed_corpus.py --input chunks.parquet --output embedded/ \\
        --model text-embedding-3-small --rpm 6000 --tpm 1000000

    # the same on a running cluster (workers need azureinfer installed, see --pip)
    python ray_embed_corpus.py --address ray://head-node:10001 --input s3://bucket/chunks/ ...

    # try it without Azure: a local emulator of the service and a demo corpus
    python ray_embed_corpus.py --emulator --output /tmp/embedded

The input is Parquet with a text column (``--text-column``, default ``text``); the output is the
same rows plus an ``embedding`` column (and ``error`` with ``--keep-errors``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Iterator, Sequence
from typing import Any

import ray

from azureinfer.ray import RunSummary, embed_dataset, summary
from langchain_azureinfer import AzureInferenceEmbeddings

_ENV = ("AZURE_INFERENCE_ENDPOINT", "AZURE_INFERENCE_CREDENTIAL")


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--address", help="Ray cluster address (default: a local cluster)")
    p.add_argument("--pip", nargs="*", default=None, help="packages the cluster's workers need")
    p.add_argument("--input", help="Parquet file or directory (default: a demo corpus)")
    p.add_argument("--output", default="embedded", help="output Parquet directory")
    p.add_argument("--text-column", default="text")
    p.add_argument("--model", default="text-embedding-3-small", help="deployment name")
    p.add_argument("--rpm", type=float, help="requests per minute (default: from the service)")
    p.add_argument("--tpm", type=float, help="tokens per minute (default: from the service)")
    p.add_argument("--actors", type=int, default=2, help="Ray actors sending requests")
    p.add_argument("--keep-errors", action="store_true", help="keep failed rows, with an error")
    p.add_argument("--demo-rows", type=int, default=2_000, help="rows of the demo corpus")
    p.add_argument("--emulator", action="store_true", help="run against a local emulator")
    return p.parse_args(argv)


@contextlib.contextmanager
def endpoint(use_emulator: bool) -> Iterator[None]:
    """With ``--emulator``: a local emulator of the service for the run's duration."""
    if not use_emulator:
        yield
        return
    from azureinfer.emulator import Emulator

    with Emulator() as emu:
        saved = {k: os.environ.get(k) for k in _ENV}
        os.environ.update(AZURE_INFERENCE_ENDPOINT=emu.endpoint, AZURE_INFERENCE_CREDENTIAL=emu.key)
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def corpus(args: argparse.Namespace) -> Any:
    """The input dataset."""
    if args.input:
        return ray.data.read_parquet(args.input)
    topics = ["returns", "shipping", "warranty", "payment", "repairs"]
    return ray.data.from_items(
        [
            {"id": i, "text": f"Section {i} of the handbook covers {topics[i % 5]}."}
            for i in range(args.demo_rows)
        ]
    )


def main(argv: Sequence[str] | None = None) -> RunSummary:
    """Run the job; returns its summary."""
    args = parse(argv)
    with endpoint(args.emulator):
        runtime_env = {"pip": args.pip} if args.pip else None
        ray.init(address=args.address, runtime_env=runtime_env)
        embedded = embed_dataset(
            corpus(args),
            AzureInferenceEmbeddings(model=args.model),
            text_column=args.text_column,
            requests_per_minute=args.rpm,
            tokens_per_minute=args.tpm,
            on_error="keep" if args.keep_errors else "raise",
            actors=args.actors,
        )
        # The job runs here, with Ray's progress bar; the workers write the files, so a local
        # path is made absolute (on a cluster, use a path every node sees: s3://..., NFS).
        output = args.output if "://" in args.output else os.path.abspath(args.output)
        embedded.write_parquet(output)
        result = summary(embedded)
        print(result)
        return result


if __name__ == "__main__":
    main()
