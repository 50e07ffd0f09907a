"""LlamaIndex integration for the Azure AI Model Inference API.

```python
from llamaindex_azureinfer import AzureInference, AzureInferenceEmbedding
```

Names are resolved on first access, so importing the package costs little more than importing
``llama_index.core``'s LLM base classes.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llamaindex_azureinfer.embeddings import AzureAIEmbeddingsModel, AzureInferenceEmbedding
    from llamaindex_azureinfer.llms import AzureAICompletionsModel, AzureInference

_EXPORTS = {
    "AzureInference": "llamaindex_azureinfer.llms",
    "AzureAICompletionsModel": "llamaindex_azureinfer.llms",
    "AzureInferenceEmbedding": "llamaindex_azureinfer.embeddings",
    "AzureAIEmbeddingsModel": "llamaindex_azureinfer.embeddings",
}

__all__ = [
    "AzureAICompletionsModel",
    "AzureAIEmbeddingsModel",
    "AzureInference",
    "AzureInferenceEmbedding",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
