"""The benchmark harness runs end to end in --quick mode (a smoke test: it asserts no timings)."""

from __future__ import annotations

import pytest

from bench.run import main


def test_quick_run_prints_a_table_per_scenario_with_the_raw_sdk_as_baseline(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--quick", "--only", "overhead,tools"]) == 0
    out = capsys.readouterr().out
    assert "scenario crashed" not in out
    assert "### 1. Per-call overhead" in out
    assert "### 3. Tool-call streaming" in out
    sdk_rows = [line for line in out.splitlines() if line.startswith("| raw SDK")]
    assert len(sdk_rows) == 2
    assert "1.00x" in sdk_rows[0]
    assert "yes (3 calls)" in sdk_rows[1]


def test_unknown_scenario_is_named_in_the_error() -> None:
    with pytest.raises(SystemExit, match="unknown scenario 'nope'"):
        main(["--only", "nope"])


def test_profile_help_lists_its_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    from bench._profile import main as profile_main

    with pytest.raises(SystemExit) as info:
        profile_main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "OurLangChain" in out and "ainvoke" in out and "``" not in out
    with pytest.raises(SystemExit) as info:
        profile_main(["NoSuchClient"])
    assert info.value.code == 2
    assert "invalid choice: 'NoSuchClient'" in capsys.readouterr().err
