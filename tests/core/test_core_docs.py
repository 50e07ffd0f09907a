"""The example in azureinfer's package docstring runs against the emulator."""

from __future__ import annotations

import re
import textwrap

import pytest

import azureinfer
from azureinfer.emulator import Emulator


def test_package_docstring_example_runs(
    azure_inference_emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    match = re.search(r"::\n\n(.*?)\n\s*$", azureinfer.__doc__ or "", re.S)
    assert match is not None
    monkeypatch.setenv("AZURE_INFERENCE_ENDPOINT", azure_inference_emulator.endpoint)
    monkeypatch.setenv("AZURE_INFERENCE_CREDENTIAL", azure_inference_emulator.key)
    exec(compile(textwrap.dedent(match.group(1)), "azureinfer docstring", "exec"), {})
    out = capsys.readouterr().out
    assert out.count("Emulated reply from gpt-4o: Hello!") == 2
    assert len(azure_inference_emulator.requests_for("chat")) == 2
