"""Every notebook under notebooks/ runs top to bottom against the local emulator.

The endpoint variables are removed from the environment, so each notebook starts the emulator
in-process, as it would on a newcomer's machine without an Azure account. Each notebook has
assertion cells: executing it is the test.
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
def test_notebook_is_committed_clean(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "no code cells"
    for cell in code:
        assert cell.outputs == [], f"committed outputs in cell: {cell.source[:60]!r}"
        assert cell.execution_count is None
    sources = "\n".join(c.source for c in code)
    assert any(line.lstrip().startswith("assert ") for line in sources.splitlines())
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
