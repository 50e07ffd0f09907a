"""Smoke tests of the emulator through the real SDK (spec §9 rows 12, 18, 24)."""

from __future__ import annotations

from azure.ai.inference import ChatCompletionsClient, EmbeddingsClient
from azure.core.credentials import AzureKeyCredential

from azureinfer.emulator import Emulator


def test_row12_chat_non_stream_through_fixture(azure_inference_emulator: Emulator) -> None:
    """Row 12: a complete chat body through the SDK."""
    emu = azure_inference_emulator
    with ChatCompletionsClient(emu.endpoint, AzureKeyCredential(emu.key)) as client:
        r = client.complete(messages=[{"role": "user", "content": "Say hello"}], model="gpt-4o")
    assert r["object"] == "chat.completion"
    assert r.choices[0].message.content
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
    assert emu.requests_for("chat")[0].deployment == "gpt-4o"


def test_row18_stream_joins_to_non_stream_content(azure_inference_emulator: Emulator) -> None:
    """Row 18: the joined deltas equal the non-streamed content."""
    emu = azure_inference_emulator
    msgs = [{"role": "user", "content": "Stream me three small words"}]
    with ChatCompletionsClient(emu.endpoint, AzureKeyCredential(emu.key)) as client:
        full = client.complete(messages=msgs, model="mistral-large")
        parts = []
        with client.complete(messages=msgs, model="mistral-large", stream=True) as stream:
            for update in stream:
                if update.choices:
                    parts.append(update.choices[0].delta.content or "")
    assert "".join(parts) == full.choices[0].message.content


def test_row24_embeddings_through_context_manager() -> None:
    """Row 24: one vector per input, `dimensions` honoured (in-process `with Emulator()`)."""
    with Emulator() as emu, EmbeddingsClient(emu.endpoint, AzureKeyCredential(emu.key)) as client:
        r = client.embed(input=["a cat", "a dog"], model="text-embedding-3-small", dimensions=16)
    assert [d.index for d in r.data] == [0, 1]
    assert all(len(d.embedding) == 16 for d in r.data)
