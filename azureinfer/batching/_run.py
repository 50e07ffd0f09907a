"""Running a plan: `Run`, the step object without I/O (which batch goes next, the result slots,
the droppable-parameter fallback, the failure note, the progress bar), and its two drivers, the
only code that sends: threads (`drive`) and asyncio tasks (`adrive`)."""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from azureinfer.batching._plan import Batch, BatchOptions, EmbeddingsSpec, Vector

if TYPE_CHECKING:
    from azureinfer.request import WireRequest
    from azureinfer.response import EmbeddingsResult

_log = logging.getLogger("azureinfer.batching")

# The parameters a spec may stop sending when the model rejects them, in the order tried.
_DROPPABLE = ("input_type", "encoding_format")


class _EmbeddingsClient(Protocol):
    """What the drivers send through: `azureinfer.transport.EmbeddingsClient`, whose results
    hold one vector per input (checked, with the positions, by its parser)."""

    def embed(self, req: WireRequest) -> EmbeddingsResult: ...

    async def aembed(self, req: WireRequest) -> EmbeddingsResult: ...


class _Progress:
    """A tqdm bar, or nothing. tqdm is imported only when a bar is wanted."""

    def __init__(self, total: int, options: BatchOptions) -> None:
        self._bar: Any = None
        if options.show_progress and total:
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


def _refused(exc: BaseException, spec: EmbeddingsSpec) -> str | None:
    """The droppable parameter of ``spec`` that ``exc`` (a 422 naming it) says the model
    refuses, if any."""
    from azureinfer.errors import UnsupportedParameterError

    if not isinstance(exc, UnsupportedParameterError):
        return None
    for name in _DROPPABLE:
        sent = name in spec.droppable and getattr(spec, name) is not None
        if sent and (getattr(exc, "param", None) == name or name in str(exc)):
            return name
    return None


@dataclass(frozen=True)
class _Attempt:
    """One batch to send, with the spec it goes with."""

    batch: Batch
    spec: EmbeddingsSpec

    def request(self) -> WireRequest:
        return self.spec.build(self.batch.inputs)


class Run:
    """One run, without I/O: which batch goes next (iterating the run gives them), what each
    outcome does (`done`, `failed`) and what the run returns (`result`); the two drivers only
    send and wait. Thread-safe (the threads of the sync driver share one).

    A parameter in ``spec.droppable`` that the model rejects (422 naming it) is dropped with a
    log line, the batch goes again and the rest of the run goes without it; ``on_dropped(name)``
    lets the caller remember. Any other failure stops the run (no batch starts after it) and is
    raised with a note naming the batch's input positions.
    """

    def __init__(
        self,
        client: _EmbeddingsClient,
        batches: list[Batch],
        spec: EmbeddingsSpec,
        options: BatchOptions,
        on_dropped: Callable[[str], None] | None = None,
    ) -> None:
        self.client = client
        self.spec = spec
        self.total = total = batches[-1].stop if batches else 0
        self.workers = min(options.max_concurrency, len(batches))
        self.out: list[Vector] = [[] for _ in range(total)]
        self.error: BaseException | None = None
        """The failure that stopped the run (the first one)."""
        self._todo = deque(batches)  # a batch sent again goes first
        self._stopped = False
        self._lock = threading.Lock()
        self._on_dropped = on_dropped
        self._progress = _Progress(total, options)
        # Dropping a default the user did not choose: INFO on the model-inference route,
        # WARNING on OpenAI/v1 (a route decision, see azureinfer._routes).
        routing = getattr(getattr(client, "settings", None), "routing", None)
        self._default_level = getattr(routing, "dropped_default_log_level", logging.INFO)

    def __iter__(self) -> Iterator[_Attempt]:
        """One worker's batches: the next one to send until none is left or the run stopped."""
        while True:
            with self._lock:
                if self._stopped or not self._todo:
                    return
                attempt = _Attempt(self._todo.popleft(), self.spec)
            yield attempt

    def done(self, attempt: _Attempt, result: EmbeddingsResult) -> None:
        """``attempt``'s vectors, one per input (the client's parser checked the count)."""
        batch = attempt.batch
        with self._lock:
            self.out[batch.start : batch.stop] = result.vectors
            self._progress.update(len(batch.inputs))

    def failed(self, attempt: _Attempt, exc: BaseException) -> None:
        """Queue ``attempt``'s batch again without the parameter the model refused, or stop the
        run and raise ``exc`` (which ends the worker; the first failure is the run's `error`)."""
        name = _refused(exc, attempt.spec)
        with self._lock:
            if name is not None and not self._stopped:
                if getattr(self.spec, name) is not None:  # the first batch to hear it
                    _log.log(
                        logging.WARNING if name in self.spec.chosen else self._default_level,
                        "The model rejected %s=%r; sending no %s from now on.",
                        name,
                        getattr(attempt.spec, name),
                        name,
                    )
                    self.spec = self.spec.without([name])
                    if self._on_dropped is not None:
                        self._on_dropped(name)
                self._todo.appendleft(attempt.batch)
                return
            self._stopped = True
            first = self.error is None
            if first:
                self.error = exc
        if first:
            _annotate(exc, attempt.batch, self.total)
        raise exc

    def stop(self) -> None:
        """Start no other batch (the caller was interrupted)."""
        with self._lock:
            self._stopped = True

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc_info: object) -> None:
        """The workers ended, or the caller was interrupted: no batch starts after this."""
        self.stop()
        self._progress.close()

    def result(self) -> list[Vector]:
        """The vectors in input order, or the run's `error` raised (once every worker ended)."""
        if self.error is not None:
            raise self.error
        return self.out


def drive(run: Run) -> list[Vector]:
    """Send ``run``'s batches from ``run.workers`` threads (the caller's own when one is enough)."""

    def worker() -> None:
        for attempt in run:
            try:
                run.done(attempt, run.client.embed(attempt.request()))
            except BaseException as exc:  # every way a batch ends is the run's to judge
                run.failed(attempt, exc)

    with run:
        if run.workers > 1:
            _in_threads(worker, run)
        else:
            worker()
    return run.result()


def _in_threads(worker: Callable[[], None], run: Run) -> None:
    """``worker`` in ``run.workers`` threads, until every one has ended."""
    with ThreadPoolExecutor(run.workers, thread_name_prefix="azureinfer-embed") as pool:
        futures = [pool.submit(worker) for _ in range(run.workers)]
        try:
            wait(futures)
        except BaseException:  # KeyboardInterrupt in the caller: let the workers wind down
            run.stop()
            raise


async def adrive(run: Run) -> list[Vector]:
    """Send ``run``'s batches from ``run.workers`` asyncio tasks (the first failure cancels the
    others' requests)."""

    async def worker() -> None:
        for attempt in run:
            try:
                run.done(attempt, await run.client.aembed(attempt.request()))
            except BaseException as exc:  # every way a batch ends is the run's to judge
                run.failed(attempt, exc)

    tasks = [asyncio.ensure_future(worker()) for _ in range(run.workers)]
    with run:
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    return run.result()
