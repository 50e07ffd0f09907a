"""The emulator's access log and its plain-HTTP port's TLS detector.

Access log (logger ``azureinfer.emulator.access``, INFO; on in ``python -m azureinfer.emulator``,
off in `Emulator` unless ``access_log=True``): one line per request with the method, the path
(never the query string or a header, so never a key or token), the API route and deployment when
there is one, the status and the time in milliseconds::

    POST /models/chat/completions -> 200 (chat, gpt-4o) 3.1 ms

TLS detector: a client that speaks TLS (an ``https://`` endpoint) to the plain-HTTP port sends a
TLS ClientHello, which no HTTP server can answer in a way the client shows (it reports
``[SSL: WRONG_VERSION_NUMBER]``). The emulator logs one WARNING on ``azureinfer.emulator`` naming
the fix, then lets aiohttp refuse the bytes as before.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from azureinfer.emulator._state import RecordedRequest

ACCESS_LOGGER = logging.getLogger("azureinfer.emulator.access")
logger = logging.getLogger("azureinfer.emulator")

if TYPE_CHECKING or hasattr(web, "RequestKey"):
    RECORD_KEY = web.RequestKey("azureinfer_emulator_record", RecordedRequest)
else:  # aiohttp < 3.14: no RequestKey, and string keys do not warn there
    RECORD_KEY = "azureinfer_emulator_record"

#: The first bytes of a TLS handshake record (content type 22, protocol version 3.x).
_TLS_RECORD = b"\x16\x03"


class AccessLogger(AbstractAccessLogger):
    """One line per request; see the module docstring."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        rec = request.get(RECORD_KEY)
        where = ""
        if rec is not None and rec.route is not None:
            parts = [rec.route] + ([rec.deployment] if rec.deployment else [])
            where = f" ({', '.join(parts)})"
        status = 0 if rec is not None and rec.status == 0 else response.status
        self.logger.info(
            "%s %s -> %s%s %.1f ms",
            request.method,
            request.path,
            "dropped" if status == 0 else status,
            where,
            time * 1000.0,
        )


class _TlsSniffer(asyncio.Protocol):
    """Forwards everything to aiohttp's protocol; warns when the first bytes are TLS."""

    def __init__(self, inner: asyncio.Protocol, endpoint: str) -> None:
        self._inner = inner
        self._endpoint = endpoint
        self._first = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self._first:
            self._first = False
            if data.startswith(_TLS_RECORD):
                logger.warning(
                    "A client sent a TLS handshake (an https:// endpoint?) to this plain-HTTP "
                    "emulator: use %s, or serve HTTPS with Emulator(tls=True) / "
                    "`python -m azureinfer.emulator --tls` and pass its ca_file as "
                    "connection_verify.",
                    self._endpoint,
                )
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()


class _SniffingFactory:
    """The protocol factory a site serves: aiohttp's, each protocol wrapped in `_TlsSniffer`."""

    def __init__(self, server: web.Server, runner: EmulatorRunner) -> None:
        self._server = server
        self._runner = runner

    def __call__(self) -> asyncio.Protocol:
        return _TlsSniffer(self._server(), self._runner.plain_endpoint)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._server, name)


class EmulatorRunner(web.AppRunner):
    """An `AppRunner` with the access log above and, on a plain-HTTP port, the TLS detector."""

    def __init__(self, app: web.Application, *, access_log: bool, detect_tls: bool) -> None:
        if access_log:
            super().__init__(
                app,
                access_log_class=AccessLogger,
                access_log=ACCESS_LOGGER,
                shutdown_timeout=0.5,
            )
        else:
            super().__init__(app, access_log=None, shutdown_timeout=0.5)
        self._detect_tls = detect_tls
        self.plain_endpoint = "http://..."

    @property
    def server(self) -> web.Server | None:
        server = super().server
        if server is None or not self._detect_tls:
            return server
        # Sites only call it as the protocol factory; the runner itself uses its own `_server`.
        return _SniffingFactory(server, self)  # type: ignore[return-value]
