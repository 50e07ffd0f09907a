"""Embedding batches: one engine behind both frameworks' embedding classes.

```python
from azureinfer.batching import BatchOptions, Embedder, EmbeddingsSpec
from azureinfer.settings import resolve_settings

embedder = Embedder(resolve_settings())          # lazy clients for both routes; no I/O yet
spec = EmbeddingsSpec(model="cohere-embed-v3-english", input_type="document")
vectors = embedder.embed_texts(texts, spec, BatchOptions(batch_size=96, max_concurrency=8))
```

The adapters (`langchain_azureinfer.AzureInferenceEmbeddings`,
`llamaindex_azureinfer.AzureInferenceEmbedding`) only translate their fields into an
`EmbeddingsSpec` (`EmbeddingsSpec.for_adapter`) and `BatchOptions` and call an `Embedder`.

What the engine guarantees:

- exactly one vector (a list of floats) per input, in input order, whatever order the service
  answers in (results are placed by the response's ``data[].index``); an empty input list gives
  ``[]`` without a request;
- inputs are split by count (``batch_size``) and by a size budget (``max_batch_chars``);
- batches run with bounded concurrency: threads for the sync path, asyncio tasks for the async
  path; the first failure stops the run (pending batches are not sent) and is re-raised with a
  note naming the input positions of the failed batch;
- retries are the transport's: each batch is one request that the core's retry policy retries on
  its own, so a 429 in the middle of a run never re-sends a batch that already succeeded;
- empty or whitespace-only strings, non-strings and inputs over ``max_input_chars`` (or alone
  over ``max_batch_chars``) raise `EmbeddingInputError` naming their position before any request;
- vectors in ``base64``, ``int8``, ``uint8``, ``binary`` and ``ubinary`` encodings are decoded to
  floats (`decode_embedding`);
- ``show_progress=True`` draws a tqdm bar (imported only then);
- parameters marked droppable (``EmbeddingsSpec.droppable``: ``input_type``,
  ``encoding_format``) are dropped (logged: a warning when the user chose them) when the model
  rejects them, so defaults such as query/document input types or the compact base64 transfer
  work on every model; an `Embedder` remembers this per route.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import mimetypes
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal, Protocol

from azureinfer.errors import ConfigurationError, EmbeddingsResponseError
from azureinfer.response import decode_embedding
from azureinfer.settings import requested_route, resolve_settings

if TYPE_CHECKING:
    from azureinfer.request import WireRequest
    from azureinfer.response import EmbeddingsResult
    from azureinfer.settings import ConnectionSettings

__all__ = [
    "CONNECTION_FIELDS",
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_MAX_BATCH_CHARS",
    "DEFAULT_MAX_CONCURRENCY",
    "ENCODING_FORMATS",
    "Batch",
    "BatchOptions",
    "Embedder",
    "EmbeddingInputError",
    "EmbeddingsResponseError",
    "EmbeddingsSpec",
    "aembed_images",
    "aembed_texts",
    "connection_key",
    "decode_embedding",
    "embed_images",
    "embed_texts",
    "embedder_for",
    "image_input",
    "plan_batches",
    "validate_texts",
    "vectors_from_result",
]

#: Inputs per request. 96 is the smallest per-request limit among the catalogue's models (Cohere
#: embed v3/v4); OpenAI-style deployments accept up to 2048 and can be given a larger value.
DEFAULT_BATCH_SIZE = 96
#: Requests in flight at once (threads for sync calls, tasks for async calls).
DEFAULT_MAX_CONCURRENCY = 8
#: Characters per request, a proxy for the service's per-request token budget (~4 chars/token).
DEFAULT_MAX_BATCH_CHARS = 1_000_000
#: Values of ``encoding_format`` the API defines; all are returned to callers as floats.
ENCODING_FORMATS = ("float", "base64", "int8", "uint8", "binary", "ubinary")

_log = logging.getLogger(__name__)

EncodingFormat = Literal["float", "base64", "int8", "uint8", "binary", "ubinary"]
Vector = list[float]


class EmbeddingInputError(ConfigurationError):
    """An input cannot be embedded (empty, not a string, too large). ``position`` is its index."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.position = position


class _EmbeddingsClient(Protocol):
    def embed(self, req: WireRequest) -> EmbeddingsResult: ...

    async def aembed(self, req: WireRequest) -> EmbeddingsResult: ...


@dataclass(frozen=True)
class Batch:
    """A contiguous slice of the inputs: ``inputs`` are positions ``start`` to ``stop - 1``."""

    start: int
    inputs: list[Any]

    @property
    def stop(self) -> int:
        """One past the position of the batch's last input."""
        return self.start + len(self.inputs)


@dataclass(frozen=True)
class BatchOptions:
    """How to split and schedule a run. Validated on construction."""

    batch_size: int = DEFAULT_BATCH_SIZE
    """Inputs per request (at most)."""
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    """Requests in flight at once."""
    max_batch_chars: int | None = DEFAULT_MAX_BATCH_CHARS
    """Characters per request (at most); None for no size budget. Applies to text inputs."""
    max_input_chars: int | None = None
    """Characters per input (at most); None to leave the check to the service."""
    show_progress: bool = False
    """Draw a tqdm progress bar over the inputs."""
    progress_desc: str = "Embedding"
    """Label of the progress bar."""

    def __post_init__(self) -> None:
        for name in ("batch_size", "max_concurrency", "max_batch_chars", "max_input_chars"):
            value = getattr(self, name)
            if value is None and name in ("max_batch_chars", "max_input_chars"):
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigurationError(f"{name} must be a positive integer, got {value!r}")


@dataclass(frozen=True)
class EmbeddingsSpec:
    """The request parameters shared by every batch of a run (see `build_embeddings_request`)."""

    model: str | None = None
    dimensions: int | None = None
    encoding_format: str | None = None
    input_type: str | None = None
    model_extras: Mapping[str, Any] | None = None
    extra_parameters: str = "pass-through"
    headers: Mapping[str, str] | None = None
    droppable: frozenset[str] = frozenset()
    """Of ``input_type`` and ``encoding_format``: those to stop sending rather than fail when
    the model rejects them."""
    chosen: frozenset[str] = frozenset()
    """Droppable parameters the user set explicitly: dropping one is a logged warning (others,
    defaults, are dropped with an INFO log)."""

    def __post_init__(self) -> None:
        if self.encoding_format is not None and self.encoding_format not in ENCODING_FORMATS:
            raise ConfigurationError(
                f"encoding_format must be one of {', '.join(ENCODING_FORMATS)}, "
                f"got {self.encoding_format!r}"
            )
        if self.dimensions is not None and (
            isinstance(self.dimensions, bool)
            or not isinstance(self.dimensions, int)
            or self.dimensions < 1
        ):
            raise ConfigurationError(
                f"dimensions must be a positive integer, got {self.dimensions!r}"
            )

    @classmethod
    def for_adapter(
        cls,
        *,
        model: str | None,
        dimensions: int | None,
        encoding_format: str | None,
        input_type: str | None,
        model_extras: Mapping[str, Any] | None = None,
        input_type_chosen: bool = False,
    ) -> EmbeddingsSpec:
        """The spec both frameworks' classes send: the input type may be dropped if the model
        rejects it (logged as a warning if the user chose it, ``input_type_chosen``, else at
        INFO level), and with no ``encoding_format`` chosen vectors travel as base64 (about four
        times smaller than JSON floats, as the OpenAI SDK does), falling back to the model's
        default if base64 is rejected. Callers get floats either way; pass
        ``encoding_format="float"`` to force JSON floats on the wire."""
        return cls(
            model=model,
            dimensions=dimensions,
            encoding_format=encoding_format or "base64",
            input_type=input_type,
            model_extras=model_extras or None,
            droppable=frozenset(
                ["input_type"] if encoding_format else ["input_type", "encoding_format"]
            ),
            chosen=frozenset(["input_type"] if input_type_chosen else []),
        )

    def without(self, names: Iterable[str]) -> EmbeddingsSpec:
        """This spec with the droppable parameters ``names`` no longer sent."""
        names = set(names)
        return replace(
            self,
            input_type=None if "input_type" in names else self.input_type,
            encoding_format=None if "encoding_format" in names else self.encoding_format,
        )

    def build(self, inputs: list[Any]) -> WireRequest:
        """The wire request for one batch."""
        from azureinfer.request import build_embeddings_request

        return build_embeddings_request(
            inputs,
            model=self.model,
            dimensions=self.dimensions,
            encoding_format=self.encoding_format,
            input_type=self.input_type,
            model_extras=dict(self.model_extras) if self.model_extras else None,
            extra_parameters=self.extra_parameters,
            headers=dict(self.headers) if self.headers else None,
        )


# --------------------------------------------------------------------------- input checks


def validate_texts(texts: Sequence[Any], *, max_input_chars: int | None = None) -> list[str]:
    """Return ``texts`` as a list, or raise `EmbeddingInputError` naming the first bad position.

    A bare string is refused (it would be embedded character by character).
    """
    if isinstance(texts, (str, bytes)):
        raise EmbeddingInputError(
            "expected a list of strings, got a single string; wrap it in a list "
            "(or use the query method)"
        )
    out = list(texts)
    for i, text in enumerate(out):
        if not isinstance(text, str):
            raise EmbeddingInputError(
                f"input {i} is a {type(text).__name__}, not a string", position=i
            )
        if not text.strip():
            raise EmbeddingInputError(
                f"input {i} is empty or whitespace only; the service cannot embed it "
                "(remove it or replace it with real text)",
                position=i,
            )
        if max_input_chars is not None and len(text) > max_input_chars:
            raise EmbeddingInputError(
                f"input {i} has {len(text)} characters, over max_input_chars="
                f"{max_input_chars}; split it into smaller chunks",
                position=i,
            )
    return out


def plan_batches(
    inputs: Sequence[Any],
    *,
    batch_size: int,
    max_batch_chars: int | None = None,
    size_of: Callable[[Any], int] = len,
) -> list[Batch]:
    """Split ``inputs`` into contiguous batches of at most ``batch_size`` inputs and at most
    ``max_batch_chars`` total size (``size_of`` each input).

    Raises `EmbeddingInputError` for an input that alone exceeds ``max_batch_chars``.
    """
    if batch_size < 1:
        raise ConfigurationError(f"batch_size must be a positive integer, got {batch_size!r}")
    batches: list[Batch] = []
    current: list[Any] = []
    start = 0
    used = 0
    for i, item in enumerate(inputs):
        size = size_of(item) if max_batch_chars is not None else 0
        if max_batch_chars is not None and size > max_batch_chars:
            raise EmbeddingInputError(
                f"input {i} has {size} characters, more than one request may carry "
                f"(max_batch_chars={max_batch_chars}); split it into smaller chunks",
                position=i,
            )
        if current and (
            len(current) >= batch_size
            or (max_batch_chars is not None and used + size > max_batch_chars)
        ):
            batches.append(Batch(start, current))
            current, start, used = [], i, 0
        current.append(item)
        used += size
    if current:
        batches.append(Batch(start, current))
    return batches


# --------------------------------------------------------------------------- decoding


def vectors_from_result(
    result: EmbeddingsResult,
    batch: Batch,
    *,
    encoding_format: str | None = None,
    dimensions: int | None = None,
) -> list[Vector]:
    """The batch's vectors in input order, decoded to floats.

    `EmbeddingsResult.vectors` is already ordered by index and decoded by the core
    (`azureinfer.response.parse_embeddings`); a result without them (or with the wrong count) is
    placed from the raw ``data[].index`` entries, so errors name the inputs' positions in the
    whole run. Raises `EmbeddingsResponseError` unless there is exactly one embedding per input.
    """
    expected = len(batch.inputs)
    where = f"inputs {batch.start}..{batch.stop - 1}"
    vectors = list(result.vectors)
    if len(vectors) == expected:
        return vectors
    raw = getattr(result, "raw", None)
    data = raw.get("data") if isinstance(raw, Mapping) else None
    if isinstance(data, list) and all(isinstance(d, Mapping) and "index" in d for d in data):
        slots: list[Vector | None] = [None] * expected
        for item in data:
            index = item["index"]
            if not isinstance(index, int) or not 0 <= index < expected:
                raise EmbeddingsResponseError(
                    f"the service returned an embedding with index {index!r} for a batch of "
                    f"{expected} ({where})"
                )
            if slots[index] is not None:
                raise EmbeddingsResponseError(
                    f"the service returned two embeddings for input {batch.start + index}"
                )
            slots[index] = decode_embedding(item.get("embedding"), encoding_format, dimensions)
        missing = [batch.start + i for i, v in enumerate(slots) if v is None]
        if missing:
            raise EmbeddingsResponseError(
                f"the service returned {len(data)} embeddings for {expected} inputs ({where}); "
                f"missing positions: {missing[:10]}"
            )
        return [v for v in slots if v is not None]
    raise EmbeddingsResponseError(
        f"the service returned {len(vectors)} embeddings for {expected} inputs ({where})"
    )


# --------------------------------------------------------------------------- images


_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"BM", "bmp"),
)


def _image_format(data: bytes, hint: str | None = None) -> str:
    for magic, fmt in _MAGIC:
        if data.startswith(magic):
            return fmt
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if hint:
        guessed = mimetypes.guess_type(hint)[0]
        if guessed and guessed.startswith("image/"):
            return guessed.split("/", 1)[1]
    raise EmbeddingInputError("cannot tell the image format (expected PNG, JPEG, GIF, WEBP, BMP)")


def _data_url(data: bytes, hint: str | None = None) -> str:
    if not data:
        raise EmbeddingInputError("the image is empty (0 bytes)")
    fmt = _image_format(data, hint)
    return f"data:image/{fmt};base64,{base64.b64encode(data).decode('ascii')}"


def image_input(
    image: str | bytes | os.PathLike[str] | Any, text: str | None = None, *, timeout: float = 30.0
) -> dict[str, str]:
    """The wire input for `/images/embeddings`: ``{"image": <data URL>, "text"?: ...}``.

    ``image`` may be a ``data:`` URL, an ``http(s)`` URL (fetched here, the service wants the
    bytes), a file path, raw ``bytes`` or a binary file-like object (``BytesIO``).
    """
    if isinstance(image, (bytes, bytearray, memoryview)):
        url = _data_url(bytes(image))
    elif hasattr(image, "read"):
        data = image.read()
        if not isinstance(data, bytes):
            raise EmbeddingInputError("image file objects must be opened in binary mode")
        url = _data_url(data)
    elif isinstance(image, (str, os.PathLike)):
        ref = os.fspath(image)
        if ref.startswith("data:"):
            if ";base64," not in ref[:100]:
                raise EmbeddingInputError("image data URLs must be base64: data:image/...;base64,")
            url = ref
        elif ref.startswith(("http://", "https://")):
            url = _data_url(_fetch(ref, timeout), ref)
        else:
            try:
                with open(ref, "rb") as fh:
                    url = _data_url(fh.read(), ref)
            except OSError as exc:
                raise EmbeddingInputError(f"cannot read image {ref!r}: {exc}") from None
    else:
        raise EmbeddingInputError(
            f"an image must be a path, URL, data URL, bytes or file object, not "
            f"{type(image).__name__}"
        )
    wire = {"image": url}
    if text is not None:
        wire["text"] = text
    return wire


def _fetch(url: str, timeout: float) -> bytes:
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # only http(s) URLs get here
            data: bytes = resp.read()
            return data
    except OSError as exc:
        raise EmbeddingInputError(f"cannot download image {url!r}: {exc}") from None


def _image_inputs(images: Sequence[Any]) -> list[dict[str, str]]:
    if isinstance(images, (str, bytes)):
        raise EmbeddingInputError("expected a list of images, got a single one; wrap it in a list")
    out = []
    for i, image in enumerate(images):
        try:
            if isinstance(image, Mapping):
                if "image" not in image:
                    raise EmbeddingInputError("an image input dict needs an 'image' key")
                wire = image_input(image["image"], image.get("text"))
            else:
                wire = image_input(image)
        except EmbeddingInputError as exc:
            raise EmbeddingInputError(f"image {i}: {exc}", position=i) from None
        out.append(wire)
    return out


# --------------------------------------------------------------------------- running


class _Progress:
    """A tqdm bar, or nothing. tqdm is imported only when a bar is wanted."""

    def __init__(self, total: int, options: BatchOptions) -> None:
        self._bar: Any = None
        if options.show_progress:
            try:
                from tqdm.auto import tqdm
            except ImportError as exc:  # pragma: no cover - tqdm ships with the [all] extra
                raise ImportError(
                    "show_progress=True needs tqdm: pip install tqdm (or azureinfer[all])"
                ) from exc
            self._bar = tqdm(total=total, desc=options.progress_desc, unit="input")

    def update(self, n: int) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _annotate(exc: BaseException, batch: Batch, total: int) -> None:
    note = f"while embedding inputs {batch.start}..{batch.stop - 1} of {total}"
    param = getattr(exc, "param", None)
    match = re.match(r"input\.(\d+)", param) if isinstance(param, str) else None
    if match and int(match.group(1)) < len(batch.inputs):
        note += f"; the service named input {batch.start + int(match.group(1))}"
    note += " (no result is returned; batches already finished were not sent again)"
    if hasattr(exc, "add_note"):
        exc.add_note(note)


def _rejects(exc: BaseException, param: str) -> bool:
    from azureinfer.errors import UnsupportedParameterError

    return isinstance(exc, UnsupportedParameterError) and (
        getattr(exc, "param", None) == param or param in str(exc)
    )


_DROPPABLE = ("input_type", "encoding_format")


class _Sender:
    """Sends one batch. A parameter in ``spec.droppable`` that the model rejects (422 naming it)
    is dropped with a warning, the batch is sent again, and the rest of the run goes without it;
    ``on_dropped(name)`` lets the caller remember."""

    def __init__(
        self,
        client: _EmbeddingsClient,
        spec: EmbeddingsSpec,
        on_dropped: Callable[[str], None] | None = None,
    ) -> None:
        self.client = client
        self.spec = spec
        self._on_dropped = on_dropped
        self._lock = threading.Lock()
        # Dropping a default the user did not choose: INFO on the model-inference route,
        # WARNING on OpenAI/v1 (a route decision, see azureinfer._routes).
        settings = getattr(client, "settings", None)
        routing = getattr(settings, "routing", None)
        self._default_level = getattr(routing, "dropped_default_log_level", logging.INFO)

    def _fallback(self, exc: Exception, spec: EmbeddingsSpec) -> EmbeddingsSpec | None:
        for name in _DROPPABLE:
            if name in spec.droppable and getattr(spec, name) is not None and _rejects(exc, name):
                break
        else:
            return None
        with self._lock:
            if getattr(self.spec, name) is not None:
                _log.log(
                    logging.WARNING if name in spec.chosen else self._default_level,
                    "The model rejected %s=%r; sending no %s from now on.",
                    name,
                    getattr(spec, name),
                    name,
                )
                self.spec = self.spec.without([name])
                if self._on_dropped is not None:
                    self._on_dropped(name)
            return self.spec

    def send(self, batch: Batch) -> list[Vector]:
        spec = self.spec
        for _ in range(len(_DROPPABLE) + 1):
            try:
                result = self.client.embed(spec.build(batch.inputs))
                break
            except Exception as exc:
                retry_spec = self._fallback(exc, spec)
                if retry_spec is None:
                    raise
                spec = retry_spec
        return vectors_from_result(
            result, batch, encoding_format=spec.encoding_format, dimensions=spec.dimensions
        )

    async def asend(self, batch: Batch) -> list[Vector]:
        spec = self.spec
        for _ in range(len(_DROPPABLE) + 1):
            try:
                result = await self.client.aembed(spec.build(batch.inputs))
                break
            except Exception as exc:
                retry_spec = self._fallback(exc, spec)
                if retry_spec is None:
                    raise
                spec = retry_spec
        return vectors_from_result(
            result, batch, encoding_format=spec.encoding_format, dimensions=spec.dimensions
        )


def _plan(
    inputs: list[Any], options: BatchOptions, size_of: Callable[[Any], int] | None
) -> list[Batch]:
    """The run's batches: by count, and by the size budget when inputs have a size."""
    return plan_batches(
        inputs,
        batch_size=options.batch_size,
        max_batch_chars=options.max_batch_chars if size_of else None,
        size_of=size_of or len,
    )


def _run_sync(
    sender: _Sender,
    inputs: list[Any],
    options: BatchOptions,
    size_of: Callable[[Any], int] | None,
) -> list[Vector]:
    if not inputs:
        return []
    batches = _plan(inputs, options, size_of)
    out: list[Vector | None] = [None] * len(inputs)
    progress = _Progress(len(inputs), options)

    def run_one(batch: Batch) -> None:
        out[batch.start : batch.stop] = sender.send(batch)

    try:
        if len(batches) == 1 or options.max_concurrency == 1:
            for batch in batches:
                try:
                    run_one(batch)
                except Exception as exc:
                    _annotate(exc, batch, len(inputs))
                    raise
                progress.update(len(batch.inputs))
        else:
            _run_threads(run_one, batches, options, progress, len(inputs))
    finally:
        progress.close()
    return _complete(out)


def _run_threads(
    run_one: Callable[[Batch], None],
    batches: list[Batch],
    options: BatchOptions,
    progress: _Progress,
    total: int,
) -> None:
    # Workers pull from one iterator, so at most max_concurrency requests exist at a time and a
    # failure stops the others from starting new batches.
    stop = threading.Event()
    lock = threading.Lock()
    todo: Iterator[Batch] = iter(batches)

    def worker() -> None:
        while not stop.is_set():
            with lock:
                batch = next(todo, None)
            if batch is None:
                return
            try:
                run_one(batch)
            except Exception as exc:
                stop.set()
                _annotate(exc, batch, total)
                raise
            with lock:
                progress.update(len(batch.inputs))

    workers = min(options.max_concurrency, len(batches))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="azureinfer-embed") as pool:
        futures: list[Future[None]] = [pool.submit(worker) for _ in range(workers)]
        try:
            for fut in futures:
                fut.exception()  # waits; a failed worker has already told the others to stop
        except BaseException:  # KeyboardInterrupt in the caller: let the workers wind down
            stop.set()
            raise
    errors = [exc for fut in futures if (exc := fut.exception()) is not None]
    if errors:
        raise errors[0]


async def _run_async(
    sender: _Sender,
    inputs: list[Any],
    options: BatchOptions,
    size_of: Callable[[Any], int] | None,
) -> list[Vector]:
    if not inputs:
        return []
    batches = _plan(inputs, options, size_of)
    out: list[Vector | None] = [None] * len(inputs)
    progress = _Progress(len(inputs), options)
    todo = iter(batches)

    async def worker() -> None:
        for batch in todo:  # shared iterator: each batch is taken by exactly one worker
            try:
                vectors = await sender.asend(batch)
            except Exception as exc:
                _annotate(exc, batch, len(inputs))
                raise
            out[batch.start : batch.stop] = vectors
            progress.update(len(batch.inputs))

    workers = min(options.max_concurrency, len(batches))
    try:
        if workers == 1:
            await worker()
        else:
            tasks = [asyncio.ensure_future(worker()) for _ in range(workers)]
            try:
                await asyncio.gather(*tasks)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        progress.close()
    return _complete(out)


def _complete(out: list[Vector | None]) -> list[Vector]:
    vectors = [v for v in out if v is not None]
    if len(vectors) != len(out):  # pragma: no cover - every batch either filled its slots or raised
        raise EmbeddingsResponseError("some inputs received no embedding")
    return vectors


def _text_size(text: str) -> int:
    return len(text)


def embed_texts(
    client: _EmbeddingsClient,
    texts: Sequence[str],
    spec: EmbeddingsSpec,
    options: BatchOptions | None = None,
    *,
    on_dropped: Callable[[str], None] | None = None,
) -> list[Vector]:
    """Embed ``texts`` through ``client`` (an `EmbeddingsClient` for the ``embeddings`` route):
    one list of floats per text, in order. Threads give the concurrency.

    Parameters named in ``spec.droppable`` that the model rejects (422) are dropped with a
    warning and the batch is sent again; ``on_dropped(name)`` is called once per parameter so
    the caller can remember.
    """
    options = options or BatchOptions()
    checked = validate_texts(texts, max_input_chars=options.max_input_chars)
    sender = _Sender(client, spec, on_dropped)
    return _run_sync(sender, checked, options, _text_size)


async def aembed_texts(
    client: _EmbeddingsClient,
    texts: Sequence[str],
    spec: EmbeddingsSpec,
    options: BatchOptions | None = None,
    *,
    on_dropped: Callable[[str], None] | None = None,
) -> list[Vector]:
    """Async `embed_texts`: asyncio tasks give the concurrency."""
    options = options or BatchOptions()
    checked = validate_texts(texts, max_input_chars=options.max_input_chars)
    sender = _Sender(client, spec, on_dropped)
    return await _run_async(sender, checked, options, _text_size)


def embed_images(
    client: _EmbeddingsClient,
    images: Sequence[Any],
    spec: EmbeddingsSpec,
    options: BatchOptions | None = None,
    *,
    on_dropped: Callable[[str], None] | None = None,
) -> list[Vector]:
    """Embed images through ``client`` (an `EmbeddingsClient` for ``images/embeddings``).

    Each image is anything `image_input` accepts, or a dict ``{"image": ..., "text": ...}``.
    Batches are split by count only (``max_batch_chars`` applies to text).
    """
    options = options or BatchOptions()
    sender = _Sender(client, spec, on_dropped)
    return _run_sync(sender, _image_inputs(images), options, None)


async def aembed_images(
    client: _EmbeddingsClient,
    images: Sequence[Any],
    spec: EmbeddingsSpec,
    options: BatchOptions | None = None,
    *,
    on_dropped: Callable[[str], None] | None = None,
) -> list[Vector]:
    """Async `embed_images`. Paths and URLs are read in a worker thread."""
    options = options or BatchOptions()
    wire = await asyncio.to_thread(_image_inputs, images)
    sender = _Sender(client, spec, on_dropped)
    return await _run_async(sender, wire, options, None)


# --------------------------------------------------------------------------- the adapters' engine


Route = Literal["embeddings", "images/embeddings"]


#: An embeddings adapter's connection fields (see `embedder_for`).
CONNECTION_FIELDS = (
    "endpoint",
    "route",
    "credential",
    "api_version",
    "credential_scopes",
    "timeout",
    "max_retries",
    "headers",
    "client_kwargs",
)


def connection_key(source: Any) -> tuple[int, ...]:
    """Identity of ``source``'s `CONNECTION_FIELDS`: when it changes (``model_copy(update=...)``,
    assignment), the object needs an `Embedder` of its own instead of the original's clients."""
    return tuple(id(getattr(source, name)) for name in CONNECTION_FIELDS)


def embedder_for(source: Any, model: str | None = None) -> Embedder:
    """An `Embedder` for an adapter object that carries the `CONNECTION_FIELDS` attributes
    (and ``_route_detected``, see `requested_route`). The chosen route is recorded on
    ``source.route``. Raises `ConfigurationError` when the route needs a ``model`` and none is
    given (OpenAI/v1)."""
    route = requested_route(source.route, source._route_detected)
    embedder = Embedder(
        resolve_settings(
            source.endpoint,
            source.credential,
            route=route,
            api_version=source.api_version,
            credential_scopes=source.credential_scopes,
            timeout=source.timeout,
            max_retries=source.max_retries,
            headers=source.headers,
            client_kwargs=source.client_kwargs,
        )
    )
    routing = embedder.settings.routing
    routing.wire("embeddings", {"model": model, "input": []}, {})  # model required on v1
    source._route_detected = embedder.settings.route if route == "auto" else None
    source.route = embedder.settings.route
    return embedder


class Embedder:
    """What an embeddings adapter holds: lazy clients for both routes and the memory of the
    droppable parameters each route's model rejected. No I/O until the first call; picklable
    (clients are dropped and created again on use); ``close()`` / ``aclose()`` release them.
    ``drop_rejected=False`` ignores ``EmbeddingsSpec.droppable`` (rejections are raised).
    """

    def __init__(self, settings: ConnectionSettings, *, drop_rejected: bool = True) -> None:
        self.settings = settings
        self.drop_rejected = drop_rejected
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._dropped: dict[str, set[str]] = {}

    def __repr__(self) -> str:
        return f"Embedder({self.settings!r})"

    def __getstate__(self) -> dict[str, Any]:
        return {
            "settings": self.settings,
            "drop_rejected": self.drop_rejected,
            "_dropped": {k: set(v) for k, v in self._dropped.items()},
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._clients = {}
        self._lock = threading.Lock()

    def client(self, route: Route) -> Any:
        """The `EmbeddingsClient` of ``route``, created on first use."""
        client = self._clients.get(route)
        if client is None:
            with self._lock:
                client = self._clients.get(route)
                if client is None:
                    from azureinfer.transport import EmbeddingsClient

                    client = EmbeddingsClient(self.settings, kind=route)
                    self._clients[route] = client
        return client

    def _prepare(
        self, route: Route, spec: EmbeddingsSpec
    ) -> tuple[EmbeddingsSpec, Callable[[str], None] | None]:
        if not self.drop_rejected:
            return replace(spec, droppable=frozenset()), None
        dropped = self._dropped.get(route, set()) & spec.droppable
        if dropped:
            spec = spec.without(dropped)
        return spec, lambda name: self._dropped.setdefault(route, set()).add(name)

    def embed_texts(
        self, texts: Sequence[str], spec: EmbeddingsSpec, options: BatchOptions
    ) -> list[Vector]:
        """`embed_texts` on the ``embeddings`` route."""
        spec, on_dropped = self._prepare("embeddings", spec)
        return embed_texts(self.client("embeddings"), texts, spec, options, on_dropped=on_dropped)

    async def aembed_texts(
        self, texts: Sequence[str], spec: EmbeddingsSpec, options: BatchOptions
    ) -> list[Vector]:
        """`aembed_texts` on the ``embeddings`` route."""
        spec, on_dropped = self._prepare("embeddings", spec)
        return await aembed_texts(
            self.client("embeddings"), texts, spec, options, on_dropped=on_dropped
        )

    def embed_images(
        self, images: Sequence[Any], spec: EmbeddingsSpec, options: BatchOptions
    ) -> list[Vector]:
        """`embed_images` on the ``images/embeddings`` route."""
        spec, on_dropped = self._prepare("images/embeddings", spec)
        return embed_images(
            self.client("images/embeddings"), images, spec, options, on_dropped=on_dropped
        )

    async def aembed_images(
        self, images: Sequence[Any], spec: EmbeddingsSpec, options: BatchOptions
    ) -> list[Vector]:
        """`aembed_images` on the ``images/embeddings`` route."""
        spec, on_dropped = self._prepare("images/embeddings", spec)
        return await aembed_images(
            self.client("images/embeddings"), images, spec, options, on_dropped=on_dropped
        )

    def close(self) -> None:
        """Close the sync clients (async ones too when no loop needs them)."""
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()

    async def aclose(self) -> None:
        """Close every client, sync and async."""
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()
