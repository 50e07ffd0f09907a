"""The chat clients compared side by side, each behind the same small interface.

A subject is the raw ``azure-ai-inference`` SDK (the physical limit), one of our adapters, or one of
the existing integrations. Every import happens in the constructor, so a subject that is not
installed (or not written yet) is reported as unavailable instead of breaking the run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

CHAT_MODEL = "gpt-4o"
PROMPT = "Hi"

#: Three tools whose calls the emulator is scripted to stream back in small fragments.
TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": name,
            "description": f"Look up the {what}.",
            "parameters": {
                "type": "object",
                "properties": {arg: {"type": "string", "description": f"The {arg}."}},
                "required": [arg],
            },
        },
    }
    for name, what, arg in (
        ("get_weather", "weather forecast for a city", "city"),
        ("get_local_time", "local time in a time zone", "timezone"),
        ("get_population", "population of a country", "country"),
    )
]

#: The scripted reply: three parallel calls whose arguments are long enough to arrive in many
#: fragments (the benchmark sets a small chunk size).
TOOL_CALLS: list[dict[str, Any]] = [
    {
        "id": f"call_{i}",
        "type": "function",
        "function": {
            "name": tool["function"]["name"],
            "arguments": json.dumps({arg: value}),
        },
    }
    for i, (tool, arg, value) in enumerate(
        zip(
            TOOLS,
            ("city", "timezone", "country"),
            (
                "Saint-Remy-de-Provence, Bouches-du-Rhone, Provence-Alpes-Cote d'Azur, France",
                "Europe/Paris (Central European Time, daylight saving time observed)",
                "The French Republic, including its overseas departments and regions",
            ),
            strict=True,
        )
    )
]

#: What a correctly parsed tool-call list looks like: ``[(name, arguments), ...]``.
EXPECTED_TOOL_CALLS = [
    (tc["function"]["name"], json.loads(tc["function"]["arguments"])) for tc in TOOL_CALLS
]

ParsedCalls = list[tuple[str, dict[str, Any]]]


class Subject:
    """One client under test. Subclasses implement what they support."""

    name = "?"

    def __init__(self, endpoint: str, key: str) -> None:
        self.endpoint = endpoint
        self.key = key

    def invoke(self) -> str:
        """One short chat call; returns the reply text."""
        raise NotImplementedError

    def stream(self, on_first: Callable[[], None]) -> int:
        """Consume a streamed reply; call ``on_first`` at the first text; return text chunks."""
        raise NotImplementedError

    def stream_tool_calls(self) -> ParsedCalls:
        """Stream a tool-calling reply and return the complete, parsed tool calls."""
        raise NotImplementedError

    async def ainvoke(self) -> str:
        """Async version of :meth:`invoke`."""
        raise NotImplementedError

    def close(self) -> None:
        """Release sync resources."""

    async def aclose(self) -> None:
        """Release async resources (called inside the loop that used them)."""


# -- the raw SDK -----------------------------------------------------------------------------


class RawSDK(Subject):
    """``azure.ai.inference.ChatCompletionsClient`` called directly: the floor."""

    name = "raw SDK (azure-ai-inference)"

    def __init__(self, endpoint: str, key: str) -> None:
        super().__init__(endpoint, key)
        from azure.ai.inference import ChatCompletionsClient
        from azure.core.credentials import AzureKeyCredential

        self._cred = AzureKeyCredential(key)
        self._client: Any = ChatCompletionsClient(endpoint, self._cred)
        self._aclient: Any = None
        self._messages = [{"role": "user", "content": PROMPT}]

    def invoke(self) -> str:
        reply = self._client.complete(messages=self._messages, model=CHAT_MODEL)
        return str(reply.choices[0].message.content)

    def stream(self, on_first: Callable[[], None]) -> int:
        n = 0
        with self._client.complete(messages=self._messages, model=CHAT_MODEL, stream=True) as s:
            for update in s:
                if update.choices and update.choices[0].delta.content:
                    if n == 0:
                        on_first()
                    n += 1
        return n

    def stream_tool_calls(self) -> ParsedCalls:
        names: dict[int, str] = {}
        args: dict[int, list[str]] = {}
        with self._client.complete(
            messages=self._messages, model=CHAT_MODEL, tools=TOOLS, stream=True
        ) as s:
            for update in s:
                if not update.choices:
                    continue
                for tc in update.choices[0].delta.tool_calls or ():
                    i = tc.get("index", 0)
                    fn = tc.get("function") or {}
                    if fn.get("name"):
                        names[i] = fn["name"]
                    args.setdefault(i, []).append(fn.get("arguments") or "")
        return [(names[i], json.loads("".join(args[i]))) for i in sorted(names)]

    async def ainvoke(self) -> str:
        if self._aclient is None:
            from azure.ai.inference.aio import ChatCompletionsClient

            self._aclient = ChatCompletionsClient(self.endpoint, self._cred)
        reply = await self._aclient.complete(messages=self._messages, model=CHAT_MODEL)
        return str(reply.choices[0].message.content)

    def close(self) -> None:
        self._client.close()

    async def aclose(self) -> None:
        if self._aclient is not None:
            await self._aclient.close()
            self._aclient = None


class PlainHTTP(Subject):
    """No SDK at all: one JSON POST over a kept-alive connection. Shows the server's own cost."""

    name = "reference: plain HTTP POST, no SDK"

    def __init__(self, endpoint: str, key: str) -> None:
        super().__init__(endpoint, key)
        import http.client
        from urllib.parse import urlsplit

        url = urlsplit(endpoint)
        self._host, self._port = url.hostname or "127.0.0.1", url.port or 80
        self._path = f"{url.path}/chat/completions?api-version=2024-05-01-preview"
        self._body = json.dumps(
            {"messages": [{"role": "user", "content": PROMPT}], "model": CHAT_MODEL}
        ).encode()
        self._headers = {"api-key": key, "Content-Type": "application/json"}
        self._conn = http.client.HTTPConnection(self._host, self._port)
        self._session: Any = None

    def invoke(self) -> str:
        self._conn.request("POST", self._path, self._body, self._headers)
        resp = self._conn.getresponse()
        data = json.loads(resp.read())
        return str(data["choices"][0]["message"]["content"])

    async def ainvoke(self) -> str:
        if self._session is None:
            import aiohttp

            self._session = aiohttp.ClientSession()
        url = f"http://{self._host}:{self._port}{self._path}"
        async with self._session.post(url, data=self._body, headers=self._headers) as resp:
            data = json.loads(await resp.read())
        return str(data["choices"][0]["message"]["content"])

    def close(self) -> None:
        self._conn.close()

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


# -- LangChain -------------------------------------------------------------------------------


class _LangChainSubject(Subject):
    """Shared driving code for any LangChain ``BaseChatModel``."""

    llm: Any

    def invoke(self) -> str:
        return str(self.llm.invoke(PROMPT).content)

    def stream(self, on_first: Callable[[], None]) -> int:
        n = 0
        for chunk in self.llm.stream(PROMPT):
            if chunk.content:
                if n == 0:
                    on_first()
                n += 1
        return n

    def stream_tool_calls(self) -> ParsedCalls:
        total = None
        for chunk in self.llm.bind_tools(TOOLS).stream(PROMPT):
            total = chunk if total is None else total + chunk
        calls = total.tool_calls if total is not None else []
        return [(c["name"], c["args"]) for c in calls]

    async def ainvoke(self) -> str:
        reply = await self.llm.ainvoke(PROMPT)
        return str(reply.content)

    def close(self) -> None:
        close = getattr(self.llm, "close", None)
        if callable(close):
            close()

    async def aclose(self) -> None:
        aclose = getattr(self.llm, "aclose", None)
        if callable(aclose):
            await aclose()


class OurLangChain(_LangChainSubject):
    """``langchain_azureinfer.ChatAzureInference``."""

    name = "ours: ChatAzureInference"

    def __init__(self, endpoint: str, key: str) -> None:
        super().__init__(endpoint, key)
        from langchain_azureinfer import ChatAzureInference

        self.llm = ChatAzureInference(model=CHAT_MODEL, endpoint=endpoint, credential=key)


class AnchorLangChain(_LangChainSubject):
    """``langchain_azure_ai.chat_models.AzureAIChatCompletionsModel`` (existing integration)."""

    name = "langchain-azure-ai AzureAIChatCompletionsModel"

    def __init__(self, endpoint: str, key: str) -> None:
        super().__init__(endpoint, key)
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from langchain_azure_ai.chat_models.inference import (  # type: ignore[import-untyped]
                AzureAIChatCompletionsModel,
            )

            # `model=`, not `model_name=`: the latter is silently ignored (their issue #138).
            self.llm = AzureAIChatCompletionsModel(
                endpoint=endpoint, credential=key, model=CHAT_MODEL
            )


# -- LlamaIndex ------------------------------------------------------------------------------


class _LlamaIndexSubject(Subject):
    """Shared driving code for any LlamaIndex LLM."""

    llm: Any

    def __init__(self, endpoint: str, key: str) -> None:
        super().__init__(endpoint, key)
        from llama_index.core.llms import ChatMessage

        self._chat_message = ChatMessage
        self._messages = [ChatMessage(role="user", content=PROMPT)]

    def invoke(self) -> str:
        return str(self.llm.chat(self._messages).message.content)

    def stream(self, on_first: Callable[[], None]) -> int:
        n = 0
        for resp in self.llm.stream_chat(self._messages):
            if resp.delta:
                if n == 0:
                    on_first()
                n += 1
        return n

    def stream_tool_calls(self) -> ParsedCalls:
        from llama_index.core.tools import FunctionTool

        tools = [_llama_tool(FunctionTool, t) for t in TOOLS]
        last = None
        for resp in self.llm.stream_chat_with_tools(
            tools, chat_history=list(self._messages), allow_parallel_tool_calls=True
        ):
            last = resp
        if last is None:
            return []
        calls = self.llm.get_tool_calls_from_response(last, error_on_no_tool_call=False)
        return [(c.tool_name, dict(c.tool_kwargs)) for c in calls]

    async def ainvoke(self) -> str:
        reply = await self.llm.achat(self._messages)
        return str(reply.message.content)

    def close(self) -> None:
        close = getattr(self.llm, "close", None)
        if callable(close):
            close()

    async def aclose(self) -> None:
        aclose = getattr(self.llm, "aclose", None)
        if callable(aclose):
            await aclose()


def _llama_tool(function_tool: Any, spec: dict[str, Any]) -> Any:
    """A LlamaIndex ``FunctionTool`` with one string argument, named like ``spec``."""
    fn = spec["function"]
    arg = next(iter(fn["parameters"]["properties"]))

    def impl(**kwargs: str) -> str:
        return kwargs.get(arg, "")

    from pydantic import create_model

    schema = create_model(fn["name"], **{arg: (str, ...)})  # type: ignore[call-overload]
    return function_tool.from_defaults(
        fn=impl, name=fn["name"], description=fn["description"], fn_schema=schema
    )


class OurLlamaIndex(_LlamaIndexSubject):
    """``llamaindex_azureinfer.AzureInference``."""

    name = "ours: AzureInference (LlamaIndex)"

    def __init__(self, endpoint: str, key: str) -> None:
        super().__init__(endpoint, key)
        from llamaindex_azureinfer import AzureInference

        self.llm = AzureInference(model=CHAT_MODEL, endpoint=endpoint, credential=key)


class AnchorLlamaIndex(_LlamaIndexSubject):
    """``llama_index.llms.azure_inference.AzureAICompletionsModel`` (existing integration)."""

    name = "llama-index-llms-azure-inference AzureAICompletionsModel"

    def __init__(self, endpoint: str, key: str) -> None:
        super().__init__(endpoint, key)
        from llama_index.llms.azure_inference import AzureAICompletionsModel

        self.llm = AzureAICompletionsModel(endpoint=endpoint, credential=key, model_name=CHAT_MODEL)


class LangChainNoop(Subject):
    """LangChain's own ``invoke`` path with a model that returns at once: the framework's cost."""

    name = "reference: LangChain invoke, no-op model (no I/O)"

    def __init__(self, endpoint: str, key: str) -> None:
        super().__init__(endpoint, key)
        from langchain_core.language_models.fake_chat_models import FakeListChatModel

        self.llm = FakeListChatModel(responses=["Emulated reply"])

    def invoke(self) -> str:
        return str(self.llm.invoke(PROMPT).content)


class LlamaIndexNoop(Subject):
    """LlamaIndex's ``chat`` path (callback decorator, events) with an LLM that returns at once."""

    name = "reference: LlamaIndex chat, no-op LLM (no I/O)"

    def __init__(self, endpoint: str, key: str) -> None:
        super().__init__(endpoint, key)
        from llama_index.core.llms import ChatMessage
        from llama_index.core.llms.mock import MockLLM

        self.llm = MockLLM(max_tokens=4)
        self._messages = [ChatMessage(role="user", content=PROMPT)]

    def invoke(self) -> str:
        return str(self.llm.chat(self._messages).message.content)


#: For scenario 1: the server's own cost without any SDK, and each framework's own call path.
REFERENCE_SUBJECTS: list[type[Subject]] = [PlainHTTP, LangChainNoop, LlamaIndexNoop]

#: In table order: the floor first, then ours, then the existing integrations.
CHAT_SUBJECTS: list[type[Subject]] = [
    RawSDK,
    OurLangChain,
    AnchorLangChain,
    OurLlamaIndex,
    AnchorLlamaIndex,
]
