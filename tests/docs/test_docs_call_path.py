"""The path of one call through our files is the one docs/internals.md section 4 writes down.

A profiler hook records every entry into a file of ours during one call against the local
endpoint: which file, which function, and which file of ours called it ("-" when the caller is
LangChain, LlamaIndex or azure-core). Two things are checked for each documented call:

- the files entered, in the order first entered, are the ones the section lists, in its order;
- no file of ours is entered twice from our own code (a call does not ping-pong between files).

``python tests/docs/test_docs_call_path.py`` prints the traced paths.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

import azureinfer
import langchain_azureinfer
import llamaindex_azureinfer
from azureinfer.emulator import Emulator

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "internals.md"
_PACKAGES = [
    Path(m.__file__).resolve().parent
    for m in (azureinfer, langchain_azureinfer, llamaindex_azureinfer)
]
_EMULATOR = Path(azureinfer.__file__).resolve().parent / "emulator"


def _ours(filename: str) -> str | None:
    path = Path(filename)
    if not path.is_absolute() or _EMULATOR in path.parents:
        return None
    for package in _PACKAGES:
        if package in path.parents:
            return path.relative_to(package.parent).as_posix()
    return None


Entry = tuple[str, str, str]  # (file, function, calling file of ours or "-")


def trace(call: Callable[[], Any], start: str) -> list[Entry]:
    """The entries into files of ours while ``call()`` runs, from the first entry into the
    function named ``start`` (the adapter's own method) on."""
    entries: list[Entry] = []
    started = False

    def hook(frame: FrameType, event: str, arg: Any) -> None:
        nonlocal started
        if event != "call":
            return
        here = _ours(frame.f_code.co_filename)
        if here is None:
            return
        caller = frame.f_back
        there = _ours(caller.f_code.co_filename) if caller is not None else None
        if there == here:
            return
        if not started:
            if frame.f_code.co_name != start:
                return
            started = True
        entries.append((here, frame.f_code.co_name, there or "-"))

    sys.setprofile(hook)
    try:
        call()
    finally:
        sys.setprofile(None)
    return entries


def documented_steps(title: str) -> list[list[str]]:
    """The files of ours each numbered step under ``title`` in docs/internals.md names."""
    text = DOC.read_text()
    section = text[text.index(title) :].split("\n\n", 2)[1]
    steps = re.split(r"^\d+\. ", section, flags=re.M)[1:]
    return [
        re.findall(
            r"`((?:azureinfer|langchain_azureinfer|llamaindex_azureinfer)/[\w/]+\.py)`", step
        )
        for step in steps
    ]


def steps_taken(entries: list[Entry], steps: list[list[str]]) -> list[int]:
    """The documented step of each file entry, in order, runs of one step counted once; a file
    no step names is a step of its own (-1), so the comparison fails on it."""
    step_of = {file: n for n, files in enumerate(steps) for file in files}
    taken: list[int] = []
    for file, _, _ in entries:
        step = step_of.get(file, -1)
        if not taken or taken[-1] != step:
            taken.append(step)
    return taken


def _chat_models(endpoint: str, key: str) -> tuple[Any, Any]:
    from langchain_azureinfer import ChatAzureInference
    from llamaindex_azureinfer import AzureInference

    lc = ChatAzureInference(endpoint=endpoint, credential=key, model="gpt-4o-mini")
    li = AzureInference(endpoint=endpoint, credential=key, model="gpt-4o-mini")
    return lc, li


def calls(endpoint: str, key: str) -> dict[str, tuple[Callable[[], Any], str]]:
    """Each documented call: what to run and the adapter method the path starts at."""
    from llama_index.core.llms import ChatMessage

    lc, li = _chat_models(endpoint, key)
    messages = [ChatMessage(role="user", content="hi")]
    lc.invoke("warm up")  # imports and the first connection are not the path of a call
    li.chat(messages)
    return {
        "A LangChain `invoke`": (lambda: lc.invoke("hi"), "_generate"),
        "A LlamaIndex `chat`": (lambda: li.chat(messages), "chat"),
    }


@pytest.mark.parametrize("title", ["A LangChain `invoke`", "A LlamaIndex `chat`"])
def test_a_call_takes_the_documented_path(title: str, emu: Emulator) -> None:
    run, start = calls(emu.v1_endpoint, emu.key)[title]
    entries = trace(run, start)
    steps = documented_steps(title)
    assert len(steps) == 5
    assert steps_taken(entries, steps) == list(range(len(steps))), entries
    assert {file for file, _, _ in entries} == {f for files in steps for f in files}, entries


@pytest.mark.parametrize("title", ["A LangChain `invoke`", "A LlamaIndex `chat`"])
def test_no_file_is_entered_twice_from_our_own_code(title: str, emu: Emulator) -> None:
    run, start = calls(emu.v1_endpoint, emu.key)[title]
    entries = trace(run, start)
    twice = {
        file: n
        for file, n in Counter(file for file, _, caller in entries if caller != "-").items()
        if n > 1
    }
    assert not twice, entries


if __name__ == "__main__":
    with Emulator() as server:
        for name, (run, start) in calls(server.v1_endpoint, server.key).items():
            print(f"== {name}")
            for file, function, caller in trace(run, start):
                print(f"   {file:40} {function:28} from {caller}")
