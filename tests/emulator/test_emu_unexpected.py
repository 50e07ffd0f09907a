"""Emulator bugs never hide behind a retry: typed request keys, unexpected 5xx logged and counted,
and the pytest fixture fails a test that leaves one (issue 17 item 2)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
import urllib.error
import urllib.request
import warnings
from pathlib import Path

import pytest

from azureinfer.emulator import Emulator, RemoteEmulator, _app

BODY = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hello"}]}


def _post(emu: Emulator, body: dict[str, object] = BODY) -> tuple[int, bytes]:
    req = urllib.request.Request(
        emu.endpoint + "/chat/completions?api-version=2024-05-01-preview",
        data=json.dumps(body).encode(),
        headers={"api-key": emu.key, "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        with err:
            return err.code, err.read()


def test_latency_answers_200_with_warnings_as_errors(azure_inference_emulator: Emulator) -> None:
    """The latency deadline is kept under a typed request key: no NotAppKeyWarning, no 500."""
    emu = azure_inference_emulator
    emu.configure(latency=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        statuses = [_post(emu)[0] for _ in range(2)]
    assert statuses == [200, 200]
    assert [r.status for r in emu.requests] == [200, 200]
    assert emu.unexpected_errors == []


def test_an_emulator_bug_is_logged_counted_and_answered_500(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("rule engine exploded")

    monkeypatch.setattr(_app, "chat_reply", broken)
    with Emulator() as emu, caplog.at_level(logging.ERROR, logger="azureinfer.emulator"):
        status, body = _post(emu)
        errors = emu.unexpected_errors
        assert RemoteEmulator(emu.base_url).unexpected_errors == errors  # over HTTP too
        emu.clear()  # taken: this test's bug is on purpose
    assert status == 500
    assert "RuntimeError: rule engine exploded" in body.decode()
    assert len(errors) == 1
    assert errors[0].startswith("POST /models/chat/completions -> 500\n")
    assert "Traceback (most recent call last)" in errors[0]
    assert "rule engine exploded" in errors[0]
    records = [r for r in caplog.records if r.name == "azureinfer.emulator"]
    assert [r.levelno for r in records] == [logging.ERROR]
    assert "Traceback" in records[0].getMessage()
    assert emu.key not in records[0].getMessage()


def test_injected_5xx_are_not_unexpected(
    azure_inference_emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    emu = azure_inference_emulator
    emu.inject_fault("status", status=503)
    emu.script_raw(500, {"error": {"code": "InternalServerError", "message": "scripted"}})
    with caplog.at_level(logging.ERROR, logger="azureinfer.emulator"):
        assert [_post(emu)[0] for _ in range(3)] == [503, 500, 200]
    assert emu.unexpected_errors == []
    assert not [r for r in caplog.records if r.name == "azureinfer.emulator"]


def test_the_fixture_fails_a_test_that_left_an_unexpected_5xx(tmp_path: Path) -> None:
    """A user's test whose client retried past an emulator 500 still fails, with the traceback."""
    (tmp_path / "test_user.py").write_text(
        textwrap.dedent(
            """
            import json, urllib.error, urllib.request
            from azureinfer.emulator import _app

            def test_user(azure_inference_emulator, monkeypatch):
                def broken(*args, **kwargs):
                    raise KeyError("lost state")
                monkeypatch.setattr(_app, "chat_reply", broken)
                emu = azure_inference_emulator
                req = urllib.request.Request(
                    emu.endpoint + "/chat/completions?api-version=2024-05-01-preview",
                    data=json.dumps({"messages": [{"role": "user", "content": "hi"}]}).encode(),
                    headers={"api-key": emu.key, "Content-Type": "application/json"},
                )
                try:
                    urllib.request.urlopen(req, timeout=30)
                except urllib.error.HTTPError as err:
                    err.close()
                    assert err.code == 500  # the test itself does not notice

            def test_next_one_is_clean(azure_inference_emulator):
                assert azure_inference_emulator.unexpected_errors == []
            """
        )
    )
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\nfilterwarnings = error\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_user.py"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "2 passed, 1 error" in out, out
    assert "ERROR at teardown of test_user" in out, out
    assert "the emulator answered 1 unexpected 5xx" in out, out
    assert "KeyError: 'lost state'" in out, out
    assert "Traceback (most recent call last)" in out, out


def test_a_bug_in_a_control_route_is_kept_too(monkeypatch: pytest.MonkeyPatch) -> None:
    from azureinfer.emulator import _control

    def broken(state: object) -> None:
        raise KeyError("settings")

    monkeypatch.setattr(_control, "settings_dict", broken)
    with Emulator() as emu:
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(emu.base_url + "/_emulator/settings", timeout=30)
        info.value.close()
        (report,) = emu.unexpected_errors
        emu.clear()
    assert info.value.code == 500
    assert report.startswith("GET /_emulator/settings -> 500\n")
    assert "KeyError: 'settings'" in report
