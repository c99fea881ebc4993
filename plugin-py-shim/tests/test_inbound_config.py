"""A bad shim configuration stops ACA-Py's start with a clear message (real aca-py)."""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ACAPY = Path(sys.executable).parent / "aca-py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (["acapy_bridge_shim.redis_url=http://127.0.0.1:6379"], "Redis URL must start with redis://"),
        (["acapy_bridge_shim.redis_url=redis://127.0.0.1:1", "acapy_bridge_shim.inbound.concurrency=0"], "concurrency"),
        (
            ["acapy_bridge_shim.redis_url=redis://127.0.0.1:1", "acapy_bridge_shim.inbound.concurency=8"],
            "did you mean acapy_bridge_shim.inbound.concurrency?",
        ),
        (["acapy_bridge_shim.prefix=x"], "redis_url is required"),
    ],
)
def test_acapy_refuses_to_start_with_a_bad_shim_configuration(settings, message):
    assert ACAPY.exists(), f"{ACAPY} not found: run scripts/setup.sh (aca-py belongs in the venv running the tests)"
    home = tempfile.mkdtemp(prefix="acapy-badconfig-")
    env = {k: v for k, v in os.environ.items() if k != "ACAPY_BRIDGE_REDIS_URL"}
    env.update(ACAPY_HOME=home, RUST_LOG="warn")
    try:
        result = subprocess.run(
            [
                str(ACAPY),
                "start",
                "--label",
                "bad",
                "--no-ledger",
                "--wallet-type",
                "askar",
                "--wallet-name",
                "bad",
                "--wallet-key",
                "bad",
                "--wallet-key-derivation-method",
                "kdf:argon2i:int",
                "--auto-provision",
                "--admin",
                "127.0.0.1",
                str(free_port()),
                "--admin-insecure-mode",
                "--plugin",
                "acapy_bridge_shim",
                "-o",
                *settings,
                "-it",
                "acapy_bridge_shim.inbound",
                "127.0.0.1",
                "0",
                "-ot",
                "http",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=90,
        )
    finally:
        shutil.rmtree(home, ignore_errors=True)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert message in output, output[-3000:]
