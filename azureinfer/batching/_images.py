"""Image inputs for ``/images/embeddings``: paths, URLs, bytes and file objects as data URLs."""

from __future__ import annotations

import base64
import mimetypes
import os
from collections.abc import Mapping, Sequence
from typing import Any

from azureinfer.batching._plan import Batch, BatchOptions, EmbeddingInputError, plan_batches

__all__ = ["image_input", "image_inputs", "plan_images"]

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


def image_inputs(images: Sequence[Any]) -> list[dict[str, str]]:
    """The wire inputs of a list of images (each anything `image_input` takes, or a dict
    ``{"image": ..., "text": ...}``); a bad one is named by its position."""
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


def plan_images(images: Sequence[Any], options: BatchOptions) -> list[Batch]:
    """The batches of an image run, every image read and checked first (`image_inputs`); split
    by count only (``max_batch_chars`` applies to text)."""
    return plan_batches(image_inputs(images), batch_size=options.batch_size)
