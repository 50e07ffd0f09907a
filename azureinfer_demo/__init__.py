"""The tour behind ``python -m azureinfer demo`` (its own package: the core imports no framework).

Each step prints what it does and what came back, and fails loudly if a result is wrong, so the
demo doubles as a smoke test (CI runs it). A step needing what the chosen deployment lacks (tools,
system messages, JSON output, chat at all) is skipped with one line naming that capability.
Against the local emulator the answers are rule-based:
tool arguments are synthesised from the prompt, JSON from the schema, and plain answers are the
sentence of the given context that best matches the question.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

#: A few documents for the RAG step, bundled so the demo needs nothing from disk or network.
CORPUS: tuple[tuple[str, str], ...] = (
    (
        "returns",
        "Returns are accepted within 30 days of delivery. Items must be unused and in their "
        "original packaging. Refunds are issued to the original payment method.",
    ),
    (
        "shipping",
        "Standard shipping takes 3 to 5 business days. Express shipping arrives the next "
        "business day when ordered before noon.",
    ),
    (
        "warranty",
        "Every kettle carries a two year warranty covering defects in materials and "
        "workmanship. The warranty does not cover limescale damage.",
    ),
)


@dataclass(frozen=True)
class Target:
    """Where the demo sends its requests."""

    endpoint: str
    credential: str
    local: bool
    chat_model: str
    other_chat_model: str
    embeddings_model: str


def _say(title: str) -> None:
    print(f"\n== {title}")


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise SystemExit(f"demo check failed: {message}")


@contextlib.contextmanager
def _target() -> Iterator[Target]:
    endpoint = os.environ.get("AZURE_INFERENCE_ENDPOINT")
    credential = os.environ.get("AZURE_INFERENCE_CREDENTIAL")
    models = {
        "chat_model": os.environ.get("AZUREINFER_CHAT_MODEL", "gpt-4o"),
        "other_chat_model": os.environ.get("AZUREINFER_OTHER_CHAT_MODEL", "mistral-large"),
        "embeddings_model": os.environ.get(
            "AZUREINFER_EMBEDDINGS_MODEL", "cohere-embed-v3-english"
        ),
    }
    if endpoint and credential:
        print(
            f"Talking to YOUR endpoint {endpoint} (from AZURE_INFERENCE_ENDPOINT), deployments "
            f"{models['chat_model']}, {models['other_chat_model']} and "
            f"{models['embeddings_model']} (AZUREINFER_CHAT_MODEL, AZUREINFER_OTHER_CHAT_MODEL, "
            "AZUREINFER_EMBEDDINGS_MODEL)."
        )
        yield Target(endpoint=endpoint, credential=credential, local=False, **models)
        return
    if endpoint or credential:
        have, missing = (
            ("AZURE_INFERENCE_ENDPOINT", "AZURE_INFERENCE_CREDENTIAL")
            if endpoint
            else ("AZURE_INFERENCE_CREDENTIAL", "AZURE_INFERENCE_ENDPOINT")
        )
        print(f"{have} is set but {missing} is not: the demo needs both for a real endpoint.")
    from azureinfer.emulator import Emulator

    with Emulator() as emu:
        print(
            f"Talking to the LOCAL EMULATOR at {emu.v1_endpoint} (the OpenAI/v1 route).\n"
            "It speaks both Azure routes but is rule-based, not a language model:\n"
            "its answers are deterministic and documented in docs/emulator.md.\n"
            "Set AZURE_INFERENCE_ENDPOINT and AZURE_INFERENCE_CREDENTIAL to use a real endpoint."
        )
        yield Target(endpoint=emu.v1_endpoint, credential=emu.key, local=True, **models)


def _step_sdk(t: Target) -> None:
    from azure.ai.inference import ChatCompletionsClient
    from azure.core.credentials import AzureKeyCredential

    endpoint = t.endpoint.rstrip("/")
    if endpoint.endswith("/openai/v1"):
        if not t.local:
            print("That SDK speaks only the model-inference route: not run on an OpenAI/v1 one.")
            return
        endpoint = endpoint.removesuffix("/openai/v1") + "/models"  # the emulator serves both
    with ChatCompletionsClient(endpoint, AzureKeyCredential(t.credential)) as client:
        reply = client.complete(
            messages=[{"role": "user", "content": "What is an inference endpoint?"}],
            model=t.chat_model,
        )
    text = reply.choices[0].message.content
    print(f"{reply.model}: {text}")
    _check(bool(text), "the SDK call returned no text")


def _chat(t: Target) -> Any:
    from langchain_azureinfer import ChatAzureInference

    return ChatAzureInference(model=t.chat_model, endpoint=t.endpoint, credential=t.credential)


def _step_chain(t: Target) -> None:
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate

    prompt = ChatPromptTemplate.from_messages(
        [("system", "Answer from this note: {note}"), ("human", "{question}")]
    )
    chain = prompt | _chat(t) | StrOutputParser()
    answer = chain.invoke(
        {"note": CORPUS[1][1], "question": "How long does standard shipping take?"}
    )
    print(answer)
    _check(bool(answer), "the chain returned no text")


def _step_stream(t: Target) -> None:
    last = None
    for chunk in _chat(t).stream("Name three uses of a kettle."):
        print(chunk.content, end="", flush=True)
        last = chunk if last is None else last + chunk
    print()
    _check(last is not None and last.usage_metadata is not None, "no usage on the stream")
    assert last is not None and last.usage_metadata is not None
    print(f"usage: {dict(last.usage_metadata)}")


def _step_tools(t: Target) -> None:
    from langchain_core.tools import tool

    @tool
    def order_status(order_id: int) -> str:
        """Look up the delivery status of an order."""
        return f"Order {order_id} left the warehouse this morning."

    with_tools = _chat(t).bind_tools([order_status])
    question = "What is the order status of order 4521?"
    first = with_tools.invoke(question)
    _check(bool(first.tool_calls), "the model did not call the tool")
    call = first.tool_calls[0]
    print(f"tool call: {call['name']}({call['args']})")
    result = order_status.invoke(call)
    final = with_tools.invoke([("human", question), first, result])
    print(f"final answer: {final.content}")
    _check(bool(final.content), "no answer after the tool result")


def _step_structured(t: Target) -> None:
    from pydantic import BaseModel, Field

    class Ticket(BaseModel):
        """A support ticket."""

        order_id: int = Field(description="the order number")
        summary: str = Field(description="what the customer wants")

    ticket = (
        _chat(t)
        .with_structured_output(Ticket)
        .invoke(
            "Open a ticket: order 4521 arrived with a cracked lid, customer says 'replace the lid'."
        )
    )
    print(repr(ticket))
    _check(isinstance(ticket, Ticket), "structured output did not return a Ticket")


def _step_llamaindex(t: Target) -> None:
    from llama_index.core import Document, VectorStoreIndex

    from llamaindex_azureinfer import AzureInference, AzureInferenceEmbedding

    llm = AzureInference(model=t.chat_model, endpoint=t.endpoint, credential=t.credential)
    embed = AzureInferenceEmbedding(
        model=t.embeddings_model, endpoint=t.endpoint, credential=t.credential
    )
    docs = [Document(text=text, metadata={"topic": topic}) for topic, text in CORPUS]
    index = VectorStoreIndex.from_documents(docs, embed_model=embed)
    engine = index.as_query_engine(llm=llm, similarity_top_k=1)
    response = engine.query("How many days do I have to return an item?")
    top = response.source_nodes[0].node.metadata["topic"]
    print(f"retrieved: {top}\nanswer: {response}")
    _check(top == "returns", f"retrieval ranked {top!r} first, expected 'returns'")


def _step_compare(t: Target) -> None:
    from langchain_azureinfer import ChatAzureInference

    question = (
        "Context: Express shipping arrives the next business day when ordered before noon.\n"
        "Question: When does express shipping arrive?"
    )
    print(f"{'deployment':<16} {'latency ms':>10} {'in':>5} {'out':>5}  answer")
    for model in (t.chat_model, t.other_chat_model):
        llm = ChatAzureInference(model=model, endpoint=t.endpoint, credential=t.credential)
        start = time.perf_counter()
        msg = llm.invoke(question)
        ms = (time.perf_counter() - start) * 1000
        usage: Any = msg.usage_metadata or {}
        print(
            f"{model:<16} {ms:>10.1f} {usage.get('input_tokens', 0):>5} "
            f"{usage.get('output_tokens', 0):>5}  {str(msg.content)[:60]}"
        )


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


_FRAMEWORKS = ("langchain_core", "langchain", "llama_index", "pydantic")


@dataclass(frozen=True)
class Step:
    """One step of the tour: its part (for ``--only``), title, what it needs, and its code."""

    part: str
    title: str
    needs: str
    run: Callable[[Target], None]


TOUR: tuple[Step, ...] = (
    Step(
        "sdk",
        "One call through the azure-ai-inference SDK (model-inference route)",
        "chat",
        _step_sdk,
    ),
    Step("langchain", "LangChain: prompt | model | parser", "chat, system messages", _step_chain),
    Step("langchain", "LangChain: streaming with token usage", "streamed chat", _step_stream),
    Step("langchain", "LangChain: a tool-calling round trip", "tool calling", _step_tools),
    Step("langchain", "LangChain: structured output", "tool calling", _step_structured),
    Step(
        "llamaindex",
        "LlamaIndex: a RAG query over three bundled documents",
        "embeddings, chat, system messages",
        _step_llamaindex,
    ),
    Step("langchain", "Comparing two deployments with the same code", "chat", _step_compare),
)


def missing_capability(exc: BaseException) -> str | None:
    """The capability a service error says the deployment lacks, or None for other errors."""
    param = str(getattr(exc, "param", None) or "")
    code = getattr(exc, "code", None) or getattr(getattr(exc, "error", None), "code", None)
    if code == "OperationNotSupported":
        return "chat (it is not a chat deployment)"
    if param.startswith("tool"):
        return "tool calling"
    if param.startswith("messages") and param.endswith("role"):
        return "system messages (fold_system_messages=True folds them into the user turn)"
    if param.startswith("response_format"):
        return "JSON output"
    return None


def run_demo(only: str | None = None) -> int:
    """Run the tour (or one part of it: ``sdk``, ``langchain`` or ``llamaindex``).

    Returns 0 when every step ran (or was skipped for a capability the deployment lacks) and
    passed its check, 1 when the chosen part needs a framework that is not installed, or the
    endpoint has no such deployment or refuses the key. A failed check raises ``SystemExit``.
    """
    from azure.core.exceptions import (
        ClientAuthenticationError,
        HttpResponseError,
        ResourceNotFoundError,
    )

    skipped: set[str] = set()
    lacking = 0
    with _target() as target:
        for number, step in enumerate(TOUR, start=1):
            if (only and step.part != only) or step.part in skipped:
                continue
            _say(f"{number}. {step.title}  (needs: {step.needs})")
            try:
                step.run(target)
            except ResourceNotFoundError as exc:
                print(
                    f"\nThe endpoint has no such deployment ({_first_line(exc)}). Name yours with "
                    "AZUREINFER_CHAT_MODEL, AZUREINFER_OTHER_CHAT_MODEL and "
                    "AZUREINFER_EMBEDDINGS_MODEL."
                )
                return 1
            except ClientAuthenticationError as exc:
                print(f"\nThe endpoint refused the credential ({_first_line(exc)}).")
                return 1
            except HttpResponseError as exc:
                capability = missing_capability(exc)
                if capability is None:
                    raise
                lacking += 1
                print(f"skipped: deployment {target.chat_model!r} lacks {capability}")
            except ModuleNotFoundError as exc:
                if not (exc.name or "").startswith(_FRAMEWORKS):
                    raise
                skipped.add(step.part)
                print(
                    f"\n(skipping the {step.part} part: {exc.name or exc} is not installed; "
                    f'pip install "azureinfer[{step.part}]")'
                )
    if only and skipped:
        return 1
    suffix = f" ({lacking} step(s) skipped: see AZUREINFER_CHAT_MODEL)" if lacking else ""
    print(f"\nDemo finished{suffix}.")
    return 0
