"""Shared fixtures for the official-Python-client tests.

Each server under test is the real release binary, started on a free loopback
port with a bearer token. `cargo xtask test` builds the binaries and puts their
directory in MCP_BIN_DIR.
"""

import os
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

TOKEN = "py-test-token-0123456789abcdef"


def bin_path(name: str) -> str:
    bin_dir = os.environ.get("MCP_BIN_DIR")
    if not bin_dir:
        raise RuntimeError("MCP_BIN_DIR is not set; run through `cargo xtask test`")
    path = Path(bin_dir) / name
    if not path.exists():
        raise RuntimeError(f"{path} does not exist; build it first")
    return str(path)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RunningServer:
    def __init__(self, name: str, env: dict[str, str], port: int | None = None):
        # `port` is for programs that must know each other's address before
        # either starts (the planner and the agent are each other's peers).
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/mcp"
        full_env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "MCP_LISTEN_ADDR": f"127.0.0.1:{self.port}",
            "MCP_AUTH_TOKEN": TOKEN,
            "LOG_FORMAT": "json",
            **env,
        }
        self.log = tempfile.NamedTemporaryFile(prefix=f"{name}-", suffix=".log", delete=False)
        self.proc = subprocess.Popen([bin_path(name)], env=full_env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"{name} did not start; log in {self.log.name}")
            time.sleep(0.05)

    def logs(self) -> list[str]:
        return Path(self.log.name).read_text().splitlines()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def client(url: str, mode: str, token: str | None = TOKEN, **headers: str) -> Client:
    hdrs = dict(headers)
    if token:
        hdrs["Authorization"] = f"Bearer {token}"
    transport = streamable_http_client(url, http_client=create_mcp_http_client(headers=hdrs))
    return Client(transport, mode=mode)


@pytest.fixture(params=["auto", "legacy"])
def mode(request) -> str:
    """Both protocol styles: auto negotiates 2026-07-28, legacy forces the 2025-11-25 handshake."""
    return request.param
