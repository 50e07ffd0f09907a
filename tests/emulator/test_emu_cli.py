"""The emulator's command line and its logs: options in `azureinfer emulator --help`, argparse
errors for bad values, an access-log line per request, and the TLS-on-plain-HTTP warning."""

from __future__ import annotations

import json
import logging
import os
import re
import ssl
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from azureinfer.__main__ import main as azureinfer_main
from azureinfer.emulator import Emulator
from azureinfer.emulator.__main__ import main as emulator_main

OPTIONS = ("--host", "--port", "--key", "--latency", "--tls", "--quiet")


def _chat(endpoint: str, key: str) -> int:
    req = urllib.request.Request(
        endpoint + "/chat/completions?api-version=2024-05-01-preview",
        data=json.dumps({"messages": [{"role": "user", "content": "hi"}]}).encode(),
        headers={"api-key": key, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return int(resp.status)


@pytest.mark.parametrize(
    "argv",
    [["emulator", "--help"], ["--help"]],
    ids=["azureinfer emulator --help", "azureinfer --help"],
)
def test_help_lists_the_emulator_options_without_markup(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        azureinfer_main(argv)
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "``" not in out
    if argv[0] == "emulator":
        assert all(option in out for option in OPTIONS), out


def test_python_m_emulator_help_matches(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        emulator_main(["--help"])
    out = capsys.readouterr().out
    assert all(option in out for option in OPTIONS) and "``" not in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--latency", "-1"], "argument --latency: must be a finite number >= 0, got -1"),
        (["--latency", "soon"], "argument --latency: expected a number of seconds, got 'soon'"),
        (["--port", "70000"], "argument --port: must be between 0 and 65535, got 70000"),
    ],
)
def test_bad_values_give_one_argparse_error_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for run in (lambda: azureinfer_main(["emulator", *argv]), lambda: emulator_main(argv)):
        with pytest.raises(SystemExit) as info:
            run()
        assert info.value.code == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err
        (line,) = [x for x in err.splitlines() if "error:" in x]
        assert line.endswith(message)


def _serve_and_call(*flags: str) -> tuple[str, str]:
    """Run the CLI, make one chat call, stop it; (stdout, stderr)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "azureinfer", "emulator", "--port", "0", "--key", "cli-k3y", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        assert proc.stdout is not None
        endpoint = proc.stdout.readline().split()[-1]
        assert _chat(endpoint, "cli-k3y") == 200
        with pytest.raises(urllib.error.HTTPError) as info:
            _chat(endpoint, "wrong-key")
        info.value.close()
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    return out, err


def test_the_cli_logs_one_line_per_request_and_never_the_key() -> None:
    _, err = _serve_and_call()
    lines = [x for x in err.splitlines() if "/chat/completions" in x]
    assert len(lines) == 2, err
    assert re.search(r"POST /models/chat/completions -> 200 \(chat, gpt-4o\) \d+\.\d ms$", lines[0])
    assert re.search(r"POST /models/chat/completions -> 401 \(chat\) \d+\.\d ms$", lines[1])
    assert "cli-k3y" not in err and "wrong-key" not in err and "api-version" not in err


def test_quiet_turns_the_access_log_off() -> None:
    _, err = _serve_and_call("--quiet")
    assert "/chat/completions" not in err, err


def test_in_process_emulator_logs_requests_only_when_asked(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="azureinfer.emulator.access"):
        with Emulator() as quiet:
            _chat(quiet.endpoint, quiet.key)
        assert not [r for r in caplog.records if r.name == "azureinfer.emulator.access"]
        with Emulator(access_log=True) as loud:
            _chat(loud.endpoint, loud.key)
    (record,) = [r for r in caplog.records if r.name == "azureinfer.emulator.access"]
    assert record.levelno == logging.INFO
    assert record.getMessage().startswith("POST /models/chat/completions -> 200 (chat, gpt-4o)")
    assert loud.key not in record.getMessage()


def test_https_against_the_plain_port_logs_the_fix(
    azure_inference_emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    emu = azure_inference_emulator
    url = emu.endpoint.replace("http://", "https://") + "/info"
    with caplog.at_level(logging.WARNING, logger="azureinfer.emulator"):
        with pytest.raises(urllib.error.URLError, match=r"WRONG_VERSION_NUMBER|SSL"):
            urllib.request.urlopen(url, context=ssl.create_default_context(), timeout=30)
        _chat(emu.endpoint, emu.key)  # the server carries on
    (record,) = [r for r in caplog.records if r.name == "azureinfer.emulator"]
    assert record.levelno == logging.WARNING
    message = record.getMessage()
    assert "TLS handshake" in message and "plain-HTTP" in message
    assert f"use {emu.endpoint}" in message and "tls=True" in message
