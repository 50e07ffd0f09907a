"""Deterministic embeddings for the emulator: feature hashing with real similarity structure.

Text: lower-cased words (stop-words down-weighted), word bigrams and character 4-grams are
hashed (CRC-32) into `dimensions` signed buckets, then L2-normalised. `input_type` adds one
small extra feature, so query and document vectors differ slightly but rank alike. Images: the
decoded bytes seed a pseudo-random unit vector, mixed with the caption's text vector if given.
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

__all__ = ["ENCODING_FORMATS", "embed_image", "embed_text", "encode_embedding"]

ENCODING_FORMATS = ("float", "base64", "int8", "uint8", "binary", "ubinary")

_WORD_RE = re.compile(r"\w+")
_STOP_TEXT = (
    "a an the and or of to in on at by for with from is are was were be it its this that what "
    "which who how when where why do does did i you we they he she me my your our"
)
_STOP = frozenset(_STOP_TEXT.split())
_WORD_WEIGHT = 1.0
_STOP_WEIGHT = 0.15
_BIGRAM_WEIGHT = 0.5
_NGRAM_WEIGHT = 0.25
_INPUT_TYPE_WEIGHT = 0.15


def _bucket(feature: str, dimensions: int) -> tuple[int, float]:
    h = zlib.crc32(feature.encode("utf-8"))
    return h % dimensions, (1.0 if (h >> 31) & 1 else -1.0)


@lru_cache(maxsize=65536)
def _word_features(word: str, dimensions: int) -> tuple[tuple[int, float], ...]:
    weight = _STOP_WEIGHT if word in _STOP else _WORD_WEIGHT
    idx, sign = _bucket("w:" + word, dimensions)
    feats = [(idx, sign * weight)]
    if weight == _WORD_WEIGHT and len(word) > 3:
        padded = f"<{word}>"
        for i in range(len(padded) - 3):
            idx, sign = _bucket("c:" + padded[i : i + 4], dimensions)
            feats.append((idx, sign * _NGRAM_WEIGHT))
    return tuple(feats)


@lru_cache(maxsize=65536)
def _bigram_feature(a: str, b: str, dimensions: int) -> tuple[int, float]:
    idx, sign = _bucket(f"b:{a} {b}", dimensions)
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


def _dense_unit(acc: dict[int, float], dimensions: int) -> list[float]:
    vec = [0.0] * dimensions
    norm = math.hypot(*acc.values())
    if norm == 0.0:
        # Empty text: a fixed unit vector rather than zeros (cosine stays defined).
        vec[0] = 1.0
        return vec
    inv = 1.0 / norm
    for idx, val in acc.items():
        vec[idx] = val * inv
    return vec


def embed_text(text: str, dimensions: int, input_type: str | None) -> list[float]:
    """Feature-hashed, L2-normalised vector of `text` with `dimensions` entries."""
    if dimensions <= 0:
        raise ValueError(f"dimensions must be positive, got {dimensions}")
    acc = _sparse_text(text, dimensions)
    if input_type in ("query", "document") and acc:
        norm = math.hypot(*acc.values())
        idx, sign = _bucket("t:" + input_type, dimensions)
        acc[idx] = acc.get(idx, 0.0) + sign * _INPUT_TYPE_WEIGHT * norm
    return _dense_unit(acc, dimensions)


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
