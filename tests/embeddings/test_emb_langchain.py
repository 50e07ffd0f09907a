"""AzureInferenceEmbeddings (LangChain): construction, wire behaviour, regressions of the
deprecated langchain-azure-ai AzureAIEmbeddingsModel, and RAG end to end."""

from __future__ import annotations

import asyncio
import base64
import logging
import pickle
import struct
import time
from typing import Any

import pytest
from emb_support import InFlight
from langchain_core.load import dumpd, dumps, loads

from azureinfer.batching import EmbeddingInputError
from azureinfer.errors import (
    APITimeoutError,
    ConfigurationError,
    ServiceError,
    UnsupportedParameterError,
)
from langchain_azureinfer import AzureAIEmbeddingsModel, AzureInferenceEmbeddings

OPENAI = "text-embedding-3-small"
COHERE = "cohere-embed-v3-english"
PNG = b"\x89PNG\r\n\x1a\n" + b"image-bytes"


def _bodies(emu: Any, route: str = "embeddings") -> list[dict[str, Any]]:
    return [r.body for r in emu.requests_for(route) if r.status == 200]


# ------------------------------------------------------------------ construction


def test_construction_makes_no_request_even_without_a_model(emu: Any, conn: dict) -> None:
    # Regression: the deprecated class called GET /info in its constructor (and crashed with
    # AttributeError when /info had no model_provider_name).
    AzureInferenceEmbeddings(**conn)
    AzureAIEmbeddingsModel(**conn)
    assert emu.requests == []


def test_no_model_uses_the_endpoint_default_deployment(emu: Any, conn: dict) -> None:
    vec = AzureInferenceEmbeddings(**conn, query_input_type=None).embed_query("hello")
    assert len(vec) == 1536
    assert "model" not in _bodies(emu)[0]


def test_key_never_appears_in_repr_or_serialisation(conn: dict) -> None:
    emb = AzureInferenceEmbeddings(model=OPENAI, **conn)
    key = conn["credential"]
    assert key not in repr(emb) and key not in str(emb)
    dumped = dumps(emb)
    assert key not in dumped
    assert dumpd(emb)["kwargs"]["credential"] == {
        "lc": 1,
        "type": "secret",
        "id": ["AZURE_INFERENCE_CREDENTIAL"],
    }


@pytest.mark.filterwarnings("ignore::langchain_core._api.beta_decorator.LangChainBetaWarning")
def test_serialised_form_loads_back_with_the_secret_from_the_map(conn: dict) -> None:
    emb = AzureInferenceEmbeddings(model=OPENAI, dimensions=64, **conn)
    again = loads(
        dumps(emb),
        secrets_map={"AZURE_INFERENCE_CREDENTIAL": conn["credential"]},
        valid_namespaces=["langchain_azureinfer"],
        allowed_objects=[AzureInferenceEmbeddings],
    )
    assert isinstance(again, AzureInferenceEmbeddings)
    assert again.dimensions == 64
    assert len(again.embed_query("round trip")) == 64


def test_unknown_arguments_are_refused(conn: dict) -> None:
    # Regression: the deprecated class silently ignored unknown kwargs (extra="ignore").
    with pytest.raises(ConfigurationError, match="foo_bar"):
        AzureInferenceEmbeddings(model=OPENAI, foo_bar=1, **conn)


def test_missing_endpoint_names_the_argument_and_env_var(monkeypatch: Any) -> None:
    monkeypatch.delenv("AZURE_INFERENCE_ENDPOINT", raising=False)
    monkeypatch.delenv("AZURE_AI_INFERENCE_ENDPOINT", raising=False)
    with pytest.raises(ValueError, match="AZURE_INFERENCE_ENDPOINT"):
        AzureInferenceEmbeddings(model=OPENAI, credential="k")


def test_client_kwargs_are_not_mutated(conn: dict) -> None:
    # Regression: the deprecated class wrote api_version / user_agent into the caller's dict.
    kwargs = {"logging_enable": False}
    AzureInferenceEmbeddings(
        model=OPENAI, client_kwargs=kwargs, api_version="2024-05-01-preview", **conn
    )
    assert kwargs == {"logging_enable": False}


def test_pickles_and_works_after(conn: dict) -> None:
    emb = AzureInferenceEmbeddings(model=OPENAI, **conn, query_input_type=None)
    emb.embed_query("warm the client up")
    clone = pickle.loads(pickle.dumps(emb))
    assert clone.embed_query("hello") == emb.embed_query("hello")
    emb.close()
    clone.close()


def test_public_import_path_works() -> None:
    # Regression: `from langchain_azure_ai.embeddings import AzureAIEmbeddingsModel` raised.
    import langchain_azureinfer

    assert langchain_azureinfer.AzureAIEmbeddingsModel is AzureAIEmbeddingsModel
    assert issubclass(AzureAIEmbeddingsModel, AzureInferenceEmbeddings)


# ------------------------------------------------------------------ wire behaviour


def test_query_and_document_input_types_for_any_model_name(emu: Any, conn: dict) -> None:
    # Regression: the deprecated class chose input_type by sniffing "cohere" in the model name
    # and sent "text" for everything else (so embed-v-4-0 lost the query/document split).
    emb = AzureInferenceEmbeddings(model="embed-v-4-0", **conn)
    q = emb.embed_query("when does shipping arrive")
    d = emb.embed_documents(["when does shipping arrive"])[0]
    types = [b["input_type"] for b in _bodies(emu)]
    assert types == ["query", "document"]
    assert q != d


def test_input_types_can_be_changed_or_turned_off(emu: Any, conn: dict) -> None:
    emb = AzureInferenceEmbeddings(
        model=COHERE, query_input_type="text", document_input_type=None, **conn
    )
    emb.embed_query("a")
    emb.embed_documents(["b"])
    first, second = _bodies(emu)
    assert first["input_type"] == "text"
    assert "input_type" not in second


def test_default_input_types_work_on_a_model_that_rejects_them(
    emu: Any, conn: dict, caplog: Any
) -> None:
    emb = AzureInferenceEmbeddings(model=OPENAI, **conn)
    with caplog.at_level(logging.INFO, logger="azureinfer.batching"):
        emb.embed_documents(["one", "two"])
        emb.embed_query("three")
    assert [r.status for r in emu.requests_for("embeddings")] == [422, 200, 200]
    # a default adapting to the model is an INFO note, not a warning
    assert [r.levelname for r in caplog.records] == ["INFO"]
    assert "rejected input_type='document'" in caplog.text


def test_a_chosen_input_type_that_is_rejected_is_a_warning(
    emu: Any, conn: dict, caplog: Any
) -> None:
    emb = AzureInferenceEmbeddings(model=OPENAI, document_input_type="document", **conn)
    with caplog.at_level(logging.INFO, logger="azureinfer.batching"):
        emb.embed_documents(["one"])
    assert [r.levelname for r in caplog.records] == ["WARNING"]


def test_dimensions_and_model_kwargs_are_sent(emu: Any, conn: dict) -> None:
    emb = AzureInferenceEmbeddings(
        model=OPENAI, dimensions=32, document_input_type=None, model_kwargs={"user": "u-1"}, **conn
    )
    vectors = emb.embed_documents(["a", "b"])
    body = _bodies(emu)[0]
    assert body["dimensions"] == 32 and body["user"] == "u-1"
    assert emu.requests_for("embeddings")[0].headers.get("extra-parameters") == "pass-through"
    assert all(len(v) == 32 for v in vectors)


def test_batch_size_and_concurrency(emu: Any, conn: dict) -> None:
    probe = InFlight(gate=5)  # the first 5 requests wait until 5 are in flight at once
    emb = AzureInferenceEmbeddings(
        model=COHERE, batch_size=10, max_concurrency=5, client_kwargs=probe.client_kwargs, **conn
    )
    vectors = emb.embed_documents([f"text {i}" for i in range(50)])
    assert len(vectors) == 50
    assert sorted(len(b["input"]) for b in _bodies(emu)) == [10] * 5
    # Regression: the deprecated class sent batches one after another.
    assert probe.peak == 5


async def test_async_batches_are_concurrent(emu: Any, conn: dict) -> None:
    emu.configure(latency=0.15)  # held by the server, so the batches are in flight together
    probe = InFlight()
    emb = AzureInferenceEmbeddings(
        model=COHERE, batch_size=10, max_concurrency=5, client_kwargs=probe.client_kwargs, **conn
    )
    vectors = await emb.aembed_documents([f"text {i}" for i in range(50)])
    assert 1 < probe.peak <= 5
    assert len(vectors) == 50
    await emb.aclose()


def test_cohere_default_batch_fits_its_96_limit(emu: Any, conn: dict) -> None:
    emb = AzureInferenceEmbeddings(model=COHERE, **conn)
    vectors = emb.embed_documents([f"passage {i}" for i in range(200)])
    assert len(vectors) == 200
    assert max(len(b["input"]) for b in _bodies(emu)) <= 96


def test_base64_encoding_is_decoded(emu: Any, conn: dict) -> None:
    # Regression: with encoding_format=base64 the deprecated class returned strings.
    floats = AzureInferenceEmbeddings(model=COHERE, encoding_format="float", **conn)
    plain = floats.embed_documents(["kettle"])
    assert _bodies(emu)[0]["encoding_format"] == "float"
    packed = AzureInferenceEmbeddings(model=COHERE, **conn)  # default: base64 on the wire
    vec = packed.embed_documents(["kettle"])
    assert _bodies(emu)[-1]["encoding_format"] == "base64"
    assert all(isinstance(x, float) for x in vec[0])
    assert max(abs(a - b) for a, b in zip(vec[0], plain[0], strict=True)) < 1e-6


def test_out_of_order_answer_is_reordered(emu: Any, conn: dict) -> None:
    # Regression: the deprecated class concatenated results in response order.
    def b64(*xs: float) -> str:
        return base64.b64encode(struct.pack(f"<{len(xs)}f", *xs)).decode()

    emu.script_raw(
        200,
        {
            "object": "list",
            "model": OPENAI,
            "data": [
                {"index": 1, "object": "embedding", "embedding": b64(1.0, 1.0)},
                {"index": 0, "object": "embedding", "embedding": b64(0.0, 1.0)},
            ],
            "usage": {"prompt_tokens": 2, "total_tokens": 2},
        },
        route="embeddings",
    )
    emb = AzureInferenceEmbeddings(model=OPENAI, document_input_type=None, **conn)
    assert emb.embed_documents(["zero", "one"]) == [[0.0, 1.0], [1.0, 1.0]]


def test_empty_inputs(emu: Any, conn: dict) -> None:
    emb = AzureInferenceEmbeddings(model=OPENAI, **conn)
    assert emb.embed_documents([]) == []
    with pytest.raises(EmbeddingInputError, match="input 1 is empty"):
        emb.embed_documents(["fine", ""])
    with pytest.raises(EmbeddingInputError, match="input 0 is empty"):
        emb.embed_query("  ")
    assert emu.requests == []


def test_oversized_text_is_named_before_or_by_the_service(emu: Any, conn: dict) -> None:
    texts = ["short"] * 3 + ["word " * 1000]
    capped = AzureInferenceEmbeddings(model=COHERE, max_input_chars=1000, **conn)
    with pytest.raises(EmbeddingInputError, match="input 3 has 5000 characters"):
        capped.embed_documents(texts)
    assert emu.requests == []
    uncapped = AzureInferenceEmbeddings(model=COHERE, **conn)
    with pytest.raises(UnsupportedParameterError) as info:  # the service's 422, annotated
        uncapped.embed_documents(texts)
    assert "the service named input 3" in "\n".join(info.value.__notes__)


def test_max_retries_and_timeout_are_honoured(emu: Any, conn: dict) -> None:
    # Regression: the deprecated class silently ignored max_retries and timeout.
    emu.inject_fault("status", times=5, status=503, route="embeddings")
    emb = AzureInferenceEmbeddings(model=OPENAI, max_retries=0, document_input_type=None, **conn)
    with pytest.raises(ServiceError):
        emb.embed_documents(["x"])
    assert len(emu.requests_for("embeddings")) == 1
    emu.clear()
    emu.configure(latency=2.0)
    slow = AzureInferenceEmbeddings(
        model=OPENAI, timeout=0.3, max_retries=0, document_input_type=None, **conn
    )
    start = time.perf_counter()
    with pytest.raises(APITimeoutError):
        slow.embed_documents(["x"])
    assert time.perf_counter() - start < 1.5


def test_repeated_asyncio_run_on_one_instance(conn: dict) -> None:
    emb = AzureInferenceEmbeddings(model=OPENAI, query_input_type=None, **conn)
    for _ in range(3):
        assert len(asyncio.run(emb.aembed_query("again"))) == 1536


def test_progress_bar(conn: dict, capsys: Any) -> None:
    emb = AzureInferenceEmbeddings(model=COHERE, show_progress=True, batch_size=10, **conn)
    emb.embed_documents([f"t {i}" for i in range(25)])
    assert "25/25" in capsys.readouterr().err


# ------------------------------------------------------------------ images


def test_embed_images_uses_the_image_route(emu: Any, conn: dict, tmp_path: Any) -> None:
    # Regression: the deprecated class had no image embeddings at all.
    path = tmp_path / "a.png"
    path.write_bytes(PNG)
    emb = AzureInferenceEmbeddings(model="embed-v-4-0", **conn)
    vectors = emb.embed_images([str(path), PNG, {"image": PNG, "text": "a caption"}])
    assert len(vectors) == 3 and vectors[0] == vectors[1] != vectors[2]
    body = _bodies(emu, "images/embeddings")[0]
    assert body["input"][2]["text"] == "a caption"
    assert body["input"][0]["image"].startswith("data:image/png;base64,")
    assert emb.embed_image([str(path)]) == [vectors[0]]


async def test_aembed_images(conn: dict) -> None:
    emb = AzureInferenceEmbeddings(model="embed-v-4-0", **conn)
    vectors = await emb.aembed_images([PNG, PNG])
    assert vectors[0] == vectors[1]
    await emb.aclose()


# ------------------------------------------------------------------ deprecated alias


def test_deprecated_constructor_arguments(emu: Any, conn: dict) -> None:
    emb = AzureAIEmbeddingsModel(
        model_name=COHERE,
        embed_batch_size=4,
        dimensions=None,
        model_kwargs={},
        client_kwargs={"retry_total": 0, "logging_enable": False},
        api_version="2024-05-01-preview",
        **conn,
    )
    assert emb.model == emb.model_name == COHERE and emb.batch_size == 4 and emb.max_retries == 0
    vectors = emb.embed_documents([f"d {i}" for i in range(9)])
    assert len(vectors) == 9
    assert sorted(len(b["input"]) for b in _bodies(emu)) == [1, 4, 4]
    assert emu.requests_for("embeddings")[0].query.get("api-version") == "2024-05-01-preview"
    also = AzureAIEmbeddingsModel(model=COHERE, **conn)
    assert also.model == COHERE


def test_deprecated_project_endpoint_is_refused_clearly(conn: dict) -> None:
    with pytest.raises(ValueError, match="project_endpoint is not supported"):
        AzureAIEmbeddingsModel(
            project_endpoint="https://x.services.ai.azure.com/api/projects/p", **conn
        )


# ------------------------------------------------------------------ RAG


CORPUS = {
    "returns": "Returns are accepted within 30 days of delivery if the item is unused.",
    "shipping": "Standard shipping takes 3 to 5 business days; express arrives next day.",
    "warranty": "Every kettle has a two year warranty against defects in materials.",
    "payment": "We accept credit cards, PayPal and bank transfers for all orders.",
    "contact": "Our support team answers email and phone calls on weekdays.",
}
QUESTIONS = {
    "How many days do I have to return an unused item?": "returns",
    "How long does standard shipping take?": "shipping",
    "Is there a warranty on the kettle?": "warranty",
    "Can I pay with PayPal?": "payment",
    "When does the support team answer phone calls?": "contact",
}


@pytest.mark.parametrize("model", [OPENAI, COHERE])
def test_rag_retriever_ranks_the_right_document_first(conn: dict, model: str) -> None:
    from langchain_core.documents import Document
    from langchain_core.vectorstores import InMemoryVectorStore

    emb = AzureInferenceEmbeddings(model=model, **conn)
    store = InMemoryVectorStore(emb)
    store.add_documents([Document(page_content=t, metadata={"id": k}) for k, t in CORPUS.items()])
    retriever = store.as_retriever(search_kwargs={"k": 2})
    for question, expected in QUESTIONS.items():
        assert retriever.invoke(question)[0].metadata["id"] == expected, question


async def test_rag_retriever_async(conn: dict) -> None:
    from langchain_core.documents import Document
    from langchain_core.vectorstores import InMemoryVectorStore

    emb = AzureInferenceEmbeddings(model=COHERE, **conn)
    store = InMemoryVectorStore(emb)
    await store.aadd_documents(
        [Document(page_content=t, metadata={"id": k}) for k, t in CORPUS.items()]
    )
    retriever = store.as_retriever(search_kwargs={"k": 1})
    for question, expected in QUESTIONS.items():
        assert (await retriever.ainvoke(question))[0].metadata["id"] == expected
    await emb.aclose()


def test_rag_chain_with_chat_model_answers_from_the_retrieved_document(
    emu: Any, conn: dict
) -> None:
    from langchain_core.documents import Document
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_core.runnables import RunnablePassthrough
    from langchain_core.vectorstores import InMemoryVectorStore

    from langchain_azureinfer import ChatAzureInference

    store = InMemoryVectorStore(AzureInferenceEmbeddings(model=COHERE, **conn))
    store.add_documents([Document(page_content=t, metadata={"id": k}) for k, t in CORPUS.items()])
    retriever = store.as_retriever(search_kwargs={"k": 1})
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Answer from this context only:\n{context}"), ("human", "{question}")]
    )
    chain = (
        {
            "context": retriever | (lambda docs: "\n".join(d.page_content for d in docs)),
            "question": RunnablePassthrough(),
        }
        | prompt
        | ChatAzureInference(model="gpt-4o", **conn)
        | StrOutputParser()
    )
    answer = chain.invoke("How long does standard shipping take?")
    # The emulator's chat model echoes the question; what matters is the context it was given.
    assert answer == "Emulated reply from gpt-4o: How long does standard shipping take?"
    chat = emu.requests_for("chat")[-1].body
    assert CORPUS["shipping"] in chat["messages"][0]["content"]
    assert CORPUS["returns"] not in chat["messages"][0]["content"]


def test_model_copy_with_another_endpoint_gets_its_own_clients(emu: Any, conn: dict) -> None:
    from azureinfer.errors import APIConnectionError

    emb = AzureInferenceEmbeddings(model=COHERE, max_retries=0, **conn)
    emb.embed_query("warm")
    moved = emb.model_copy(update={"endpoint": "http://127.0.0.1:9/models"})
    with pytest.raises(APIConnectionError):
        moved.embed_query("nowhere")
    assert len(emb.embed_query("still here")) == 1024
    same = emb.model_copy(update={"batch_size": 5})
    assert same._connection is emb._connection  # nothing about the connection changed
