"""The README's Ray example and the example script run, on the session's cluster.

The README block is marked compile-only for `tests/docs` (it starts a cluster); it runs here,
verbatim, with ``ray.init`` a no-op because the cluster already runs, against the emulator
through ``AZURE_INFERENCE_ENDPOINT`` / ``AZURE_INFERENCE_CREDENTIAL`` as every README example.
"""

from __future__ import annotations

import re
import runpy
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

ROOT = Path(__file__).resolve().parents[2]
HEADING = "## Embedding a large corpus on Ray"


def _first_block() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index(HEADING) :]
    match = re.search(r"```python\n(.*?)^```", section, re.S | re.M)
    assert match is not None
    return match.group(1)


@pytest.fixture
def endpoint(emu: Any, ray_cluster: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    monkeypatch.setenv("AZURE_INFERENCE_ENDPOINT", emu.endpoint)
    monkeypatch.setenv("AZURE_INFERENCE_CREDENTIAL", emu.key)
    monkeypatch.setattr(ray_cluster, "init", lambda *args, **kwargs: None)
    monkeypatch.chdir(tmp_path)
    return emu


def test_the_readme_example_writes_parquet(endpoint: Any, tmp_path: Path) -> None:
    code = _first_block()
    assert "ray.init()" in code and "write_parquet" in code
    exec(compile(code, "README.md", "exec"), {"__name__": "__readme__"})
    table = pq.read_table(tmp_path / "handbook_embedded")
    assert sorted(table.column("id").to_pylist()) == list(range(1_000))
    assert {len(v) for v in table.column("embedding").to_pylist()} == {1536}
    sent = [
        t for r in endpoint.requests_for("embeddings") if r.status == 200 for t in r.body["input"]
    ]
    assert sorted(sent) == sorted(table.column("text").to_pylist())


def test_the_example_script_runs(endpoint: Any, tmp_path: Path) -> None:
    script = runpy.run_path(str(ROOT / "examples" / "ray_embed_corpus.py"))
    result = script["main"](["--output", "out", "--demo-rows", "300", "--actors", "1"])
    assert (result.rows, result.failed_rows, result.rate_limited) == (300, 0, 0)
    assert pq.read_table(tmp_path / "out").num_rows == 300
