"""``AzureInference``: a LlamaIndex ``FunctionCallingLLM`` for Foundry's chat models.

The class wires LlamaIndex to the core: a call's keywords and client come from the adapter
layer (:mod:`azureinfer.adapters`), its inputs are translated by ``_messages``, the body and
its parameter policy come from :mod:`azureinfer.request`, the clients, retries and streams from
:mod:`azureinfer.transport` / :mod:`azureinfer.streaming`, parsing from
:mod:`azureinfer.response`; the way back (the core's results -> ``ChatResponse``) is here.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncGenerator, Generator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import llama_index.core.instrumentation as instrument
from llama_index.core.base.llms.generic_utils import (
    achat_to_completion_decorator,
    astream_chat_to_completion_decorator,
    chat_to_completion_decorator,
    stream_chat_to_completion_decorator,
)
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseAsyncGen,
    CompletionResponseGen,
    LLMMetadata,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)
from llama_index.core.bridge.pydantic import Field, PrivateAttr
from llama_index.core.instrumentation.events.llm import (
    LLMStructuredPredictEndEvent,
    LLMStructuredPredictStartEvent,
)
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.function_calling import FunctionCallingLLM
from llama_index.core.llms.llm import ToolSelection
from llama_index.core.program.utils import process_streaming_objects
from llama_index.core.prompts import PromptTemplate
from llama_index.core.types import Model

from azureinfer._model_limits import DEFAULT_LIMITS, model_limits, unknown_model_hint
from azureinfer.adapters import ChatAdapter, ChatCall
from azureinfer.request import WireRequest, build_chat_request, build_response_format
from azureinfer.streaming import AsyncChatStream, ChatStream
from llamaindex_azureinfer._fields import ConnectionFields
from llamaindex_azureinfer._messages import to_wire_inputs, tool_selections

if TYPE_CHECKING:
    from llama_index.core.tools.types import BaseTool

    from azureinfer.response import ChatChunk, ChatResult, Usage

__all__ = ["AzureAICompletionsModel", "AzureInference"]

dispatcher = instrument.get_dispatcher(__name__)

# Keyword arguments LlamaIndex callers pass around that are not request parameters.
_IGNORED_CALL_KWARGS = frozenset({"formatted", "verbose", "error_on_no_tool_call"})

_log = logging.getLogger("llamaindex_azureinfer")


class AzureInference(ConnectionFields, ChatAdapter, FunctionCallingLLM):
    """LlamaIndex LLM for any chat model of a Foundry resource: the OpenAI/v1 route or the Azure
    AI Model Inference route (``route``, detected from the endpoint).

    Setup: ``pip install "azureinfer[llamaindex]"``. The endpoint and key come from the
    arguments or from ``AZURE_INFERENCE_ENDPOINT`` / ``AZURE_INFERENCE_CREDENTIAL``; the
    credential may be a key string, an ``AzureKeyCredential`` or an Entra ID token credential
    (sync for sync calls, ``azure.identity.aio`` for async ones). It is never serialised, logged
    or shown in ``repr``. Bad constructor arguments raise ``ConfigurationError``; extra body
    parameters go in ``model_kwargs`` (sent as ``model_extras``). ``metadata`` never touches
    the network: known model families get their context window and output limit from the core's
    table (see the README), other names 8,192 tokens and a one-line hint to pass ``context_window``.
    Every call also takes ``timeout=``, ``max_retries=`` and ``headers=`` for that call only
    (``llm.chat(messages, timeout=5, max_retries=0)``).

    Instantiate, chat, stream (every example below is run by the test suite):

    ```python
    from llama_index.core.llms import ChatMessage
    from llamaindex_azureinfer import AzureInference

    llm = AzureInference(model="gpt-4o", temperature=0.2, context_window=128000)
    reply = llm.chat([ChatMessage(role="user", content="Say hi")])
    print(reply.message.content, reply.additional_kwargs["total_tokens"])
    for chunk in llm.stream_complete("Count to three"):
        print(chunk.delta, end="")
    print()
    ```

    Tool calling: a ``FunctionCallingLLM`` (``is_function_calling_model=True``), so
    ``FunctionAgent`` / ``AgentWorkflow`` use the tool API, streaming or not.

    ```python
    from llama_index.core.tools import FunctionTool

    def add(a: int, b: int) -> int:
        '''Add two integers.'''
        return a + b

    answer = llm.predict_and_call([FunctionTool.from_defaults(add)], user_msg="add 2 and 3")
    print(answer.response)
    ```

    Structured output: a forced tool call by default; ``structured_output_method="json_schema"``
    sends a strict ``response_format`` instead.

    ```python
    from pydantic import BaseModel
    from llama_index.core.prompts import PromptTemplate

    class Song(BaseModel):
        title: str
        year: int

    song = llm.structured_predict(Song, PromptTemplate("A song about {topic}"), topic="rain")
    print(song.year)
    ```

    Replies carry ``finish_reason`` and token counts in ``additional_kwargs`` (the last chunk of
    a stream), reasoning as a ``ThinkingBlock`` (``thinking_delta`` while streaming), tool calls
    as ``ToolCallBlock`` s plus wire dicts in ``additional_kwargs["tool_calls"]``, and the wire
    response as a plain dict in ``raw``. Close with ``close()`` / ``await aclose()`` or use the
    instance as a (async) context manager; ``get_model_info()`` asks the endpoint (``/info``, or
    the deployment's entry of ``/models`` on OpenAI/v1).
    """

    model: str | None = Field(
        default=None, description="Deployment / model name sent as `model` (multi-model endpoints)."
    )
    temperature: float | None = Field(
        default=None, description="Sampling temperature; None leaves it unset."
    )
    max_tokens: int | None = Field(default=None, description="Cap on generated tokens.")
    max_completion_tokens: int | None = Field(
        default=None, description="Cap for reasoning models (sent as an extra parameter)."
    )
    top_p: float | None = Field(default=None, description="Nucleus sampling.")
    seed: int | None = Field(default=None, description="Seed for best-effort determinism.")
    stop: list[str] | None = Field(default=None, description="Stop sequences.")
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    reasoning_effort: str | None = Field(default=None, description="For reasoning models.")
    model_kwargs: dict[str, Any] = Field(
        default_factory=dict,
        description="Extra body parameters, sent as `model_extras` under the extra-parameters "
        "policy; request parameters named here (top_p, stop, ...) are used as such.",
    )
    extra_parameters: Literal["pass-through", "drop", "error"] = Field(
        default="pass-through",
        description="What the service does with parameters it does not define.",
    )
    context_window: int | None = Field(
        default=None,
        gt=0,
        description="Context window of the model, tokens (None: from the core's table of model "
        "families, else 8,192).",
    )
    num_output: int | None = Field(
        default=None,
        gt=0,
        description="Tokens reserved for output (None: max_tokens, else the model family's "
        "output limit).",
    )
    is_chat_model: bool = Field(default=True, description="The endpoint takes chat messages.")
    is_function_calling_model: bool = Field(
        default=True, description="The model supports tool calling."
    )
    strict: bool = Field(default=False, description="Send tools (and schemas) in strict mode.")
    structured_output_method: Literal["function_calling", "json_schema"] = Field(
        default="function_calling",
        description="How structured_predict works: a forced tool call, or native "
        "`response_format` json_schema (strict).",
    )
    stream_usage: bool = Field(default=True, description="Ask for token usage in streams.")
    fold_system_messages: bool = Field(
        default=False,
        description="Fold system/developer text into the first user message (for models that "
        "reject system messages, e.g. Phi).",
    )

    _tool_names: dict[str, str] = PrivateAttr(default_factory=dict)
    _adapter_name: ClassVar[str] = "llamaindex_azureinfer"

    @classmethod
    def _checked_arguments(cls, values: Mapping[str, Any]) -> dict[str, Any]:
        out = super()._checked_arguments(values)
        if out.get("callback_manager") is None:
            out.pop("callback_manager", None)  # LlamaIndex's default, not None
        return out

    def _probe_request(self) -> WireRequest:
        return self._prepare([ChatMessage(role="user", content="x")], {}, stream=False)[1]

    def _check_connection(self) -> None:
        super()._check_connection()
        if self.context_window is None and model_limits(self.model) is None:
            _log.warning(unknown_model_hint(self.model))

    def __setstate__(self, state: dict[str, Any]) -> None:
        # BaseComponent re-runs __init__ from the fields, which would lose the credential held
        # by the client; restore the state as pickled instead.
        object.__setattr__(self, "__dict__", state["__dict__"])
        object.__setattr__(self, "__pydantic_fields_set__", state["__pydantic_fields_set__"])
        object.__setattr__(self, "__pydantic_extra__", state["__pydantic_extra__"])
        object.__setattr__(self, "__pydantic_private__", state["__pydantic_private__"])

    @classmethod
    def class_name(cls) -> str:
        return "AzureInference"

    @property
    def metadata(self) -> LLMMetadata:
        """Model facts from the constructor and the core's table of model families; no I/O."""
        limits = model_limits(self.model) or DEFAULT_LIMITS
        window = self.context_window or limits.context_window
        output = limits.max_output_tokens
        if self.context_window is not None:  # a smaller window than the family's keeps room
            output = min(output, window // 4)
        return LLMMetadata(
            context_window=window,
            num_output=self.num_output or self.max_tokens or output,
            is_chat_model=self.is_chat_model,
            is_function_calling_model=self.is_function_calling_model,
            model_name=self.model or "azure-inference",
            system_role=MessageRole.SYSTEM,
        )

    # -- request building --------------------------------------------------------------------

    def _prepare(
        self, messages: Sequence[ChatMessage], kwargs: Mapping[str, Any], *, stream: bool
    ) -> tuple[ChatCall, WireRequest]:
        """The call (its options and client, from the adapter layer) and its wire request:
        constructor defaults, then ``model_kwargs`` (request parameters named there count as
        such), then the call's kwargs (LlamaIndex passes other kwargs on: they are extras)."""
        call = self._chat_call(
            kwargs, ignored=_IGNORED_CALL_KWARGS, instance=self.model_kwargs, unknown_as_extras=True
        )
        params = call.parameters
        wire = to_wire_inputs(
            messages,
            tools=params.pop("tools", None),
            tool_choice=params.get("tool_choice"),
            strict=self.strict,
            fold_system=self.fold_system_messages,
        )
        self._tool_names.update(wire.tool_names)
        if wire.tool_choice is not None:
            params["tool_choice"] = wire.tool_choice
        request = build_chat_request(
            wire.messages,
            tools=wire.tools,
            stream=stream,
            model_extras=call.extras or None,
            headers=call.headers or None,
            **params,
        )
        return call, request

    def _chat_response(self, result: ChatResult) -> ChatResponse:
        return result_to_response(result, self._tool_names)

    def _chunk_response(
        self, stream: ChatStream | AsyncChatStream, chunk: ChatChunk
    ) -> ChatResponse:
        """The message accumulated so far (read from the core's stream object)."""
        return chunk_to_response(stream, chunk, self._tool_names)

    # -- chat --------------------------------------------------------------------------------

    def _chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        call, request = self._prepare(messages, kwargs, stream=False)
        return self._chat_response(call.client.complete(request, **call.options))

    async def _achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        call, request = self._prepare(messages, kwargs, stream=False)
        return self._chat_response(await call.client.acomplete(request, **call.options))

    def _stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        call, request = self._prepare(messages, kwargs, stream=True)

        def gen() -> ChatResponseGen:
            with call.client.stream(request, **call.options) as stream:
                for chunk in stream:
                    if not is_empty_chunk(chunk):
                        yield self._chunk_response(stream, chunk)

        return gen()

    async def _astream_chat(
        self, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> ChatResponseAsyncGen:
        call, request = self._prepare(messages, kwargs, stream=True)

        async def gen() -> ChatResponseAsyncGen:
            async with call.client.astream(request, **call.options) as stream:
                async for chunk in stream:
                    if not is_empty_chunk(chunk):
                        yield self._chunk_response(stream, chunk)

        return gen()

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        """One chat completion."""
        return self._chat(messages, **kwargs)

    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        """One chat completion, natively async."""
        return await self._achat(messages, **kwargs)

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        """Stream a chat completion; every chunk carries the message accumulated so far."""
        return self._stream_chat(messages, **kwargs)

    @llm_chat_callback()
    async def astream_chat(
        self, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> ChatResponseAsyncGen:
        """Stream a chat completion, natively async."""
        return await self._astream_chat(messages, **kwargs)

    # -- complete ----------------------------------------------------------------------------

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        """Complete a prompt (sent as one user message)."""
        return chat_to_completion_decorator(self._chat)(prompt, **kwargs)

    @llm_completion_callback()
    async def acomplete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponse:
        """Complete a prompt, natively async."""
        return await achat_to_completion_decorator(self._achat)(prompt, **kwargs)

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        """Stream the completion of a prompt."""
        return stream_chat_to_completion_decorator(self._stream_chat)(prompt, **kwargs)

    @llm_completion_callback()
    async def astream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseAsyncGen:
        """Stream the completion of a prompt, natively async."""
        return await astream_chat_to_completion_decorator(self._astream_chat)(prompt, **kwargs)

    # -- function calling --------------------------------------------------------------------

    def _prepare_chat_with_tools(
        self,
        tools: Sequence[BaseTool],
        user_msg: str | ChatMessage | None = None,
        chat_history: list[ChatMessage] | None = None,
        verbose: bool = False,
        allow_parallel_tool_calls: bool = False,
        tool_required: bool = False,
        tool_choice: Any = None,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Build the kwargs for ``chat`` with tools; ``chat_history`` is copied, never mutated."""
        messages = list(chat_history or [])
        if isinstance(user_msg, str):
            messages.append(ChatMessage(role=MessageRole.USER, content=user_msg))
        elif user_msg is not None:
            messages.append(user_msg)
        use_strict = self.strict if strict is None else strict
        translated = to_wire_inputs((), tools=tools, strict=use_strict)
        self._tool_names.update(translated.tool_names)
        wire_tools = translated.tools or []
        if tool_choice is None and tool_required and wire_tools:
            tool_choice = "required"
        out: dict[str, Any] = {"messages": messages, **kwargs}
        if wire_tools:
            out["tools"] = wire_tools
            if tool_choice is not None:
                out["tool_choice"] = tool_choice
            if not allow_parallel_tool_calls:
                out["parallel_tool_calls"] = False
        return out

    def _validate_chat_with_tools_response(
        self,
        response: ChatResponse,
        tools: Sequence[BaseTool],
        allow_parallel_tool_calls: bool = False,
        **kwargs: Any,
    ) -> ChatResponse:
        """Keep only the first tool call when parallel calls were not allowed."""
        if allow_parallel_tool_calls:
            return response
        blocks = response.message.blocks
        calls = [b for b in blocks if isinstance(b, ToolCallBlock)]
        if len(calls) > 1:
            first = calls[0]
            response.message.blocks = [
                b for b in blocks if not isinstance(b, ToolCallBlock) or b is first
            ]
            wire = response.message.additional_kwargs.get("tool_calls") or []
            response.message.additional_kwargs["tool_calls"] = wire[:1]
        return response

    def get_tool_calls_from_response(
        self,
        response: ChatResponse,
        error_on_no_tool_call: bool = True,
        **kwargs: Any,
    ) -> list[ToolSelection]:
        """Tool calls of a (possibly partial, streamed) response.

        Arguments that are empty, partial or malformed JSON become the best parse of them, or
        ``{}``; tool names are mapped back to the caller's names.
        """
        selections = tool_selections(response, self._tool_names)
        if not selections and error_on_no_tool_call:
            raise ValueError(
                f"Expected at least one tool call, but got 0 tool calls "
                f"(reply: {response.message.content!r:.200})."
            )
        return selections

    # -- structured output -------------------------------------------------------------------
    # With structured_output_method="function_calling" (the default) LlamaIndex's own
    # FunctionCallingProgram drives chat_with_tools; with "json_schema" the schema goes out as a
    # strict `response_format` and the reply text is parsed.

    def _schema_call(
        self, output_cls: type[Model], llm_kwargs: dict[str, Any] | None
    ) -> dict[str, Any]:
        kwargs = dict(llm_kwargs or {})
        kwargs.setdefault("response_format", build_response_format(output_cls, strict=True))
        return kwargs

    @dispatcher.span
    def structured_predict(
        self,
        output_cls: type[Model],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Model:
        """Predict an instance of ``output_cls`` (a Pydantic class) from a prompt."""
        if self.structured_output_method != "json_schema":
            return super().structured_predict(output_cls, prompt, llm_kwargs, **prompt_args)
        dispatcher.event(
            LLMStructuredPredictStartEvent(
                output_cls=output_cls, template=prompt, template_args=prompt_args
            )
        )
        messages = self._get_messages(prompt, **prompt_args)
        response = self.chat(messages, **self._schema_call(output_cls, llm_kwargs))
        result = output_cls.model_validate_json(response.message.content or "")
        dispatcher.event(LLMStructuredPredictEndEvent(output=result))
        return result

    @dispatcher.span
    async def astructured_predict(
        self,
        output_cls: type[Model],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Model:
        """Async :meth:`structured_predict`."""
        if self.structured_output_method != "json_schema":
            return await super().astructured_predict(output_cls, prompt, llm_kwargs, **prompt_args)
        dispatcher.event(
            LLMStructuredPredictStartEvent(
                output_cls=output_cls, template=prompt, template_args=prompt_args
            )
        )
        messages = self._get_messages(prompt, **prompt_args)
        response = await self.achat(messages, **self._schema_call(output_cls, llm_kwargs))
        result = output_cls.model_validate_json(response.message.content or "")
        dispatcher.event(LLMStructuredPredictEndEvent(output=result))
        return result

    def _structured_stream_call(
        self,
        output_cls: type[Model],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Generator[Any, None, None]:
        if self.structured_output_method != "json_schema":
            return super()._structured_stream_call(output_cls, prompt, llm_kwargs, **prompt_args)
        messages = self._get_messages(prompt, **prompt_args)
        stream = self.stream_chat(messages, **self._schema_call(output_cls, llm_kwargs))

        def gen() -> Generator[Any, None, None]:
            current: Any = None
            for response in stream:
                current = process_streaming_objects(response, output_cls, cur_objects=current)
                yield current
                current = [current]

        return gen()

    async def _structured_astream_call(
        self,
        output_cls: type[Model],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> AsyncGenerator[Any, None]:
        if self.structured_output_method != "json_schema":
            return await super()._structured_astream_call(
                output_cls, prompt, llm_kwargs, **prompt_args
            )
        messages = self._get_messages(prompt, **prompt_args)
        stream = await self.astream_chat(messages, **self._schema_call(output_cls, llm_kwargs))

        async def gen() -> AsyncGenerator[Any, None]:
            current: Any = None
            async for response in stream:
                current = process_streaming_objects(response, output_cls, cur_objects=current)
                yield current
                current = [current]

        return gen()


class AzureAICompletionsModel(AzureInference):
    """Drop-in replacement for ``llama_index.llms.azure_inference.AzureAICompletionsModel``.

    Accepts the deprecated class's constructor arguments (``model_name``, ``client_kwargs``,
    ``model_kwargs``, ``temperature`` defaulting to 0.1) and behaves as :class:`AzureInference`.
    """

    temperature: float | None = 0.1

    def __init__(
        self,
        endpoint: str | None = None,
        credential: Any = None,
        *,
        model_name: str | None = None,
        **data: Any,
    ) -> None:
        if model_name is not None:
            if data.get("model") not in (None, model_name):
                raise ValueError("pass either model_name or model, not both")
            data["model"] = model_name
        super().__init__(endpoint=endpoint, credential=credential, **data)

    @classmethod
    def class_name(cls) -> str:
        return "AzureAICompletionsModel"

    @property
    def model_name(self) -> str | None:
        """The deprecated class's name for :attr:`model`."""
        return self.model


# --------------------------------------------------------------------------------------------
# The way back: the core's parsed results -> LlamaIndex responses (JSON-safe: chat stores and
# Memory persist tool-call histories)
# --------------------------------------------------------------------------------------------


def assistant_message(
    content: str | None,
    *,
    reasoning_content: str | None = None,
    tool_calls: Sequence[tuple[str | None, str, dict[str, Any] | str]] = (),
    tool_names: Mapping[str, str] | None = None,
) -> ChatMessage:
    """Build the assistant ``ChatMessage`` for a reply, with JSON-safe tool calls.

    ``tool_calls`` holds ``(id, name, arguments)`` triples; ``arguments`` is the parsed dict, or
    the raw string when the model sent invalid JSON; a missing id becomes ``call_<position>``.
    ``tool_names`` maps sanitised wire names back to the caller's tool names.
    """
    names = tool_names or {}
    blocks: list[Any] = []
    if reasoning_content:
        blocks.append(ThinkingBlock(content=reasoning_content))
    blocks.append(TextBlock(text=content or ""))
    wire_calls: list[dict[str, Any]] = []
    for position, (given_id, name, arguments) in enumerate(tool_calls):
        # Some deployments omit tool-call ids; the API needs one to match the tool results.
        call_id = given_id or f"call_{position}"
        original = names.get(name, name)
        blocks.append(
            ToolCallBlock(tool_call_id=call_id, tool_name=original, tool_kwargs=arguments)
        )
        wire_calls.append(
            {
                "id": call_id,
                "type": "function",
                "function": {"name": original, "arguments": _arguments_text(arguments)},
            }
        )
    kwargs: dict[str, Any] = {}
    if wire_calls:
        kwargs["tool_calls"] = wire_calls
    if reasoning_content:
        kwargs["reasoning_content"] = reasoning_content
    return ChatMessage(role=MessageRole.ASSISTANT, blocks=blocks, additional_kwargs=kwargs)


def result_to_response(result: ChatResult, tool_names: Mapping[str, str]) -> ChatResponse:
    """A parsed completion as a LlamaIndex ``ChatResponse`` (tool names mapped back through
    ``tool_names``: sanitised name -> the caller's)."""
    calls: list[tuple[str | None, str, dict[str, Any] | str]] = [
        (tc.id, tc.name, tc.arguments) for tc in result.tool_calls
    ]
    calls += [(tc.id, tc.name or "", tc.arguments or "") for tc in result.invalid_tool_calls]
    message = assistant_message(
        result.content,
        reasoning_content=result.reasoning_content,
        tool_calls=calls,
        tool_names=tool_names,
    )
    extra = _result_kwargs(result.finish_reason, result.usage, result.model, result.id)
    return ChatResponse(message=message, raw=result.raw, additional_kwargs=extra)


def chunk_to_response(
    stream: ChatStream | AsyncChatStream, chunk: ChatChunk, tool_names: Mapping[str, str]
) -> ChatResponse:
    """A streamed chunk as a ``ChatResponse`` carrying the message accumulated so far (the
    core's ``stream`` object's snapshot) and the chunk's text as ``delta``."""
    content, reasoning = stream.text_so_far()
    message = assistant_message(
        content,
        reasoning_content=reasoning or None,
        tool_calls=_stream_tool_calls(stream, chunk),
        tool_names=tool_names,
    )
    extra: dict[str, Any] = {}
    if chunk.reasoning_content:
        extra["thinking_delta"] = chunk.reasoning_content
    extra.update(_result_kwargs(chunk.finish_reason, chunk.usage, chunk.model, chunk.id))
    raw = chunk.raw
    if chunk.usage is not None and not raw.get("usage"):
        # OpenAI-style streams send usage in a separate, choice-less event that the core
        # folds into the finishing chunk; LlamaIndex's token counter reads raw["usage"].
        raw = {**raw, "usage": chunk.usage.raw}
    return ChatResponse(message=message, delta=chunk.content, raw=raw, additional_kwargs=extra)


def _stream_tool_calls(
    stream: ChatStream | AsyncChatStream, chunk: ChatChunk
) -> list[tuple[str | None, str, dict[str, Any] | str]]:
    """The calls a stream has delivered so far: arguments stay the JSON text received until the
    stream finishes (``chunk`` is its last), then become the parsed dict (or stay the text when
    it does not parse)."""
    parsed = (
        {call.index: call.arguments for call in stream.snapshot().tool_calls}
        if chunk.finish_reason is not None
        else {}
    )
    return [
        (call.id, call.name or "", parsed.get(call.index, call.arguments))
        for call in stream.tool_calls_so_far()
    ]


def _usage_dict(usage: Usage | None) -> dict[str, Any]:
    if usage is None:
        return {}
    out: dict[str, Any] = {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }
    if usage.cached_tokens is not None:
        out["cached_tokens"] = usage.cached_tokens
    if usage.reasoning_tokens is not None:
        out["reasoning_tokens"] = usage.reasoning_tokens
    return out


def _result_kwargs(
    finish_reason: str | None, usage: Usage | None, model: str | None, rid: str | None
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if finish_reason is not None:
        out["finish_reason"] = str(finish_reason)
    if usage is not None:
        counts = _usage_dict(usage)
        out.update(counts)
        out["usage"] = counts
    if finish_reason is not None or usage is not None:
        if model:
            out["model"] = model
        if rid:
            out["id"] = rid
    return out


def is_empty_chunk(chunk: ChatChunk) -> bool:
    """A chunk with nothing for the caller (the role-only first event, for one)."""
    return not (
        chunk.content
        or chunk.reasoning_content
        or chunk.tool_call_chunks
        or chunk.finish_reason
        or chunk.usage
    )


def _arguments_text(arguments: dict[str, Any] | str) -> str:
    return arguments if isinstance(arguments, str) else json.dumps(arguments)
