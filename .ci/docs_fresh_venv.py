"""Run every README python block and notebook with only what the README tells a reader to install.

``.ci/run`` calls this in a fresh virtual environment with only ``.[all]`` (no
``--system-site-packages``, no test extra), so an import that only the test extra provides fails
here as it would for a reader. A README section that names its own install line
(``pip install "azureinfer[langchain,ray]"``, ``pip install -e ".[tracing]" opentelemetry-sdk``:
`section_install`) has its blocks run last, after exactly that install.
It needs nothing but the standard library and ``.[all]``: notebooks run as their code cells in
order in one namespace (no Jupyter; top-level ``await`` runs in ``asyncio.run``); the
``test_*`` functions a README block defines are called with a running emulator; compile-only
blocks are compiled. Exit status 1 names what failed.
"""

from __future__ import annotations

import ast
import asyncio
import importlib
import inspect
import json
import os
import re
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(
    r"(?:<!--\s*readme-test:\s*(?P<mode>[\w-]+)[^>]*-->\s*\n)?```python\n(?P<code>.*?)^```",
    re.S | re.M,
)


INSTALL = re.compile(
    r'pip install (?:-e )?"?(?:azureinfer|\.)\[(?P<extras>[a-z,]+)\]"?(?P<more>(?: [\w.-]+)*)'
)


def section_install(text: str, offset: int) -> tuple[frozenset[str], tuple[str, ...]] | None:
    """The extras and other packages that the install line of the README section around
    ``offset`` names (None: the section names none; the top of the README's extras apply)."""
    start = text.rfind("\n## ", 0, offset)
    if start < 0:
        return None
    found = INSTALL.findall(text, start, offset)
    if not found:
        return None
    extras, more = found[-1]
    return frozenset(extras.split(",")), tuple(more.split())


def sources() -> list[tuple[str, str, str]]:
    """(where, mode, code) for each README block and notebook."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    out = [
        (f"README.md:{text.count(chr(10), 0, m.start('code')) + 1}", m["mode"] or "run", m["code"])
        for m in BLOCK.finditer(text)
    ]
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        out.append((f"notebooks/{path.name}", "run", code))
    return out


def main() -> int:
    from azureinfer.emulator import Emulator

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = text.split("\n")
    groups: dict[tuple[frozenset[str], tuple[str, ...]] | None, list[tuple[str, str, str]]] = {}
    for source in sources():
        where = source[0]
        install = None
        if where.startswith("README.md:"):
            line = int(where.split(":")[1])
            install = section_install(text, len("\n".join(lines[: line - 1])))
        groups.setdefault(install, []).append(source)
    failures = []
    with Emulator() as emu:
        for install, group in sorted(groups.items(), key=lambda kv: kv[0] is not None):
            if install is not None and any(mode == "run" for _, mode, _ in group):
                extras, more = install
                target = f"{ROOT}[{','.join(sorted(extras))}]"
                print(f"== pip install {target} {' '.join(more)}", flush=True)
                subprocess.run(
                    [sys.executable, "-m", "pip", "install", "--quiet", target, *more], check=True
                )
                importlib.invalidate_caches()
            _run(group, emu, failures)
    if failures:
        print(f"{len(failures)} failed with only what the README installs: {', '.join(failures)}")
        return 1
    return 0


def _run(group: list[tuple[str, str, str]], emu: Any, failures: list[str]) -> None:
    """Run (or compile) each source of ``group``, adding the failed ones to ``failures``."""
    for where, mode, code in group:
        try:
            # Notebooks await at top level, as Jupyter allows.
            compiled = compile(code, where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
            if mode == "compile-only":
                continue
            emu.clear()
            if where.startswith("README"):  # blocks read the endpoint from the environment
                os.environ["AZURE_INFERENCE_ENDPOINT"] = emu.endpoint
                os.environ["AZURE_INFERENCE_CREDENTIAL"] = emu.key
            else:  # notebooks start their own emulator when no endpoint is set
                os.environ.pop("AZURE_INFERENCE_ENDPOINT", None)
                os.environ.pop("AZURE_INFERENCE_CREDENTIAL", None)
            namespace: dict[str, object] = {"__name__": "__docs__"}
            result = eval(compiled, namespace)
            if inspect.iscoroutine(result):
                asyncio.run(result)
            for name, test in list(namespace.items()):
                if name.startswith("test_") and callable(test):
                    emu.clear()
                    test(azure_inference_emulator=emu)
            print(f"ok    {where}")
        except BaseException as exc:  # report every failure, then exit 1
            if isinstance(exc, KeyboardInterrupt):
                raise
            failures.append(where)
            print(f"FAIL  {where}: {type(exc).__name__}: {exc}")
            traceback.print_exc()


if __name__ == "__main__":
    sys.exit(main())
