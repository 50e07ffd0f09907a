"""`python -m azureinfer demo` runs to the end, as the README's first command promises."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENDPOINT_VARS = (
    "AZURE_INFERENCE_ENDPOINT",
    "AZURE_INFERENCE_CREDENTIAL",
    "AZURE_AI_INFERENCE_ENDPOINT",
    "AZURE_AI_INFERENCE_CREDENTIAL",
)


def _run_demo(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ENDPOINT_VARS}
    clean.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "azureinfer", "demo", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )


def test_demo_runs_every_step_against_the_local_emulator() -> None:
    proc = _run_demo()
    out = proc.stdout
    assert proc.returncode == 0, f"demo failed:\n{out}\n{proc.stderr}"
    assert "LOCAL EMULATOR" in out
    assert "rule-based, not a language model" in out
    for step in range(1, 8):
        assert f"\n== {step}. " in out, f"step {step} missing:\n{out}"
    assert "skipping" not in out
    assert "retrieved: returns" in out
    assert "tool call: order_status" in out
    assert "Ticket(order_id=4521" in out
    assert out.rstrip().endswith("Demo finished.")


def test_demo_talks_to_the_endpoint_named_by_the_environment(azure_inference_emulator: Any) -> None:
    emu = azure_inference_emulator
    proc = _run_demo(
        "--only",
        "sdk",
        env={"AZURE_INFERENCE_ENDPOINT": emu.endpoint, "AZURE_INFERENCE_CREDENTIAL": emu.key},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"Talking to YOUR endpoint {emu.endpoint}" in proc.stdout
    assert "LOCAL EMULATOR" not in proc.stdout
    assert emu.key not in proc.stdout + proc.stderr
    chats = emu.requests_for("chat")
    assert len(chats) == 1
    assert chats[0].body["model"] == "gpt-4o"


def test_demo_rejects_an_unknown_part() -> None:
    proc = _run_demo("--only", "nonsense")
    assert proc.returncode == 2
    assert "invalid choice: 'nonsense'" in proc.stderr


def test_demo_names_the_variable_to_set_for_a_missing_deployment(
    azure_inference_emulator: Any,
) -> None:
    emu = azure_inference_emulator
    proc = _run_demo(
        "--only",
        "sdk",
        env={
            "AZURE_INFERENCE_ENDPOINT": emu.endpoint,
            "AZURE_INFERENCE_CREDENTIAL": emu.key,
            "AZUREINFER_CHAT_MODEL": "no-such-deployment",
        },
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "no such deployment" in proc.stdout
    assert "AZUREINFER_CHAT_MODEL" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_demo_says_why_it_uses_the_emulator_when_one_variable_is_missing() -> None:
    proc = _run_demo("--only", "sdk", env={"AZURE_INFERENCE_ENDPOINT": "https://example.invalid"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "AZURE_INFERENCE_CREDENTIAL is not" in proc.stdout
    assert "LOCAL EMULATOR" in proc.stdout


@pytest.mark.parametrize(
    ("model", "lacking"),
    [
        ("phi-4", {2: "system messages", 4: "tool calling", 5: "tool calling", 6: "system"}),
        ("deepseek-r1", {4: "tool calling", 5: "tool calling"}),
        ("text-embedding-3-small", dict.fromkeys(range(1, 8), "chat (it is not a chat")),
    ],
)
def test_each_step_the_deployment_cannot_do_is_skipped_in_one_line(
    model: str, lacking: dict[int, str]
) -> None:
    proc = _run_demo(env={"AZUREINFER_CHAT_MODEL": model})
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert "Traceback" not in proc.stderr
    steps = re.split(r"\n== (\d)\. ", out)[1:]
    bodies = dict(zip((int(n) for n in steps[::2]), steps[1::2], strict=True))
    assert sorted(bodies) == list(range(1, 8))
    for number, body in bodies.items():
        assert "(needs: " in body.splitlines()[0]
        skips = [line for line in body.splitlines() if line.startswith("skipped: ")]
        if number in lacking:
            assert skips == [skips[0]] and f"{model!r} lacks {lacking[number]}" in skips[0], body
        else:
            assert skips == [], body
    assert out.rstrip().endswith(
        f"Demo finished ({len(lacking)} step(s) skipped: see AZUREINFER_CHAT_MODEL)."
    )
