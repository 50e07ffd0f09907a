"""LlamaIndex embeddings (text and image) for the Azure AI Model Inference API."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import llama_index.core.instrumentation as instrument
from llama_index.core.base.embeddings.base import Embedding
from llama_index.core.callbacks import CBEventType, EventPayload
from llama_index.core.embeddings import MultiModalEmbedding
from llama_index.core.instrumentation.events.embedding import (
    EmbeddingEndEvent,
    EmbeddingStartEvent,
)
from llama_index.core.schema import ImageType
from pydantic import Field, model_validator

from azureinfer.adapters import EmbeddingsAdapter
from azureinfer.batching import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_BATCH_CHARS,
    DEFAULT_MAX_CONCURRENCY,
    EncodingFormat,
)
from azureinfer.errors import ConfigurationError
from llamaindex_azureinfer._fields import ConnectionFields

__all__ = ["AzureAIEmbeddingsModel", "AzureInferenceEmbedding"]

dispatcher = instrument.get_dispatcher(__name__)


class AzureInferenceEmbedding(ConnectionFields, EmbeddingsAdapter, MultiModalEmbedding):
    """Text and image embeddings from the Azure AI Model Inference API.

    ```python
    from llamaindex_azureinfer import AzureInferenceEmbedding

    embed_model = AzureInferenceEmbedding(model="text-embedding-3-small")  # env: endpoint, key
    vectors = embed_model.get_text_embedding_batch(["first", "second"])
    query = embed_model.get_query_embedding("which one?")
    image = embed_model.get_image_embedding("photo.png")  # an /images/embeddings deployment
    ```

    ``embed_batch_size`` is the number of inputs per request (default 96, within every
    catalogued model's limit); batches run concurrently (``num_workers`` if set, else
    ``max_concurrency``), in threads for sync calls and as tasks for async ones, and each input
    gets exactly one vector, in order. Queries are sent with ``input_type="query"`` and texts
    with ``"document"`` (set either to None to send none; a model that rejects ``input_type``
    is asked again without it, once). Results are floats whatever ``encoding_format`` is used;
    without one, vectors travel as base64 (4x smaller than JSON floats; the model's default if
    it refuses base64).
    No request is made at construction; the object pickles (for
    ``IngestionPipeline(num_workers=...)``) and ``to_dict()`` never contains the credential.
    """

    model_name: str | None = Field(  # type: ignore[assignment]
        default=None, description="Deployment / model name sent as `model`."
    )
    embed_batch_size: int = Field(
        default=DEFAULT_BATCH_SIZE, gt=0, le=2048, description="Inputs per request."
    )
    dimensions: int | None = Field(default=None, gt=0, description="Output dimensions.")
    encoding_format: EncodingFormat | None = Field(
        default=None, description="Wire encoding of vectors; results are always floats."
    )
    query_input_type: str | None = Field(
        default="query", description="input_type sent with queries (None: not sent)."
    )
    document_input_type: str | None = Field(
        default="document", description="input_type sent with texts and images (None: not sent)."
    )
    max_concurrency: int = Field(
        default=DEFAULT_MAX_CONCURRENCY, gt=0, description="Requests in flight at once."
    )
    max_batch_chars: int | None = Field(
        default=DEFAULT_MAX_BATCH_CHARS, gt=0, description="Characters per request (at most)."
    )
    max_input_chars: int | None = Field(
        default=None,
        gt=0,
        description="Characters per text; longer ones are refused, naming their position.",
    )
    show_progress: bool = Field(default=False, description="Show a tqdm progress bar.")
    model_kwargs: dict[str, Any] = Field(
        default_factory=dict, description="Extra body parameters for the model."
    )

    _legacy_arguments: ClassVar[frozenset[str]] = frozenset({"model"})

    _adapter_name: ClassVar[str] = "llamaindex_azureinfer"
    _model_field: ClassVar[str] = "model_name"
    _batch_size_field: ClassVar[str] = "embed_batch_size"

    @model_validator(mode="before")
    @classmethod
    def _accept_model(cls, values: Any) -> Any:
        if isinstance(values, dict) and "model" in values:
            values = dict(values)
            model = values.pop("model")
            if values.get("model_name") not in (None, model):
                raise ConfigurationError("pass model or model_name, not both")
            values["model_name"] = model
        return values

    @classmethod
    def class_name(cls) -> str:
        """Name used by LlamaIndex serialisation."""
        return "AzureInferenceEmbedding"

    def to_payload(self) -> dict[str, Any]:
        """What instrumentation sees: no credential."""
        return {**super().to_payload(), "endpoint": self.endpoint}

    # ------------------------------------------------------------------ translation

    def _concurrency(self) -> int:
        return self.num_workers or self.max_concurrency

    def _get_query_embedding(self, query: str) -> Embedding:
        return self._embed_texts([query], "query_input_type")[0]

    async def _aget_query_embedding(self, query: str) -> Embedding:
        return (await self._aembed_texts([query], "query_input_type"))[0]

    def _get_text_embedding(self, text: str) -> Embedding:
        return self._embed_texts([text], "document_input_type")[0]

    async def _aget_text_embedding(self, text: str) -> Embedding:
        return (await self._aembed_texts([text], "document_input_type"))[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        return self._embed_texts(texts, "document_input_type")

    async def _aget_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        return await self._aembed_texts(texts, "document_input_type")

    def _get_image_embedding(self, img_file_path: ImageType) -> Embedding:
        return self._get_image_embeddings([img_file_path])[0]

    async def _aget_image_embedding(self, img_file_path: ImageType) -> Embedding:
        return (await self._aget_image_embeddings([img_file_path]))[0]

    def _get_image_embeddings(self, img_file_paths: list[ImageType]) -> list[Embedding]:
        return self._embed_images(img_file_paths)

    async def _aget_image_embeddings(self, img_file_paths: list[ImageType]) -> list[Embedding]:
        return await self._aembed_images(img_file_paths)

    # ------------------------------------------------------------------ whole-list batching

    def _engine_handles_batches(self) -> bool:
        # A cache or a rate limiter works per LlamaIndex batch: keep the base behaviour then.
        return self.embeddings_cache is None and self.rate_limiter is None

    @contextmanager
    def _event(self, inputs: list[Any], *, instrumented: bool) -> Iterator[list[Embedding]]:
        """The callback event (and, ``instrumented``, the start and end events) around one
        whole-list call; the caller fills the yielded list with the vectors."""
        model_dict = self.to_payload()
        if instrumented:
            dispatcher.event(EmbeddingStartEvent(model_dict=model_dict))
        vectors: list[Embedding] = []
        with self.callback_manager.event(
            CBEventType.EMBEDDING, payload={EventPayload.SERIALIZED: model_dict}
        ) as event:
            yield vectors
            event.on_end(payload={EventPayload.CHUNKS: inputs, EventPayload.EMBEDDINGS: vectors})
        if instrumented:
            dispatcher.event(_end_event(inputs, vectors))

    @dispatcher.span
    def get_text_embedding_batch(
        self, texts: list[str], show_progress: bool = False, **kwargs: Any
    ) -> list[Embedding]:
        """One vector per text, in order; all batches run concurrently (not one at a time)."""
        if not self._engine_handles_batches():
            return super().get_text_embedding_batch(texts, show_progress, **kwargs)
        if not texts:
            return []
        with self._event(texts, instrumented=True) as vectors:
            vectors += self._embed_texts(texts, "document_input_type", show_progress)
        return vectors

    @dispatcher.span
    async def aget_text_embedding_batch(
        self, texts: list[str], show_progress: bool = False, **kwargs: Any
    ) -> list[Embedding]:
        """Async `get_text_embedding_batch`: batches run as concurrent tasks."""
        if not self._engine_handles_batches():
            return await super().aget_text_embedding_batch(texts, show_progress, **kwargs)
        if not texts:
            return []
        with self._event(texts, instrumented=True) as vectors:
            vectors += await self._aembed_texts(texts, "document_input_type", show_progress)
        return vectors

    def get_image_embedding_batch(
        self, img_file_paths: list[ImageType], show_progress: bool = False
    ) -> list[Embedding]:
        """One vector per image (path, URL, data URL, bytes or BytesIO), in order."""
        if not img_file_paths:
            return []
        with self._event(img_file_paths, instrumented=False) as vectors:
            vectors += self._embed_images(img_file_paths, show_progress)
        return vectors

    async def aget_image_embedding_batch(
        self, img_file_paths: list[ImageType], show_progress: bool = False
    ) -> list[Embedding]:
        """Async `get_image_embedding_batch`."""
        if not img_file_paths:
            return []
        with self._event(img_file_paths, instrumented=False) as vectors:
            vectors += await self._aembed_images(img_file_paths, show_progress)
        return vectors


class AzureAIEmbeddingsModel(AzureInferenceEmbedding):
    """Drop-in for ``llama_index.embeddings.azure_inference.AzureAIEmbeddingsModel``.

    Accepts its constructor arguments (``endpoint``, ``credential``, ``model_name``,
    ``api_version``, ``embed_batch_size``, ``callback_manager``, ``num_workers``,
    ``client_kwargs`` incl. ``retry_total``/``api_version``, ``model_kwargs``) and behaves like
    `AzureInferenceEmbedding`: no ``/info`` call at construction, query/document input types,
    safe across ``asyncio.run`` calls, images supported.
    """

    @classmethod
    def class_name(cls) -> str:
        """Name used by LlamaIndex serialisation."""
        return "AzureAIEmbeddingsModel"


def _end_event(texts: list[str], embeddings: list[list[float]]) -> EmbeddingEndEvent:
    # Validation would copy every vector (GBs for a large corpus); these are already checked.
    return EmbeddingEndEvent.model_construct(chunks=texts, embeddings=embeddings)
