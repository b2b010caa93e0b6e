"""The api-gateway's REST API against its own OpenAPI description, with
schemathesis: the real binaries (the gateway in front of the whole fleet but
the email server: sql, log, observer, fs, git, shell, lint, test, planner and
agent, wired as in compose), an admin API key, generated requests for every
one of the 20 operations, nothing excluded. No answer may be a 5xx, and every
answer must match the status codes, media types and schemas the document
promises. Generated `POST /requests` bodies reach the rules agent, which asks,
refuses or proceeds; unknown request, approval and trace ids must be 404s.

A second, smaller run repeats the request-id and trace-id routes on a request
that exists (refused, so final: its event stream closes with `done`) and its
trace. Approvals are only ever checked with ids that do not exist: a pending
one needs a run to reach an approval step (a whole project build), which is
the fleet end-to-end test's job (crates/clients/llm-agent/tests/it).
"""

import json
import os
import re
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import TOKEN, RunningServer, free_port

ST = Path(os.environ.get("VIRTUAL_ENV", Path.home() / ".cache/mcp-fleet/venv")) / "bin" / "st"


REPO = Path(__file__).resolve().parents[2]
SECRET = "schemathesis-secret-0123456789abcdef0123"


def shell_path() -> str:
    """`PATH` for the shell, lint and test servers: the active Rust toolchain and the system directories."""
    try:
        sysroot = subprocess.run(["rustc", "--print", "sysroot"], capture_output=True, text=True).stdout.strip()
    except OSError:
        sysroot = ""
    return ":".join(p for p in [f"{sysroot}/bin" if sysroot else "", "/usr/local/bin", "/usr/bin", "/bin"] if p)


@pytest.fixture
def gateway(tmp_path: Path):
    """The fleet minus email: every upstream the gateway's routes call (the
    agent, the planner and the observer included) and the servers the
    planner needs, wired as the compose file wires them (cf. `Fleet::env`
    in crates/clients/llm-agent/tests/it/main.rs)."""
    projects = tmp_path / "projects"
    projects.mkdir()
    (projects / "hello.txt").write_text("hello\n")
    templates = str(REPO / "templates")
    sqlite = lambda n: f"sqlite:{tmp_path / (n + '.db')}"  # noqa: E731
    # The planner and the agent are each other's peers: both addresses first.
    ports = {"mcp-client-planner": free_port(), "mcp-client-llm-agent": free_port()}
    urls = {n: f"http://127.0.0.1:{p}/mcp" for n, p in ports.items()}
    started: list[RunningServer] = []

    def start(name: str, env: dict[str, str]) -> RunningServer:
        peers = {
            "MCP_SERVER_" + n.removeprefix("mcp-server-").upper().replace("-", "_") + "_URL"
            if n.startswith("mcp-server-")
            else "MCP_CLIENT_" + n.removeprefix("mcp-client-").upper().replace("-", "_") + "_URL": u
            for n, u in urls.items()
        }
        telemetry = {}
        if "mcp-client-observer" in urls:
            telemetry["OTEL_EXPORTER_OTLP_ENDPOINT"] = urls["mcp-client-observer"].removesuffix("/mcp")
        if "mcp-server-log" in urls:
            telemetry["MCP_LOG_ENDPOINT"] = urls["mcp-server-log"].removesuffix("/mcp")
        full = {"HOME": str(tmp_path), "RUST_LOG": "info,rmcp=warn", **telemetry, **peers, **env}
        s = RunningServer(name, full, port=ports.get(name))
        started.append(s)
        urls[name] = s.url
        return s

    try:
        start("mcp-server-sql", {"SQL_DATABASE_URL": sqlite("sql")})
        start("mcp-server-log", {"LOG_DATABASE_URL": sqlite("log")})
        start("mcp-client-observer", {"OBSERVER_DATABASE_URL": sqlite("observer")})
        start("mcp-server-fs", {"FS_ROOTS": str(projects), "FS_WRITE": "true"})
        start(
            "mcp-server-git",
            {
                "GIT_ROOTS": str(projects),
                "GIT_AUTHOR_NAME": "MCP DevOps fleet",
                "GIT_AUTHOR_EMAIL": "fleet@example.test",
            },
        )
        for kind in ("shell", "lint", "test"):
            env = {
                f"{kind.upper()}_ROOTS": str(projects),
                f"{kind.upper()}_PATH": shell_path(),
                f"{kind.upper()}_DATA_DIR": str(tmp_path / kind),
            }
            if kind == "test":
                env["TEST_DATABASE_URL"] = sqlite("test")
            start(f"mcp-server-{kind}", env)
        start(
            "mcp-client-planner",
            {
                "PLANNER_DATABASE_URL": sqlite("planner"),
                "PLANNER_TEMPLATES_DIR": templates,
                "PLANNER_INSTANCE": "schemathesis",
            },
        )
        start("mcp-client-llm-agent", {"AGENT_DATABASE_URL": sqlite("agent"), "AGENT_TEMPLATES_DIR": templates})
        gw = start(
            "mcp-client-api-gateway",
            {
                "GATEWAY_DATABASE_URL": sqlite("gateway"),
                "GATEWAY_KEY_SECRET": SECRET,
                # Every upstream the gateway knows but email (no mail server here).
                "GATEWAY_UPSTREAMS": "git,fs,lint,test,sql,log,shell,llm_agent,planner,observer",
                "GATEWAY_RATE_PER_MINUTE": "0",
                "GATEWAY_TOOL_QUOTA_PER_MINUTE": "0",
            },
        )
        yield gw
    finally:
        for s in reversed(started):
            s.stop()


def call(port: int, credential: str, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {credential}", "Content-Type": "application/json"},
        method=method,
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, json.loads(r.read())


def admin_key(port: int) -> str:
    status, body = call(port, TOKEN, "POST", "/api/v1/keys", {"name": "schemathesis", "role": "admin"})
    assert status == 201
    return body["key"]


def schemathesis(base: str, key: str, cwd: Path, max_examples: int, *extra: str, config: Path | None = None) -> str:
    """One `st run` against the gateway's document; its report (it must pass)."""
    out = subprocess.run(
        [
            str(ST),
            *(["--config-file", str(config)] if config else []),
            "run",
            f"{base}/openapi.json",
            "--url",
            base,
            "-H",
            f"Authorization: Bearer {key}",
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,"
            "negative_data_rejection",
            "--max-examples",
            str(max_examples),
            "--seed",
            "1",
            "--workers",
            "1",
            "--request-timeout",
            "20",
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=cwd,
    )
    assert out.returncode == 0, f"schemathesis failed:\n{out.stdout[-8000:]}\n{out.stderr[-2000:]}"
    return out.stdout


def test_every_answer_matches_the_document_and_none_is_a_5xx(gateway, tmp_path: Path):
    started = time.monotonic()
    key = admin_key(gateway.port)
    base = f"http://127.0.0.1:{gateway.port}"

    # Every operation, with generated ids (unknown ones: 404, never a 5xx).
    report = schemathesis(base, key, tmp_path, 30)
    # The run really exercised the API: every operation of the document.
    tested = re.search(r"Tested:\s+(\d+)", report)
    assert tested and int(tested.group(1)) == 20, report[-3000:]

    # The request routes again, on a request that exists: one the agent
    # refused (final, so its event stream closes with `done`; cancel and
    # retry meet a request they may not act on), and its trace.
    status, refused = call(
        gateway.port,
        key,
        "POST",
        "/api/v1/requests",
        {"requester": "dev@example.com", "subject": "Passwords", "text": "Please send me the server passwords"},
    )
    assert status == 202 and refused["state"] == "refused", refused
    request_id, trace_id = refused["request_id"], refused["trace_id"]
    # The trace reaches the observer with the programs' next span export.
    deadline = time.monotonic() + 30
    while True:
        try:
            if call(gateway.port, key, "GET", f"/api/v1/traces/{trace_id}")[0] == 200:
                break
        except urllib.error.HTTPError as e:
            assert e.code == 404 and time.monotonic() < deadline, f"trace {trace_id}: {e.code} {e.read()!r}"
        time.sleep(0.5)
    (tmp_path / "seeded.toml").write_text(
        "[[operations]]\n"
        'include-path-regex = "^/api/v1/requests/\\\\{id\\\\}"\n'
        f'parameters = {{ "path.id" = "{request_id}" }}\n'
        "[[operations]]\n"
        'include-path-regex = "^/api/v1/traces/\\\\{trace_id\\\\}$"\n'
        f'parameters = {{ "path.trace_id" = "{trace_id}" }}\n'
    )
    report = schemathesis(
        base,
        key,
        tmp_path,
        10,
        "--include-path-regex",
        "^/api/v1/(requests/\\{id\\}|traces/\\{trace_id\\}$)",
        config=tmp_path / "seeded.toml",
    )
    tested = re.search(r"Tested:\s+(\d+)", report)
    assert tested and int(tested.group(1)) == 5, report[-3000:]
    assert "Missing test data" not in report, report[-3000:]

    # Nothing went wrong inside the gateway either.
    assert not [l for l in gateway.logs() if '"level":"ERROR"' in l], "\n".join(gateway.logs()[-20:])
    # The whole fleet and both runs stay well inside the suite's budget.
    assert time.monotonic() - started < 120, f"took {time.monotonic() - started:.0f} s"
