"""Shared helpers for the embeddings tests (pytest puts this folder on ``sys.path``)."""

from __future__ import annotations

import threading
from typing import Any


class InFlight:
    """Counts the client's requests in flight (azure-core's request and response hooks).

    With ``gate=n`` the first ``n`` requests wait in the hook until all ``n`` are in flight
    together: a run that cannot reach ``n`` concurrent requests fails (BrokenBarrierError)
    instead of being judged by how long it took, so the check holds on a busy machine.
    Gates work only for threaded (sync) runs; an async run's hooks share one event loop.
    """

    def __init__(self, gate: int = 0) -> None:
        self.now = 0
        self.peak = 0
        self._arrived = 0
        self._gate = gate
        self._lock = threading.Lock()
        self._barrier = threading.Barrier(gate) if gate else None

    def on_request(self, request: Any) -> None:
        with self._lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
            self._arrived += 1
            wait = self._arrived <= self._gate
        if wait and self._barrier is not None:
            self._barrier.wait(timeout=30)

    def on_response(self, response: Any) -> None:
        with self._lock:
            self.now -= 1

    @property
    def client_kwargs(self) -> dict[str, Any]:
        """The hooks as ``client_kwargs`` for the core settings or an adapter."""
        return {"raw_request_hook": self.on_request, "raw_response_hook": self.on_response}
