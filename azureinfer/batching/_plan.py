"""Planning a run: its options, the request parameters shared by its batches, the input checks
and the split into batches (one pass over the inputs)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from azureinfer.errors import ConfigurationError
from azureinfer.request import ENCODING_FORMATS

if TYPE_CHECKING:
    from azureinfer.request import WireRequest

#: Inputs per request. 96 is the smallest per-request limit among the catalogue's models (Cohere
#: embed v3/v4); OpenAI-style deployments accept up to 2048 and can be given a larger value.
DEFAULT_BATCH_SIZE = 96
#: Requests in flight at once (threads for sync calls, tasks for async calls).
DEFAULT_MAX_CONCURRENCY = 8
#: Characters per request, a proxy for the service's per-request token budget (~4 chars/token).
DEFAULT_MAX_BATCH_CHARS = 1_000_000


Vector = list[float]


class EmbeddingInputError(ConfigurationError):
    """An input cannot be embedded (empty, not a string, too large). ``position`` is its index."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.position = position


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


# ------------------------------------------------------------------ input checks and the plan


def _as_list(texts: Sequence[Any]) -> list[Any]:
    if isinstance(texts, (str, bytes)):
        raise EmbeddingInputError(
            "expected a list of strings, got a single string; wrap it in a list "
            "(or use the query method)"
        )
    return list(texts)


def _check_text(i: int, text: Any, max_input_chars: int | None) -> None:
    if not isinstance(text, str):
        raise EmbeddingInputError(f"input {i} is a {type(text).__name__}, not a string", position=i)
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


def _too_large(i: int, size: int, max_batch_chars: int) -> EmbeddingInputError:
    return EmbeddingInputError(
        f"input {i} has {size} characters, more than one request may carry "
        f"(max_batch_chars={max_batch_chars}); split it into smaller chunks",
        position=i,
    )


def check_text(position: int, text: Any, options: BatchOptions) -> None:
    """Raise `EmbeddingInputError` naming ``position`` if ``text`` cannot be embedded under
    ``options``: not a string, empty or whitespace only, over ``max_input_chars``, or alone over
    ``max_batch_chars`` (one input at a time, for callers that keep the others going)."""
    _check_text(position, text, options.max_input_chars)
    if options.max_batch_chars is not None and len(text) > options.max_batch_chars:
        raise _too_large(position, len(text), options.max_batch_chars)


def validate_texts(texts: Sequence[Any], *, max_input_chars: int | None = None) -> list[str]:
    """Return ``texts`` as a list, or raise `EmbeddingInputError` naming the first bad position.

    A bare string is refused (it would be embedded character by character).
    """
    out = _as_list(texts)
    for i, text in enumerate(out):
        _check_text(i, text, max_input_chars)
    return out


def plan_batches(
    inputs: Sequence[Any],
    *,
    batch_size: int,
    max_batch_chars: int | None = None,
    size_of: Callable[[Any], int] = len,
    check: Callable[[int, Any], None] | None = None,
) -> list[Batch]:
    """Split ``inputs`` into contiguous batches of at most ``batch_size`` inputs and at most
    ``max_batch_chars`` total size (``size_of`` each input), calling ``check(position, input)``
    on each input in the same pass.

    Raises `EmbeddingInputError` for an input that alone exceeds ``max_batch_chars``.
    """
    if batch_size < 1:
        raise ConfigurationError(f"batch_size must be a positive integer, got {batch_size!r}")
    batches: list[Batch] = []
    current: list[Any] = []
    start = 0
    used = 0
    for i, item in enumerate(inputs):
        if check is not None:
            check(i, item)
        size = size_of(item) if max_batch_chars is not None else 0
        if max_batch_chars is not None and size > max_batch_chars:
            raise _too_large(i, size, max_batch_chars)
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


def plan_texts(texts: Sequence[Any], options: BatchOptions) -> list[Batch]:
    """The batches of a text run, every text checked (`validate_texts`) in the same pass."""
    max_input_chars = options.max_input_chars
    return plan_batches(
        _as_list(texts),
        batch_size=options.batch_size,
        max_batch_chars=options.max_batch_chars,
        check=lambda i, text: _check_text(i, text, max_input_chars),
    )
