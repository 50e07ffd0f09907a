"""Local Azure AI Model Inference API server (placeholder until the server lands)."""
