"""Every notebook under notebooks/ runs top to bottom against the local emulator.

The endpoint variables are removed from the environment, so each notebook starts the emulator
in-process, as it would on a newcomer's machine without an Azure account. Each notebook's checks
are ``check(condition, "what it shows")`` lines that stop it when false: executing it is the
test. The notebooks are committed with the outputs of such a run.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
ENDPOINT_VARS = (
    "AZURE_INFERENCE_ENDPOINT",
    "AZURE_INFERENCE_CREDENTIAL",
    "AZURE_AI_INFERENCE_ENDPOINT",
    "AZURE_AI_INFERENCE_CREDENTIAL",
)
EXPECTED = {
    "01_langchain_quickstart",
    "02_rag",
    "03_agents",
    "04_compare_models",
}


def _printed(nb: Any) -> str:
    return "".join(
        out.get("text", "")
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.get("output_type") == "stream"
    )


def test_the_four_notebooks_exist() -> None:
    assert {p.stem for p in NOTEBOOKS} == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_with_its_outputs_from_the_emulator(path: Path) -> None:
    # Committed executed top to bottom against the local emulator, so it reads as a tutorial on
    # GitHub; its checks are check(condition, "what it shows") lines that print what they prove.
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "no code cells"
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), "not run in order"
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    printed = _printed(nb)
    assert "LOCAL EMULATOR" in printed and "Traceback" not in printed
    assert "\u2713 " in printed  # the checks printed what they show
    sources = "\n".join(c.source for c in code)
    assert "check(" in sources and not re.search(r"^\s*assert ", sources, re.M)
    # No secrets: a key is only ever read from the environment or from the local emulator.
    assert not re.search(r"credential\s*=\s*['\"]", sources)
    assert not re.search(r"[A-Za-z0-9]{32,}", json.dumps([c.source for c in nb.cells]))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_against_the_local_emulator(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ENDPOINT_VARS:
        monkeypatch.delenv(var, raising=False)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=120,
        startup_timeout=120,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    printed = _printed(nb)
    assert "LOCAL EMULATOR" in printed
    assert "rule-based" in printed


def test_notebook_uses_the_endpoint_named_by_the_environment(
    azure_inference_emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the two variables set, a notebook talks to that endpoint and starts no emulator."""
    emu = azure_inference_emulator
    monkeypatch.setenv("AZURE_INFERENCE_ENDPOINT", emu.endpoint)
    monkeypatch.setenv("AZURE_INFERENCE_CREDENTIAL", emu.key)
    path = ROOT / "notebooks" / "01_langchain_quickstart.ipynb"
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb,
        kernel_name="python3",
        timeout=120,
        startup_timeout=120,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    printed = _printed(nb)
    assert f"Using your endpoint {emu.endpoint}" in printed
    assert "LOCAL EMULATOR" not in printed
    assert emu.key not in printed
    assert len(emu.requests_for("chat")) >= 10
