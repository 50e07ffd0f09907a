"""Embed a corpus and run batch chat on Ray Data, within one quota for the whole cluster.

``pip install azureinfer[ray]`` (Ray Data 2.60 or later).

```python
import ray
from azureinfer.ray import embed_dataset, summary
from langchain_azureinfer import AzureInferenceEmbeddings

ray.init()                                   # or ray.init(address="ray://head:10001")
ds = ray.data.read_parquet("chunks.parquet")  # a "text" column
out = embed_dataset(ds, AzureInferenceEmbeddings(model="text-embedding-3-small"),
                    requests_per_minute=6_000, tokens_per_minute=1_000_000)
out.write_parquet("embedded/")               # runs here; Ray's progress bar shows the rows
print(summary(out))                          # requests, tokens, retries, 429s
```

- `embed_dataset` / `chat_dataset` return a new Dataset lazily (nothing is sent before it is
  consumed); a pool of Ray actors (``actors``) each unpickles the embeddings / chat object
  once and builds its own clients, with up to ``max_in_flight`` async requests at a time.
- **One quota**: one named, detached Ray actor (``quota_name``) schedules every request of
  every worker within ``requests_per_minute`` / ``tokens_per_minute``, paced evenly and within
  the share of every ``quota_window`` seconds (the service enforces its per-minute quota over
  windows of a few seconds); a 429 seen by any worker pauses the whole cluster for its
  ``retry-after``.
  Without a quota, the first request goes alone and its answer's ``x-ratelimit-*`` headers set
  the quota (no such headers: no limit). See `azureinfer.ray._quota` for the schedule.
- **Rows**: each vector / reply is written into the row it was computed for (batches travel as
  Arrow tables). A request that fails after the core's retries fails the job with a `RowError`
  naming its rows (``on_error="raise"``), or gives them a null value and an error message in
  ``error_column`` (``on_error="keep"``). A worker killed mid-batch loses nothing and duplicates
  nothing: Ray Data restarts the actor (``max_restarts=-1``) and runs its unfinished batches
  again (``max_task_retries=-1``); a batch's output exists only once the whole batch is done,
  and a row's result depends only on the row, so the rerun gives the same rows.
- Row order: as Ray Data's ``DataContext.execution_options.preserve_order`` says (off by
  default: blocks come out as they finish; each row keeps its own columns either way).
"""

from __future__ import annotations

import hashlib
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from azureinfer.errors import ConfigurationError
from azureinfer.ray._quota import (
    DEFAULT_QUOTA_MARGIN,
    DEFAULT_QUOTA_WINDOW,
    QuotaActor,
    Schedule,
    check_quota,
    limits_from_headers,
)
from azureinfer.ray._workers import (
    ChatBatches,
    EmbedBatches,
    RowError,
    embedding_plan,
    estimate_tokens,
)

if TYPE_CHECKING:
    import ray.data

__all__ = [
    "QuotaActor",
    "RowError",
    "RunSummary",
    "Schedule",
    "chat_dataset",
    "embed_dataset",
    "estimate_tokens",
    "limits_from_headers",
    "quota_actor",
    "summary",
]

OnError = Literal["raise", "keep"]

#: Ray namespace of the quota actors.
QUOTA_NAMESPACE = "azureinfer"
#: Requests in flight per actor.
DEFAULT_MAX_IN_FLIGHT = 8

_RUNS: weakref.WeakKeyDictionary[Any, tuple[Any, str]] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class RunSummary:
    """What one `embed_dataset` / `chat_dataset` run did, from the quota actor's counters."""

    rows: int
    """Rows the workers finished (a batch run again after its worker died counts again; the
    dataset itself has each row once)."""
    failed_rows: int
    requests: int
    failed_requests: int
    """Requests that ended in an error, the 422s included that made the engine drop a parameter
    the model refuses (such as ``input_type``) and send the batch again."""
    tokens: int
    retries: int
    """Answers beyond one per request (retried 429s / 5xx)."""
    rate_limited: int
    """429 answers seen by any worker."""
    seconds: float
    """From the first request's start to the last one's end."""
    waited_seconds: float
    """Time requests spent waiting for the quota, summed over requests."""
    workers: int
    """Worker processes that ran (a restarted actor counts again)."""
    requests_per_minute: float | None
    tokens_per_minute: float | None

    def __str__(self) -> str:
        rate = self.tokens / self.seconds * 60 if self.seconds else 0.0
        return (
            f"{self.rows} rows ({self.failed_rows} failed), {self.requests} requests "
            f"({self.failed_requests} failed), {self.tokens} tokens ({rate:,.0f}/min), "
            f"{self.retries} retries, {self.rate_limited} 429s, {self.seconds:.1f} s, "
            f"{self.workers} workers"
        )


def _positive_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigurationError(f"{name} must be a positive integer, got {value!r}")


def _ray() -> Any:
    """The ``ray`` module, or a `ConfigurationError` saying how to install it."""
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise ConfigurationError(
            'azureinfer.ray needs Ray Data: pip install "azureinfer[ray]"'
        ) from exc
    return ray


def _compute(actors: int | tuple[int, int]) -> Any:
    ray = _ray()

    if isinstance(actors, tuple) and len(actors) == 2:
        _positive_int("actors[0]", actors[0])
        _positive_int("actors[1]", actors[1])
        return ray.data.ActorPoolStrategy(min_size=actors[0], max_size=actors[1])
    _positive_int("actors", actors)
    return ray.data.ActorPoolStrategy(size=actors)


def quota_actor(
    name: str,
    *,
    requests_per_minute: float | None = None,
    tokens_per_minute: float | None = None,
    quota_window: float = DEFAULT_QUOTA_WINDOW,
    quota_margin: float = DEFAULT_QUOTA_MARGIN,
) -> Any:
    """The named quota actor ``name`` in the ``azureinfer`` namespace (created if needed; a
    quota given here replaces its quota). Every dataset drawing from the same deployment, in
    any job on the cluster, shares it: it is detached (it outlives the job, idle and holding no
    CPU; ``ray.kill(ray.get_actor(name, namespace="azureinfer"))`` removes it)."""
    ray = _ray()

    check_quota(requests_per_minute, tokens_per_minute, quota_window, quota_margin)
    actor: Any = (
        ray.remote(QuotaActor)
        .options(
            name=name,
            namespace=QUOTA_NAMESPACE,
            lifetime="detached",
            get_if_exists=True,
            num_cpus=0,
            max_concurrency=10_000,
        )
        .remote(requests_per_minute, tokens_per_minute, quota_window, quota_margin)
    )
    if requests_per_minute or tokens_per_minute:
        ray.get(
            actor.configure.remote(
                requests_per_minute, tokens_per_minute, quota_window, quota_margin
            )
        )
    return actor


def _default_quota_name(endpoint: str | None, model: str | None) -> str:
    digest = hashlib.sha256(f"{endpoint or ''}|{model or ''}".encode()).hexdigest()[:16]
    return f"azureinfer-quota-{digest}"


def _run_id() -> str:
    import uuid

    return uuid.uuid4().hex


def _check_common(on_error: Any, max_in_flight: Any, rows_per_batch: Any) -> None:
    if on_error not in ("raise", "keep"):
        raise ConfigurationError(f'on_error must be "raise" or "keep", got {on_error!r}')
    _positive_int("max_in_flight", max_in_flight)
    if rows_per_batch is not None:
        _positive_int("rows_per_batch", rows_per_batch)


def embed_dataset(
    ds: ray.data.Dataset,
    embeddings: Any,
    *,
    text_column: str = "text",
    output_column: str = "embedding",
    batch_size: int | None = None,
    requests_per_minute: float | None = None,
    tokens_per_minute: float | None = None,
    on_error: OnError = "raise",
    error_column: str = "error",
    id_column: str | None = None,
    model: str | None = None,
    actors: int | tuple[int, int] = 2,
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
    rows_per_batch: int | None = None,
    num_cpus: float = 0.5,
    quota_window: float = DEFAULT_QUOTA_WINDOW,
    quota_margin: float = DEFAULT_QUOTA_MARGIN,
    quota_name: str | None = None,
) -> ray.data.Dataset:
    """``ds`` with a vector column: ``output_column`` (list of float32) for ``text_column``.

    Args:
        embeddings: `langchain_azureinfer.AzureInferenceEmbeddings`,
            `llamaindex_azureinfer.AzureInferenceEmbedding` (their model, dimensions, input
            type and batching apply) or `azureinfer.ConnectionSettings` (with ``model``).
        batch_size: inputs per request (None: the object's, 96 by default, within every
            catalogued model's per-request limit; OpenAI-style deployments take up to 2048).
        requests_per_minute / tokens_per_minute: the deployment's quota, shared by the whole
            cluster (None for both: read from the service's ``x-ratelimit-*`` headers).
        on_error: ``"raise"`` fails the job with a `RowError` naming the rows of a request that
            failed after the retries (or the row of a text that cannot be embedded: empty, or
            alone over ``max_batch_chars``); ``"keep"`` gives them a null vector and the error
            text in ``error_column`` (null for the other rows).
        id_column: a column that names rows in errors (else the text's start names them).
        actors: Ray actors in the pool (an int, or ``(min, max)`` to autoscale).
        max_in_flight: async requests in flight per actor.
        rows_per_batch: rows per Ray batch (default ``batch_size * max_in_flight``).
        num_cpus: CPUs reserved per actor (the work is I/O: a fraction is enough).
        quota_window: seconds of the window the service enforces the quota over (10 s; the
            emulator's ``rate_limit_window`` when testing with a short one).
        quota_margin: how much slower than the quota to schedule (slack for jitter).
        quota_name: the quota actor's name (default: one per endpoint and model).

    The quota actor is created now (idle); no request is sent before the dataset is consumed.
    Summary after the run: `summary(result)`.
    """
    _check_common(on_error, max_in_flight, rows_per_batch)
    embedder, _, options = embedding_plan(embeddings, batch_size, model)  # errors now, not later
    quota = quota_actor(
        quota_name
        or _default_quota_name(embedder.settings.endpoint, model or _model_of(embeddings)),
        requests_per_minute=requests_per_minute,
        tokens_per_minute=tokens_per_minute,
        quota_window=quota_window,
        quota_margin=quota_margin,
    )
    job = {
        "embeddings": embeddings,
        "model": model,
        "batch_size": batch_size,
        "text_column": text_column,
        "output_column": output_column,
        "id_column": id_column,
    }
    return _map_rows(
        ds,
        EmbedBatches,
        job,
        quota,
        rows=rows_per_batch or options.batch_size * max_in_flight,
        error_column=error_column if on_error == "keep" else None,
        max_in_flight=max_in_flight,
        actors=actors,
        num_cpus=num_cpus,
    )


def _map_rows(
    ds: ray.data.Dataset,
    worker: type,
    job: dict[str, Any],
    quota: Any,
    *,
    rows: int,
    error_column: str | None,
    max_in_flight: int,
    actors: int | tuple[int, int],
    num_cpus: float,
) -> ray.data.Dataset:
    """``ds`` mapped ``rows`` rows at a time by a pool of ``actors`` ``worker`` actors (made
    with ``job``, the run and its quota actor), remembered for `summary`."""
    run = _run_id()
    out = ds.map_batches(
        worker,
        fn_constructor_kwargs={
            **job,
            "quota": quota,
            "run": run,
            "error_column": error_column,
            "max_in_flight": max_in_flight,
        },
        batch_size=rows,
        batch_format="pyarrow",
        compute=_compute(actors),
        num_cpus=num_cpus,
    )
    _RUNS[out] = (quota, run)
    return out


def _model_of(target: Any) -> str | None:
    return getattr(target, "model", None) or getattr(target, "model_name", None)


def chat_dataset(
    ds: ray.data.Dataset,
    chat_model: Any,
    *,
    prompt_column: str = "prompt",
    output_column: str = "reply",
    requests_per_minute: float | None = None,
    tokens_per_minute: float | None = None,
    on_error: OnError = "raise",
    error_column: str = "error",
    id_column: str | None = None,
    actors: int | tuple[int, int] = 2,
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
    rows_per_batch: int | None = None,
    num_cpus: float = 0.5,
    quota_window: float = DEFAULT_QUOTA_WINDOW,
    quota_margin: float = DEFAULT_QUOTA_MARGIN,
    quota_name: str | None = None,
) -> ray.data.Dataset:
    """``ds`` with one reply per row of ``prompt_column``.

    ``chat_model`` is our LangChain chat model (`langchain_azureinfer.ChatAzureInference`, also
    bound to tools with ``bind_tools`` or to a schema with ``with_structured_output``; prompts
    are anything ``ainvoke`` takes) or our LlamaIndex LLM (`llamaindex_azureinfer.AzureInference`,
    also ``as_structured_llm(...)``; prompts are strings for ``acomplete``).

    Added columns: ``output_column`` (the reply text; structured output as JSON), ``tool_calls``
    (JSON list of ``{"id", "name", "arguments"}``, null when none), ``prompt_tokens``,
    ``completion_tokens``, ``total_tokens`` (the row's requests added up), and ``error_column``
    with ``on_error="keep"``. The other arguments are `embed_dataset`'s; ``rows_per_batch``
    defaults to ``4 * max_in_flight``.
    """
    _check_common(on_error, max_in_flight, rows_per_batch)
    if not (hasattr(chat_model, "ainvoke") or hasattr(chat_model, "acomplete")):
        raise ConfigurationError(
            "chat_model must be langchain_azureinfer.ChatAzureInference (or a Runnable over "
            "it) or llamaindex_azureinfer.AzureInference, got " + type(chat_model).__name__
        )
    target = _chat_target(chat_model)
    quota = quota_actor(
        quota_name or _default_quota_name(getattr(target, "endpoint", None), _model_of(target)),
        requests_per_minute=requests_per_minute,
        tokens_per_minute=tokens_per_minute,
        quota_window=quota_window,
        quota_margin=quota_margin,
    )
    job = {
        "chat_model": chat_model,
        "prompt_column": prompt_column,
        "output_column": output_column,
        "id_column": id_column,
    }
    return _map_rows(
        ds,
        ChatBatches,
        job,
        quota,
        rows=rows_per_batch or 4 * max_in_flight,
        error_column=error_column if on_error == "keep" else None,
        max_in_flight=max_in_flight,
        actors=actors,
        num_cpus=num_cpus,
    )


def _chat_target(chat_model: Any) -> Any:
    """The model object under a LangChain binding / structured-output chain (for the name)."""
    seen = 0
    target = chat_model
    while seen < 5:
        seen += 1
        if getattr(target, "endpoint", None):
            return target
        inner = getattr(target, "bound", None) or getattr(target, "first", None)
        inner = inner or getattr(target, "llm", None)
        if inner is None:
            break
        target = inner
    return target


def summary(ds: ray.data.Dataset) -> RunSummary:
    """The counters of the run behind ``ds`` (a dataset `embed_dataset` / `chat_dataset`
    returned), after it was consumed."""
    ray = _ray()

    entry = _RUNS.get(ds)
    if entry is None:
        raise ConfigurationError(
            "summary() takes the dataset embed_dataset() or chat_dataset() returned"
        )
    quota, run = entry
    return RunSummary(**ray.get(quota.summary.remote(run)))
