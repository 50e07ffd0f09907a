"""Where does a client's time go? cProfile over one scenario's calls, summed per source file.

``python -m bench._profile SUBJECT [invoke|stream|tools|ainvoke] [N]``, SUBJECT being a class
name from ``bench/_subjects.py``: ``RawSDK``, ``OurLangChain``, ``OurLlamaIndex``,
``AnchorLangChain``, ``AnchorLlamaIndex``. Prints the self time per package, per file of ours,
then the top functions by self time, so a missed target can be traced to a file.
"""

from __future__ import annotations

import asyncio
import cProfile
import pstats
import sys
import warnings
from collections import defaultdict

from bench import _subjects
from bench._harness import EmulatorProcess

_GROUPS = (
    ("azureinfer/emulator", "azureinfer.emulator"),
    ("langchain_azureinfer", "langchain_azureinfer"),
    ("llamaindex_azureinfer", "llamaindex_azureinfer"),
    ("azureinfer", "azureinfer (core)"),
    ("langchain_core", "langchain_core"),
    ("langsmith", "langsmith"),
    ("llama_index", "llama_index"),
    ("azure/ai/inference", "azure.ai.inference (SDK)"),
    ("azure/core", "azure.core"),
    ("pydantic", "pydantic"),
    ("requests", "requests"),
    ("urllib3", "urllib3"),
    ("http/client", "http.client"),
    ("aiohttp", "aiohttp"),
    ("asyncio", "asyncio"),
    ("json", "json"),
)


def _group(filename: str) -> str:
    for marker, label in _GROUPS:
        if marker in filename:
            return label
    if filename.startswith("~") or filename.startswith("<"):
        return "builtins/C"
    return "other"


def profile(subject: str, kind: str = "invoke", n: int = 300) -> str:
    """Run ``n`` calls of ``kind`` under cProfile; return the report as text."""
    warnings.simplefilter("ignore")
    cls = getattr(_subjects, subject)
    out: list[str] = []
    with EmulatorProcess() as emu:
        if kind == "stream":
            emu.configure(chunk_size=1)
        elif kind == "tools":
            emu.configure(chunk_size=4)
        elif kind == "ainvoke":
            emu.configure(latency=0.02)
        s = cls(emu.endpoint, emu.key)

        async def many(count: int) -> None:
            sem = asyncio.Semaphore(50)

            async def call() -> None:
                async with sem:
                    await s.ainvoke()

            await asyncio.gather(*(call() for _ in range(count)))

        async def async_run() -> cProfile.Profile:
            await many(50)
            prof = cProfile.Profile()
            prof.enable()
            await many(n)
            prof.disable()
            await s.aclose()
            return prof

        def one() -> None:
            if kind == "invoke":
                s.invoke()
            elif kind == "stream":
                emu.script_reply(_subjects.CHAT_MODEL, content="x" * 1000)
                s.stream(lambda: None)
            else:
                emu.script_reply(
                    _subjects.CHAT_MODEL,
                    tool_calls=_subjects.TOOL_CALLS,
                    finish_reason="tool_calls",
                )
                s.stream_tool_calls()

        if kind == "ainvoke":
            prof = asyncio.run(async_run())
        else:
            for _ in range(10):
                one()
            prof = cProfile.Profile()
            prof.enable()
            for _ in range(n):
                one()
            prof.disable()
        s.close()

    stats = pstats.Stats(prof)
    per_group: dict[str, float] = defaultdict(float)
    per_file: dict[str, float] = defaultdict(float)
    total = 0.0
    raw = stats.stats  # type: ignore[attr-defined]
    for (filename, _line, _fn), (_cc, _nc, tt, _ct, _callers) in raw.items():
        per_group[_group(filename)] += tt
        total += tt
        if "azureinfer" in filename:
            per_file[filename.split("/work/main/")[-1]] += tt
    out.append(f"{subject} {kind} x{n}: {total / n * 1e6:.0f} us profiled self time per call")
    out.append("self time per call, by package:")
    for label, tt in sorted(per_group.items(), key=lambda kv: -kv[1]):
        out.append(f"  {tt / n * 1e6:8.0f} us  {label}")
    if per_file:
        out.append("our files (self time per call):")
        for name, tt in sorted(per_file.items(), key=lambda kv: -kv[1]):
            out.append(f"  {tt / n * 1e6:8.0f} us  {name}")
    ours = [kv for kv in raw.items() if "azureinfer" in kv[0][0] and "emulator" not in kv[0][0]]
    if ours:
        out.append("our functions by self time (cumulative alongside):")
        for (filename, line, fn), (_cc, nc, tt, ct, _callers) in sorted(
            ours, key=lambda kv: -kv[1][2]
        )[:12]:
            where = filename.split("/work/main/")[-1]
            out.append(
                f"  {tt / n * 1e6:7.1f} us self {ct / n * 1e6:8.1f} us cum "
                f"{nc / n:6.1f} calls  {where}:{line} {fn}"
            )
    out.append("top functions by self time:")
    ranked = sorted(raw.items(), key=lambda kv: -kv[1][2])[:25]
    for (filename, line, fn), (_cc, nc, tt, ct, _callers) in ranked:
        where = filename.split("site-packages/")[-1].split("/work/main/")[-1]
        out.append(
            f"  {tt / n * 1e6:7.1f} us self {ct / n * 1e6:8.1f} us cum "
            f"{nc / n:6.1f} calls  {where}:{line} {fn}"
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """The command line (see the module docstring)."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m bench._profile",
        description="cProfile over one scenario's calls of one client, summed per source file.",
    )
    subjects = ["RawSDK", "OurLangChain", "OurLlamaIndex", "AnchorLangChain", "AnchorLlamaIndex"]
    parser.add_argument("subject", nargs="?", default="OurLangChain", choices=subjects)
    parser.add_argument(
        "kind", nargs="?", default="invoke", choices=["invoke", "stream", "tools", "ainvoke"]
    )
    parser.add_argument("n", nargs="?", type=int, default=300, help="calls (default 300)")
    args = parser.parse_args(argv)
    print(profile(args.subject, args.kind, args.n))
    return 0


if __name__ == "__main__":
    sys.exit(main())
