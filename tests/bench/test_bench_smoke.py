"""The benchmark harness runs end to end in --quick mode (a smoke test: it asserts no timings)."""

from __future__ import annotations

import pytest

from bench.run import main

# Real (tiny) benchmark runs: the suite's 120 s hang guard is too short for them on a busy machine.
pytestmark = pytest.mark.timeout(600)


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


def test_quick_tracing_scenario_prints_every_mode(capsys: pytest.CaptureFixture[str]) -> None:
    from azureinfer import _telemetry

    assert main(["--quick", "--only", "tracing"]) == 0
    out = capsys.readouterr().out
    assert "### 10. Tracing cost per call" in out and "scenario crashed" not in out
    for mode in ("no hook", "tracing off", "no-op providers", "SDK + in-memory exporter"):
        rows = [line for line in out.splitlines() if line.startswith(f"| {mode}")]
        assert len(rows) == 1, rows
        assert "n/a" not in rows[0] and "Error" not in rows[0], rows
    assert _telemetry.HOOK is None  # the scenario uninstruments when it is done


def test_v1_scenario_runs_our_clients_on_the_v1_route() -> None:
    """Scenario 9 at toy sizes, our clients only (the openai-SDK ones need the bench extra, and
    leave sockets of a closed event loop behind, which this suite's warnings-as-errors refuses)."""
    from bench._harness import EmulatorProcess
    from bench.run import Config
    from bench.v1 import OurCore, OurLangChainV1, scenario_v1

    cfg = Config.make(quick=True)
    tiny = Config(
        quick=True, overhead_calls=4, overhead_rounds=2, overhead_warmup=1,
        stream_chunks=20, stream_reps=1,
    )  # fmt: skip
    assert tiny.stream_chunks < cfg.stream_chunks
    with EmulatorProcess() as emu:
        table = scenario_v1(emu, tiny, [OurCore, OurLangChainV1])
    rows = {row[0]: row for row in table.rows}
    for name in ("ours: core ChatClient", "ours: ChatAzureInference"):
        assert rows[name][1].endswith(("us", "ms")), rows[name]  # sync per call
        assert rows[name][8] == "yes", rows[name]  # async works in a second event loop
