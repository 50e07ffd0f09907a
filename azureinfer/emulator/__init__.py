"""A local server (aiohttp) for Azure's model APIs, for tests, notebooks and demos: the
OpenAI/v1 API (``emu.v1_endpoint``) and the Azure AI Model Inference API (``emu.endpoint``),
with deployment family profiles (``emu.endpoint_for(name, profile)``).

```python
from azureinfer.emulator import Emulator

with Emulator() as emu:  # http://127.0.0.1:<free port>/models and /openai/v1, key emu.key
    ...
```

Also: ``python -m azureinfer.emulator`` (prints endpoint and key) and the pytest fixture
``azure_inference_emulator``. Rules and catalogue: ``docs/emulator.md``; contract:
``docs/internals.md`` §1. Importing this package is cheap: the server parts (aiohttp.web) load
when an `Emulator` starts or `create_app` is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from azureinfer.emulator._catalogue import DEFAULT_CATALOGUE, Deployment, find
from azureinfer.emulator._control import RemoteEmulator
from azureinfer.emulator._state import RecordedRequest, Settings

if TYPE_CHECKING:
    from azureinfer.emulator._app import create_app
    from azureinfer.emulator._server import Emulator

__all__ = [
    "DEFAULT_CATALOGUE",
    "Deployment",
    "Emulator",
    "RecordedRequest",
    "RemoteEmulator",
    "Settings",
    "create_app",
    "find",
]


def __getattr__(name: str) -> Any:
    if name == "Emulator":
        from azureinfer.emulator._server import Emulator

        return Emulator
    if name == "create_app":
        from azureinfer.emulator._app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
