"""`latency`: the least time from a request's arrival to its answer (work happens within it)."""

from __future__ import annotations

import time

from azure.ai.inference import ChatCompletionsClient
from azure.core.credentials import AzureKeyCredential

from azureinfer.emulator import Emulator

MSG = [{"role": "user", "content": "hello"}]


def _timed_call(client: ChatCompletionsClient) -> float:
    start = time.perf_counter()
    assert client.complete(messages=MSG, model="gpt-4o").choices
    return time.perf_counter() - start


def test_latency_is_a_floor_that_the_servers_own_time_counts_towards(
    azure_inference_emulator: Emulator,
) -> None:
    emu = azure_inference_emulator
    with ChatCompletionsClient(emu.endpoint, AzureKeyCredential(emu.key)) as client:
        _timed_call(client)  # connection set up
        emu.configure(latency=0.5)
        assert _timed_call(client) >= 0.5
        # A 0.3 s delay fault stands for slow server work: it happens within the 0.5 s, so the
        # answer takes about 0.5 s, not 0.8 s (as a service's work is within its response time).
        emu.inject_fault("delay", seconds=0.3)
        elapsed = _timed_call(client)
        assert 0.5 <= elapsed < 0.75
        # Work longer than the latency is not shortened.
        emu.inject_fault("delay", seconds=0.7)
        assert _timed_call(client) >= 0.7
