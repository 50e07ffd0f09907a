"""Schemas and tools the chat tests bind models to (a module Ray's workers can import)."""

from __future__ import annotations

from langchain_core.tools import tool
from pydantic import BaseModel, Field


class CityReport(BaseModel):
    """A short report about a city."""

    city: str = Field(description="The city name")
    summary: str = Field(description="One sentence about the city")


@tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"It is sunny in {city}."
