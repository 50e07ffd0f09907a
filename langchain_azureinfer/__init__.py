"""LangChain integration for the Azure AI Model Inference API.

```python
from langchain_azureinfer import ChatAzureInference, AzureInferenceEmbeddings
```

Names are resolved on first access, so importing the package costs little more than importing
``langchain_core``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from langchain_azureinfer.chat_models import AzureAIChatCompletionsModel, ChatAzureInference
    from langchain_azureinfer.embeddings import AzureAIEmbeddingsModel, AzureInferenceEmbeddings

_EXPORTS = {
    "ChatAzureInference": "langchain_azureinfer.chat_models",
    "AzureAIChatCompletionsModel": "langchain_azureinfer.chat_models",
    "AzureInferenceEmbeddings": "langchain_azureinfer.embeddings",
    "AzureAIEmbeddingsModel": "langchain_azureinfer.embeddings",
}

__all__ = [
    "AzureAIChatCompletionsModel",
    "AzureAIEmbeddingsModel",
    "AzureInferenceEmbeddings",
    "ChatAzureInference",
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
