"""Every README block and notebook imports only what the extra the README names installs.

The suite itself runs in the ``test`` extra's environment, which installs more (``langchain``,
``langgraph``, ...), so a block that imports a package no user-facing extra brings would still
pass there (``from langchain.agents import create_agent`` did, while ``pip install ".[all]"``
failed with ``No module named 'langchain'``). This test resolves each import of each block and
notebook to the distribution that provides it and checks that the distribution is in the
dependency closure of the extra: ``[langchain]`` for LangChain-only code, ``[llamaindex]`` for
LlamaIndex-only code, ``[all]`` otherwise, unless the block's README section names its own install
line (Ray, tracing: ``section_install`` of ``.ci/docs_fresh_venv.py``, the same rule the fresh
virtual environment runs the blocks by). Imports guarded by ``try: ... except ImportError`` are
optional and not checked. ``.ci/run`` also installs ``.[all]`` into a fresh virtual environment
and runs every block and notebook there (``.ci/docs_fresh_venv.py``).
"""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import importlib.util
import json
import re
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "azureinfer"
OWN_PACKAGES = {"azureinfer", "azureinfer_demo", "langchain_azureinfer", "llamaindex_azureinfer"}

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")


def _extras() -> dict[str, list[str]]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        project = tomllib.load(f)["project"]
    return {"": project["dependencies"], **project["optional-dependencies"]}


def _marker_ok(req: Requirement, extras: set[str]) -> bool:
    if req.marker is None:
        return True
    env = dict(default_environment())
    return any(req.marker.evaluate({**env, "extra": e}) for e in (extras or {""}))


@cache
def closure(extra: str) -> frozenset[str]:
    """Canonical names of every distribution ``pip install ".[extra]"`` installs."""
    own = _extras()
    seen: set[str] = set()
    todo = [Requirement(r) for r in own[""] + own.get(extra, [])]
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        if name == PROJECT:  # a self-reference such as azureinfer[langchain,llamaindex]
            for e in req.extras:
                todo.extend(Requirement(r) for r in own[e])
            continue
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(req.name) or []
        except metadata.PackageNotFoundError:
            continue  # not installed here: its own dependencies cannot be listed
        for text in requires:
            sub = Requirement(text)
            if _marker_ok(sub, set(req.extras)):
                todo.append(sub)
    return frozenset(seen)


@cache
def _providers() -> dict[str, list[str]]:
    return metadata.packages_distributions()


def distributions_of(module: str) -> set[str]:
    """The distributions that provide ``module`` (for namespace packages, its sub-package)."""
    top = module.split(".")[0]
    candidates = _providers().get(top, [])
    if len(candidates) <= 1 or "." not in module:
        return {canonicalize_name(c) for c in candidates}
    prefix = "/".join(module.split(".")[:2])
    found = set()
    for name in candidates:
        files = metadata.distribution(name).files or []
        if any(str(f).startswith((prefix + "/", prefix + ".py")) for f in files):
            found.add(canonicalize_name(name))
    return found or {canonicalize_name(c) for c in candidates}


def _guarded(tree: ast.AST) -> set[int]:
    """Line numbers of imports inside ``try`` blocks that catch ImportError."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
            isinstance(h.type, ast.Name) and h.type.id in ("ImportError", "ModuleNotFoundError")
            for h in node.handlers
        ):
            for sub in node.body:
                for inner in ast.walk(sub):
                    if isinstance(inner, (ast.Import, ast.ImportFrom)):
                        lines.add(inner.lineno)
    return lines


def imports_of(code: str) -> set[str]:
    """Absolute modules imported by ``code`` (not the optional ones)."""
    code = "\n".join("" if re.match(r"\s*[%!]", line) else line for line in code.splitlines())
    tree = ast.parse(code)
    optional = _guarded(tree)
    found: set[str] = set()
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in optional:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def _fresh_venv_script() -> object:
    spec = importlib.util.spec_from_file_location(
        "docs_fresh_venv", ROOT / ".ci/docs_fresh_venv.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FRESH_VENV: object = _fresh_venv_script()
README_TEXT = (ROOT / "README.md").read_text(encoding="utf-8")
#: README block -> (extras, other packages) its section's own install line names.
SECTION_INSTALLS: dict[str, tuple[frozenset[str], tuple[str, ...]]] = {}


def _readme_blocks() -> Iterator[tuple[str, str]]:
    text = README_TEXT
    for match in re.finditer(r"```python\n(.*?)^```", text, re.S | re.M):
        where = f"README.md:{text.count(chr(10), 0, match.start(1)) + 1}"
        install = FRESH_VENV.section_install(text, match.start())  # type: ignore[attr-defined]
        if install is not None:
            SECTION_INSTALLS[where] = install
        yield where, match.group(1)


def _notebooks() -> Iterator[tuple[str, str]]:
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        yield f"notebooks/{path.name}", code


def extra_for(modules: set[str], where: str) -> str:
    """The extra the README tells the reader to install for this code."""
    tops = {m.split(".")[0] for m in modules}
    uses_langchain = bool(tops & {"langchain", "langchain_core", "langchain_azureinfer"})
    uses_llamaindex = bool(tops & {"llama_index", "llamaindex_azureinfer"})
    if where.startswith("notebooks/") or uses_langchain == uses_llamaindex:
        return "all"
    return "langchain" if uses_langchain else "llamaindex"


SOURCES = [*_readme_blocks(), *_notebooks()]


@pytest.mark.parametrize(("where", "code"), SOURCES, ids=[w for w, _ in SOURCES])
def test_every_import_is_installed_by_the_extra_the_readme_names(where: str, code: str) -> None:
    modules = imports_of(code)
    if where in SECTION_INSTALLS:
        extras, more = SECTION_INSTALLS[where]
        extra = ",".join(sorted(extras))
        installed = frozenset().union(*(closure(e) for e in extras))
        installed |= {canonicalize_name(name) for name in more}
    else:
        extra = extra_for(modules, where)
        installed = closure(extra)
    missing = []
    for module in sorted(modules):
        top = module.split(".")[0]
        if top in OWN_PACKAGES or top in sys.stdlib_module_names:
            continue
        dists = distributions_of(module)
        assert dists, f"{where}: no installed distribution provides {module!r}"
        if not dists & installed:
            missing.append(f"{module} (from {', '.join(sorted(dists))})")
    assert not missing, f'{where}: pip install ".[{extra}]" does not install {missing}'


def test_the_check_catches_a_package_only_the_test_extra_installs() -> None:
    # The check is not vacuous: `langchain` (agents) is in the closure of [langchain] and [all],
    # while `langchain_tests` (only in [test]) is in neither.
    assert "langchain" in closure("langchain") and "langchain" in closure("all")
    assert distributions_of("langchain_tests") == {"langchain-tests"}
    assert "langchain-tests" not in closure("all")
    assert extra_for({"langchain.agents"}, "README.md:1") == "langchain"


def test_a_section_with_its_own_install_is_checked_against_that_install() -> None:
    # The tracing example needs opentelemetry-sdk, which no extra installs: its section's install
    # line names it, and the check reads that line (without it the block would fail the check).
    tracing = [w for w, (extras, _) in SECTION_INSTALLS.items() if "tracing" in extras]
    assert tracing, "the README's tracing section names no install line"
    assert all("opentelemetry-sdk" in SECTION_INSTALLS[w][1] for w in tracing)
    assert "opentelemetry-sdk" not in closure("all") | closure("tracing")
    assert any("ray" in extras for extras, _ in SECTION_INSTALLS.values())
