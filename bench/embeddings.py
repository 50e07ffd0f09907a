"""Bulk embeddings: 20,000 short texts against a local endpoint with 50 ms latency per request and
a 96-input limit per request. Prints wall times (not a test).

    python -m bench.embeddings            # full size (20,000 texts)
    python -m bench.embeddings --quick    # 2,000 texts
    python -m bench.embeddings --n 5000 --dims 256

The endpoint is the project's emulator, started in a SEPARATE process with one extra deployment,
``bench-embed-96``: a Cohere-like model (96 inputs per request, input_type accepted) with small
vectors (``--dims``, default 64), so the server's own CPU time (hashing and JSON encoding) stays
small and the wall time reflects the clients' batching and concurrency, which is what the ideal
``ceil(N / batch) / concurrency * latency`` measures. Compared on the same server:

- ours: ``langchain_azureinfer.AzureInferenceEmbeddings`` (sync and async) and
  ``llamaindex_azureinfer.AzureInferenceEmbedding`` (sync and async), at their defaults
  (96 inputs per request, 8 requests in flight);
- ``langchain-azure-ai`` ``AzureAIEmbeddingsModel`` and ``llama-index-embeddings-azure-inference``
  ``AzureAIEmbeddingsModel`` (the `bench` extra), with ``embed_batch_size=96`` so their requests
  fit the limit (their defaults, 1024 and 10, would fail or be slower).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import gc
import math
import os
import sys
import time
import warnings
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from bench._harness import (
    BENCH_KEY,
    EmulatorProcess,
    Table,
    fmt_ratio,
    fmt_seconds,
    median,
    short_error,
)

LATENCY = 0.05
LIMIT = 96
DEPLOYMENT = "bench-embed-96"
TOPICS = ("kettles", "shipping", "returns", "warranty", "payment", "support", "tea", "steel")

#: ours at default settings; used for the ideal.
DEFAULT_BATCH = 96
DEFAULT_CONCURRENCY = 8


def texts(n: int) -> list[str]:
    """``n`` distinct short texts."""
    return [
        f"short note {i} about {TOPICS[i % len(TOPICS)]} and item {i * 7 % 1000}" for i in range(n)
    ]


# -- the server ----------------------------------------------------------------------------------


def serve(port: int, key: str, dims: int) -> None:
    """Run the emulator with the bench deployment in this process until terminated."""
    import signal

    from azureinfer.emulator import Emulator
    from azureinfer.emulator._catalogue import DEFAULT_CATALOGUE, Deployment

    bench = Deployment(
        name=DEPLOYMENT,
        kind="embeddings",
        model_name="bench-embed-96",
        model_type="embeddings",
        provider="Cohere",
        dimensions=dims,
        variable_dimensions=False,
        input_type=True,
        max_inputs=LIMIT,
        max_input_tokens=512,
        context_window=512,
    )
    emu = Emulator(key=key, port=port, catalogue=(*DEFAULT_CATALOGUE, bench))
    emu.start()
    stop = asyncio.Event()

    async def wait() -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        await stop.wait()

    try:
        asyncio.run(wait())
    finally:
        emu.stop()


class BenchServer(EmulatorProcess):
    """`EmulatorProcess` running ``python -m bench.embeddings --serve`` (the bench deployment)."""

    def __init__(self, dims: int) -> None:
        super().__init__(key=BENCH_KEY)
        self.dims = dims

    @property
    def pid(self) -> int | None:
        """The server process id (None when not running)."""
        return self._proc.pid if self._proc is not None else None

    def _command(self) -> list[str]:
        return [sys.executable, "-m", "bench.embeddings", "--serve", "--port", str(self.port),
                "--key", self.key, "--dims", str(self.dims)]  # fmt: skip


# -- the subjects -------------------------------------------------------------------------------


@dataclass
class Timing:
    """Wall time of one run, with the CPU time this process and the server process spent."""

    wall: float = 0.0
    client_cpu: float = 0.0
    server_cpu: float = float("nan")
    count: int = 0

    @classmethod
    @contextlib.contextmanager
    def start(cls, server_cpu: Callable[[], float]) -> Iterator[Timing]:
        timing = cls()
        s0, c0, t0 = server_cpu(), time.process_time(), time.perf_counter()
        yield timing
        timing.wall = time.perf_counter() - t0
        timing.client_cpu = time.process_time() - c0
        timing.server_cpu = server_cpu() - s0


def process_cpu(pid: int | None) -> Callable[[], float]:
    """A probe of ``pid``'s CPU seconds (user + system), from /proc; NaN elsewhere."""

    def probe() -> float:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError, TypeError):
            return float("nan")

    return probe


class Subject:
    """One client: ``run(texts)`` embeds them all and returns the vectors."""

    name = ""
    ours = False

    def __init__(self, endpoint: str, key: str) -> None:
        self.endpoint = endpoint
        self.key = key

    def run(self, items: list[str]) -> list[list[float]]:
        raise NotImplementedError

    def timed(self, items: list[str], server_cpu: Callable[[], float]) -> Timing:
        """Warm up (imports, connections), then embed ``items`` and time it."""
        self.run(items[: 2 * LIMIT])
        gc.collect()
        with Timing.start(server_cpu) as timing:
            timing.count = len(self.run(items))
        return timing

    def close(self) -> None:
        """Release clients."""


class AsyncSubject(Subject):
    """Warm-up and timed run in ONE event loop (the deprecated classes cannot change loops)."""

    async def arun(self, items: list[str]) -> list[list[float]]:
        raise NotImplementedError

    async def aclose(self) -> None:
        """Release async clients."""

    def timed(self, items: list[str], server_cpu: Callable[[], float]) -> Timing:
        async def go() -> Timing:
            try:
                await self.arun(items[: 2 * LIMIT])
                gc.collect()
                with Timing.start(server_cpu) as timing:
                    timing.count = len(await self.arun(items))
                return timing
            finally:
                await self.aclose()

        return asyncio.run(go())


class OursLangChainSync(Subject):
    name = "ours: LangChain AzureInferenceEmbeddings.embed_documents"
    ours = True

    def __init__(self, endpoint: str, key: str) -> None:
        super().__init__(endpoint, key)
        from langchain_azureinfer import AzureInferenceEmbeddings

        self.model = AzureInferenceEmbeddings(model=DEPLOYMENT, endpoint=endpoint, credential=key)

    def run(self, items: list[str]) -> list[list[float]]:
        return self.model.embed_documents(items)

    def close(self) -> None:
        self.model.close()


class OursLangChainAsync(AsyncSubject, OursLangChainSync):
    name = "ours: LangChain AzureInferenceEmbeddings.aembed_documents"

    async def arun(self, items: list[str]) -> list[list[float]]:
        return await self.model.aembed_documents(items)

    async def aclose(self) -> None:
        await self.model.aclose()


class OursLlamaIndexSync(Subject):
    name = "ours: LlamaIndex AzureInferenceEmbedding.get_text_embedding_batch"
    ours = True

    def __init__(self, endpoint: str, key: str) -> None:
        super().__init__(endpoint, key)
        from llamaindex_azureinfer import AzureInferenceEmbedding

        self.model = AzureInferenceEmbedding(model=DEPLOYMENT, endpoint=endpoint, credential=key)

    def run(self, items: list[str]) -> list[list[float]]:
        return self.model.get_text_embedding_batch(items)

    def close(self) -> None:
        self.model.close()


class OursLlamaIndexAsync(AsyncSubject, OursLlamaIndexSync):
    name = "ours: LlamaIndex AzureInferenceEmbedding.aget_text_embedding_batch"

    async def arun(self, items: list[str]) -> list[list[float]]:
        return await self.model.aget_text_embedding_batch(items)

    async def aclose(self) -> None:
        await self.model.aclose()


class LangChainAzureAI(Subject):
    name = "langchain-azure-ai AzureAIEmbeddingsModel.embed_documents"

    def __init__(self, endpoint: str, key: str) -> None:
        super().__init__(endpoint, key)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from langchain_azure_ai.embeddings.inference import (  # type: ignore[import-untyped]
                AzureAIEmbeddingsModel,
            )

            self.model = AzureAIEmbeddingsModel(
                endpoint=endpoint, credential=key, model=DEPLOYMENT, embed_batch_size=LIMIT
            )

    def run(self, items: list[str]) -> list[list[float]]:
        return self.model.embed_documents(items)


class LangChainAzureAIAsync(AsyncSubject, LangChainAzureAI):
    name = "langchain-azure-ai AzureAIEmbeddingsModel.aembed_documents"

    async def arun(self, items: list[str]) -> list[list[float]]:
        return await self.model.aembed_documents(items)

    async def aclose(self) -> None:
        with contextlib.suppress(Exception):
            await self.model._async_client.close()


class LlamaIndexAzureInference(Subject):
    name = "llama-index-embeddings-azure-inference AzureAIEmbeddingsModel.get_text_embedding_batch"

    def __init__(self, endpoint: str, key: str) -> None:
        super().__init__(endpoint, key)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from llama_index.embeddings.azure_inference import AzureAIEmbeddingsModel

            self.model = AzureAIEmbeddingsModel(
                endpoint=endpoint, credential=key, model_name=DEPLOYMENT, embed_batch_size=LIMIT
            )

    def run(self, items: list[str]) -> list[list[float]]:
        return self.model.get_text_embedding_batch(items)


class LlamaIndexAzureInferenceAsync(AsyncSubject, LlamaIndexAzureInference):
    name = "llama-index-embeddings-azure-inference AzureAIEmbeddingsModel.aget_text_embedding_batch"

    async def arun(self, items: list[str]) -> list[list[float]]:
        return await self.model.aget_text_embedding_batch(items)

    async def aclose(self) -> None:
        with contextlib.suppress(Exception):
            await self.model._async_client.close()


class PlainHTTP(AsyncSubject):
    """The floor on this machine: bare aiohttp POSTs, 8 in flight, 96 texts each, base64
    vectors decoded with ``array`` (no SDK, no retries, no checks)."""

    name = "floor: plain aiohttp, 8 requests in flight, same batches"

    def __init__(self, endpoint: str, key: str) -> None:
        super().__init__(endpoint, key)
        self.session: Any = None

    async def arun(self, items: list[str]) -> list[list[float]]:
        import aiohttp

        if self.session is None:
            self.session = aiohttp.ClientSession()
        url = f"{self.endpoint}/embeddings?api-version=2024-05-01-preview"
        batches = [items[i : i + DEFAULT_BATCH] for i in range(0, len(items), DEFAULT_BATCH)]
        out: list[list[list[float]]] = [[] for _ in batches]
        todo = iter(range(len(batches)))

        async def worker() -> None:
            for i in todo:
                body = {"input": batches[i], "model": DEPLOYMENT, "encoding_format": "base64"}
                async with self.session.post(url, json=body, headers={"api-key": self.key}) as r:
                    data = await r.json()
                vectors = []
                for item in sorted(data["data"], key=lambda d: d["index"]):
                    floats = array("f")
                    floats.frombytes(base64.b64decode(item["embedding"]))
                    vectors.append(floats.tolist())
                out[i] = vectors

        await asyncio.gather(*(worker() for _ in range(DEFAULT_CONCURRENCY)))
        return [v for chunk in out for v in chunk]

    async def aclose(self) -> None:
        if self.session is not None:
            await self.session.close()


OURS: list[type[Subject]] = [
    OursLangChainSync, OursLangChainAsync, OursLlamaIndexSync, OursLlamaIndexAsync,
]  # fmt: skip
FLOOR: list[type[Subject]] = [PlainHTTP]
THEIRS: list[type[Subject]] = [
    LangChainAzureAI, LangChainAzureAIAsync, LlamaIndexAzureInference,
    LlamaIndexAzureInferenceAsync,
]  # fmt: skip
COUNTERPART: dict[type[Subject], type[Subject]] = {
    LangChainAzureAI: OursLangChainSync,
    LangChainAzureAIAsync: OursLangChainAsync,
    LlamaIndexAzureInference: OursLlamaIndexSync,
    LlamaIndexAzureInferenceAsync: OursLlamaIndexAsync,
}


# -- running ------------------------------------------------------------------------------------


def _measure(
    cls: type[Subject], endpoint: str, key: str, items: list[str], server_cpu: Callable[[], float]
) -> Timing:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        subject = cls(endpoint, key)
        try:
            timing = subject.timed(items, server_cpu)
        finally:
            subject.close()
    if timing.count != len(items):
        raise RuntimeError(f"{timing.count} vectors for {len(items)} texts")
    return timing


def run_benchmark(
    endpoint: str | None = None,
    key: str | None = None,
    emulator: Any = None,
    quick: bool = False,
    *,
    n: int | None = None,
    dims: int = 64,
    reps: int | None = None,
    theirs: bool = True,
) -> Table:
    """Run the comparison and return the table. ``bench.run`` calls this with its own emulator
    process; that one lacks the bench deployment, so a dedicated server is started here."""
    n = n if n is not None else (2_000 if quick else 20_000)
    reps = reps if reps is not None else (1 if quick else 2)
    items = texts(n)
    batches = math.ceil(n / DEFAULT_BATCH)
    ideal = batches / DEFAULT_CONCURRENCY * LATENCY
    walls: dict[str, list[Timing]] = {}
    errors: dict[str, str] = {}
    server = BenchServer(dims)
    with server:
        server.configure(latency=LATENCY)
        probe = process_cpu(server.pid)
        # Rounds: every client once per round, so load changes on the machine hit all alike;
        # speed-ups are taken within a round.
        plan = FLOOR + OURS + (THEIRS if theirs else [])
        for _ in range(reps):
            for cls in plan:
                if cls.name in errors:
                    continue
                try:
                    walls.setdefault(cls.name, []).append(
                        _measure(cls, server.endpoint, server.key, items, probe)
                    )
                except Exception as exc:
                    errors[cls.name] = short_error(exc)
                done = walls.get(cls.name)
                shown = f"{done[-1].wall:.2f} s" if done else errors.get(cls.name)
                print(f"  {cls.name}: {shown}", file=sys.stderr, flush=True)
    table = Table(
        f"5. Bulk embeddings: {n:,} short texts, {LATENCY * 1000:.0f} ms latency per request, "
        f"{LIMIT} inputs per request at most, {dims}-d vectors "
        f"(ideal {fmt_seconds(ideal)} = ceil({n}/{DEFAULT_BATCH}) / {DEFAULT_CONCURRENCY} x "
        f"{LATENCY * 1000:.0f} ms)",
        ["client", "wall time (median)", "ratio to ideal", "ratio to floor", "client CPU",
         "server CPU", "our speed-up vs it", "target"],
    )  # fmt: skip

    def med(name: str, attr: str) -> float:
        return median([getattr(t, attr) for t in walls.get(name, [])])

    floor = med(PlainHTTP.name, "wall")
    for cls in FLOOR + OURS + THEIRS:
        if cls.name not in walls and cls.name not in errors:
            continue
        if cls.name in errors:
            table.add(cls.name, errors[cls.name])
            continue
        wall = med(cls.name, "wall")
        cpu = (fmt_seconds(med(cls.name, "client_cpu")), fmt_seconds(med(cls.name, "server_cpu")))
        ratios = (fmt_ratio(wall, ideal), fmt_ratio(wall, floor))
        if cls in FLOOR:
            table.add(cls.name, fmt_seconds(wall), *ratios, *cpu, "", "")
        elif cls.ours:
            ok = wall / ideal <= 1.3
            table.add(cls.name, fmt_seconds(wall), *ratios, *cpu, "",
                      f"<= 1.3x ideal: {'met' if ok else 'MISSED'}")  # fmt: skip
        else:
            ours = walls.get(COUNTERPART[cls].name, [])
            pairs = zip(walls[cls.name], ours, strict=False)  # a failed run leaves fewer
            speedup = median([t.wall / o.wall for t, o in pairs])
            table.add(cls.name, fmt_seconds(wall), *ratios, *cpu,
                      f"{speedup:.1f}x vs {COUNTERPART[cls].name.split(': ', 1)[1]}",
                      f">= 5x: {'met' if speedup >= 5 else 'MISSED'}")  # fmt: skip
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    table.notes += [
        f"Server: the emulator in a separate process with deployment {DEPLOYMENT} "
        f"({LIMIT} inputs per request, {dims}-d vectors).",
        f"Ours at defaults (batch {DEFAULT_BATCH}, {DEFAULT_CONCURRENCY} requests in flight); "
        f"theirs with embed_batch_size={LIMIT} (their defaults exceed the limit or are smaller).",
        f"Wall times: median of {reps} round(s), each client run once per round after its own "
        "warm-up. Speed-up: median over rounds of their time / our time in the same round, "
        "against our class for the same framework and the same mode (sync or async).",
        "Floor: the same batches as bare aiohttp requests with no SDK, no retries and no checks:"
        " what this server and machine allow; ratio to floor is our clients' own overhead.",
        "Client / server CPU: seconds this process / the server process spent during the timed "
        f"run. When their sum nears the ideal the run is CPU-bound, not latency-bound; "
        f"{os.cpu_count()} CPUs here, load average {load:.1f} at the end.",
    ]
    return table


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.embeddings")
    parser.add_argument("--quick", action="store_true", help="2,000 texts, one run each")
    parser.add_argument("--n", type=int, default=None, help="number of texts (default 20,000)")
    parser.add_argument("--dims", type=int, default=64, help="vector size of the bench model")
    parser.add_argument("--reps", type=int, default=None, help="rounds (default 2; quick 1)")
    parser.add_argument("--ours-only", action="store_true", help="skip the other libraries")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--key", default=BENCH_KEY, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.port, args.key, args.dims)
        return 0
    table = run_benchmark(
        quick=args.quick, n=args.n, dims=args.dims, reps=args.reps, theirs=not args.ours_only
    )
    print(table.to_markdown())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
