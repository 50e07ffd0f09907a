"""Side-by-side benchmarks: our adapters vs the raw SDK vs the existing integrations.

Run from the repository root::

    python -m bench                 # every scenario (~7-10 minutes on 2 cores)
    python bench/run.py             # the same
    python -m bench --quick         # tiny sizes (about a minute): proves the harness works
    python -m bench --only 1,6      # scenarios by number or name (overhead, stream, tools, async,
                                    # embeddings, import, memory, ray, v1, tracing)
    python -m bench --output out.md # also write the tables to a Markdown file
    python -m bench --memory-all    # scenario 7 also for the existing integrations (slow)

The local endpoint (``python -m azureinfer.emulator``) runs in a separate process on a free port;
each scenario configures it (latency, chunk size, scripted replies) over its HTTP control API.
Every figure is a median over repetitions, after warm-up. Clients are interleaved round by round so
that noise from other processes on the machine hits them alike.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

if __package__ in (None, ""):  # `python bench/run.py`: make the repository root importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import _memory
from bench._harness import (
    EmulatorProcess,
    Table,
    fmt_ratio,
    fmt_seconds,
    median,
    short_error,
    time_each,
)
from bench._subjects import (
    CHAT_MODEL,
    CHAT_SUBJECTS,
    EXPECTED_TOOL_CALLS,
    REFERENCE_SUBJECTS,
    TOOL_CALLS,
    RawSDK,
    Subject,
)
from bench.tracing import scenario_tracing


@dataclass(frozen=True)
class Config:
    """Sizes of one run; ``--quick`` shrinks everything."""

    quick: bool
    overhead_calls: int = 1000
    overhead_rounds: int = 40
    overhead_warmup: int = 50
    stream_chunks: int = 1000
    stream_reps: int = 15
    tool_reps: int = 30
    tool_chunk_size: int = 4
    async_calls: int = 500
    async_concurrency: int = 50
    async_latency: float = 0.020
    async_reps: int = 5
    import_runs: int = 7
    memory_texts: int = 100_000
    #: Also measure the existing integrations in scenario 7 (minutes each at 100,000 texts).
    memory_all: bool = False

    @classmethod
    def make(cls, quick: bool, memory_all: bool = False) -> Config:
        if not quick:
            return cls(quick=False, memory_all=memory_all)
        return cls(
            quick=True,
            memory_all=memory_all,
            overhead_calls=40,
            overhead_rounds=2,
            overhead_warmup=3,
            stream_chunks=200,
            stream_reps=2,
            tool_reps=2,
            async_calls=100,
            async_concurrency=50,
            async_reps=1,
            import_runs=1,
            memory_texts=2_000,
        )


def _quiet() -> None:
    """Keep third-party deprecation chatter out of the tables."""
    warnings.simplefilter("ignore")


def _build(
    classes: Sequence[type[Subject]], emu: EmulatorProcess
) -> tuple[list[Subject], dict[str, str]]:
    """Instantiate what is installed; map the others' names to why they are missing."""
    ready: list[Subject] = []
    missing: dict[str, str] = {}
    for cls in classes:
        try:
            ready.append(cls(emu.endpoint, emu.key))
        except Exception as exc:
            missing[cls.name] = f"unavailable ({short_error(exc)})"
    return ready, missing


def _target(ratio: float, limit: float) -> str:
    if ratio != ratio:
        return ""
    return f"{'met' if ratio <= limit else 'MISSED'} (<= {limit:.2f}x)"


def _signed(seconds: float) -> str:
    if seconds != seconds:
        return ""
    return ("+" if seconds >= 0 else "-") + fmt_seconds(abs(seconds))


def _is_ours(name: str) -> bool:
    return name.startswith("ours")


# -- 1. per-call overhead --------------------------------------------------------------------


def scenario_overhead(emu: EmulatorProcess, cfg: Config) -> Table:
    """Sequential short chat calls at zero server latency."""
    emu.clear()
    classes = [*REFERENCE_SUBJECTS, *CHAT_SUBJECTS]
    subjects, missing = _build(classes, emu)
    per_round = max(1, cfg.overhead_calls // cfg.overhead_rounds)
    times: dict[str, list[float]] = {s.name: [] for s in subjects}
    cpu: dict[str, list[float]] = {s.name: [] for s in subjects}
    errors: dict[str, str] = dict(missing)
    for s in subjects:
        try:
            s.invoke()  # fail fast before warming up
            time_each(s.invoke, cfg.overhead_warmup)
        except Exception as exc:
            errors[s.name] = short_error(exc)
    live = [s for s in subjects if s.name not in errors]
    for _ in range(cfg.overhead_rounds):
        for s in live:
            if s.name in errors:
                continue
            try:
                c0 = time.process_time()
                times[s.name] += time_each(s.invoke, per_round)
                cpu[s.name].append((time.process_time() - c0) / per_round)
            except Exception as exc:
                errors[s.name] = short_error(exc)
    for s in subjects:
        s.close()

    table = Table(
        f"1. Per-call overhead: {per_round * cfg.overhead_rounds} sequential chat calls, "
        "zero server latency",
        ["client", "median per call", "added vs SDK", "ratio to SDK", "client CPU per call",
         "CPU ratio to SDK", "target (wall)"],
    )  # fmt: skip
    base = median(times.get(RawSDK.name, []))
    base_cpu = median(cpu.get(RawSDK.name, []))
    for cls in classes:
        name = cls.name
        if name in errors:
            table.add(name, errors[name])
            continue
        med = median(times[name])
        ratio = med / base if base == base and base else float("nan")
        added_text = _signed(med - base) if cls in CHAT_SUBJECTS[1:] else ""
        target = _target(ratio, 1.10) if _is_ours(name) else ""
        cpu_med = median(cpu[name])
        table.add(
            name,
            fmt_seconds(med),
            added_text,
            fmt_ratio(med, base),
            fmt_seconds(cpu_med),
            fmt_ratio(cpu_med, base_cpu),
            target,
        )
    table.notes.append(
        "Wall: median over all calls. Client CPU: process CPU time of the client per call (median "
        "over rounds); the server runs in another process, so this is the library's own cost and "
        "is little affected by other load on the machine."
    )
    return table


# -- 2. streaming ----------------------------------------------------------------------------


def scenario_stream(emu: EmulatorProcess, cfg: Config) -> Table:
    """A long streamed reply, one character per chunk."""
    emu.clear()
    emu.configure(chunk_size=1)
    content = ("abcdefghij" * (cfg.stream_chunks // 10 + 1))[: cfg.stream_chunks]
    subjects, missing = _build(CHAT_SUBJECTS, emu)
    errors: dict[str, str] = dict(missing)
    ttfc: dict[str, list[float]] = {s.name: [] for s in subjects}
    total: dict[str, list[float]] = {s.name: [] for s in subjects}
    cpu: dict[str, list[float]] = {s.name: [] for s in subjects}
    chunks: dict[str, int] = {}

    def one(s: Subject) -> None:
        emu.script_reply(CHAT_MODEL, content=content)
        first: list[float] = []
        c0 = time.process_time()
        t0 = time.perf_counter()
        n = s.stream(lambda: first.append(time.perf_counter()))
        t1 = time.perf_counter()
        cpu[s.name].append(time.process_time() - c0)
        chunks[s.name] = n
        ttfc[s.name].append((first[0] if first else t1) - t0)
        total[s.name].append(t1 - t0)

    for rep in range(cfg.stream_reps + 1):  # rep 0 is the warm-up
        for s in subjects:
            if s.name in errors:
                continue
            try:
                one(s)
            except Exception as exc:
                errors[s.name] = short_error(exc)
                emu.clear()
                emu.configure(chunk_size=1)
            if rep == 0:
                ttfc[s.name].clear()
                total[s.name].clear()
                cpu[s.name].clear()
    for s in subjects:
        s.close()

    table = Table(
        f"2. Streaming a {cfg.stream_chunks}-chunk reply ({cfg.stream_reps} repetitions)",
        [
            "client",
            "text chunks received",
            "time to first chunk",
            "total",
            "total ratio to SDK",
            "client CPU",
            "CPU ratio to SDK",
            "target (wall)",
        ],
    )
    base = median(total.get(RawSDK.name, []))
    base_cpu = median(cpu.get(RawSDK.name, []))
    for cls in CHAT_SUBJECTS:
        name = cls.name
        if name in errors:
            table.add(name, errors[name])
            continue
        med = median(total[name])
        ratio = med / base if base == base and base else float("nan")
        target = _target(ratio, 1.10) if _is_ours(name) else ""
        table.add(
            name,
            chunks.get(name, 0),
            fmt_seconds(median(ttfc[name])),
            fmt_seconds(med),
            fmt_ratio(med, base),
            fmt_seconds(median(cpu[name])),
            fmt_ratio(median(cpu[name]), base_cpu),
            target,
        )
    return table


# -- 3. tool-call streaming ------------------------------------------------------------------


def scenario_tools(emu: EmulatorProcess, cfg: Config) -> Table:
    """Three parallel tool calls streamed in small fragments, parsed at the end."""
    emu.clear()
    emu.configure(chunk_size=cfg.tool_chunk_size)
    subjects, missing = _build(CHAT_SUBJECTS, emu)
    errors: dict[str, str] = dict(missing)
    times: dict[str, list[float]] = {s.name: [] for s in subjects}
    cpu: dict[str, list[float]] = {s.name: [] for s in subjects}
    verdict: dict[str, str] = {}

    for rep in range(cfg.tool_reps + 1):
        for s in subjects:
            if s.name in errors:
                continue
            emu.script_reply(CHAT_MODEL, tool_calls=TOOL_CALLS, finish_reason="tool_calls")
            try:
                c0 = time.process_time()
                t0 = time.perf_counter()
                calls = s.stream_tool_calls()
                elapsed = time.perf_counter() - t0
                spent = time.process_time() - c0
            except Exception as exc:
                errors[s.name] = short_error(exc)
                emu.clear()
                emu.configure(chunk_size=cfg.tool_chunk_size)
                continue
            if calls == EXPECTED_TOOL_CALLS:
                verdict[s.name] = "yes (3 calls)"
            else:
                verdict[s.name] = f"NO: got {len(calls)} call(s)"
            if rep > 0:
                times[s.name].append(elapsed)
                cpu[s.name].append(spent)
    for s in subjects:
        s.close()

    n_args = sum(len(tc["function"]["arguments"]) for tc in TOOL_CALLS)
    table = Table(
        f"3. Tool-call streaming: 3 parallel calls, arguments in {cfg.tool_chunk_size}-character "
        f"fragments (~{n_args // cfg.tool_chunk_size} fragments), {cfg.tool_reps} repetitions",
        ["client", "complete parsed list", "time to parsed list", "ratio to SDK", "client CPU",
         "CPU ratio to SDK"],
    )  # fmt: skip
    base = median(times.get(RawSDK.name, []))
    base_cpu = median(cpu.get(RawSDK.name, []))
    for cls in CHAT_SUBJECTS:
        name = cls.name
        if name in errors:
            table.add(name, errors[name])
            continue
        med = median(times[name])
        cpu_med = median(cpu[name])
        table.add(
            name,
            verdict.get(name, ""),
            fmt_seconds(med),
            fmt_ratio(med, base),
            fmt_seconds(cpu_med),
            fmt_ratio(cpu_med, base_cpu),
        )
    table.notes.append(
        "Raw SDK row: fragments joined by index by hand, then json.loads() (the least work)."
    )
    return table


# -- 4. async concurrency --------------------------------------------------------------------


async def _async_batch(s: Subject, calls: int, concurrency: int) -> tuple[float, float]:
    """Warm up, then run ``calls`` at ``concurrency``; return (wall, client CPU) seconds."""
    sem = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with sem:
            await s.ainvoke()

    try:
        await asyncio.gather(*(one() for _ in range(concurrency)))  # warm-up: open connections
        c0 = time.process_time()
        t0 = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(calls)))
        return time.perf_counter() - t0, time.process_time() - c0
    finally:
        await s.aclose()


def scenario_async(emu: EmulatorProcess, cfg: Config) -> Table:
    """Many concurrent async calls against a server with fixed latency."""
    emu.clear()
    emu.configure(latency=cfg.async_latency)
    errors: dict[str, str] = {}
    classes = [REFERENCE_SUBJECTS[0], *CHAT_SUBJECTS]
    walls: dict[str, list[float]] = {cls.name: [] for cls in classes}
    cpu: dict[str, list[float]] = {cls.name: [] for cls in classes}
    for _ in range(cfg.async_reps):
        for cls in classes:
            if cls.name in errors:
                continue
            try:
                s = cls(emu.endpoint, emu.key)
            except Exception as exc:
                errors[cls.name] = f"unavailable ({short_error(exc)})"
                continue
            try:
                wall, spent = asyncio.run(_async_batch(s, cfg.async_calls, cfg.async_concurrency))
                walls[cls.name].append(wall)
                cpu[cls.name].append(spent)
            except Exception as exc:
                errors[cls.name] = short_error(exc)
            finally:
                s.close()

    ideal = math.ceil(cfg.async_calls / cfg.async_concurrency) * cfg.async_latency
    table = Table(
        f"4. Async concurrency: {cfg.async_calls} calls, {cfg.async_latency * 1000:.0f} ms server "
        f"latency, concurrency {cfg.async_concurrency} (ideal {fmt_seconds(ideal)})",
        ["client", "wall time (median)", "ratio to ideal", "ratio to plain HTTP", "ratio to SDK",
         "client CPU", "CPU ratio to SDK", "target (vs ideal)"],
    )  # fmt: skip
    base_cpu = median(cpu[RawSDK.name])
    base = median(walls[RawSDK.name])
    floor = median(walls[REFERENCE_SUBJECTS[0].name])
    for cls in classes:
        name = cls.name
        if name in errors:
            table.add(name, errors[name])
            continue
        med = median(walls[name])
        target = _target(med / ideal, 1.2) if _is_ours(name) else ""
        table.add(
            name,
            fmt_seconds(med),
            fmt_ratio(med, ideal),
            fmt_ratio(med, floor),
            fmt_ratio(med, base),
            fmt_seconds(median(cpu[name])),
            fmt_ratio(median(cpu[name]), base_cpu),
            target,
        )
    table.notes.append(
        "Ideal = ceil(calls / concurrency) x latency: the server's sleeps alone, no CPU anywhere. "
        "The plain-HTTP row (aiohttp, no SDK) is the floor this machine and server allow."
    )
    return table


# -- 5. bulk embeddings (helper E's benchmark) -----------------------------------------------


def scenario_embeddings(emu: EmulatorProcess, cfg: Config) -> Table:
    """Delegates to ``bench/embeddings.py``."""
    table = Table("5. Bulk embeddings", ["result"])
    try:
        embeddings = importlib.import_module("bench.embeddings")
    except Exception as exc:
        table.add(f"bench/embeddings.py unavailable ({short_error(exc)})")
        return table
    return embeddings_table(embeddings, emu, cfg)


def embeddings_table(module: Any, emu: EmulatorProcess, cfg: Config) -> Table:
    """Run helper E's benchmark function against our emulator and wrap its output."""
    run = getattr(module, "run_benchmark", None)
    table = Table("5. Bulk embeddings", ["result"])
    if run is None:
        table.add("bench/embeddings.py has no run_benchmark() yet")
        return table
    result = run(endpoint=emu.endpoint, key=emu.key, emulator=emu, quick=cfg.quick)
    if isinstance(result, Table):
        return result
    table.add(str(result))
    return table


# -- 6. import time --------------------------------------------------------------------------

_IMPORT_CHILD = """
import json, sys, time, warnings
warnings.simplefilter("ignore")
out = []
c0 = time.process_time()
t0 = time.perf_counter()
for stmt in json.loads(sys.argv[1]):
    exec(stmt)
    out.append(time.perf_counter() - t0)
out.append(time.process_time() - c0)
print(json.dumps(out))
"""

#: (group, label, statements measured cumulatively in one fresh process)
IMPORTS: list[tuple[str, str, list[str]]] = [
    ("langchain", "bare framework: from langchain_core.language_models import BaseChatModel", [
        "import langchain_core.language_models",
        "from langchain_core.language_models import BaseChatModel",
    ]),
    ("langchain", "ours: import langchain_azureinfer; from ... import ChatAzureInference", [
        "import langchain_azureinfer",
        "from langchain_azureinfer import ChatAzureInference",
    ]),
    ("langchain", "langchain-azure-ai: from ...chat_models.inference import "
     "AzureAIChatCompletionsModel", [
        "from langchain_azure_ai.chat_models.inference import AzureAIChatCompletionsModel",
    ]),
    ("llamaindex", "bare framework: from llama_index.core.llms import LLM", [
        "import llama_index.core.llms",
        "from llama_index.core.llms import LLM",
    ]),
    ("llamaindex", "ours: import llamaindex_azureinfer; from ... import AzureInference", [
        "import llamaindex_azureinfer",
        "from llamaindex_azureinfer import AzureInference",
    ]),
    ("llamaindex", "llama-index-llms-azure-inference: import AzureAICompletionsModel", [
        "from llama_index.llms.azure_inference import AzureAICompletionsModel",
    ]),
]  # fmt: skip


#: The repository root: children run ``python -m bench...`` from there.
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: Bytecode cache for the import children, outside the repository.
PYCACHE = os.path.join(tempfile.gettempdir(), "azureinfer-bench-pycache")


def _import_env() -> dict[str, str]:
    """Child environment where every module, ours included, loads from cached bytecode.

    With ``PYTHONDONTWRITEBYTECODE`` set (as on some CI machines and here), an editable install
    recompiles its own modules from source on every import while installed packages load their
    ``.pyc`` files; that would charge our packages for compilation that a user's install does
    once. A shared ``PYTHONPYCACHEPREFIX`` puts every package on the same footing.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = PYCACHE
    return env


def _time_import(stmts: list[str]) -> list[float] | str:
    proc = subprocess.run(
        [sys.executable, "-c", _IMPORT_CHILD, json.dumps(stmts)],
        capture_output=True,
        text=True,
        timeout=120,
        env=_import_env(),
    )
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return f"fails: {last[:100]}"
    times: list[float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return times


def scenario_import(emu: EmulatorProcess | None, cfg: Config) -> Table:
    """Import cost in fresh interpreters (in-process timer, so interpreter start-up is excluded)."""
    samples: dict[str, list[list[float]]] = {label: [] for _, label, _ in IMPORTS}
    errors: dict[str, str] = {}
    for _, label, stmts in IMPORTS:  # warm-up: fills the bytecode cache and the OS file cache
        got = _time_import(stmts)
        if isinstance(got, str):
            errors[label] = got
    for _ in range(cfg.import_runs):
        for _, label, stmts in IMPORTS:
            if label in errors:
                continue
            got = _time_import(stmts)
            if isinstance(got, str):
                errors[label] = got
            else:
                samples[label].append(got)

    table = Table(
        f"6. Import time (median of {cfg.import_runs} fresh processes)",
        ["import", "package import alone", "total (with first attribute access)",
         "added vs bare framework", "CPU time", "CPU added vs bare", "target"],
    )  # fmt: skip
    bare: dict[str, tuple[float, float]] = {}
    nan = float("nan")
    for group, label, stmts in IMPORTS:
        if label in errors:
            table.add(label, errors[label])
            continue
        meds = [median([s[i] for s in samples[label]]) for i in range(len(stmts))]
        cpu_med = median([s[-1] for s in samples[label]])
        total = meds[-1]
        if label.startswith("bare"):
            bare[group] = (total, cpu_med)
            table.add(label, fmt_seconds(meds[0]), fmt_seconds(total), "", fmt_seconds(cpu_med))
            continue
        bare_wall, bare_cpu = bare.get(group, (nan, nan))
        added, added_cpu = total - bare_wall, cpu_med - bare_cpu
        target = ""
        if _is_ours(label) and added_cpu == added_cpu:
            target = f"{'met' if added_cpu <= 0.15 else 'MISSED'} (CPU <= +150 ms)"
        table.add(
            label,
            fmt_seconds(meds[0]) if len(meds) > 1 else "",
            fmt_seconds(total),
            _signed(added),
            fmt_seconds(cpu_med),
            _signed(added_cpu),
            target,
        )
    table.notes.append(
        "Wall and CPU time spent inside the child's import statements (interpreter start-up "
        "excluded), after one warm-up process per row; every module loads from cached bytecode "
        f"({PYCACHE}). The target is judged on CPU time: on a busy machine the wall time "
        "mostly measures waiting for a core."
    )
    return table


# -- 7. memory -------------------------------------------------------------------------------

#: (label, module:function building the embedder in the child)
MEMORY_SUBJECTS: list[tuple[str, str]] = [
    ("ours: AzureInferenceEmbeddings (LangChain)", "ours_langchain"),
    ("ours: AzureInferenceEmbedding (LlamaIndex)", "ours_llamaindex"),
    ("langchain-azure-ai AzureAIEmbeddingsModel", "anchor_langchain"),
    ("llama-index-embeddings-azure-inference AzureAIEmbeddingsModel", "anchor_llamaindex"),
]


def scenario_memory(emu: EmulatorProcess, cfg: Config) -> Table:
    """Peak RSS of a fresh process embedding many texts."""
    emu.clear()
    table = Table(
        f"7. Memory: peak RSS while embedding {cfg.memory_texts:,} texts (fresh process each)",
        ["client", "RSS before embedding", "peak RSS", "peak - before", "vectors' own size",
         "wall time"],
    )  # fmt: skip
    for label, kind in MEMORY_SUBJECTS:
        if not (cfg.memory_all or _is_ours(label)):
            table.add(label, "not run (add --memory-all; minutes per client at this size)")
            continue
        proc = subprocess.run(
            [sys.executable, "-m", "bench._memory", kind, emu.endpoint, emu.key,
             str(cfg.memory_texts)],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=REPO_ROOT,
        )  # fmt: skip
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["?"])[-1]
            table.add(label, f"fails: {last[:100]}")
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        mb = 1024 * 1024
        table.add(
            label,
            f"{r['before'] / mb:.0f} MB",
            f"{r['peak'] / mb:.0f} MB",
            f"{(r['peak'] - r['before']) / mb:.0f} MB",
            f"{r['result_bytes'] / mb:.0f} MB",
            fmt_seconds(r["seconds"]),
        )
    table.notes.append(
        "Peak = the child's VmHWM; 'before' is taken after imports, the texts and a warm-up call. "
        "'Vectors' own size' is what the returned list of float lists occupies: the floor any "
        f"client returning Python lists must pay ({_memory.DIMENSIONS}-d vectors from "
        f"{_memory.MODEL})."
    )
    return table


# -- 8. Ray ----------------------------------------------------------------------------------


def scenario_ray(emu: EmulatorProcess, cfg: Config) -> Table:
    """`azureinfer.ray.embed_dataset` vs the quota's ideal and one process (bench/ray_embed.py)."""
    from bench import ray_embed

    return ray_embed.table(emu, 2_000 if cfg.quick else 20_000)


# -- driver ----------------------------------------------------------------------------------

SCENARIOS: list[tuple[str, Callable[[Any, Config], Table]]] = [
    ("overhead", scenario_overhead),
    ("stream", scenario_stream),
    ("tools", scenario_tools),
    ("async", scenario_async),
    ("embeddings", scenario_embeddings),
    ("import", scenario_import),
    ("memory", scenario_memory),
    ("ray", scenario_ray),
    ("v1", lambda emu, cfg: importlib.import_module("bench.v1").scenario_v1(emu, cfg)),
    ("tracing", scenario_tracing),
]


def _select(only: str | None) -> list[tuple[str, Callable[[Any, Config], Table]]]:
    if not only:
        return SCENARIOS
    chosen = []
    for token in only.split(","):
        token = token.strip().lower()
        for i, (name, fn) in enumerate(SCENARIOS, start=1):
            if token in (str(i), name):
                chosen.append((name, fn))
                break
        else:
            names = ", ".join(f"{i} {n}" for i, (n, _) in enumerate(SCENARIOS, start=1))
            raise SystemExit(f"unknown scenario {token!r}; choose from: {names}")
    return chosen


def machine_summary() -> str:
    """Date, CPU count and model, Python, OS: the header of every results file."""
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (
        f"- date: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}\n"
        f"- machine: {os.cpu_count()} CPUs (nproc), {cpu}, {platform.system()} "
        f"{platform.release()}\n"
        f"- python: {platform.python_version()} ({sys.executable})\n"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m bench``."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (seconds)")
    parser.add_argument("--only", help="comma-separated scenario numbers or names")
    parser.add_argument("--output", help="also write the Markdown tables to this file")
    parser.add_argument(
        "--memory-all",
        action="store_true",
        help="scenario 7 also for the existing integrations (slow)",
    )
    args = parser.parse_args(argv)
    _quiet()
    chosen = _select(args.only)

    command = " ".join(["python -m bench", *(sys.argv[1:] if argv is None else argv)])
    header = machine_summary() + f"- command: `{command.strip()}`\n"
    print(header, flush=True)
    parts = [header]
    t_start = time.perf_counter()
    with EmulatorProcess() as emu:
        for name, fn in chosen:
            t0 = time.perf_counter()
            try:
                table = fn(emu, Config.make(args.quick, args.memory_all))
            except Exception as exc:
                table = Table(name, ["result"])
                table.add(f"scenario crashed: {short_error(exc)}")
            table.notes.append(f"scenario time: {time.perf_counter() - t0:.1f} s")
            text = table.to_markdown()
            print(text, flush=True)
            parts.append(text)
    footer = f"Total run time: {time.perf_counter() - t_start:.0f} s\n"
    print(footer)
    parts.append(footer)
    if args.output:
        with open(args.output, "w") as f:
            f.write("\n".join(parts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
