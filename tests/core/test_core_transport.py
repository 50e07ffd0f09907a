"""End to end through the real SDK pipeline against the emulator: credentials, endpoint shapes,
client lifecycle (repeated asyncio.run, pickling, threads)."""

from __future__ import annotations

import asyncio
import copy
import gc
import pickle
import threading
import time
from typing import Any

import pytest
from azure.core.credentials import AccessToken, AccessTokenInfo

from azureinfer import (
    ChatClient,
    ConfigurationError,
    EmbeddingsClient,
    ModelNotFoundError,
    build_chat_request,
    build_embeddings_request,
    resolve_settings,
)
from azureinfer.emulator import Emulator

HI = [{"role": "user", "content": "hi"}]


def chat(model: str = "gpt-4o", **kw: Any) -> Any:
    return build_chat_request(HI, model=model, **kw)


class SyncToken:
    """A TokenCredential (get_token -> AccessToken)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.calls.append(scopes)
        return AccessToken("sync-token", int(time.time()) + 3600)


class InfoToken:
    """A SupportsTokenInfo credential (get_token_info -> AccessTokenInfo) only."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        self.calls.append(scopes)
        return AccessTokenInfo("info-token", int(time.time()) + 3600)


class AsyncToken:
    """An AsyncTokenCredential."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.calls.append(scopes)
        return AccessToken("async-token", int(time.time()) + 3600)

    async def close(self) -> None:
        pass


# ---------------------------------------------------------------------------- credentials


def test_key_credential_sends_both_headers(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    with ChatClient(resolve_settings(emu.endpoint, emu.key)) as client:
        assert client.complete(chat()).content
    headers = emu.requests[-1].headers
    assert "api-key" in headers and headers["authorization"].startswith("Bearer")


@pytest.mark.parametrize("cred_cls", [SyncToken, InfoToken])
def test_sync_token_credentials_over_loopback_http(
    azure_inference_emulator: Emulator, cred_cls: type
) -> None:
    emu = azure_inference_emulator
    cred = cred_cls()
    with ChatClient(resolve_settings(emu.endpoint, cred)) as client:
        assert client.complete(chat()).content
        assert client.complete(chat()).content
    assert cred.calls == [("https://cognitiveservices.azure.com/.default",)]  # cached token
    assert "api-key" not in emu.requests[-1].headers


def test_scope_override_reaches_the_credential(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    cred = SyncToken()
    settings = resolve_settings(
        emu.endpoint, cred, credential_scopes=["https://ai.azure.com/.default"]
    )
    with ChatClient(settings) as client:
        client.complete(chat())
    assert cred.calls == [("https://ai.azure.com/.default",)]


async def test_async_token_credential(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    cred = AsyncToken()
    async with ChatClient(resolve_settings(emu.endpoint, cred)) as client:
        assert (await client.acomplete(chat())).content
    assert cred.calls == [("https://cognitiveservices.azure.com/.default",)]


def test_async_credential_refused_by_sync_methods_with_a_clear_error(
    azure_inference_emulator: Emulator,
) -> None:
    client = ChatClient(resolve_settings(azure_inference_emulator.endpoint, AsyncToken()))
    with pytest.raises(ConfigurationError, match="AsyncTokenCredential"):
        client.complete(chat())


async def test_sync_token_credential_works_on_the_async_client(
    azure_inference_emulator: Emulator,
) -> None:
    cred = SyncToken()
    async with ChatClient(resolve_settings(azure_inference_emulator.endpoint, cred)) as client:
        assert (await client.acomplete(chat())).content
    assert len(cred.calls) == 1


def test_token_never_sent_over_non_loopback_http() -> None:
    # 10.255.255.1 is not loopback: the bearer policy refuses before any connection is made
    settings = resolve_settings("http://10.255.255.1:9/models", SyncToken(), max_retries=3)
    with ChatClient(settings) as client:
        start = time.monotonic()
        with pytest.raises(Exception, match="non-TLS") as info:
            client.complete(chat())
        assert time.monotonic() - start < 2  # not retried
    from azureinfer import APIConnectionError

    assert isinstance(info.value, APIConnectionError)


# ---------------------------------------------------------------------------- endpoint shapes


@pytest.mark.parametrize(
    ("suffix", "path"),
    [
        ("/models", "/models/chat/completions"),
        ("/models/", "/models/chat/completions"),
        ("/api/models", "/api/models/chat/completions"),
        ("/openai/deployments/gpt-4o", "/openai/deployments/gpt-4o/chat/completions"),
        ("", "/chat/completions"),
    ],
)
def test_endpoint_shapes(azure_inference_emulator: Emulator, suffix: str, path: str) -> None:
    emu = azure_inference_emulator
    with ChatClient(resolve_settings(emu.base_url + suffix, emu.key)) as client:
        assert client.complete(chat()).content
    rec = emu.requests[-1]
    assert rec.path == path and rec.status == 200
    assert rec.query["api-version"] == "2024-05-01-preview"


def test_endpoint_query_and_api_version_kept(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    settings = resolve_settings(emu.endpoint + "?foo=bar", emu.key, api_version="2025-04-01")
    with ChatClient(settings) as client:
        client.complete(chat())
    assert emu.requests[-1].query == {"foo": "bar", "api-version": "2025-04-01"}


def test_endpoint_with_route_is_corrected(azure_inference_emulator: Emulator) -> None:
    from azureinfer import AzureInferenceWarning

    emu = azure_inference_emulator
    with pytest.warns(AzureInferenceWarning):
        settings = resolve_settings(emu.endpoint + "/chat/completions", emu.key)
    with ChatClient(settings) as client:
        assert client.complete(chat()).content
    assert emu.requests[-1].path == "/models/chat/completions"


def test_model_info_cached_and_404_explained(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    with ChatClient(resolve_settings(emu.endpoint, emu.key)) as client:
        info = client.get_model_info()
        assert info["model_name"] and client.get_model_info() == info
        assert len(emu.requests_for("info")) == 1
    azure = resolve_settings(emu.base_url + "/openai/deployments/gpt-4o", emu.key)
    with ChatClient(azure) as client, pytest.raises(ModelNotFoundError, match="/info"):
        client.get_model_info()


async def test_async_model_info(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    async with ChatClient(resolve_settings(emu.endpoint, emu.key)) as client:
        assert (await client.aget_model_info())["model_type"]


def test_embeddings_text_and_images(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    settings = resolve_settings(emu.endpoint, emu.key)
    with EmbeddingsClient(settings) as client:
        r = client.embed(
            build_embeddings_request(["a", "b", "c"], model="text-embedding-3-small", dimensions=8)
        )
        assert len(r.vectors) == 3 and all(len(v) == 8 for v in r.vectors)
        b64 = client.embed(
            build_embeddings_request(
                ["a", "b", "c"],
                model="text-embedding-3-small",
                dimensions=8,
                encoding_format="base64",
            )
        )
        for got, want in zip(b64.vectors, r.vectors, strict=True):
            assert got == pytest.approx(want, abs=1e-6)
    png = (
        "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwAD"
        "hgGAWjR9awAAAABJRU5ErkJggg=="
    )
    with EmbeddingsClient(settings, kind="images/embeddings") as client:
        r = client.embed(build_embeddings_request([{"image": png}], model="embed-v-4-0"))
        assert len(r.vectors) == 1
    assert emu.requests[-1].path == "/models/images/embeddings"
    with pytest.raises(ConfigurationError, match="kind"):
        EmbeddingsClient(settings, kind="images")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- lifecycle


def test_no_client_and_no_io_in_the_constructor(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    client = ChatClient(resolve_settings(emu.endpoint, emu.key))
    assert client._sync_client is None and len(client._loops) == 0
    assert emu.requests == []


def test_repeated_asyncio_run_on_one_instance(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    client = ChatClient(resolve_settings(emu.endpoint, emu.key))
    emb = EmbeddingsClient(resolve_settings(emu.endpoint, emu.key))

    async def once() -> str:
        result = await client.acomplete(chat())
        vectors = await emb.aembed(build_embeddings_request(["x"], model="text-embedding-3-small"))
        assert len(vectors.vectors) == 1
        return result.content

    # No aclose(): each loop's client is closed when asyncio.run shuts the loop down. Any
    # "Unclosed client session" or "Event loop is closed" would fail (warnings are errors).
    for _ in range(3):
        assert asyncio.run(once())
    gc.collect()
    assert len(emu.requests_for("chat")) == 3
    assert len(client._loops) == 0 and len(emb._loops) == 0  # dead loops are not kept


def test_async_clients_are_per_loop_and_reused_within_a_loop(
    azure_inference_emulator: Emulator,
) -> None:
    client = ChatClient(
        resolve_settings(azure_inference_emulator.endpoint, azure_inference_emulator.key)
    )

    async def two() -> tuple[Any, Any]:
        await client.acomplete(chat())
        first = await client._get_async_client()
        await asyncio.gather(client.acomplete(chat()), client.acomplete(chat()))
        return first, await client._get_async_client()

    a1, a2 = asyncio.run(two())
    b1, _ = asyncio.run(two())
    assert a1 is a2 and a1 is not b1


async def test_aclose_and_reuse(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    client = ChatClient(resolve_settings(emu.endpoint, emu.key))
    await client.acomplete(chat())
    await client.aclose()
    assert len(client._loops) == 0
    assert (await client.acomplete(chat())).content  # a new client is made on demand
    await client.aclose()


def test_close_then_reuse_and_context_manager(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    client = ChatClient(resolve_settings(emu.endpoint, emu.key))
    client.complete(chat())
    client.close()
    client.close()  # idempotent
    assert client.complete(chat()).content
    with client as same:
        assert same is client
    assert client._sync_client is None


def test_pickle_and_deepcopy_rebuild_clients(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    client = ChatClient(resolve_settings(emu.endpoint, emu.key), think_tags=False)
    client.complete(chat())
    asyncio.run(client.acomplete(chat()))
    for other in (pickle.loads(pickle.dumps(client)), copy.deepcopy(client)):
        assert other._sync_client is None and len(other._loops) == 0
        assert other.think_tags is False and other.settings.endpoint == emu.endpoint
        assert other.complete(chat()).content
        other.close()
    assert emu.key not in repr(client)
    client.close()


def test_eight_threads_share_one_client(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    client = ChatClient(resolve_settings(emu.endpoint, emu.key))
    results: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def work(i: int) -> None:
        try:
            barrier.wait()
            for _ in range(3):
                req = build_chat_request(
                    [{"role": "user", "content": f"thread {i}"}], model="gpt-4o"
                )
                results.append(client.complete(req).content)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    client.close()
    assert errors == []
    assert len(results) == 24
    assert {r for r in results if "thread 5" in r}  # each answer is the thread's own
    assert len(emu.requests_for("chat")) == 24


def _transport_session(sdk_client: Any) -> Any:
    return sdk_client._client._pipeline._transport.session


async def test_dropped_instance_closes_its_session_while_the_loop_runs(
    azure_inference_emulator: Emulator,
) -> None:
    emu = azure_inference_emulator
    client = ChatClient(resolve_settings(emu.endpoint, emu.key))
    await client.acomplete(chat())
    sdk_client = await client._get_async_client()
    assert _transport_session(sdk_client) is not None
    del client
    gc.collect()
    for _ in range(20):
        await asyncio.sleep(0.01)
        if _transport_session(sdk_client) is None:
            break
    assert _transport_session(sdk_client) is None


async def test_default_credential_is_the_async_kind_and_closed(
    azure_inference_emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from azure.identity import DefaultAzureCredential as SyncDefault
    from azure.identity.aio import DefaultAzureCredential as AsyncDefault

    for name in ("AZURE_INFERENCE_CREDENTIAL", "AZURE_AI_INFERENCE_CREDENTIAL"):
        monkeypatch.delenv(name, raising=False)
    client = ChatClient(resolve_settings(azure_inference_emulator.endpoint))
    assert client.settings.credential_kind == "default"
    await client._get_async_client()
    entry = next(iter(client._loops.values()))
    # Wrapped by azureinfer._credentials (one clear error, a quiet chain).
    assert isinstance(entry.credential._inner, AsyncDefault)
    assert isinstance(client._sync_credential_for_client()._inner, SyncDefault)
    await client.aclose()
    assert client._sync_credential is None and len(client._loops) == 0


def test_read_timeout_is_retried_then_raised(azure_inference_emulator: Emulator) -> None:
    from azureinfer import APITimeoutError

    emu = azure_inference_emulator
    settings = resolve_settings(
        emu.endpoint,
        emu.key,
        timeout=0.3,
        max_retries=1,
        client_kwargs={"retry_backoff_factor": 0.001},
    )
    with ChatClient(settings) as client:
        emu.inject_fault("delay", times=1, seconds=1.0)
        assert client.complete(chat()).content
        assert len(emu.requests_for("chat")) == 2
        emu.clear()
        emu.inject_fault("delay", times=2, seconds=1.0)
        with pytest.raises(APITimeoutError):
            client.complete(chat())
    time.sleep(0.8)  # let the emulator finish the delayed answers before it is cleared


def test_token_credential_over_tls_with_a_custom_ca() -> None:
    with Emulator(tls=True) as emu:
        assert emu.endpoint.startswith("https://")
        cred = SyncToken()
        settings = resolve_settings(
            emu.endpoint, cred, client_kwargs={"connection_verify": emu.ca_file}
        )
        with ChatClient(settings) as client:
            assert client._call_kwargs() == {}  # https: azure-core's check stays on
            assert client.complete(chat()).content
        assert emu.requests[-1].headers["authorization"].startswith("Bearer")


def test_close_closes_the_clients_of_idle_hand_driven_loops(
    azure_inference_emulator: Emulator,
) -> None:
    emu = azure_inference_emulator
    client = ChatClient(resolve_settings(emu.endpoint, emu.key))
    loop = asyncio.new_event_loop()
    try:
        assert loop.run_until_complete(client.acomplete(chat())).content
        sdk_client = loop.run_until_complete(client._get_async_client())
        client.close()
        assert _transport_session(sdk_client) is None and len(client._loops) == 0
    finally:
        loop.close()  # without shutdown_asyncgens(): nothing may be left open
    gc.collect()


def test_threads_each_running_their_own_loops_share_one_instance(
    azure_inference_emulator: Emulator,
) -> None:
    emu = azure_inference_emulator
    client = ChatClient(resolve_settings(emu.endpoint, emu.key))
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(3):
                assert asyncio.run(client.acomplete(chat())).content
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    gc.collect()
    assert errors == [] and len(emu.requests_for("chat")) == 12
    assert len(client._loops) == 0  # every loop is gone, and its client closed with it
