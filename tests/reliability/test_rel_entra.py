"""Entra ID: token credentials (sync and async) with short-lived tokens, expiry and refresh.

The emulator records ``Authorization`` redacted, so which token went over the wire is proven by
the server instead: it is told to accept only the current token (``accept_any_bearer_token=False``,
``allowed_tokens``), so a stale token sent after expiry would be refused with a 401. Runs over
loopback HTTP and over HTTPS with the emulator's self-signed certificate
(``connection_verify=emu.ca_file``).
"""

from __future__ import annotations

import asyncio
import gc
import threading
import time
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from azure.core.credentials import AccessToken, AccessTokenInfo
from llama_index.core.llms import ChatMessage
from rel_support import lc_chat, li_chat

from azureinfer import errors
from azureinfer.emulator import Emulator

LIFETIME = 2.0  # seconds a token lives
REFRESH_AFTER = 1.8  # its refresh_on (azure-core reuses it until then, plus jitter, or expiry)
SCOPE = "https://cognitiveservices.azure.com/.default"


class _Tokens:
    """Issues tok-<prefix>-1, -2, ... and remembers the scopes asked for."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.issued: list[str] = []
        self.scopes: list[tuple[str, ...]] = []

    def next(self, scopes: tuple[str, ...]) -> AccessTokenInfo:
        self.scopes.append(scopes)
        token = f"tok-{self.prefix}-{len(self.issued) + 1}"
        self.issued.append(token)
        now = time.time()
        # Float times (the fields are typed int; azure-core only compares them with time.time()).
        return AccessTokenInfo(token, now + LIFETIME, refresh_on=now + REFRESH_AFTER)  # type: ignore[arg-type]

    @property
    def current(self) -> str:
        return self.issued[-1]


class SyncTokenInfoCredential(_Tokens):
    """A sync credential in the ``get_token_info`` protocol (SupportsTokenInfo)."""

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        return self.next(scopes)


class AsyncTokenInfoCredential(_Tokens):
    """An async credential in the ``get_token_info`` protocol."""

    async def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        await asyncio.sleep(0)
        return self.next(scopes)

    async def close(self) -> None:
        pass

    async def __aenter__(self) -> AsyncTokenInfoCredential:
        return self

    async def __aexit__(self, *args: Any) -> None:
        pass


class SyncGetTokenCredential(_Tokens):
    """The classic ``TokenCredential`` protocol (``get_token`` -> ``AccessToken``)."""

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        info = self.next(scopes)
        return AccessToken(info.token, info.expires_on)


class AsyncGetTokenCredential(_Tokens):
    """The classic ``AsyncTokenCredential`` protocol."""

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        info = self.next(scopes)
        return AccessToken(info.token, info.expires_on)

    async def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def tls_server() -> Iterator[Emulator]:
    with Emulator(tls=True) as server:
        yield server


@pytest.fixture(params=["http", "https"])
def server(request: pytest.FixtureRequest, emu: Emulator) -> Iterator[Emulator]:
    target: Emulator = emu if request.param == "http" else request.getfixturevalue("tls_server")
    target.clear()
    yield target
    target.clear()


def _conn(server: Emulator) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"retry_backoff_factor": 0.01, "retry_max_wait": 5.0}
    if server.ca_file:
        kwargs["connection_verify"] = server.ca_file
    return {"client_kwargs": kwargs, "timeout": 5.0}


def _lc_call(llm: Any, is_async: bool) -> str:
    if is_async:
        return str(asyncio.run(llm.ainvoke("Hello")).content)
    return str(llm.invoke("Hello").content)


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_token_is_reused_then_refreshed_after_expiry(server: Emulator, is_async: bool) -> None:
    cls = AsyncTokenInfoCredential if is_async else SyncTokenInfoCredential
    lc_cred, li_cred = cls("lc"), cls("li")
    lc = lc_chat(server, credential=lc_cred, **_conn(server))
    li = li_chat(server, credential=li_cred, **_conn(server))
    assert server.endpoint.startswith("https://" if server.ca_file else "http://127.0.0.1")
    messages = [ChatMessage(role="user", content="Hello")]
    reply = "Emulated reply from gpt-4o: Hello"
    seen: dict[str, Any] = {}

    def expire() -> None:
        # Two calls each inside the token's life used one token each.
        seen["first"] = (list(lc_cred.issued), list(li_cred.issued))
        time.sleep(LIFETIME + 0.1)
        # Only the next tokens are accepted now: an expired one would get a 401.
        server.configure(accept_any_bearer_token=False, allowed_tokens=("tok-lc-2", "tok-li-2"))
        seen["before"] = len(server.requests)

    if is_async:

        async def run() -> list[str]:
            # One event loop throughout: async clients (and their token cache) live per loop.
            for _ in range(2):
                await lc.ainvoke("Hello")
                await li.achat(messages)
            await asyncio.to_thread(expire)
            return [
                str((await lc.ainvoke("Hello")).content),
                (await li.achat(messages)).message.content or "",
            ]

        answers = asyncio.run(run())
    else:
        for _ in range(2):
            lc.invoke("Hello")
            li.chat(messages)
        expire()
        answers = [str(lc.invoke("Hello").content), li.chat(messages).message.content or ""]

    assert seen["first"] == (["tok-lc-1"], ["tok-li-1"])
    assert answers == [reply, reply]
    assert lc_cred.issued == ["tok-lc-1", "tok-lc-2"] and li_cred.issued == ["tok-li-1", "tok-li-2"]
    assert lc_cred.scopes == [(SCOPE,)] * 2 and li_cred.scopes == [(SCOPE,)] * 2
    new = server.requests[seen["before"] :]
    assert [r.status for r in new] == [200, 200]
    assert all(r.headers["authorization"].startswith("Bearer ") for r in new)
    assert all("tok-" not in repr(r.headers) for r in new)  # recorded redacted


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_classic_get_token_credentials_refresh_short_tokens(
    server: Emulator, is_async: bool
) -> None:
    """``get_token`` credentials: a token this short-lived is inside azure-core's refresh
    window, so every request asks for a fresh one, and the server sees only fresh tokens."""
    cred: _Tokens = AsyncGetTokenCredential("a") if is_async else SyncGetTokenCredential("s")
    llm = lc_chat(server, credential=cred, **_conn(server))
    for i in range(1, 4):
        server.configure(accept_any_bearer_token=False, allowed_tokens=(f"tok-{cred.prefix}-{i}",))
        assert _lc_call(llm, is_async) == "Emulated reply from gpt-4o: Hello"
        assert cred.current == f"tok-{cred.prefix}-{i}"
    assert all(r.status == 200 for r in server.requests)


def test_sync_credential_used_by_async_calls(server: Emulator) -> None:
    """A sync credential works for ``ainvoke``/``achat``, called off the event loop's thread."""
    threads: list[int] = []

    class Recording(SyncTokenInfoCredential):
        def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
            threads.append(threading.get_ident())
            return super().get_token_info(*scopes, options=options)

    lc_cred, li_cred = Recording("lc"), Recording("li")
    lc = lc_chat(server, credential=lc_cred, **_conn(server))
    li = li_chat(server, credential=li_cred, **_conn(server))

    async def run() -> tuple[int, list[str]]:
        answers = [str((await lc.ainvoke("Hello")).content)]
        answers.append(
            (await li.achat([ChatMessage(role="user", content="Hello")])).message.content or ""
        )
        return threading.get_ident(), answers

    loop_thread, answers = asyncio.run(run())
    assert answers == ["Emulated reply from gpt-4o: Hello"] * 2
    assert lc_cred.issued and li_cred.issued
    assert threads and loop_thread not in threads
    assert all(r.status == 200 for r in server.requests)


def test_refused_token_is_a_typed_error_without_retries(server: Emulator) -> None:
    cred = SyncTokenInfoCredential("bad")
    server.configure(accept_any_bearer_token=False, allowed_tokens=("something-else",))
    with pytest.raises(errors.AuthenticationError) as info:
        lc_chat(server, credential=cred, **_conn(server)).invoke("Hello")
    assert info.value.status_code == 401
    assert len(server.requests_for("chat")) == 1
    assert "tok-bad" not in str(info.value)


def test_async_credential_refuses_sync_calls_clearly(server: Emulator) -> None:
    llm = lc_chat(server, credential=AsyncTokenInfoCredential("x"), **_conn(server))
    with pytest.raises(errors.ConfigurationError, match="AsyncTokenCredential"):
        llm.invoke("Hello")
    assert server.requests == []


def test_tls_emulator_closes_connections_that_answered_an_error() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with Emulator(tls=True) as server:
            server.configure(accept_any_bearer_token=False, allowed_tokens=("other",))
            llm = lc_chat(server, credential=SyncTokenInfoCredential("x"), **_conn(server))
            with pytest.raises(errors.AuthenticationError):
                llm.invoke("Hello")
            llm._client.close()
            del llm
        gc.collect()
    leaks = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert leaks == []
