"""LangChain integration for the Azure AI Model Inference API.

```python
from langchain_azureinfer import ChatAzureInference, AzureInferenceEmbeddings
```

Names are resolved on first access, so importing the package costs little more than importing
``langchain_core``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from azureinfer._exports import lazy_exports

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


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
