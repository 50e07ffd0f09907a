"""Running a plan: one batch sent (with the droppable-parameter fallback), and the sync (threads)
and async (tasks) drivers, thin loops over the same `_Run` bookkeeping."""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Protocol

from azureinfer.batching._images import image_inputs
from azureinfer.batching._plan import (
    Batch,
    BatchOptions,
    EmbeddingsSpec,
    Vector,
    plan_inputs,
    plan_texts,
)
from azureinfer.errors import EmbeddingsResponseError

if TYPE_CHECKING:
    from azureinfer.request import WireRequest
    from azureinfer.response import EmbeddingsResult

_log = logging.getLogger("azureinfer.batching")

# The parameters a spec may stop sending when the model rejects them, in the order tried.
_DROPPABLE = ("input_type", "encoding_format")


class _EmbeddingsClient(Protocol):
    def embed(self, req: WireRequest) -> EmbeddingsResult: ...

    async def aembed(self, req: WireRequest) -> EmbeddingsResult: ...


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
    positions = getattr(exc, "positions", None)
    if positions:
        note += f"; inputs without an embedding: {[batch.start + p for p in positions][:10]}"
    note += " (no result is returned; batches already finished were not sent again)"
    if hasattr(exc, "add_note"):
        exc.add_note(note)


def _rejects(exc: BaseException, param: str) -> bool:
    from azureinfer.errors import UnsupportedParameterError

    return isinstance(exc, UnsupportedParameterError) and (
        getattr(exc, "param", None) == param or param in str(exc)
    )


class _Sender:
    """Sends one batch. A parameter in ``spec.droppable`` that the model rejects (422 naming it)
    is dropped with a warning, the batch is sent again, and the rest of the run goes without it;
    ``on_dropped(name)`` lets the caller remember. The vectors come back checked (one per input)
    and decoded by the client (`azureinfer.response.parse_embeddings`)."""

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

    def _without_rejected(self, exc: Exception, spec: EmbeddingsSpec) -> EmbeddingsSpec:
        """The spec to send the batch again with, or ``exc`` raised when nothing can be dropped."""
        for name in _DROPPABLE:
            if name in spec.droppable and getattr(spec, name) is not None and _rejects(exc, name):
                break
        else:
            raise exc
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
        while True:  # each retry sends one droppable parameter fewer
            try:
                return self.client.embed(spec.build(batch.inputs)).vectors
            except Exception as exc:
                spec = self._without_rejected(exc, spec)

    async def asend(self, batch: Batch) -> list[Vector]:
        spec = self.spec
        while True:
            try:
                return (await self.client.aembed(spec.build(batch.inputs))).vectors
            except Exception as exc:
                spec = self._without_rejected(exc, spec)


class _Run:
    """One run's bookkeeping, shared by both drivers: the batches, the result slots, the
    progress bar, the failure note."""

    def __init__(self, batches: list[Batch], options: BatchOptions) -> None:
        self.batches = batches
        self.total = total = batches[-1].stop
        self.workers = min(options.max_concurrency, len(batches))
        self.out: list[Vector] = [[] for _ in range(total)]
        self.progress = _Progress(total, options)

    def done(self, batch: Batch, vectors: list[Vector]) -> None:
        if len(vectors) != len(batch.inputs):  # a client outside the core's contract
            raise EmbeddingsResponseError(
                f"the service returned {len(vectors)} embeddings for {len(batch.inputs)} inputs"
            )
        self.out[batch.start : batch.stop] = vectors
        self.progress.update(len(batch.inputs))

    def failed(self, exc: BaseException, batch: Batch) -> None:
        _annotate(exc, batch, self.total)


def _run_sync(sender: _Sender, batches: list[Batch], options: BatchOptions) -> list[Vector]:
    if not batches:
        return []
    run = _Run(batches, options)
    todo: Iterator[Batch] = iter(batches)
    stop = threading.Event()
    lock = threading.Lock()

    def worker() -> None:
        # Workers pull from one iterator, so at most `workers` requests exist at a time and a
        # failure stops the others from starting new batches.
        while not stop.is_set():
            with lock:
                batch = next(todo, None)
            if batch is None:
                return
            try:
                vectors = sender.send(batch)
            except Exception as exc:
                stop.set()
                run.failed(exc, batch)
                raise
            with lock:
                run.done(batch, vectors)

    try:
        if run.workers == 1:
            worker()
        else:
            _in_threads(worker, run.workers, stop)
    finally:
        run.progress.close()
    return run.out


def _in_threads(worker: Callable[[], None], workers: int, stop: threading.Event) -> None:
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


async def _run_async(sender: _Sender, batches: list[Batch], options: BatchOptions) -> list[Vector]:
    if not batches:
        return []
    run = _Run(batches, options)
    todo = iter(batches)

    async def worker() -> None:
        for batch in todo:  # shared iterator: each batch is taken by exactly one worker
            try:
                vectors = await sender.asend(batch)
            except Exception as exc:
                run.failed(exc, batch)
                raise
            run.done(batch, vectors)

    try:
        if run.workers == 1:
            await worker()
        else:
            tasks = [asyncio.ensure_future(worker()) for _ in range(run.workers)]
            try:
                await asyncio.gather(*tasks)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        run.progress.close()
    return run.out


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
    batches = plan_texts(texts, options)
    return _run_sync(_Sender(client, spec, on_dropped), batches, options)


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
    batches = plan_texts(texts, options)
    return await _run_async(_Sender(client, spec, on_dropped), batches, options)


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
    wire = image_inputs(images)
    return _run_sync(_Sender(client, spec, on_dropped), plan_inputs(wire, options), options)


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
    wire = await asyncio.to_thread(image_inputs, images)
    batches = plan_inputs(wire, options)
    return await _run_async(_Sender(client, spec, on_dropped), batches, options)
