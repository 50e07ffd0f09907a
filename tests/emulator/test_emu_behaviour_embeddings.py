"""Unit tests of the emulator's embeddings (pure functions, no server)."""

from __future__ import annotations

import base64
import json
import math
import os
import struct
import subprocess
import sys

import pytest

from azureinfer.emulator._behaviour import embed_image, embed_text, embed_texts, encode_embedding
from azureinfer.emulator._embedding import _sparse_text, stem

CORPUS = [
    "Paris is the capital and largest city of France.",
    "The mitochondria is the powerhouse of the cell, producing energy for biological processes.",
    "Python is a popular programming language known for its readable syntax.",
    "The Great Barrier Reef off Australia is the largest coral reef system in the world.",
    "Photosynthesis lets plants convert sunlight, water and carbon dioxide into glucose.",
]
QUERIES = [
    ("What is the capital of France?", 0),
    ("Which organelle produces energy in cells?", 1),
    ("best programming languages for beginners", 2),
    ("Where is the biggest coral reef?", 3),
    ("How do plants make food from sunlight?", 4),
]
PNG_A = "data:image/png;base64," + base64.b64encode(b"\x89PNG image A").decode()
PNG_B = "data:image/png;base64," + base64.b64encode(b"\x89PNG image B").decode()


def dot(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def norm(a: list[float]) -> float:
    return math.sqrt(dot(a, a))


@pytest.mark.parametrize("dimensions", [8, 256, 1024, 1536, 3072])
def test_text_vectors_are_unit_length_with_the_requested_size(dimensions: int) -> None:
    for text in ["hello", "", "Hello, world! 42", "\u4f60\u597d"]:
        vec = embed_text(text, dimensions, None)
        assert len(vec) == dimensions
        assert norm(vec) == pytest.approx(1.0)


def test_text_vectors_are_deterministic_and_distinct() -> None:
    assert embed_text("same text", 64, None) == embed_text("same text", 64, None)
    assert embed_text("same text", 64, None) != embed_text("other words", 64, None)
    # Case-insensitive by rule (lower-cased words).
    assert embed_text("Same TEXT", 64, None) == embed_text("same text", 64, None)


def test_input_type_changes_the_vector_slightly() -> None:
    text = "How do plants make food?"
    plain = embed_text(text, 1024, None)
    query = embed_text(text, 1024, "query")
    document = embed_text(text, 1024, "document")
    assert plain == embed_text(text, 1024, "text")
    assert query != plain and document != plain and query != document
    assert dot(query, plain) > 0.95
    assert dot(query, document) > 0.9


@pytest.mark.parametrize("dimensions", [64, 256, 1024, 1536])
@pytest.mark.parametrize("types", [(None, None), ("query", "document")])
def test_retrieval_ranks_the_relevant_document_first(
    dimensions: int, types: tuple[str | None, str | None]
) -> None:
    query_type, doc_type = types
    docs = [embed_text(d, dimensions, doc_type) for d in CORPUS]
    for query, expected in QUERIES:
        q = embed_text(query, dimensions, query_type)
        scores = [dot(q, d) for d in docs]
        assert max(range(len(docs)), key=scores.__getitem__) == expected, (query, scores)


def test_similar_texts_are_closer_than_unrelated_ones() -> None:
    a = embed_text("The cat sat on the mat", 512, None)
    b = embed_text("A cat was sitting on a mat", 512, None)
    c = embed_text("Quarterly revenue grew by ten percent", 512, None)
    assert dot(a, b) > dot(a, c) + 0.2


def test_image_vectors_hash_the_bytes_and_mix_the_text() -> None:
    a = embed_image(PNG_A, None, 256)
    assert len(a) == 256 and norm(a) == pytest.approx(1.0)
    assert a == embed_image(PNG_A, None, 256)
    assert a != embed_image(PNG_B, None, 256)
    captioned = embed_image(PNG_A, "a red bicycle", 256)
    assert captioned != a and norm(captioned) == pytest.approx(1.0)
    assert dot(captioned, embed_text("a red bicycle", 256, None)) > 0.5


@pytest.mark.parametrize("url", ["https://example.com/x.png", "data:image/png,notbase64"])
def test_image_must_be_a_base64_data_url(url: str) -> None:
    with pytest.raises(ValueError, match="data URL"):
        embed_image(url, None, 16)


@pytest.mark.parametrize("dimensions", [1, 7, 8, 9, 256, 1024])
def test_encodings_have_exact_sizes_and_values(dimensions: int) -> None:
    vec = embed_text("encoding formats", dimensions, None)
    as_float = encode_embedding(vec, "float")
    assert as_float == vec
    b64 = encode_embedding(vec, "base64")
    assert isinstance(b64, str)
    raw = base64.b64decode(b64)
    assert len(raw) == 4 * dimensions
    decoded = struct.unpack(f"<{dimensions}f", raw)
    assert decoded == pytest.approx(vec, abs=1e-6)

    int8 = encode_embedding(vec, "int8")
    uint8 = encode_embedding(vec, "uint8")
    assert isinstance(int8, list) and isinstance(uint8, list)
    assert len(int8) == len(uint8) == dimensions
    assert all(isinstance(x, int) and -128 <= x <= 127 for x in int8)
    assert all(isinstance(x, int) and 0 <= x <= 255 for x in uint8)
    assert [x + 128 for x in int8] == uint8
    assert max(abs(x) for x in int8) == 127
    assert all((x > 0) == (v > 0) for x, v in zip(int8, vec, strict=True) if x != 0)

    size = math.ceil(dimensions / 8)
    binary = encode_embedding(vec, "binary")
    ubinary = encode_embedding(vec, "ubinary")
    assert isinstance(binary, list) and isinstance(ubinary, list)
    assert len(binary) == len(ubinary) == size
    assert all(-128 <= x <= 127 for x in binary)
    assert all(0 <= x <= 255 for x in ubinary)
    assert [x % 256 for x in binary] == ubinary
    bits = [(ubinary[i // 8] >> (7 - i % 8)) & 1 for i in range(dimensions)]
    assert bits == [1 if v > 0 else 0 for v in vec]


def test_unknown_encoding_is_rejected() -> None:
    with pytest.raises(ValueError, match="encoding_format"):
        encode_embedding([1.0], "float16")


DENSE_TEXTS = ["", "a", "refund", "When do I get my refund?", "\u4f60\u597d", CORPUS[1]]


@pytest.mark.parametrize("dimensions", [1, 2, 3, 7, 64, 255, 1024, 1536, 3072])
def test_text_vectors_are_dense(dimensions: int) -> None:
    """Issue 13 item 8: every component is non-zero (real vectors are dense), even for an empty
    or one-word text whose hashed features fill a single bucket."""
    for text in DENSE_TEXTS:
        vec = embed_text(text, dimensions, None)
        assert all(v != 0.0 for v in vec), (text, vec.count(0.0))
        assert norm(vec) == pytest.approx(1.0)
    # Spread, not spiky: no component carries a large share of the vector.
    if dimensions >= 64:
        assert max(abs(v) for v in embed_text("refund", dimensions, None)) < 0.5


@pytest.mark.parametrize("dimensions", [7, 64, 1536])
def test_the_rotation_keeps_the_cosines_of_the_hashed_features(dimensions: int) -> None:
    """Dense vectors are an exact rotation of the L2-normalised hashed features."""

    def hashed(text: str) -> list[float]:
        acc = _sparse_text(text, dimensions)
        vec = [0.0] * dimensions
        for idx, val in acc.items():
            vec[idx] = val
        size = norm(vec)
        return [v / size for v in vec]

    for a, b in [(CORPUS[0], QUERIES[0][0]), (CORPUS[2], CORPUS[3]), (CORPUS[4], QUERIES[4][0])]:
        dense = dot(embed_text(a, dimensions, None), embed_text(b, dimensions, None))
        assert dense == pytest.approx(dot(hashed(a), hashed(b)), abs=1e-12)


def test_a_request_batch_gives_the_vectors_of_its_texts_one_by_one() -> None:
    texts = [q for q, _ in QUERIES] + ["", "x"]
    assert embed_texts(texts, 384, "query") == [embed_text(t, 384, "query") for t in texts]


def test_vectors_are_the_same_in_another_process() -> None:
    """Deterministic across processes (no per-process hash seed plays a part)."""
    code = (
        "import json; from azureinfer.emulator._embedding import embed_text; "
        "print(json.dumps(embed_text('When do I get my refund?', 48, 'query')))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    ).stdout
    assert json.loads(out) == embed_text("When do I get my refund?", 48, "query")


@pytest.mark.parametrize(
    "forms",
    [
        ("refund", "refunds", "refunded", "refunding"),
        ("price", "prices", "priced", "pricing"),
        ("policy", "policies"),
        ("ship", "ships", "shipped", "shipping"),
        ("use", "uses", "used", "using"),
        ("box", "boxes"),
        ("delivery", "deliveries"),
        ("agree", "agreed", "agrees"),
        ("call", "calls", "called", "calling"),
        ("miss", "misses", "missed", "missing"),
    ],
)
def test_the_suffix_rule_brings_inflections_together(forms: tuple[str, ...]) -> None:
    assert len({stem(f) for f in forms}) == 1, {f: stem(f) for f in forms}
    vectors = [embed_text(f"about the {f}", 256, None) for f in forms]
    assert all(v == vectors[0] for v in vectors)


@pytest.mark.parametrize("word", ["bus", "this", "status", "sing", "string", "42nd", "day", "is"])
def test_the_suffix_rule_leaves_short_and_irregular_words(word: str) -> None:
    assert stem(word) == word
