"""Pure parts of the batching engine: planning, input checks, decoding, placing by index (the
answer's count and positions are checked by the core parser: tests/core/test_core_response.py)."""

from __future__ import annotations

import base64
import io
import struct
from dataclasses import dataclass, field
from typing import Any

import pytest

from azureinfer.batching import (
    BatchOptions,
    EmbeddingInputError,
    EmbeddingsResponseError,
    EmbeddingsSpec,
    decode_embedding,
    image_input,
    plan_batches,
    validate_texts,
)
from azureinfer.batching._plan import plan_texts
from azureinfer.batching._run import Run
from azureinfer.errors import AzureInferenceError
from azureinfer.response import parse_embeddings

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


@dataclass
class _Result:
    vectors: list[Any]
    raw: dict[str, Any] = field(default_factory=dict)
    model: str = "m"
    usage: Any = None


def test_plan_splits_by_count_and_keeps_order() -> None:
    batches = plan_batches([str(i) for i in range(250)], batch_size=96)
    assert [len(b.inputs) for b in batches] == [96, 96, 58]
    assert [b.start for b in batches] == [0, 96, 192]
    assert [x for b in batches for x in b.inputs] == [str(i) for i in range(250)]


def test_plan_splits_by_size_budget() -> None:
    texts = ["a" * 40, "b" * 40, "c" * 40, "d" * 10]
    batches = plan_batches(texts, batch_size=10, max_batch_chars=90)
    assert [b.inputs for b in batches] == [texts[:2], texts[2:]]
    assert all(sum(map(len, b.inputs)) <= 90 for b in batches)


def test_plan_rejects_an_input_over_the_size_budget_naming_it() -> None:
    with pytest.raises(EmbeddingInputError, match="input 2 has 100 characters") as info:
        plan_batches(["a", "b", "c" * 100], batch_size=10, max_batch_chars=50)
    assert info.value.position == 2


def test_plan_of_nothing_is_no_batch() -> None:
    assert plan_batches([], batch_size=5) == []


@pytest.mark.parametrize(
    ("texts", "position", "needle"),
    [
        (["ok", "", "x"], 1, "input 1 is empty"),
        (["ok", "ok", "  \n\t"], 2, "input 2 is empty or whitespace"),
        (["ok", 3], 1, "input 1 is a int"),
        (["ok", None], 1, "input 1 is a NoneType"),
    ],
)
def test_bad_texts_are_named_by_position(texts: list[Any], position: int, needle: str) -> None:
    with pytest.raises(EmbeddingInputError, match=needle) as info:
        validate_texts(texts)
    assert info.value.position == position
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, AzureInferenceError)


def test_oversized_text_is_named_by_position() -> None:
    with pytest.raises(EmbeddingInputError, match="input 1 has 11 characters") as info:
        validate_texts(["short", "x" * 11], max_input_chars=10)
    assert info.value.position == 1


def test_a_bare_string_is_refused_rather_than_embedded_per_character() -> None:
    with pytest.raises(EmbeddingInputError, match="single string"):
        validate_texts("hello")  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["batch_size", "max_concurrency", "max_batch_chars"])
@pytest.mark.parametrize("value", [0, -1, 1.5, True])
def test_options_reject_non_positive_values(name: str, value: Any) -> None:
    with pytest.raises(ValueError, match=name):
        BatchOptions(**{name: value})


def test_spec_rejects_unknown_encoding_and_bad_dimensions() -> None:
    with pytest.raises(ValueError, match="encoding_format must be one of"):
        EmbeddingsSpec(encoding_format="float16")
    with pytest.raises(ValueError, match="dimensions"):
        EmbeddingsSpec(dimensions=0)


def test_decode_float_base64_int_and_binary() -> None:
    vec = [0.5, -0.25, 1.0]
    b64 = base64.b64encode(struct.pack("<3f", *vec)).decode()
    assert decode_embedding(vec) == vec
    assert decode_embedding(b64, "base64") == vec
    # a base64 answer is decoded even when another format was asked for
    assert decode_embedding(b64, "float") == vec
    assert decode_embedding([-128, 0, 127], "int8") == [-128.0, 0.0, 127.0]
    assert decode_embedding([0, 128, 255], "uint8") == [-128.0, 0.0, 127.0]
    # 0b10100000 as int8 is -96; bits MSB first -> +1 -1 +1 -1 ...
    assert decode_embedding([-96], "binary", 4) == [1.0, -1.0, 1.0, -1.0]
    assert decode_embedding([160], "ubinary") == [1.0, -1.0, 1.0] + [-1.0] * 5
    assert all(isinstance(x, float) for x in decode_embedding([1, 2], "int8"))


def test_decode_rejects_garbage() -> None:
    with pytest.raises(EmbeddingsResponseError, match="base64"):
        decode_embedding("not base64!!", "base64")
    with pytest.raises(EmbeddingsResponseError, match="whole number"):
        decode_embedding(base64.b64encode(b"abc").decode(), "base64")
    with pytest.raises(EmbeddingsResponseError, match="expected a list"):
        decode_embedding(None)


def test_vectors_are_placed_by_index_not_by_arrival() -> None:
    raw = {
        "data": [
            {"index": 2, "embedding": [2.0]},
            {"index": 0, "embedding": [0.0]},
            {"index": 1, "embedding": [1.0]},
        ]
    }
    assert parse_embeddings(raw, expected=3).vectors == [[0.0], [1.0], [2.0]]


def test_one_pass_checks_and_plans_a_text_run() -> None:
    # The checks of validate_texts happen while planning (one pass over the inputs).
    options = BatchOptions(batch_size=2, max_input_chars=5)
    assert [b.inputs for b in plan_texts(["a", "b", "c"], options)] == [["a", "b"], ["c"]]
    with pytest.raises(EmbeddingInputError, match="input 2 is empty") as info:
        plan_texts(["a", "b", " "], options)
    assert info.value.position == 2
    with pytest.raises(EmbeddingInputError, match="input 1 has 6 characters"):
        plan_texts(["a", "toolong"[:6]], options)
    with pytest.raises(EmbeddingInputError, match="single string"):
        plan_texts("abc", options)


def test_image_input_accepts_bytes_files_paths_and_data_urls(tmp_path: Any) -> None:
    path = tmp_path / "pic.png"
    path.write_bytes(PNG)
    expected = "data:image/png;base64," + base64.b64encode(PNG).decode()
    assert image_input(PNG) == {"image": expected}
    assert image_input(io.BytesIO(PNG)) == {"image": expected}
    assert image_input(str(path)) == {"image": expected}
    assert image_input(path, "caption") == {"image": expected, "text": "caption"}
    assert image_input(expected) == {"image": expected}


def test_image_input_errors_are_clear(tmp_path: Any) -> None:
    with pytest.raises(EmbeddingInputError, match="cannot read image"):
        image_input(str(tmp_path / "nope.png"))
    with pytest.raises(EmbeddingInputError, match="empty"):
        image_input(b"")
    with pytest.raises(EmbeddingInputError, match="image format"):
        image_input(b"just text")
    with pytest.raises(EmbeddingInputError, match="not int"):
        image_input(3)


def test_tqdm_is_imported_only_when_a_progress_bar_is_wanted() -> None:
    import subprocess
    import sys

    code = (
        "import sys, langchain_azureinfer.embeddings, azureinfer.batching; "
        "print('tqdm' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_run_raises_its_first_failure_and_starts_no_batch_after_it() -> None:
    # The step object alone, no I/O: four batches, two out at once, the later one fails first.
    options = BatchOptions(batch_size=1)
    run = Run(None, plan_texts(["a", "b", "c", "d"], options), EmbeddingsSpec(), options)
    one, two = iter(run), iter(run)
    first, second = next(one), next(two)
    run.done(next(one), _Result([[3.0]]))  # batch "c": the two others are still out
    with pytest.raises(RuntimeError, match="b failed"):
        run.failed(second, RuntimeError("b failed"))  # raised: its worker ends
    with pytest.raises(RuntimeError, match="a failed") as later:
        run.failed(first, RuntimeError("a failed"))
    assert next(one, None) is None and next(two, None) is None  # "d" is never sent
    with pytest.raises(RuntimeError, match="b failed") as info:
        run.result()  # the first failure, whichever worker the driver waited on first
    assert info.value.__notes__[0].startswith("while embedding inputs 1..1 of 4")
    assert not getattr(later.value, "__notes__", None)  # only the run's failure is annotated
