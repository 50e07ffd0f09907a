"""docs/reliability.md shows the fault matrix the tests actually run."""

from __future__ import annotations

from pathlib import Path

from rel_matrix import matrix_table

DOC = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"


def test_documented_matrix_is_the_tested_matrix() -> None:
    assert matrix_table() in DOC.read_text(encoding="utf-8"), (
        "docs/reliability.md's fault matrix differs from test_rel_faults.py: regenerate it with "
        "`python tests/reliability/rel_matrix.py`"
    )
