"""The examples in AzureInference's docstring run, in order, against the emulator."""

from __future__ import annotations

import re
import textwrap
from typing import Any

from llamaindex_azureinfer import AzureInference


def test_docstring_examples_run(
    azure_inference_emulator: Any, monkeypatch: Any, capsys: Any
) -> None:
    emu = azure_inference_emulator
    monkeypatch.setenv("AZURE_INFERENCE_ENDPOINT", emu.endpoint)
    monkeypatch.setenv("AZURE_INFERENCE_CREDENTIAL", emu.key)
    blocks = re.findall(r"```python\n(.*?)```", AzureInference.__doc__ or "", flags=re.S)
    assert len(blocks) == 3
    namespace: dict[str, Any] = {}
    for block in blocks:
        exec(compile(textwrap.dedent(block), "<AzureInference docstring>", "exec"), namespace)
    namespace["llm"].close()
    out = capsys.readouterr().out
    assert "Say hi" in out and "Count to three" in out
    assert "5" in out.splitlines()  # predict_and_call ran the tool
    bodies = [r.body for r in emu.requests_for("chat")]
    assert bodies[0]["temperature"] == 0.2 and bodies[0]["model"] == "gpt-4o"
    assert bodies[2]["tools"][0]["function"]["name"] == "add"
    assert bodies[3]["tools"][0]["function"]["name"] == "Song"
