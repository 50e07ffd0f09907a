"""pytest plugin: the ``azure_inference_emulator`` fixture (placeholder until the server lands)."""
