"""Deterministic embeddings for the emulator: dense vectors with real similarity structure.

Text: lower-cased words; common English stop-words get a small weight; the other words are
reduced to a stem by a light suffix rule (refund / refunds / refunded / refunding -> refund).
Stems, pairs of adjacent stems and character 4-grams of the stems are hashed (CRC-32) into
`dimensions` signed buckets; the L2-normalised result is then turned by a fixed pseudo-random
rotation (an orthogonal butterfly network with seeded angles), which spreads every feature over
every component while keeping each cosine similarity exactly. `input_type` adds one small extra
feature, so query and document vectors differ slightly but rank alike. Images: the decoded bytes
seed a pseudo-random unit vector, mixed with the caption's text vector if given.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import random
import re
import struct
import zlib
from functools import lru_cache
from itertools import pairwise
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "ENCODING_FORMATS",
    "embed_image",
    "embed_text",
    "embed_texts",
    "encode_embedding",
    "stem",
]

ENCODING_FORMATS = ("float", "base64", "int8", "uint8", "binary", "ubinary")

_WORD_RE = re.compile(r"\w+")
# A common English stop-word list (articles, pronouns, auxiliaries, prepositions, conjunctions,
# question words and the contraction tails that `\w+` splits off: don't -> don, t).
_STOP_TEXT = """
a about above after again against all also am an and any are as at be because been before being
below between both but by can could d did didn do does doesn doing don down during each either
few for from further get gets got had has have having he her here hers herself him himself his
how i if in into is isn it its itself just ll m may me might more most must my myself no nor not
now of off on once only or other our ours ourselves out over own re s same shall she should so
some such t than that the their theirs them themselves then there these they this those through
to too under until up us ve very was we were what when where which while who whom whose why will
with won would you your yours yourself yourselves
"""
_STOP = frozenset(_STOP_TEXT.split())
_WORD_WEIGHT = 1.0
_STOP_WEIGHT = 0.1
_BIGRAM_WEIGHT = 0.5
_NGRAM_WEIGHT = 0.25
_INPUT_TYPE_WEIGHT = 0.15
_VOWELS = frozenset("aeiouy")


def _undouble(word: str) -> str:
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeioulsz":
        return word[:-1]
    return word


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The light suffix rule, on a lower-case word: plural/3rd-person -s, -es, -ies; then -ed
    or -ing (a doubled last consonant is undoubled: shipped -> ship); then -ly; then a final -e
    (unless -ed/-ing went) and a final -y becomes -i. So refund/refunds/refunded/refunding,
    price/prices/priced and policy/policies meet. Words of up to three letters, and words that
    are not all letters, are left as they are."""
    w = word
    if len(w) <= 3 or not w.isalpha():
        return w
    if w.endswith("ies") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith("sses"):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    verb = False
    for suffix in ("ing", "ed"):
        if not w.endswith(suffix):
            continue
        base = w[: -len(suffix)]
        if len(base) >= 3 and _VOWELS.intersection(base):
            w, verb = _undouble(base), True
        elif len(base) == 2 and base[0] in _VOWELS and base[1] not in _VOWELS:
            w, verb = base + "e", True  # used -> use, using -> use
        break
    if w.endswith("ly") and len(w) >= 6:
        w = w[:-2]
    if len(w) > 3 and w[-1] == "e" and not verb:
        w = w[:-1]
    if len(w) > 3 and w[-1] == "y":
        w = w[:-1] + "i"
    return w


def _bucket(feature: str, dimensions: int) -> tuple[int, float]:
    h = zlib.crc32(feature.encode("utf-8"))
    return h % dimensions, (1.0 if (h >> 31) & 1 else -1.0)


@lru_cache(maxsize=65536)
def _word_features(word: str, dimensions: int) -> tuple[tuple[int, float], ...]:
    if word in _STOP:
        idx, sign = _bucket("w:" + word, dimensions)
        return ((idx, sign * _STOP_WEIGHT),)
    root = stem(word)
    idx, sign = _bucket("w:" + root, dimensions)
    feats = [(idx, sign * _WORD_WEIGHT)]
    if len(root) > 3:
        padded = f"<{root}>"
        for i in range(len(padded) - 3):
            idx, sign = _bucket("c:" + padded[i : i + 4], dimensions)
            feats.append((idx, sign * _NGRAM_WEIGHT))
    return tuple(feats)


@lru_cache(maxsize=65536)
def _bigram_feature(a: str, b: str, dimensions: int) -> tuple[int, float]:
    idx, sign = _bucket(f"b:{stem(a)} {stem(b)}", dimensions)
    return idx, sign * _BIGRAM_WEIGHT


def _sparse_text(text: str, dimensions: int) -> dict[int, float]:
    acc: dict[int, float] = {}
    get = acc.get
    words = _WORD_RE.findall(text.lower())
    for word in words:
        for idx, val in _word_features(word, dimensions):
            acc[idx] = get(idx, 0.0) + val
    for a, b in pairwise(words):
        if a in _STOP or b in _STOP:
            continue
        idx, val = _bigram_feature(a, b, dimensions)
        acc[idx] = get(idx, 0.0) + val
    return acc


# -- the rotation -----------------------------------------------------------------------------
# Each stage turns the pairs (v[i], v[h + i]) by seeded angles and interleaves the results
# (a perfect-shuffle butterfly; odd sizes also turn the pair (v[0], v[-1]) first). Stages are
# added until every output component depends on every input component, so one hashed feature
# reaches the whole vector. Rotations are orthogonal: norms and cosines are kept exactly. The
# angles come from `random.Random` and a square root, and each stage is element-wise products
# and sums (no reductions), so every platform computes the same bits. numpy applies the stages
# to a whole request at once (pure Python costs about 2 ms per 1536-float vector, numpy ~20 us).

_Stage = tuple[
    "np.ndarray[Any, np.dtype[np.float64]]", "np.ndarray[Any, np.dtype[np.float64]]", float, float
]


def _angle(rng: random.Random) -> tuple[float, float]:
    while True:
        u, v = rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0)
        r2 = u * u + v * v
        if 0.04 < r2 <= 1.0 and abs(u) > 0.1 and abs(v) > 0.1:
            r = math.sqrt(r2)
            return u / r, v / r


@lru_cache(maxsize=32)
def _rotation(dimensions: int) -> tuple[_Stage, ...]:
    import numpy as np

    rng = random.Random(0x0E3B_0000 + dimensions)
    odd = dimensions % 2
    half = dimensions // 2
    masks = [1 << i for i in range(dimensions)]
    full = (1 << dimensions) - 1
    stages: list[_Stage] = []
    while any(m != full for m in masks):
        cs = [_angle(rng) for _ in range(half)]
        oc, os_ = _angle(rng) if odd else (1.0, 0.0)
        cos = np.array([c for c, _ in cs], dtype=np.float64)
        sin = np.array([s for _, s in cs], dtype=np.float64)
        stages.append((cos, sin, oc, os_))
        if odd:
            masks[0] = masks[-1] = masks[0] | masks[-1]
        mixed = [masks[i] | masks[half + i] for i in range(half)]
        masks[0 : 2 * half : 2] = mixed
        masks[1 : 2 * half : 2] = mixed
    return tuple(stages)


def _rotate(rows: np.ndarray[Any, np.dtype[np.float64]]) -> np.ndarray[Any, np.dtype[np.float64]]:
    """`rows` (n, dimensions), each turned by the rotation of that size (`rows` is reused)."""
    import numpy as np

    n, dimensions = rows.shape
    half = dimensions // 2
    even = 2 * half
    odd = dimensions % 2
    x, spare = rows, np.empty_like(rows)
    t1, t2 = np.empty((n, half)), np.empty((n, half))
    first, last = np.empty(n), np.empty(n)
    for cos, sin, oc, os_ in _rotation(dimensions):
        if odd:
            first[:], last[:] = x[:, 0], x[:, -1]
            x[:, 0] = oc * first - os_ * last
            x[:, -1] = os_ * first + oc * last
            spare[:, -1] = x[:, -1]
        a, b = x[:, :half], x[:, half:even]
        pairs = spare[:, :even].reshape(n, half, 2)
        np.multiply(cos, a, out=t1)
        np.multiply(sin, b, out=t2)
        np.subtract(t1, t2, out=pairs[:, :, 0])
        np.multiply(sin, a, out=t1)
        np.multiply(cos, b, out=t2)
        np.add(t1, t2, out=pairs[:, :, 1])
        x, spare = spare, x
    return x


def embed_texts(texts: list[str], dimensions: int, input_type: str | None) -> list[list[float]]:
    """Dense, L2-normalised vectors of `texts`, `dimensions` entries each (see the module doc)."""
    import numpy as np

    if dimensions <= 0:
        raise ValueError(f"dimensions must be positive, got {dimensions}")
    rows = np.zeros((len(texts), dimensions), dtype=np.float64)
    for r, text in enumerate(texts):
        acc = _sparse_text(text, dimensions)
        if input_type in ("query", "document") and acc:
            norm = math.hypot(*acc.values())
            idx, sign = _bucket("t:" + input_type, dimensions)
            acc[idx] = acc.get(idx, 0.0) + sign * _INPUT_TYPE_WEIGHT * norm
        norm = math.hypot(*acc.values())
        if norm == 0.0:
            # Empty text: a fixed unit vector rather than zeros (cosine stays defined).
            rows[r, 0] = 1.0
            continue
        inv = 1.0 / norm
        for idx, val in acc.items():
            rows[r, idx] = val * inv
    vectors: list[list[float]] = _rotate(rows).tolist()
    return vectors


def embed_text(text: str, dimensions: int, input_type: str | None) -> list[float]:
    """Dense, L2-normalised vector of `text` with `dimensions` entries (see the module doc)."""
    return embed_texts([text], dimensions, input_type)[0]


def _image_bytes(data_url: str) -> bytes:
    if not data_url.startswith("data:") or ";base64," not in data_url:
        raise ValueError("image must be a data URL: data:image/<format>;base64,<data>")
    try:
        return base64.b64decode(data_url.split(";base64,", 1)[1], validate=False)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"image data is not valid base64: {exc}") from exc


def embed_image(data_url: str, text: str | None, dimensions: int) -> list[float]:
    """Unit vector seeded by the decoded image bytes, mixed 50/50 with the text's vector."""
    if dimensions <= 0:
        raise ValueError(f"dimensions must be positive, got {dimensions}")
    digest = hashlib.sha256(_image_bytes(data_url)).digest()
    rng = random.Random(int.from_bytes(digest[:8], "little"))
    vec = [rng.gauss(0.0, 1.0) for _ in range(dimensions)]
    norm = math.sqrt(sum(v * v for v in vec)) or 1.0
    vec = [v / norm for v in vec]
    if text:
        tvec = embed_text(text, dimensions, None)
        vec = [a + b for a, b in zip(vec, tvec, strict=True)]
        norm = math.sqrt(sum(v * v for v in vec)) or 1.0
        vec = [v / norm for v in vec]
    return vec


def _pack_bits(vec: list[float]) -> list[int]:
    out: list[int] = []
    for i in range(0, len(vec), 8):
        byte = 0
        for j, v in enumerate(vec[i : i + 8]):
            if v > 0:
                byte |= 0x80 >> j
        out.append(byte)
    return out


def encode_embedding(vec: list[float], encoding_format: str) -> list[float] | list[int] | str:
    """Encode a unit vector as the wire `embedding` for `encoding_format` (spec §5.2).

    int8/uint8 scale by the largest magnitude (so it maps to +-127); binary/ubinary pack the
    sign bits (1 for > 0) eight per byte, most significant bit first, as int8 / uint8 values.
    """
    if encoding_format == "float":
        return list(vec)
    if encoding_format == "base64":
        return base64.b64encode(struct.pack(f"<{len(vec)}f", *vec)).decode("ascii")
    if encoding_format in ("int8", "uint8"):
        peak = max((abs(v) for v in vec), default=0.0) or 1.0
        q = [max(-128, min(127, round(v * 127.0 / peak))) for v in vec]
        return q if encoding_format == "int8" else [x + 128 for x in q]
    if encoding_format in ("binary", "ubinary"):
        packed = _pack_bits(vec)
        return (
            packed if encoding_format == "ubinary" else [b - 256 if b > 127 else b for b in packed]
        )
    raise ValueError(
        f"unsupported encoding_format {encoding_format!r}; expected one of {ENCODING_FORMATS}"
    )
