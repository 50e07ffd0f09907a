"""azureinfer: the Azure AI Model Inference API for LangChain and LlamaIndex.

Framework-free core: connection settings, client lifecycle, wire requests, response and stream
parsing, typed errors and retries, embedding batching, and a local emulator of the service.
"""

from azureinfer._version import __version__

__all__ = ["__version__"]
