"""Fixtures for the LangChain adapter tests: the emulator-backed model and local media bytes."""

from __future__ import annotations

import io
import struct
import types
import wave
import zlib
from collections.abc import Iterator
from typing import Any

import pytest

from azureinfer.emulator import Emulator
from langchain_azureinfer import ChatAzureInference


def png_bytes(width: int = 4, height: int = 4) -> bytes:
    """A small valid PNG (solid purple)."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        body = tag + data
        return (
            struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
        )

    rows = b"".join(b"\x00" + b"\x80\x00\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def wav_bytes(seconds: float = 0.1, rate: int = 8000) -> bytes:
    """A short silent mono 16-bit WAV."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\x00\x00" * int(seconds * rate))
    return buf.getvalue()


class _Response:
    def __init__(self, content: bytes) -> None:
        self.content = content
        self.status_code = 200


def _local_get(url: str, *args: Any, **kwargs: Any) -> _Response:
    """Stand-in for ``httpx.get`` in langchain-tests: media bytes generated locally."""
    lowered = url.lower()
    if lowered.endswith(".png"):
        return _Response(png_bytes())
    if lowered.endswith(".wav"):
        return _Response(wav_bytes())
    raise AssertionError(f"unexpected download in a test: {url}")


def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    """Cassettes as gzipped YAML with safe loading (langchain-tests' serializer/persister)."""
    from langchain_tests.conftest import CustomPersister, CustomSerializer

    vcr.register_persister(CustomPersister())
    vcr.register_serializer("yaml.gz", CustomSerializer())


@pytest.fixture
def local_media(monkeypatch: pytest.MonkeyPatch) -> None:
    """Serve the standard suites' image/audio downloads from memory (no internet)."""
    import langchain_tests.integration_tests.chat_models as suite

    monkeypatch.setattr(suite, "httpx", types.SimpleNamespace(get=_local_get))
    monkeypatch.setenv("LANGCHAIN_TESTS_USER_AGENT", "azureinfer-tests/0 (local)")


@pytest.fixture
def chat(emu: Emulator) -> Iterator[ChatAzureInference]:
    """A ChatAzureInference on the emulator's gpt-4o deployment, closed afterwards."""
    model = ChatAzureInference(endpoint=emu.endpoint, credential=emu.key, model="gpt-4o")
    yield model
    model.close()
