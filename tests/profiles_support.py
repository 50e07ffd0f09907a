"""What the LangChain and LlamaIndex profile suites share (pytest puts this folder on
``sys.path``): the chat profiles, the two tools as plain functions, and the case of one profile."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from azureinfer.emulator import Emulator

# (profile, deployment): every chat profile, the OpenAI/v1 route included.
CHAT_PROFILES = [
    ("maas", "mistral-large"),
    ("azure_openai", "gpt-4o"),
    ("foundry", "gpt-4o"),
    ("openai_v1", "gpt-4o"),
]
PROFILE_IDS = [p for p, _ in CHAT_PROFILES]

C = TypeVar("C", bound="ProfileCase")


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"Sunny in {city}"


def get_population(city: str) -> int:
    """The population of a city."""
    return 2_100_000


@dataclass
class ProfileCase:
    """One chat profile of the emulator: its deployment and the endpoint that serves it."""

    profile: str
    deployment: str
    emu: Emulator
    endpoint: str

    @classmethod
    def on(cls: type[C], emu: Emulator, profile: str, deployment: str) -> C:
        """The case of ``profile`` on ``emu`` (its endpoint for ``deployment``)."""
        return cls(profile, deployment, emu, emu.endpoint_for(deployment, profile))

    def served_here(self) -> None:
        """The last chat request went to this profile's endpoint."""
        rec = self.emu.requests_for("chat")[-1]
        assert self.endpoint.endswith(rec.path.rsplit("/chat/completions", 1)[0])
