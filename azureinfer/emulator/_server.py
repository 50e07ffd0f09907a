"""`Emulator`: the server on its own thread and event loop, with the in-process control API
(`_control.EmulatorControl`)."""

from __future__ import annotations

import asyncio
import secrets
import threading
import weakref
from collections.abc import Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from azureinfer.emulator._catalogue import DEFAULT_CATALOGUE, Deployment
from azureinfer.emulator._control import EmulatorControl, Endpoints
from azureinfer.emulator._state import EmulatorState, Settings

if TYPE_CHECKING:
    from aiohttp import web

    from azureinfer.emulator._access import EmulatorRunner
    from azureinfer.emulator._tls import TlsFiles


#: Every Emulator not yet garbage-collected (the project's tests check each for unexpected 5xx).
_INSTANCES: weakref.WeakSet[Emulator] = weakref.WeakSet()


def live_emulators() -> list[Emulator]:
    """The Emulator instances of this process that are still referenced."""
    return list(_INSTANCES)


class Emulator(Endpoints, EmulatorControl):
    """A local Azure AI endpoint serving the Model Inference and OpenAI/v1 APIs (aiohttp server
    on a background thread).

    ```python
    with Emulator() as emu:
        client = ChatCompletionsClient(emu.endpoint, AzureKeyCredential(emu.key))
    ```

    Args:
        key: the API key it accepts (random when None).
        host, port: where to listen (port 0: a free port).
        tls: serve HTTPS with a generated certificate; pass `ca_file` as `connection_verify`.
        catalogue: the deployments (default `DEFAULT_CATALOGUE`).
        max_recorded: how many requests `requests` keeps (the newest).
        access_log: log one line per request on ``azureinfer.emulator.access`` (INFO): method,
            path, route, deployment, status, milliseconds (never a query string or header).
        **settings: initial values of `configure()` settings (latency, chunk_size, ...).

    Inspection and control (`requests`, `configure`, `script_reply`, `inject_fault`, ...) are
    those of `EmulatorControl`; `endpoint`, `v1_endpoint` and `endpoint_for` of `Endpoints`.

    Also usable as ``async with Emulator() as emu`` (the server still runs on its own thread, so
    synchronous SDK calls from async code do not deadlock).
    """

    def __init__(
        self,
        *,
        key: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: bool = False,
        catalogue: Iterable[Deployment] | None = None,
        latency: float = 0.0,
        max_recorded: int = 100_000,
        access_log: bool = False,
        **settings: Any,
    ) -> None:
        self.key = key if key is not None else "emu-" + secrets.token_hex(12)
        self.host = host
        self.port = port
        self.tls = tls
        self.access_log = access_log
        super().__init__(
            EmulatorState(self.key, Settings(), max_recorded=max_recorded),
            tuple(catalogue if catalogue is not None else DEFAULT_CATALOGUE),
        )
        self._state.configure(latency=latency, **settings)
        self._state.initial_settings = self._state.settings
        self._tls_files: TlsFiles | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: EmulatorRunner | None = None
        self._tls_transports: weakref.WeakSet[asyncio.Transport] = weakref.WeakSet()
        _INSTANCES.add(self)

    def __repr__(self) -> str:
        where = self.base_url if self._thread is not None else "not started"
        return f"Emulator({where}, deployments={len(self.catalogue)})"

    # ---------------------------------------------------------------- lifecycle
    @property
    def base_url(self) -> str:
        """``http(s)://host:port`` (no path prefix)."""
        scheme = "https" if self.tls else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    @property
    def ca_file(self) -> str | None:
        """Path of the CA certificate when serving TLS (pass as `connection_verify`)."""
        return self._tls_files.ca_file if self._tls_files else None

    @property
    def running(self) -> bool:
        """Whether the server is serving."""
        return self._thread is not None

    def start(self) -> Emulator:
        """Start serving (idempotent); returns self."""
        if self._thread is not None:
            return self
        ready = threading.Event()
        failure: list[BaseException] = []
        loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._serve())
            except BaseException as exc:  # handed to the starting thread
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            try:
                loop.run_until_complete(_drain(loop))
            finally:
                loop.close()

        if self.tls:
            from azureinfer.emulator._tls import generate

            self._tls_files = generate()
        self._loop = loop
        thread = threading.Thread(target=run, name=f"azureinfer-emulator-{id(self):x}", daemon=True)
        thread.start()
        ready.wait()
        if failure:
            self._loop = None
            if self._tls_files:
                self._tls_files.cleanup()
                self._tls_files = None
            raise RuntimeError(f"the emulator could not start: {failure[0]}") from failure[0]
        self._thread = thread
        return self

    async def _serve(self) -> None:
        from aiohttp import web

        from azureinfer.emulator._access import EmulatorRunner
        from azureinfer.emulator._app import create_app

        app = create_app(key=self.key, catalogue=self.catalogue, state=self._state)
        if self._tls_files:
            # An SSL transport whose peer never answers the close_notify (urllib3 after an error
            # answer) outlives runner.cleanup(); stop() aborts the ones still open.
            tls_transports = self._tls_transports

            async def track(request: web.Request, response: web.StreamResponse) -> None:
                if request.transport is not None:
                    tls_transports.add(request.transport)

            app.on_response_prepare.append(track)
        runner = EmulatorRunner(app, access_log=self.access_log, detect_tls=not self._tls_files)
        await runner.setup()
        ssl_context = self._tls_files.server_context() if self._tls_files else None
        site = web.TCPSite(runner, self.host, self.port, ssl_context=ssl_context)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        runner.plain_endpoint = self.endpoint

    def stop(self) -> None:
        """Stop serving and release the port (idempotent)."""
        thread, loop, runner = self._thread, self._loop, self._runner
        if thread is None or loop is None:
            return
        if runner is not None:
            future = asyncio.run_coroutine_threadsafe(runner.cleanup(), loop)
            future.result(timeout=10)
        for transport in list(self._tls_transports):
            loop.call_soon_threadsafe(transport.abort)
        self._tls_transports.clear()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        self._thread = self._loop = self._runner = None
        if self._tls_files:
            self._tls_files.cleanup()
            self._tls_files = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Emulator:
        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)


async def _drain(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what is left on the server loop (e.g. handlers of dropped streams) before closing."""
    current = asyncio.current_task()
    tasks = [t for t in asyncio.all_tasks(loop) if t is not current]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await loop.shutdown_asyncgens()
    await loop.shutdown_default_executor()
