"""The core stays framework-free and cheap to import."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import azureinfer

PACKAGE = pathlib.Path(azureinfer.__file__).parent
FORBIDDEN = (
    "langchain",
    "langchain_core",
    "llama_index",
    "langchain_azureinfer",
    "llamaindex_azureinfer",
)


# The demo command (``python -m azureinfer demo``) tours both adapters from its own package,
# ``azureinfer_demo``: no module of the core may import a framework at all, even lazily.


def _imports(tree: ast.AST) -> list[tuple[str, bool]]:
    """(module, at module level?) for every absolute import."""
    top = set(map(id, getattr(tree, "body", [])))
    out = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        out += [(n, id(node) in top) for n in names]
    return out


def test_no_module_of_azureinfer_imports_a_framework() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for name, _top_level in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if name.split(".")[0] not in FORBIDDEN:
                continue
            offenders.append(f"{path.relative_to(PACKAGE)}: {name}")
    assert offenders == []


def test_importing_everything_loads_no_framework_and_no_identity() -> None:
    code = (
        "import sys, azureinfer\n"
        "from azureinfer import *\n"
        "import azureinfer.transport, azureinfer.request, azureinfer.response\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('langchain', 'langchain_core', 'llama_index'))\n"
        "print(bad, 'azure.identity' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[] False"


def test_import_azureinfer_is_light() -> None:
    code = (
        "import sys\nimport azureinfer\n"
        "print(any(m.startswith(('azure.ai.inference', 'azure.identity', 'aiohttp', 'requests')) "
        "for m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_public_api_is_complete() -> None:
    assert set(azureinfer.__all__) >= {
        "resolve_settings",
        "ConnectionSettings",
        "build_chat_request",
        "build_embeddings_request",
        "build_response_format",
        "WireRequest",
        "ChatClient",
        "EmbeddingsClient",
        "ChatResult",
        "ChatChunk",
        "StreamAccumulator",
        "EmbeddingsResult",
        "AzureInferenceError",
        "IncompleteStreamError",
    }
    for name in azureinfer.__all__:
        assert getattr(azureinfer, name) is not None


def test_the_lazy_exports_all_and_the_typing_imports_agree() -> None:
    # The package lists its public names three times: the lazy table (runtime), ``__all__``
    # and the TYPE_CHECKING imports (static tools read only literals); none may drift.
    tree = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    typed: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for imp in node.body:
                assert isinstance(imp, ast.ImportFrom) and imp.module
                typed.update({alias.name: imp.module for alias in imp.names})
    exports = dict(azureinfer._EXPORTS)
    assert typed == exports
    assert set(azureinfer.__all__) == {*exports, "__version__"}
