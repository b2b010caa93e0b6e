"""Every program of the composed fleet is ready, and the ones that confine
code or themselves say their sandbox works inside their container.

The containers run as user 10001 under Docker's default seccomp profile with
no capability added (docker-compose.yml's x-program settings); this is what
shows Landlock works there. The programs' ports are not published: each is
reached on its address on the fleet network, which the host routes to.

Environment: COMPOSE_PROJECT_NAME (the project `compose_scenario` runs) and
FLEET_SECRETS_DIR (where mcp_token is).
"""

import json
import os
import subprocess
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECT = os.environ.get("COMPOSE_PROJECT_NAME", "mcp-fleet")
SECRETS = Path(os.environ.get("FLEET_SECRETS_DIR", ROOT / "secrets"))
CONFINED = {"mcp-server-fs", "mcp-server-sql", "mcp-server-shell", "mcp-server-git", "mcp-server-lint", "mcp-server-test"}


def programs() -> dict[str, str]:
    """Service name -> container address, for the fleet's own programs."""
    ids = subprocess.run(
        ["docker", "ps", "--quiet", "--filter", f"label=com.docker.compose.project={PROJECT}"],
        check=True, capture_output=True, text=True,
    ).stdout.split()
    found = {}
    for c in json.loads(subprocess.run(["docker", "inspect", *ids], check=True, capture_output=True, text=True).stdout):
        service = c["Config"]["Labels"].get("com.docker.compose.service", "")
        if service.startswith("mcp-"):
            nets = c["NetworkSettings"]["Networks"]
            found[service] = next(n["IPAddress"] for n in nets.values() if n.get("IPAddress"))
    return found


def test_every_program_is_ready_and_confined_as_reported():
    token = (SECRETS / "mcp_token").read_text().strip()
    # Straight to the container, whatever proxy the environment names.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    found = programs()
    assert CONFINED <= found.keys(), sorted(found)
    for service, ip in sorted(found.items()):
        # The Host a peer uses (the service name): each program allows only its own names.
        req = urllib.request.Request(
            f"http://{ip}:8080/ready",
            headers={"Authorization": f"Bearer {token}", "Host": f"{service}:8080"},
        )
        with opener.open(req, timeout=10) as r:
            ready = json.load(r)
        assert ready["status"] == "ready", (service, ready)
        sandbox = [c for c in ready["checks"] if c["name"] == "sandbox"]
        if service in CONFINED:
            assert sandbox and sandbox[0]["ok"], (service, ready)
            assert "off" not in sandbox[0]["detail"].split(), (service, sandbox)


def test_the_lint_server_runs_ruff_from_the_image():
    """The toolchain image carries the PyPI linters too: lint_explain answers with ruff's own
    documentation text, which it has only when ruff runs in the lint server's container."""
    token = (SECRETS / "mcp_token").read_text().strip()
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    ip = programs()["mcp-server-lint"]
    body = json.dumps({
        "jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "lint_explain", "arguments": {"rule": "F401", "tool": "ruff"},
                   "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                             "io.modelcontextprotocol/clientCapabilities": {}}},
    }).encode()
    req = urllib.request.Request(
        f"http://{ip}:8080/mcp", data=body, method="POST",
        headers={"Authorization": f"Bearer {token}", "Host": "mcp-server-lint:8080",
                 "Content-Type": "application/json", "Accept": "application/json, text/event-stream",
                 "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": "lint_explain"},
    )
    with opener.open(req, timeout=30) as r:
        answer = json.load(r)
    result = answer["result"]
    assert result["isError"] is False, result
    assert result["structuredContent"]["kind"] == "documentation", result
