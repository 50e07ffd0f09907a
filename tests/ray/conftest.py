"""One local Ray cluster for the whole session (started by the first test that needs it).

``ray.init(num_cpus=2)``, no dashboard. Workers are processes on this machine, so they reach
the session emulator on its loopback port. Ray Data keeps row order here
(``preserve_order``) so the tests can check it; its progress output is left on (it is Ray's).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[Any]:
    """The running local cluster (``ray`` module)."""
    import ray.data

    # Workers import the schemas and tools these tests define (pickled by reference).
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(HERE), saved) if p)
    try:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    finally:
        if saved is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = saved
    ray.data.DataContext.get_current().execution_options.preserve_order = True
    try:
        yield ray
    finally:
        ray.shutdown()


@pytest.fixture
def emu(azure_inference_emulator: Any, ray_cluster: Any) -> Any:
    """The session emulator, cleared, with the cluster running."""
    return azure_inference_emulator
