"""LlamaIndex integration for the Azure AI Model Inference API.

```python
from llamaindex_azureinfer import AzureInference, AzureInferenceEmbedding
```

Names are resolved on first access, so importing the package costs little more than importing
``llama_index.core``'s LLM base classes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from azureinfer._exports import lazy_exports

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


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
