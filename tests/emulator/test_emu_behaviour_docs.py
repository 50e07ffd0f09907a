"""docs/emulator.md stays true: its catalogue table matches the code and its examples run."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from azureinfer.emulator import Emulator
from azureinfer.emulator._behaviour import count_tokens
from azureinfer.emulator._catalogue import DEFAULT_CATALOGUE
from azureinfer.emulator._state import Settings

DOC = (Path(__file__).parents[2] / "docs" / "emulator.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", DOC, re.S)


def _table_rows(heading: str) -> list[list[str]]:
    section = DOC.split(heading, 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[1:]]


def test_catalogue_table_matches_the_code() -> None:
    rows = _table_rows("## The default catalogue")
    documented = [(r[0].strip("`"), r[2].split(" / ")[0].strip("`")) for r in rows]
    assert documented == [(d.name, d.model_name) for d in DEFAULT_CATALOGUE]
    providers = [r[2].split(" / ")[1] for r in rows]
    assert providers == [d.provider for d in DEFAULT_CATALOGUE]


def test_settings_table_names_every_setting() -> None:
    names: set[str] = set()
    for row in _table_rows("### Settings"):
        names.update(re.findall(r"`(\w+)`", row[0]))
    assert names == set(Settings.__dataclass_fields__)


def test_token_rule_example() -> None:
    assert '`"Hello, world!"` is 4 tokens' in DOC
    assert count_tokens("Hello, world!") == 4


def test_in_process_example_runs() -> None:
    block = next(b for b in BLOCKS if "with Emulator() as emu" in b)
    exec(compile(block, "docs/emulator.md", "exec"), {})


def test_custom_catalogue_example_runs() -> None:
    block = next(b for b in BLOCKS if "catalogue=" in b)
    block = block.replace("    ...", "    names = [d.name for d in emu.catalogue]")
    namespace: dict[str, Any] = {}
    exec(compile(block, "docs/emulator.md", "exec"), namespace)
    assert namespace["names"][-2:] == ["llama-3-70b", "gpt-4o-strict"]


@pytest.mark.parametrize(
    "marker", ["def test_my_chain", "emu.script_reply(", "emu.inject_fault(", "RemoteEmulator("]
)
def test_control_examples_run(azure_inference_emulator: Emulator, marker: str) -> None:
    emu = azure_inference_emulator
    block = next(b for b in BLOCKS if marker in b)
    block = block.replace("http://127.0.0.1:8765", emu.base_url)
    namespace: dict[str, Any] = {"emu": emu}
    if "ChatAzureInference" in block:
        from langchain_azureinfer import ChatAzureInference

        namespace["ChatAzureInference"] = ChatAzureInference
    if marker == "RemoteEmulator(":
        emu.script_reply(None, content="scripted")
        from azure.ai.inference import ChatCompletionsClient
        from azure.core.credentials import AzureKeyCredential

        with ChatCompletionsClient(emu.endpoint, AzureKeyCredential(emu.key)) as client:
            client.complete(messages=[{"role": "user", "content": "x"}], model="gpt-4o")
    exec(compile(block, "docs/emulator.md", "exec"), namespace)
    if "test_my_chain" in namespace:
        namespace["test_my_chain"](emu)
    emu.clear()
