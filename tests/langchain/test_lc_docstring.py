"""The examples in ChatAzureInference's class docstring run, in order, against the emulator."""

from __future__ import annotations

import re
import textwrap

import pytest

from azureinfer.emulator import Emulator
from langchain_azureinfer import ChatAzureInference

_FENCE = re.compile(r"```python\n(.*?)```", re.DOTALL)


def docstring_examples() -> list[str]:
    doc = ChatAzureInference.__doc__ or ""
    return [textwrap.dedent(block) for block in _FENCE.findall(doc)]


def test_docstring_has_the_langchain_sections() -> None:
    doc = ChatAzureInference.__doc__ or ""
    for section in (
        "Setup",
        "Key init args — completion params",
        "Key init args — client params",
        "Instantiate",
        "Invoke",
        "Stream",
        "Async",
        "Tool calling",
        "Structured output",
        "Image input",
        "Token usage",
        "Response metadata",
    ):
        assert f'"{section}"' in doc, section
    assert len(docstring_examples()) == 9


def test_docstring_examples_run(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AZURE_INFERENCE_ENDPOINT", emu.endpoint)
    monkeypatch.setenv("AZURE_INFERENCE_CREDENTIAL", emu.key)
    namespace: dict[str, object] = {"__name__": "docstring_example"}
    for source in docstring_examples():
        exec(compile(source, "<ChatAzureInference docstring>", "exec"), namespace)
    out = capsys.readouterr().out
    assert "I love programming." in out
    assert "'name': 'GetWeather'" in out
    assert "input_tokens" in out
    assert "model_name" in out
