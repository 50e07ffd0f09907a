"""One local Ray cluster for this directory (started by its first test that needs it, shut down
after its last one, so no Ray process runs during the other directories' tests).

``ray.init(num_cpus=2)``, no dashboard. Workers are processes on this machine, so they reach
the session emulator on its loopback port. Ray Data keeps row order here
(``preserve_order``) so the tests can check it; its progress output is left on (it is Ray's).
Ray's own sockets are C++ (gRPC): pytest-socket's ``disable_socket`` marker, which patches
Python's ``socket``, neither blocks them nor is needed here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent


def _start() -> Any:
    import ray
    import ray.data

    if ray.is_initialized():
        return ray
    # Workers import the schemas and tools these tests define (pickled by reference).
    # Ray starts its workers at niceness 15 by default: beside any CPU-bound process they would
    # get almost no CPU (minutes per test on a busy machine). The test cluster's workers run at
    # the driver's priority instead (Ray's RAY_worker_niceness setting).
    saved = {name: os.environ.get(name) for name in ("PYTHONPATH", "RAY_worker_niceness")}
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(HERE), saved["PYTHONPATH"]) if p)
    os.environ["RAY_worker_niceness"] = "0"  # noqa: SIM112 (Ray reads this exact name)
    try:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    ray.data.DataContext.get_current().execution_options.preserve_order = True
    return ray


@pytest.fixture
def ray_cluster() -> Any:
    """The running local cluster (the ``ray`` module)."""
    return _start()


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """After this directory's last test (of a run of them), stop the cluster."""
    if nextitem is not None and HERE in Path(nextitem.path).resolve().parents:
        return
    import ray

    if ray.is_initialized():
        ray.shutdown()


@pytest.fixture
def emu(azure_inference_emulator: Any, ray_cluster: Any) -> Any:
    """The session emulator, cleared, with the cluster running."""
    return azure_inference_emulator


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A Ray test starts worker processes that import Ray Data, pyarrow and a framework: seconds
    on an idle machine, minutes on a saturated one. The suite's 120 s hang guard would fail
    them on a busy machine, so this directory's guard is 600 s (a hang still fails)."""
    for item in items:
        if HERE in Path(item.path).resolve().parents and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(600))
