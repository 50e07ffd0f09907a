"""Run every README python block and notebook with only what ``pip install ".[all]"`` installs.

``.ci/run`` calls this in a fresh virtual environment (no ``--system-site-packages``, no test
extra), so an import that only the test extra provides fails here as it would for a reader.
It needs nothing but the standard library and ``.[all]``: notebooks run as their code cells in
order in one namespace (no Jupyter; top-level ``await`` runs in ``asyncio.run``); the
``test_*`` functions a README block defines are called with a running emulator; compile-only
blocks are compiled. Exit status 1 names what failed.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import json
import os
import re
import sys
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(
    r"(?:<!--\s*readme-test:\s*(?P<mode>[\w-]+)[^>]*-->\s*\n)?```python\n(?P<code>.*?)^```",
    re.S | re.M,
)


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

    failures = []
    with Emulator() as emu:
        for where, mode, code in sources():
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
    if failures:
        print(f"{len(failures)} failed with only .[all] installed: {', '.join(failures)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
