"""The README's Python examples run, so the README cannot rot.

Convention (stated in the README): examples read the endpoint and key from
``AZURE_INFERENCE_ENDPOINT`` / ``AZURE_INFERENCE_CREDENTIAL``. Here those point at the local
emulator, and each ```` ```python ```` block runs in a fresh namespace, in this process (so
``filterwarnings=error`` also catches unclosed clients). A block preceded by
``<!-- readme-test: compile-only (reason) -->`` needs something the emulator cannot be (Entra ID
on a real tenant, a real Azure host): it is only compiled. Functions named ``test_*`` that a block
defines are called with the ``azure_inference_emulator`` fixture, as pytest would. Every block
runs on both routes (``route_endpoint``: the environment names the emulator's model-inference
endpoint, then its OpenAI/v1 endpoint) and its requests are checked against the route's wire.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
_BLOCK = re.compile(
    r"(?:<!--\s*readme-test:\s*(?P<mode>[\w-]+)[^>]*-->\s*\n)?```python\n(?P<code>.*?)^```",
    re.S | re.M,
)
_HEADING = re.compile(r"^#{2,4} (.+)$", re.M)
ROUTES = ("model_inference", "openai_v1")  # the params of the ``route_endpoint`` fixture


@dataclass(frozen=True)
class Block:
    heading: str
    line: int
    mode: str
    code: str


def _blocks() -> list[Block]:
    text = README.read_text(encoding="utf-8")
    blocks = []
    for match in _BLOCK.finditer(text):
        start = match.start("code")
        headings = [h.group(1) for h in _HEADING.finditer(text, 0, start)]
        blocks.append(
            Block(
                heading=headings[-1] if headings else "top",
                line=text.count("\n", 0, start) + 1,
                mode=match.group("mode") or "run",
                code=match.group("code"),
            )
        )
    return blocks


BLOCKS = _blocks()


def _id(block: Block) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", block.heading.lower()).strip("-")
    return f"L{block.line}-{slug}"


def _routes(block: Block) -> tuple[str, ...]:
    """Both routes for a block that reads the endpoint from the environment; the route of the
    endpoint a block picks itself (``emu.v1_endpoint`` / ``emu.endpoint``) otherwise."""
    if "Emulator()" in block.code or "emu.endpoint" in block.code:
        return ("openai_v1",) if "v1_endpoint" in block.code else ("model_inference",)
    if "v1_endpoint" in block.code:
        return ("openai_v1",)
    return ROUTES


RUNS = [
    pytest.param(block, route, id=f"{route}-{_id(block)}")
    for block in BLOCKS
    for route in _routes(block)
]


def test_readme_keeps_the_two_commands_ci_runs() -> None:
    text = README.read_text(encoding="utf-8")
    assert 'pip install -e ".[all]" && python -m azureinfer demo' in text
    assert 'pip install -e ".[test]" && python -m pytest -q -p no:cacheprovider' in text


def test_every_python_block_of_the_readme_is_collected() -> None:
    assert len(BLOCKS) == README.read_text(encoding="utf-8").count("```python\n")


def test_readme_examples_are_mostly_runnable() -> None:
    modes = [b.mode for b in BLOCKS]
    assert set(modes) <= {"run", "compile-only"}, modes
    assert modes.count("run") >= 8, modes
    assert modes.count("run") > modes.count("compile-only")


# LlamaIndex's workflows package reads pydantic's deprecated ``__fields__`` (not our code).
@pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecationWarning")
# langchain-core marks its own `loads` as beta (README "Serialisation"): not our warning.
@pytest.mark.filterwarnings("ignore::langchain_core._api.beta_decorator.LangChainBetaWarning")
@pytest.mark.parametrize(("block", "route_endpoint"), RUNS, indirect=["route_endpoint"])
def test_readme_example_runs(
    block: Block,
    azure_inference_emulator: Any,
    route_endpoint: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code = compile(block.code, f"README.md:{block.line}", "exec")
    if block.mode == "compile-only":
        return
    emu = azure_inference_emulator
    for var in ("AZURE_AI_INFERENCE_ENDPOINT", "AZURE_AI_INFERENCE_CREDENTIAL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AZURE_INFERENCE_ENDPOINT", route_endpoint.endpoint)
    monkeypatch.setenv("AZURE_INFERENCE_CREDENTIAL", emu.key)
    namespace: dict[str, Any] = {"__name__": "__readme__"}
    exec(code, namespace)
    # A block of pytest tests (README "Testing your own chains"): run them with the fixture.
    tests = [f for name, f in namespace.items() if name.startswith("test_") and callable(f)]
    assert len(tests) == block.code.count("\ndef test_"), "a test function was not collected"
    for test in tests:
        emu.clear()
        test(azure_inference_emulator=emu)
    if "Emulator()" not in block.code:  # else the example starts its own
        assert emu.requests, "the example sent nothing to the endpoint"
