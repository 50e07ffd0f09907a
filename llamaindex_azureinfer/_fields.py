"""The connection fields the LlamaIndex LLM and embedding classes share (one declaration)."""

from __future__ import annotations

from typing import Any, Literal

from llama_index.core.bridge.pydantic import Field

from azureinfer.pydantic_adapter import PydanticConnection


class ConnectionFields(PydanticConnection):
    """Endpoint, route, credential and HTTP options (``resolve_settings`` checks the values).

    The credential, headers and client options are never serialised."""

    endpoint: str | None = Field(
        default=None, description="Endpoint URL; defaults to $AZURE_INFERENCE_ENDPOINT."
    )
    route: Literal["auto", "openai_v1", "model_inference"] = Field(
        default="auto",
        description="Wire route: auto ($AZURE_INFERENCE_ROUTE, else from the endpoint's shape), "
        "openai_v1 or model_inference; holds the chosen route once built.",
    )
    credential: Any = Field(
        default=None,
        exclude=True,
        repr=False,
        description="API key, AzureKeyCredential or token credential; defaults to "
        "$AZURE_INFERENCE_CREDENTIAL, then DefaultAzureCredential. Never serialised.",
    )
    api_version: str | None = Field(default=None, description="`api-version` query value.")
    credential_scopes: list[str] | None = Field(
        default=None, description="Entra ID scopes; by default chosen from the endpoint host."
    )
    timeout: float | None = Field(default=None, description="Seconds per HTTP attempt.")
    max_retries: int | None = Field(
        default=None, description="Retries on 408/429/5xx and connection errors."
    )
    headers: dict[str, str] | None = Field(
        default=None, exclude=True, description="Extra HTTP headers (not serialised)."
    )
    user_agent: str | None = Field(default=None, description="Prefix for the User-Agent header.")
    client_kwargs: dict[str, Any] = Field(
        default_factory=dict,
        exclude=True,
        description="azure-core client options (not serialised).",
    )
