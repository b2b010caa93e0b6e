"""Checks of the deployment files: docker-compose.yml, docker/Dockerfile,
ansible/ and terraform/.

None of these can be exercised end to end by `cargo xtask test` on every
machine (Terraform cannot be installed here, the playbook installs Docker),
so they are checked the way their own tools would: compose's own `config`,
`ansible-playbook --syntax-check` and `ansible-lint`, an HCL parser. The
rules the compose file promises (health, restart, limits, published ports,
secrets) are checked by functions that return the problems they find; each
is also run on a deliberately broken copy, so a check that can no longer
fail is itself a failure.
"""

import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import hcl2
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
# The only services with published ports, and the container ports they may publish: the
# services people look at, and the api-gateway, the one program people and outside MCP clients
# reach (fleet.toml's `publish`). Every other program stays on the compose network.
PUBLISHED = {"prometheus": {9090}, "grafana": {3000}, "mail": {25, 143, 587}, "mcp-client-api-gateway": {8080}}
# Services that are not fleet programs.
INFRA = {"postgres", "mail", "prometheus", "grafana", "llm"}


def programs_in_workspace() -> set[str]:
    found = set()
    for kind, prefix in (("servers", "mcp-server-"), ("clients", "mcp-client-")):
        for d in (ROOT / "crates" / kind).iterdir():
            if (d / "Cargo.toml").exists():
                found.add(prefix + d.name)
    return found


# --------------------------------------------------------------------- compose


def compose_command() -> list[str] | None:
    if shutil.which("docker"):
        ok = subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0
        if ok:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def compose_config(quiet: bool = False) -> subprocess.CompletedProcess:
    cmd = compose_command()
    if cmd is None:
        pytest.skip("neither `docker compose` nor `docker-compose` is installed")
    args = cmd + ["--env-file", str(ROOT / ".env.example"), "--file", str(ROOT / "docker-compose.yml"), "config"]
    if quiet:
        args.append("-q")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLEET_", "COMPOSE_", "MAIL_"))}
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True)


@pytest.fixture(scope="module")
def compose() -> dict:
    out = compose_config()
    assert out.returncode == 0, out.stderr
    return yaml.safe_load(out.stdout)


def published(service: dict) -> list[tuple[str, int]]:
    """(host address, container port) of every published port, in either compose version's form."""
    result = []
    for p in service.get("ports", []):
        if isinstance(p, dict):
            result.append((p.get("host_ip", "0.0.0.0"), int(p["target"])))
        else:
            parts = str(p).split("/")[0].split(":")
            host_ip = parts[0] if len(parts) == 3 else "0.0.0.0"
            result.append((host_ip, int(parts[-1])))
    return result


def dockerfile_healthchecks() -> dict[str, str]:
    """Target name -> its HEALTHCHECK line, for every stage of docker/Dockerfile."""
    checks, stage = {}, None
    for line in (ROOT / "docker/Dockerfile").read_text().splitlines():
        m = re.match(r"FROM \S+ AS (\S+)$", line)
        if m:
            stage = m.group(1)
        elif line.startswith("HEALTHCHECK") and stage:
            checks[stage] = line
    return checks


def program_problems(config: dict) -> list[str]:
    """Everything a program service of the compose file must have, as a list of what is missing."""
    problems = []
    checks = dockerfile_healthchecks()
    services = config["services"]
    for name, s in services.items():
        if name in INFRA:
            continue
        if s.get("image", "").split(":")[0] != f"mcp-fleet/{name}":
            problems.append(f"{name}: image is {s.get('image')}, not mcp-fleet/{name}:TAG")
        build = s.get("build") or {}
        if build.get("target") != name:
            problems.append(f"{name}: build target is {build.get('target')}")
        check = checks.get(name, "")
        image_health = f'"/usr/local/bin/{name}", "--health"' in check
        if not image_health and "healthcheck" not in s:
            problems.append(f"{name}: no health check in its image target or in compose")
        deps = s.get("depends_on") or {}
        if not deps:
            problems.append(f"{name}: no depends_on")
        if isinstance(deps, list):
            problems.append(f"{name}: depends_on without conditions")
        else:
            for dep, how in deps.items():
                if (how or {}).get("condition") != "service_healthy":
                    problems.append(f"{name}: depends_on {dep} without condition: service_healthy")
                if dep not in services:
                    problems.append(f"{name}: depends_on unknown service {dep}")
        if s.get("restart") != "unless-stopped":
            problems.append(f"{name}: restart is {s.get('restart')}")
        limits = ((s.get("deploy") or {}).get("resources") or {}).get("limits") or {}
        if not (s.get("mem_limit") or limits.get("memory")):
            problems.append(f"{name}: no memory limit")
        if not (s.get("cpus") or limits.get("cpus")):
            problems.append(f"{name}: no CPU limit")
        if s.get("read_only") is not True:
            problems.append(f"{name}: root filesystem not read-only")
        if not any(str(t).split(":")[0] == "/tmp" for t in s.get("tmpfs", [])):
            problems.append(f"{name}: no tmpfs /tmp")
        secrets = [x["source"] if isinstance(x, dict) else x for x in s.get("secrets", [])]
        token_file = (s.get("environment") or {}).get("MCP_AUTH_TOKEN_FILE")
        if "mcp_token" not in secrets or token_file != "/run/secrets/mcp_token":
            problems.append(f"{name}: the token is not the mcp_token secret")
        for key, value in (s.get("environment") or {}).items():
            if re.search(r"(TOKEN|SECRET|PASSWORD|API_KEY)$", key) and value:
                problems.append(f"{name}: {key} is a secret in the environment; use {key}_FILE")
    return problems


def port_problems(config: dict) -> list[str]:
    problems = []
    for name, s in config["services"].items():
        for host_ip, port in published(s):
            if port not in PUBLISHED.get(name, set()):
                problems.append(f"{name}: publishes port {port}")
            elif host_ip != "127.0.0.1":
                problems.append(f"{name}: port {port} published on {host_ip}, not 127.0.0.1")
    return problems


def test_compose_config_is_valid():
    out = compose_config(quiet=True)
    assert out.returncode == 0, out.stderr


def test_every_program_of_the_workspace_is_a_compose_service(compose):
    missing = programs_in_workspace() - set(compose["services"])
    assert not missing, f"programs without a compose service: {sorted(missing)}"


def test_program_services_have_health_dependencies_restart_limits_and_secrets(compose):
    assert program_problems(compose) == []


def test_program_checks_catch_a_broken_service(compose):
    broken = copy.deepcopy(compose)
    s = broken["services"]["mcp-server-fs"]
    s["restart"] = "no"
    s.pop("mem_limit", None)
    s.pop("deploy", None)
    s["read_only"] = False
    s["depends_on"] = {"mcp-server-log": {"condition": "service_started"}}
    s["environment"]["MCP_AUTH_TOKEN"] = "in-the-environment"
    found = "\n".join(program_problems(broken))
    for expected in ("restart", "memory limit", "read-only", "service_healthy", "MCP_AUTH_TOKEN"):
        assert expected in found, f"{expected!r} not reported: {found}"


def test_only_allowed_ports_are_published_on_loopback(compose):
    assert port_problems(compose) == []
    assert {n for n, s in compose["services"].items() if s.get("ports")} <= set(PUBLISHED)


def host_ports(service: dict) -> set[int]:
    """The host ports a service publishes, in either compose version's form."""
    out = set()
    for p in service.get("ports", []):
        if isinstance(p, dict):
            out.add(int(p["published"]))
        else:
            out.add(int(str(p).split("/")[0].split(":")[-2]))
    return out


def test_the_programs_fleet_toml_publishes_are_published_as_it_says(compose):
    manifest = tomllib.loads((ROOT / "fleet.toml").read_text())
    programs = manifest["programs"]
    publishing = {n: p["compose"]["publish"] for n, p in programs.items() if "publish" in p.get("compose", {})}
    assert set(publishing) == set(PUBLISHED) - INFRA, "fleet.toml's `publish` and PUBLISHED disagree: review both"
    lines = (ROOT / ".env.example").read_text().splitlines()
    env = dict(line.split("=", 1) for line in lines if re.match(r"^[A-Z]", line))
    for name, spec in publishing.items():
        var, port = spec.split(":")
        service = compose["services"][name]
        assert published(service) == [("127.0.0.1", 8080)], f"{name}: {service.get('ports')}"
        # .env.example documents the variable with fleet.toml's default.
        assert env.get(var) == port, f".env.example: {var}={env.get(var)}, fleet.toml says {port}"
        assert host_ports(service) == {int(port)}, f"{name}: {service.get('ports')}"


def test_port_checks_catch_a_published_program(compose):
    broken = copy.deepcopy(compose)
    broken["services"]["mcp-server-sql"]["ports"] = ["0.0.0.0:8080:8080/tcp"]
    broken["services"]["prometheus"]["ports"] = [{"host_ip": "0.0.0.0", "target": 9090, "published": "9090"}]
    gateway = broken["services"]["mcp-client-api-gateway"]
    gateway["ports"] = ["0.0.0.0:8203:8080/tcp", "127.0.0.1:9100:9100/tcp"]
    found = port_problems(broken)
    assert any("mcp-server-sql" in p for p in found), found
    assert any("prometheus" in p and "0.0.0.0" in p for p in found), found
    # The gateway may publish its 8080, on loopback only, and nothing else.
    assert any("mcp-client-api-gateway: port 8080 published on 0.0.0.0" in p for p in found), found
    assert any("mcp-client-api-gateway: publishes port 9100" in p for p in found), found


def test_dockerfile_placeholder_list_matches_its_scratch_targets():
    text = (ROOT / "docker/Dockerfile").read_text()
    scratch = set(re.findall(r"^FROM scratch AS (\S+)$", text, re.M))
    listed = set(re.search(r'^ARG PROGRAMS="([^"]*)"', text, re.M).group(1).split())
    assert scratch == listed
    for name in scratch | {"mcp-server-shell"}:
        assert f'CMD ["/usr/local/bin/{name}", "--health"]' in text, name
        assert f'ENTRYPOINT ["/usr/local/bin/{name}"]' in text, name


# --------------------------------------------------------------------- ansible


def ansible_env() -> dict:
    return {**os.environ, "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '')}", "ANSIBLE_NOCOLOR": "1"}


def test_playbook_syntax():
    out = subprocess.run(
        [VENV_BIN / "ansible-playbook", "--syntax-check", "playbooks/init-dev.yml"],
        cwd=ROOT / "ansible",
        env=ansible_env(),
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_ansible_lint_production_profile():
    out = subprocess.run(
        [VENV_BIN / "ansible-lint", "--profile", "production", "--nocolor", "playbooks", "roles", "inventory"],
        cwd=ROOT / "ansible",
        env=ansible_env(),
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_ansible_lint_fails_on_a_bad_task(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("- hosts: all\n  tasks:\n    - shell: echo hi\n")
    out = subprocess.run(
        [VENV_BIN / "ansible-lint", "--profile", "production", "--nocolor", str(bad)],
        cwd=tmp_path,
        env=ansible_env(),
        capture_output=True,
        text=True,
    )
    assert out.returncode != 0, out.stdout + out.stderr


# ------------------------------------------------------------------- terraform


def unquote(s):
    return s[1:-1] if isinstance(s, str) and len(s) >= 2 and s[0] == s[-1] == '"' else s


def norm(v):
    """python-hcl2 keeps the quotes of labels and string literals and marks blocks; drop both."""
    if isinstance(v, dict):
        return {unquote(k): norm(x) for k, x in v.items() if k != "__is_block__"}
    if isinstance(v, list):
        return [norm(x) for x in v]
    return unquote(v)


def load_hcl(path: Path) -> dict:
    merged: dict = {}
    with path.open() as f:
        for key, blocks in norm(hcl2.load(f)).items():
            merged.setdefault(key, []).extend(blocks)
    return merged


def terraform() -> dict:
    """The root module's *.tf files, merged."""
    merged: dict = {}
    for tf in sorted((ROOT / "terraform").glob("*.tf")):
        for key, blocks in load_hcl(tf).items():
            merged.setdefault(key, []).extend(blocks)
    return merged


def program_module() -> dict:
    """terraform/modules/program: the one container definition of every program."""
    return load_hcl(ROOT / "terraform/modules/program/main.tf")


def fleet_tf() -> dict:
    """terraform/fleet.tf.json, generated from fleet.toml: the programs as data, one module per tier."""
    return json.loads((ROOT / "terraform/fleet.tf.json").read_text())


def containers(tf: dict) -> dict[str, dict]:
    """Compose service name (the container's network alias) -> the container's body."""
    out = {}
    for block in tf.get("resource", []):
        for name, body in block.get("docker_container", {}).items():
            aliases = body["networks_advanced"][0]["aliases"]
            for alias in aliases:
                out[unquote(alias)] = body
    return out


def program_containers(fleet: dict, module: dict) -> dict[str, dict]:
    """Program name -> its container as terraform creates it: the module's one docker_container body
    with the program's data from fleet.tf.json filled in, plus the start tier that creates it."""
    (body,) = [b["program"] for block in module["resource"] for b in [block.get("docker_container", {})] if b]
    tiers = {}
    for mod, args in fleet["module"].items():
        assert args["source"] == "./modules/program", mod
        for name in args["names"]:
            tiers[name] = mod
    out = {}
    for name, data in fleet["locals"]["programs"].items():
        out[name] = {**body, "program": data, "tier": tiers.get(name)}
    return out


def variable_defaults(tf: dict) -> dict:
    return {k: unquote(v.get("default")) for block in tf.get("variable", []) for k, v in block.items()}


def image_repo(body: dict, defaults: dict) -> str:
    """`local.image["x"]` -> mcp-fleet/x; `var.y` -> y's default; a program's image from its data. No tag."""
    if "program" in body:
        return body["program"]["image"].split(":")[0]
    expr = unquote(body["image"])
    m = re.search(r'local\.image\[\\?"([^"\\]+)\\?"\]', expr)
    if m:
        return f"mcp-fleet/{m.group(1)}"
    m = re.search(r"var\.(\w+)", expr)
    assert m, f"unexpected image expression {expr}"
    return defaults[m.group(1)].split(":")[0]


def env_names(body: dict, program_env: list[str]) -> set[str]:
    text = str(body.get("env", ""))
    names = set(re.findall(r"([A-Z][A-Z0-9_]*)=", text))
    if "local.program_env" in text or "var.program_env" in text:
        names |= {e.split("=")[0] for e in program_env}
    if "program" in body and "var.programs[each.key].env" in text:
        names |= {e.split("=")[0] for e in body["program"]["env"]}
    return names


def test_terraform_parses_and_sensitive_variables_are_marked():
    tf = terraform()
    variables = {k: v for block in tf["variable"] for k, v in block.items()}
    assert "docker_host" in variables
    secrets = ("fleet_db_password", "mcp_token", "email_token_secret", "gateway_key_secret", "mail_password_agent")
    for secret in secrets:
        assert variables[secret].get("sensitive") is True, secret
    providers = {k for block in tf["terraform"] for p in block["required_providers"] for k in p}
    assert providers == {"docker"}
    module = program_module()
    sources = {p[k]["source"] for block in module["terraform"] for p in block["required_providers"] for k in p}
    assert sources == {"kreuzwerker/docker"}, "a module names its non-hashicorp providers itself"
    secret_values = {k: v for block in module["variable"] for k, v in block.items()}["secret_values"]
    assert secret_values.get("sensitive") is True


def test_fleet_tf_json_is_generated_and_matches_fleet_toml():
    text = (ROOT / "terraform/fleet.tf.json").read_text()
    assert "Generated by `cargo xtask codegen` from fleet.toml" in text.splitlines()[0]
    manifest = tomllib.loads((ROOT / "fleet.toml").read_text())
    assert set(fleet_tf()["locals"]["programs"]) == set(manifest["programs"])
    assert set(manifest["programs"]) == programs_in_workspace()


def order_problems(compose: dict, fleet: dict) -> list[str]:
    """Terraform must start every program after what compose makes it wait for: a program in an
    earlier tier module, or an infrastructure container its tier (or an earlier one) depends on."""
    problems = []
    modules = fleet["module"]
    tier_of = {n: int(m.rsplit("_", 1)[1]) for m, a in modules.items() for n in a["names"]}
    after = {int(m.rsplit("_", 1)[1]): set(a.get("depends_on", [])) for m, a in modules.items()}
    for t in sorted(after):
        if t > 0 and f"module.programs_{t - 1}" not in after[t]:
            problems.append(f"module.programs_{t} does not depend on module.programs_{t - 1}")
    for name, service in compose["services"].items():
        if name not in tier_of:
            continue
        for dep in service.get("depends_on") or {}:
            if dep in tier_of:
                if tier_of[dep] >= tier_of[name]:
                    problems.append(f"{name}: starts before its dependency {dep} in terraform")
            elif not any(f"docker_container.{dep}" in after[t] for t in after if t <= tier_of[name]):
                problems.append(f"{name}: terraform does not wait for {dep}")
    return problems


def terraform_problems(compose: dict, tf: dict, fleet: dict | None = None, module: dict | None = None) -> list[str]:
    """Every compose service needs a docker_container with its image, restart policy, a health
    check and the same environment variable names; programs also their user, init and order."""
    fleet = fleet or fleet_tf()
    module = module or program_module()
    problems = []
    found = {**containers(tf), **program_containers(fleet, module)}
    defaults = variable_defaults(tf)
    locals_ = {k: v for block in tf["locals"] for k, v in block.items()}
    program_env = list(locals_["program_env"])
    secret_values = locals_["secret_values"]
    for name, service in compose["services"].items():
        body = found.get(name)
        if body is None:
            problems.append(f"{name}: no docker_container")
            continue
        if image_repo(body, defaults) != service["image"].split(":")[0]:
            problems.append(f"{name}: image {image_repo(body, defaults)} differs from {service['image']}")
        if body.get("restart") != service.get("restart"):
            problems.append(f"{name}: restart {body.get('restart')} differs from {service.get('restart')}")
        if "healthcheck" not in body:
            problems.append(f"{name}: no healthcheck")
        want = set(service.get("environment") or {})
        got = env_names(body, program_env)
        if want != got:
            problems.append(f"{name}: environment differs: compose only {want - got}, terraform only {got - want}")
        if "program" in body:
            data = body["program"]
            if body["tier"] is None:
                problems.append(f"{name}: in no module.programs_N")
            if bool(service.get("init")) != data["init"]:
                problems.append(f"{name}: init {data['init']} differs from compose")
            if bool(service.get("user")) != (data["user"] is not None):
                problems.append(f"{name}: user {data['user']} differs from compose {service.get('user')}")
            if service.get("read_only") is not True or body.get("read_only") is not True:
                problems.append(f"{name}: root filesystem not read-only in both")
            tmpfs = {str(t).split(":")[0] for t in service.get("tmpfs", [])}
            if tmpfs != set(data["tmpfs"]):
                problems.append(f"{name}: tmpfs {sorted(data['tmpfs'])} differs from compose {sorted(tmpfs)}")
            secrets = [x["source"] if isinstance(x, dict) else x for x in service.get("secrets", [])]
            if sorted(secrets) != sorted(data["secrets"]):
                problems.append(f"{name}: secrets {data['secrets']} differ from compose {secrets}")
            for secret in data["secrets"]:
                if secret not in secret_values:
                    problems.append(f"{name}: secret {secret} is not in secret_values (terraform/main.tf)")
            # The container port a program publishes, on bind_addr (compose: FLEET_BIND_ADDR).
            ports = {port for _, port in published(service)}
            tf_ports = {p["internal"] for p in data["ports"]}
            if ports != tf_ports:
                problems.append(f"{name}: publishes {sorted(tf_ports)} in terraform, {sorted(ports)} in compose")
            if any(p["ip"] != "${var.bind_addr}" for p in data["ports"]):
                problems.append(f"{name}: a published port not on var.bind_addr")
    for extra in set(found) - set(compose["services"]):
        problems.append(f"{extra}: a docker_container without a compose service")
    return problems + order_problems(compose, fleet)


def test_every_compose_service_has_a_matching_docker_container(compose):
    assert terraform_problems(compose, terraform()) == []


def test_terraform_checks_catch_a_drift(compose):
    broken = copy.deepcopy(compose)
    broken["services"]["mcp-server-fs"]["environment"]["FS_DELETE"] = "true"
    broken["services"]["mcp-server-sql"]["restart"] = "always"
    broken["services"]["mcp-server-new"] = copy.deepcopy(broken["services"]["mcp-server-fs"])
    broken["services"]["mcp-server-git"]["depends_on"]["mcp-client-planner"] = {"condition": "service_healthy"}
    broken["services"]["mcp-server-shell"]["init"] = False
    found = "\n".join(terraform_problems(broken, terraform()))
    for expected in (
        "FS_DELETE",
        "mcp-server-sql: restart",
        "mcp-server-new: no docker_container",
        "mcp-server-git: starts before its dependency mcp-client-planner",
        "mcp-server-shell: init",
    ):
        assert expected in found, f"{expected!r} not reported: {found}"
    fleet = fleet_tf()
    fleet["module"]["programs_1"]["depends_on"].remove("docker_container.mail")
    fleet["locals"]["programs"]["mcp-client-api-gateway"]["ports"] = []
    tf = terraform()
    for block in tf["locals"]:
        block.get("secret_values", {}).pop("gateway_key_secret", None)
    found = "\n".join(terraform_problems(compose, tf, fleet))
    for expected in (
        "mcp-server-email: terraform does not wait for mail",
        "mcp-client-api-gateway: publishes [] in terraform, [8080] in compose",
        "mcp-client-api-gateway: secret gateway_key_secret is not in secret_values",
    ):
        assert expected in found, f"{expected!r} not reported: {found}"


def misaligned(text: str) -> list[str]:
    """Runs of consecutive single-line `name = value` lines at one indentation whose `=` do not line
    up, the way `terraform fmt` aligns them."""
    bad, run = [], []

    def flush():
        if len({line.index("=") for line in run}) > 1:
            bad.append("\n".join(run))
        run.clear()

    for line in text.splitlines():
        m = re.match(r"^(\s*)(\"[^\"]*\"|[\w-]+)(\s*)= (.*)$", line)
        single = m and not m.group(4).rstrip().endswith(("{", "[", "("))
        if single and run and len(m.group(1)) != len(run[-1]) - len(run[-1].lstrip()):
            flush()
        if single:
            run.append(line)
        else:
            flush()
    flush()
    return bad


def test_terraform_is_in_fmt_style():
    for tf in sorted((ROOT / "terraform").rglob("*.tf")):
        text = tf.read_text()
        assert "\t" not in text, f"{tf.name}: tabs"
        odd = [line for line in text.splitlines() if (len(line) - len(line.lstrip(" "))) % 2]
        assert odd == [], f"{tf.name}: indentation is not in steps of two spaces: {odd[:3]}"
        assert misaligned(text) == [], f"{tf.name}: misaligned = signs"
        assert text.endswith("}\n"), f"{tf.name}: must end with one newline"


def test_fmt_check_catches_misalignment():
    assert misaligned('  name = "a"\n  image   = "b"\n') != []
    assert misaligned('  name  = "a"\n  image = "b"\n') == []
