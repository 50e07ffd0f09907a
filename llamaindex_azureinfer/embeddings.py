"""LlamaIndex embeddings (text and image) for the Azure AI Model Inference API."""

from __future__ import annotations

import os
from typing import Any, ClassVar, Literal

import llama_index.core.instrumentation as instrument
from llama_index.core.base.embeddings.base import Embedding
from llama_index.core.callbacks import CBEventType, EventPayload
from llama_index.core.embeddings import MultiModalEmbedding
from llama_index.core.instrumentation.events.embedding import (
    EmbeddingEndEvent,
    EmbeddingStartEvent,
)
from llama_index.core.schema import ImageType
from pydantic import Field, PrivateAttr, SecretStr, ValidationError, model_validator

from azureinfer._arguments import configuration_error, reject_unknown_arguments
from azureinfer._lifecycle import ClientLifecycle
from azureinfer.batching import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_BATCH_CHARS,
    DEFAULT_MAX_CONCURRENCY,
    BatchOptions,
    Embedder,
    EmbeddingsSpec,
    connection_key,
    embedder_for,
)
from azureinfer.errors import ConfigurationError
from azureinfer.settings import (
    ENDPOINT_ENV_VARS,
    KEY_ENV_VARS,
    lift_legacy_client_kwargs,
)

__all__ = ["AzureAIEmbeddingsModel", "AzureInferenceEmbedding"]

dispatcher = instrument.get_dispatcher(__name__)

EncodingFormat = Literal["float", "base64", "int8", "uint8", "binary", "ubinary"]


def _env(names: tuple[str, ...]) -> str | None:
    return next((os.environ[n] for n in names if os.environ.get(n)), None)


# Fields that the deprecated class's client_kwargs keys set (see the alias).
_LEGACY_FIELDS = ("api_version", "credential_scopes", "headers", "max_retries")


class AzureInferenceEmbedding(ClientLifecycle, MultiModalEmbedding):
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
    endpoint: str | None = Field(
        default=None, description="Endpoint URL; defaults to AZURE_INFERENCE_ENDPOINT."
    )
    credential: SecretStr | Any | None = Field(
        default=None,
        exclude=True,
        description="API key, AzureKeyCredential or token credential; defaults to "
        "AZURE_INFERENCE_CREDENTIAL, then DefaultAzureCredential. Never serialised.",
    )
    api_version: str | None = Field(default=None, description="api-version query parameter.")
    credential_scopes: list[str] | None = Field(
        default=None, description="Entra ID scopes (default: chosen from the endpoint host)."
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
    timeout: float | None = Field(default=None, gt=0, description="Seconds per attempt.")
    max_retries: int | None = Field(
        default=None, ge=0, description="Retries per request (None: the core's default)."
    )
    model_kwargs: dict[str, Any] = Field(
        default_factory=dict, description="Extra body parameters for the model."
    )
    headers: dict[str, str] | None = Field(
        default=None, description="Extra HTTP headers.", exclude=True
    )
    client_kwargs: dict[str, Any] = Field(
        default_factory=dict, description="azure-core client options.", exclude=True
    )

    #: Arguments of the deprecated class that a subclass translates (not fields).
    _legacy_arguments: ClassVar[frozenset[str]] = frozenset()

    _embedder: Embedder = PrivateAttr()
    _embedder_key: tuple[int, ...] = PrivateAttr(default=())

    def __init__(self, **kwargs: Any) -> None:
        try:
            super().__init__(**kwargs)
        except ValidationError as exc:  # the same ConfigurationError as LangChain, not pydantic's
            raise configuration_error(exc.errors()) from None

    @model_validator(mode="before")
    @classmethod
    def _accept_model(cls, values: Any) -> Any:
        if isinstance(values, dict):
            # A misspelt argument (``embed_batchsize=``) is an error, not silently ignored.
            known = {"model", *cls._legacy_arguments, *cls.model_fields}
            known.update(f.alias for f in cls.model_fields.values() if f.alias)
            reject_unknown_arguments(values, known)
            values = dict(values)
            if "model" in values:
                model = values.pop("model")
                if values.get("model_name") not in (None, model):
                    raise ConfigurationError("pass model or model_name, not both")
                values["model_name"] = model
            if isinstance(values.get("credential"), str):
                values["credential"] = SecretStr(values["credential"])
        return values

    @model_validator(mode="after")
    def _build_embedder(self) -> AzureInferenceEmbedding:
        if self.endpoint is None:
            self.endpoint = _env(ENDPOINT_ENV_VARS)
        if self.credential is None and _env(KEY_ENV_VARS):
            self.credential = SecretStr(_env(KEY_ENV_VARS) or "")
        self._embedder = self._new_embedder()
        return self

    def _new_embedder(self) -> Embedder:
        self._embedder_key = connection_key(self)
        return embedder_for(self)

    @property
    def _engine(self) -> Embedder:
        # A copy with other connection fields (model_copy(update=...), assignment) gets its
        # own clients instead of silently using the original's.
        if self._embedder_key != connection_key(self):
            self._embedder = self._new_embedder()
        return self._embedder

    @classmethod
    def class_name(cls) -> str:
        """Name used by LlamaIndex serialisation."""
        return "AzureInferenceEmbedding"

    def to_payload(self) -> dict[str, Any]:
        """What instrumentation sees: no credential."""
        return {**super().to_payload(), "endpoint": self.endpoint}

    # ------------------------------------------------------------------ translation

    def _spec(self, field: str) -> EmbeddingsSpec:
        return EmbeddingsSpec.for_adapter(
            model=self.model_name,
            dimensions=self.dimensions,
            encoding_format=self.encoding_format,
            input_type=getattr(self, field),
            input_type_chosen=field in self.model_fields_set,
            model_extras=self.model_kwargs,
        )

    def _options(self, show_progress: bool = False) -> BatchOptions:
        return BatchOptions(
            batch_size=self.embed_batch_size,
            max_concurrency=self.num_workers or self.max_concurrency,
            max_batch_chars=self.max_batch_chars,
            max_input_chars=self.max_input_chars,
            show_progress=self.show_progress or show_progress,
        )

    def _texts(self, texts: list[str], field: str, progress: bool = False) -> list[Embedding]:
        return self._engine.embed_texts(texts, self._spec(field), self._options(progress))

    async def _atexts(
        self, texts: list[str], field: str, progress: bool = False
    ) -> list[Embedding]:
        return await self._engine.aembed_texts(texts, self._spec(field), self._options(progress))

    def _get_query_embedding(self, query: str) -> Embedding:
        return self._texts([query], "query_input_type")[0]

    async def _aget_query_embedding(self, query: str) -> Embedding:
        return (await self._atexts([query], "query_input_type"))[0]

    def _get_text_embedding(self, text: str) -> Embedding:
        return self._texts([text], "document_input_type")[0]

    async def _aget_text_embedding(self, text: str) -> Embedding:
        return (await self._atexts([text], "document_input_type"))[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        return self._texts(texts, "document_input_type")

    async def _aget_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        return await self._atexts(texts, "document_input_type")

    def _get_image_embedding(self, img_file_path: ImageType) -> Embedding:
        return self._get_image_embeddings([img_file_path])[0]

    async def _aget_image_embedding(self, img_file_path: ImageType) -> Embedding:
        return (await self._aget_image_embeddings([img_file_path]))[0]

    def _get_image_embeddings(self, img_file_paths: list[ImageType]) -> list[Embedding]:
        return self._engine.embed_images(
            img_file_paths, self._spec("document_input_type"), self._options()
        )

    async def _aget_image_embeddings(self, img_file_paths: list[ImageType]) -> list[Embedding]:
        return await self._engine.aembed_images(
            img_file_paths, self._spec("document_input_type"), self._options()
        )

    # ------------------------------------------------------------------ whole-list batching

    def _engine_handles_batches(self) -> bool:
        # A cache or a rate limiter works per LlamaIndex batch: keep the base behaviour then.
        return self.embeddings_cache is None and self.rate_limiter is None

    @dispatcher.span
    def get_text_embedding_batch(
        self, texts: list[str], show_progress: bool = False, **kwargs: Any
    ) -> list[Embedding]:
        """One vector per text, in order; all batches run concurrently (not one at a time)."""
        if not self._engine_handles_batches():
            return super().get_text_embedding_batch(texts, show_progress, **kwargs)
        if not texts:
            return []
        model_dict = self.to_payload()
        dispatcher.event(EmbeddingStartEvent(model_dict=model_dict))
        with self.callback_manager.event(
            CBEventType.EMBEDDING, payload={EventPayload.SERIALIZED: model_dict}
        ) as event:
            embeddings = self._texts(texts, "document_input_type", show_progress)
            event.on_end(payload={EventPayload.CHUNKS: texts, EventPayload.EMBEDDINGS: embeddings})
        dispatcher.event(_end_event(texts, embeddings))
        return embeddings

    @dispatcher.span
    async def aget_text_embedding_batch(
        self, texts: list[str], show_progress: bool = False, **kwargs: Any
    ) -> list[Embedding]:
        """Async `get_text_embedding_batch`: batches run as concurrent tasks."""
        if not self._engine_handles_batches():
            return await super().aget_text_embedding_batch(texts, show_progress, **kwargs)
        if not texts:
            return []
        model_dict = self.to_payload()
        dispatcher.event(EmbeddingStartEvent(model_dict=model_dict))
        with self.callback_manager.event(
            CBEventType.EMBEDDING, payload={EventPayload.SERIALIZED: model_dict}
        ) as event:
            embeddings = await self._atexts(texts, "document_input_type", show_progress)
            event.on_end(payload={EventPayload.CHUNKS: texts, EventPayload.EMBEDDINGS: embeddings})
        dispatcher.event(_end_event(texts, embeddings))
        return embeddings

    def get_image_embedding_batch(
        self, img_file_paths: list[ImageType], show_progress: bool = False
    ) -> list[Embedding]:
        """One vector per image (path, URL, data URL, bytes or BytesIO), in order."""
        if not img_file_paths:
            return []
        with self.callback_manager.event(
            CBEventType.EMBEDDING, payload={EventPayload.SERIALIZED: self.to_payload()}
        ) as event:
            embeddings = self._engine.embed_images(
                img_file_paths, self._spec("document_input_type"), self._options(show_progress)
            )
            event.on_end(
                payload={EventPayload.CHUNKS: img_file_paths, EventPayload.EMBEDDINGS: embeddings}
            )
        return embeddings

    async def aget_image_embedding_batch(
        self, img_file_paths: list[ImageType], show_progress: bool = False
    ) -> list[Embedding]:
        """Async `get_image_embedding_batch`."""
        if not img_file_paths:
            return []
        with self.callback_manager.event(
            CBEventType.EMBEDDING, payload={EventPayload.SERIALIZED: self.to_payload()}
        ) as event:
            embeddings = await self._engine.aembed_images(
                img_file_paths, self._spec("document_input_type"), self._options(show_progress)
            )
            event.on_end(
                payload={EventPayload.CHUNKS: img_file_paths, EventPayload.EMBEDDINGS: embeddings}
            )
        return embeddings

    # ------------------------------------------------------------------ lifecycle

    @property
    def _closeable(self) -> Embedder:
        return self._embedder


class AzureAIEmbeddingsModel(AzureInferenceEmbedding):
    """Drop-in for ``llama_index.embeddings.azure_inference.AzureAIEmbeddingsModel``.

    Accepts its constructor arguments (``endpoint``, ``credential``, ``model_name``,
    ``api_version``, ``embed_batch_size``, ``callback_manager``, ``num_workers``,
    ``client_kwargs`` incl. ``retry_total``/``api_version``, ``model_kwargs``) and behaves like
    `AzureInferenceEmbedding`: no ``/info`` call at construction, query/document input types,
    safe across ``asyncio.run`` calls, images supported.
    """

    @model_validator(mode="before")
    @classmethod
    def _translate_deprecated(cls, values: Any) -> Any:
        if not isinstance(values, dict) or not values.get("client_kwargs"):
            return values
        values = dict(values)
        # The deprecated class took these through client_kwargs; they are fields here (the
        # rest, e.g. user_agent, resolve_settings lifts itself).
        values["client_kwargs"], moved = lift_legacy_client_kwargs(
            values["client_kwargs"], {name: values.get(name) for name in _LEGACY_FIELDS}
        )
        values.update(moved)
        return values

    @classmethod
    def class_name(cls) -> str:
        """Name used by LlamaIndex serialisation."""
        return "AzureAIEmbeddingsModel"


def _end_event(texts: list[str], embeddings: list[list[float]]) -> EmbeddingEndEvent:
    # Validation would copy every vector (GBs for a large corpus); these are already checked.
    return EmbeddingEndEvent.model_construct(chunks=texts, embeddings=embeddings)
