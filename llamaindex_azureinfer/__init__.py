"""LlamaIndex integration for the Azure AI Model Inference API."""

__all__: list[str] = []
