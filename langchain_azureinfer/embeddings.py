"""LangChain embeddings for the Azure AI Model Inference API (text and image)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from langchain_core.embeddings import Embeddings
from pydantic import ConfigDict, Field, SecretStr, model_validator

from azureinfer.adapters import EmbeddingsAdapter
from azureinfer.batching import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_BATCH_CHARS,
    DEFAULT_MAX_CONCURRENCY,
    EncodingFormat,
)
from azureinfer.errors import ConfigurationError
from azureinfer.pydantic_adapter import PydanticConnection
from langchain_azureinfer._serializable import AzureInferenceSerializable

__all__ = ["AzureAIEmbeddingsModel", "AzureInferenceEmbeddings"]


class AzureInferenceEmbeddings(
    PydanticConnection, EmbeddingsAdapter, AzureInferenceSerializable, Embeddings
):
    """Embeddings from a deployment behind the Azure AI Model Inference API.

    Setup:
        ``pip install azureinfer[langchain]`` and set ``AZURE_INFERENCE_ENDPOINT`` and
        ``AZURE_INFERENCE_CREDENTIAL`` (or pass ``endpoint`` / ``credential``; without a key,
        ``DefaultAzureCredential`` is used).

    Key init args:
        model: deployment name (``model_name`` also accepted).
        dimensions: output size, for models that support it.
        encoding_format: wire encoding (``float``, ``int8``, ...); results are always floats.
            None (default): base64, 4x smaller than JSON floats, or the model's default if it
            refuses base64.
        query_input_type / document_input_type: ``input_type`` sent by `embed_query` and by
            `embed_documents` (default ``"query"`` / ``"document"``; None sends none). A model
            that rejects ``input_type`` is asked again without it, once, and remembered.
        batch_size: inputs per request (default 96, within every catalogued model's limit).
        max_concurrency: requests in flight (threads for sync calls, tasks for async ones).
        show_progress: tqdm progress bar over long runs.
        timeout / max_retries: per request; retries follow the core's policy (429 / 5xx).

    Instantiate:
        .. code-block:: python

            from langchain_azureinfer import AzureInferenceEmbeddings

            embeddings = AzureInferenceEmbeddings(model="text-embedding-3-small")

    Embed:
        .. code-block:: python

            vectors = embeddings.embed_documents(["first text", "second text"])
            query = embeddings.embed_query("what is in the first text?")
            images = embeddings.embed_images(["photo.png"])  # /images/embeddings deployment

    Async:
        .. code-block:: python

            vectors = await embeddings.aembed_documents(texts)

    No request is made when the object is built. Empty or whitespace-only texts raise
    ``EmbeddingInputError`` naming their position; every input gets exactly one vector, in order.
    """

    model_config = ConfigDict(
        populate_by_name=True,
        extra="forbid",
        arbitrary_types_allowed=True,
        protected_namespaces=(),
    )

    model: str | None = Field(default=None, alias="model_name")
    """Deployment / model name sent as ``model`` (None: the endpoint's only model)."""
    endpoint: str | None = None
    """Endpoint URL; defaults to ``AZURE_INFERENCE_ENDPOINT``."""
    route: Literal["auto", "openai_v1", "model_inference"] = "auto"
    """Wire route: ``auto`` (``AZURE_INFERENCE_ROUTE``, else from the endpoint's shape),
    ``openai_v1`` or ``model_inference``. Holds the chosen route once built."""
    credential: SecretStr | Any | None = None
    """API key (kept as a secret), ``AzureKeyCredential`` or a token credential; defaults to
    ``AZURE_INFERENCE_CREDENTIAL``, then ``DefaultAzureCredential``."""
    api_version: str | None = None
    """``api-version`` query parameter (None: the SDK's default)."""
    credential_scopes: list[str] | None = None
    """Entra ID scopes (None: chosen from the endpoint host)."""
    dimensions: int | None = Field(default=None, gt=0)
    """Output dimensions, for models that support a choice."""
    encoding_format: EncodingFormat | None = None
    """Wire encoding of the vectors; they are decoded to floats either way (None: base64,
    falling back to the model's default if refused)."""
    query_input_type: str | None = "query"
    """``input_type`` for `embed_query` (None: not sent)."""
    document_input_type: str | None = "document"
    """``input_type`` for `embed_documents` and `embed_images` (None: not sent)."""
    batch_size: int = Field(default=DEFAULT_BATCH_SIZE, gt=0)
    """Inputs per request."""
    max_batch_chars: int | None = Field(default=DEFAULT_MAX_BATCH_CHARS, gt=0)
    """Characters per request (a proxy for the token budget); None for no limit."""
    max_input_chars: int | None = Field(default=None, gt=0)
    """Characters per text; a longer one is refused, naming its position, before any request
    (None: the service decides, and its error is annotated with the position)."""
    max_concurrency: int = Field(default=DEFAULT_MAX_CONCURRENCY, gt=0)
    """Requests in flight at once."""
    show_progress: bool = False
    """Show a tqdm progress bar while embedding."""
    timeout: float | None = Field(default=None, gt=0)
    """Seconds per request attempt."""
    max_retries: int | None = Field(default=None, ge=0)
    """Retries per request on 408/429/5xx and connection errors (None: the core's default)."""
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Extra body parameters for the model (sent with ``extra-parameters: pass-through``)."""
    headers: dict[str, str] | None = None
    """Extra HTTP headers on every request."""
    user_agent: str | None = None
    """Prefix for the ``User-Agent`` header."""
    client_kwargs: dict[str, Any] = Field(default_factory=dict)
    """azure-core client options (``connection_verify``, ``logging_enable``, ...)."""

    _adapter_name: ClassVar[str] = "langchain_azureinfer"

    _lc_module: ClassVar[str] = "embeddings"  # LangChain's hooks: AzureInferenceSerializable

    # ------------------------------------------------------------------ embedding

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """One vector per text, in order (``input_type=document_input_type``)."""
        return self._embed_texts(texts, "document_input_type")

    def embed_query(self, text: str) -> list[float]:
        """The vector of one query (``input_type=query_input_type``)."""
        return self._embed_texts([text], "query_input_type")[0]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """Async `embed_documents` (native async, concurrent batches)."""
        return await self._aembed_texts(texts, "document_input_type")

    async def aembed_query(self, text: str) -> list[float]:
        """Async `embed_query`."""
        return (await self._aembed_texts([text], "query_input_type"))[0]

    def embed_images(self, images: list[Any]) -> list[list[float]]:
        """Vectors of images through ``/images/embeddings``: paths, ``http(s)`` / ``data:``
        URLs, bytes, or ``{"image": ..., "text": ...}`` dicts."""
        return self._embed_images(images)

    async def aembed_images(self, images: list[Any]) -> list[list[float]]:
        """Async `embed_images`."""
        return await self._aembed_images(images)

    def embed_image(self, uris: list[str]) -> list[list[float]]:
        """`embed_images` under the name LangChain's multimodal vector stores call."""
        return self.embed_images(uris)


class AzureAIEmbeddingsModel(AzureInferenceEmbeddings):
    """Drop-in for ``langchain_azure_ai.embeddings.AzureAIEmbeddingsModel``.

    Accepts its constructor arguments (``model_name``/``model``, ``endpoint``, ``credential``,
    ``api_version``, ``embed_batch_size``, ``dimensions``, ``model_kwargs``, ``client_kwargs``
    with ``retry_total`` / ``read_timeout``) and behaves like `AzureInferenceEmbeddings`:
    no ``/info`` call at construction, concurrent ordered batches, real query/document input
    types (the deprecated class sent ``"text"`` for every non-Cohere model).
    """

    _legacy_arguments: ClassVar[frozenset[str]] = frozenset(
        {"embed_batch_size", "project_endpoint", "service"}
    )

    @property
    def model_name(self) -> str | None:
        """The deprecated class's name for `model`."""
        return self.model

    @model_validator(mode="before")
    @classmethod
    def _translate_deprecated(cls, values: Any) -> Any:
        if not isinstance(values, dict):
            return values
        values = dict(values)
        if "embed_batch_size" in values:
            values["batch_size"] = values.pop("embed_batch_size")
        if values.get("project_endpoint") is not None:
            raise ConfigurationError(
                "project_endpoint is not supported: pass the project's model inference endpoint "
                "as endpoint= (https://<resource>.services.ai.azure.com/models)."
            )
        values.pop("project_endpoint", None)
        values.pop("service", None)
        return values
