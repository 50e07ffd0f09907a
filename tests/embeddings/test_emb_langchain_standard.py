"""LangChain's standard embeddings suites, unit and integration (against the emulator)."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_tests.integration_tests import EmbeddingsIntegrationTests
from langchain_tests.unit_tests import EmbeddingsUnitTests

from langchain_azureinfer import AzureInferenceEmbeddings


class TestAzureInferenceEmbeddingsUnit(EmbeddingsUnitTests):
    @property
    def embeddings_class(self) -> type[AzureInferenceEmbeddings]:
        return AzureInferenceEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {
            "model": "text-embedding-3-small",
            "endpoint": "http://127.0.0.1:9/models",  # never contacted: no I/O at construction
            "credential": "unit-test-key",
        }

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return (
            {
                "AZURE_INFERENCE_ENDPOINT": "https://example.services.ai.azure.com/models",
                "AZURE_INFERENCE_CREDENTIAL": "env-key",
            },
            {"model": "text-embedding-3-small"},
            {
                "endpoint": "https://example.services.ai.azure.com/models",
                "credential": "env-key",
            },
        )


class _Integration(EmbeddingsIntegrationTests):
    deployment = ""

    @property
    def embeddings_class(self) -> type[AzureInferenceEmbeddings]:
        return AzureInferenceEmbeddings

    @pytest.fixture
    def model(  # type: ignore[override]
        self, azure_inference_emulator: Any, route_endpoint: Any
    ) -> AzureInferenceEmbeddings:
        """On both routes (each request checked against the route's wire)."""
        return AzureInferenceEmbeddings(
            model=self.deployment,
            endpoint=route_endpoint.endpoint,
            credential=azure_inference_emulator.key,
        )


class TestOpenAIStyleDeploymentIntegration(_Integration):
    deployment = "text-embedding-3-small"


class TestCohereDeploymentIntegration(_Integration):
    deployment = "cohere-embed-v3-english"
