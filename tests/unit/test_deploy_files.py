"""Deployment files: each one parses, every `fluffymail ...` command it names exists in the CLI
with those options, health checks probe the paths and ports the processes serve, and every
platform waits longer than the worker's shutdown grace before it kills a process.

No Docker engine or cloud account is available here, so nothing is built or applied: the
files are read with the parsers each platform's format calls for (YAML, TOML, JSON, HCL, the
Dockerfile's own line syntax), and `terraform fmt` / `terraform validate` run when a terraform
binary (and, for validate, a local provider mirror) is on the machine.
"""

from __future__ import annotations

import contextlib
import http.server
import importlib.util
import ipaddress
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import threading
import tomllib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest
import typer
from cryptography.fernet import Fernet

from fluffymail.cli import app
from fluffymail.config import Settings
from fluffymail.web.app import create_app

REPO = Path(__file__).resolve().parents[2]
TF_FILE = REPO / "deploy" / "terraform" / "ecs.tf"
RAILWAY_FILES = [REPO / "railway.json", *sorted((REPO / "deploy" / "railway").glob("*.json"))]

HEALTH_PATH = "/healthz"  # served by `fluffymail web` and by `fluffymail worker --metrics-port`
DEFAULT_GRACE = Settings.model_fields["shutdown_grace"].default
# Values for shell variables without a default in a command line (platforms inject PORT).
SAMPLE_ENV = {"PORT": "8000"}

CliCommand = list[str]


# ---- the CLI ------------------------------------------------------------------------------------


def check_cli_command(argv: CliCommand, where: str) -> Any:
    """Fail unless `argv` (starting with `fluffymail`) names a real (sub)command and parses.

    Walks the command tree Typer builds for the app (`typer.main.get_command`); Typer >= 0.2x
    carries its own copy of click, so groups are recognised by `list_commands`.
    """
    assert argv and argv[0] == "fluffymail", f"{where}: not a fluffymail command: {argv}"
    command = typer.main.get_command(app)
    path, args = ["fluffymail"], argv[1:]
    while hasattr(command, "list_commands"):
        assert args, f"{where}: `{' '.join(argv)}` stops at the group `{' '.join(path)}`"
        name, args = args[0], args[1:]
        context = typer.Context(command, info_name=path[-1])
        sub = command.get_command(context, name)
        known = sorted(command.list_commands(context))
        if sub is None:
            pytest.fail(
                f"{where}: `{' '.join(argv)}`: `{' '.join(path)}` has no command {name!r} (has {known})"
            )
        command, path = sub, [*path, name]
    try:  # parses options and arguments (names, types, ranges); does not run the command
        command.make_context(" ".join(path), list(args))
    except typer.TyperException as exc:
        pytest.fail(f"{where}: `{' '.join(argv)}` is rejected by the CLI: {exc.format_message()}")
    return command


def option_value(argv: CliCommand, option: str) -> str | None:
    for i, token in enumerate(argv):
        if token == option and i + 1 < len(argv):
            return argv[i + 1]
        if token.startswith(option + "="):
            return token.split("=", 1)[1]
    return None


def expand(text: str) -> str:
    """Expand `$VAR`, `${VAR}` and `${VAR:-default}` the way the platform's shell would."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(3)
        if match.group(2) is not None:
            return match.group(2)
        assert name in SAMPLE_ENV, f"no sample value for ${name} in {text!r}"
        return SAMPLE_ENV[name]

    return re.sub(r"\$\{(\w+)(?::-([^}]*))?\}|\$(\w+)", value, text)


ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")


def unwrapped_words(command: str | list[str]) -> list[str]:
    """A platform's command (string or exec-form list) split into words, `sh -c "..."` unwrapped."""
    words = shlex.split(command) if isinstance(command, str) else list(command)
    if len(words) >= 3 and Path(words[0]).name in ("sh", "bash") and words[1] == "-c":
        words = shlex.split(words[2])
    return words


def shell_assignments(command: str | list[str]) -> dict[str, str]:
    """The `NAME=value` words before the command (variables set for it), expanded."""
    env = {}
    for word in unwrapped_words(command):
        if not ASSIGNMENT.match(word):
            break
        name, _, value = word.partition("=")
        env[name] = expand(value)
    return env


def shell_words(command: str | list[str]) -> CliCommand:
    """A platform's command as argv: `sh -c "NAME=value exec ..."` unwrapped."""
    words = unwrapped_words(command)
    while words and ASSIGNMENT.match(words[0]):
        words = words[1:]
    if words and words[0] == "exec":
        words = words[1:]
    return [expand(word) for word in words]


def test_cli__the_commands_the_deploy_files_rely_on_exist() -> None:
    """The processes every platform runs; a rename in the CLI must break this test first."""
    check_cli_command(["fluffymail", "web", "--host", "0.0.0.0", "--port", "8000"], "cli")
    check_cli_command(["fluffymail", "worker", "--metrics-port", "9100"], "cli")
    check_cli_command(["fluffymail", "worker", "--metrics-host", "0.0.0.0"], "cli")
    check_cli_command(["fluffymail", "db", "upgrade"], "cli")
    with pytest.raises(pytest.fail.Exception, match="no command 'nope'"):
        check_cli_command(["fluffymail", "db", "nope"], "cli")
    with pytest.raises(pytest.fail.Exception, match="rejected by the CLI"):
        check_cli_command(["fluffymail", "worker", "--no-such-option"], "cli")


async def test_apps__serve_the_health_path() -> None:
    """Both processes answer 200 on the path every platform probes."""
    import httpx

    from fluffymail.queue.http import create_app as worker_http_app
    from fluffymail.web.app import create_app as web_app

    class Connection:
        async def execute(self, sql: str) -> None:
            pass

    class Pool:
        @contextlib.asynccontextmanager
        async def connection(self) -> AsyncIterator[Connection]:
            yield Connection()

    class Queue:  # what the worker's /healthz reads
        pool = Pool()
        worker_id = "w1"
        maintenance = SimpleNamespace(is_leader=False)

        def queue_names(self) -> list[str]:
            return []

    apps = {
        "worker": worker_http_app(Queue(), None),  # type: ignore[arg-type]
        "web": web_app(Settings(_env_file=None)),  # the lifespan (database) is not run
    }
    for name, asgi_app in apps.items():
        transport = httpx.ASGITransport(app=asgi_app)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{name}") as client:
            response = await client.get(HEALTH_PATH)
        assert response.status_code == 200, f"{name}: {response.status_code} {response.text}"


# ---- the health probe shipped in the image ------------------------------------------------------


def load_healthcheck() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "fm_healthcheck", REPO / "deploy" / "healthcheck.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def health_server() -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == HEALTH_PATH else 503)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_healthcheck_script__exit_status_follows_the_endpoint(health_server: str) -> None:
    probe = load_healthcheck()
    assert probe.main(["healthcheck.py", health_server + HEALTH_PATH]) == 0
    assert probe.main(["healthcheck.py", health_server + "/broken"]) == 1  # HTTP 503
    assert probe.main(["healthcheck.py", f"http://127.0.0.1:{unused_port()}{HEALTH_PATH}"]) == 1


def test_healthcheck_script__default_url_is_the_web_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    probe = load_healthcheck()
    monkeypatch.delenv("HEALTHCHECK_URL", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    assert probe.default_url() == f"http://127.0.0.1:8000{HEALTH_PATH}"
    monkeypatch.setenv("PORT", "10000")
    assert probe.default_url() == f"http://127.0.0.1:10000{HEALTH_PATH}"
    monkeypatch.setenv("HEALTHCHECK_URL", f"http://127.0.0.1:9100{HEALTH_PATH}")
    assert probe.default_url() == f"http://127.0.0.1:9100{HEALTH_PATH}"


def unused_port() -> int:
    """A local port that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def health_probe_target(test: list[str], where: str) -> tuple[int, str]:
    """(port, path) probed by a `python /app/healthcheck.py URL` health check command."""
    words = test[1:] if test and test[0] in ("CMD", "CMD-SHELL") else test
    assert words[:2] == ["python", "/app/healthcheck.py"], (
        f"{where}: unexpected health check {test}"
    )
    url = urlsplit(words[2])
    assert url.hostname == "127.0.0.1" and url.port, f"{where}: probe a local port, not {words[2]}"
    return url.port, url.path


# ---- Dockerfile and .dockerignore --------------------------------------------------------------


@dataclass
class Instruction:
    stage: int
    name: str
    args: str
    flags: dict[str, str] = field(default_factory=dict)

    def exec_form(self) -> list[str]:
        """CMD/ENTRYPOINT/RUN arguments: the JSON exec form, or the shell form split into words."""
        text = self.args.strip()
        return json.loads(text) if text.startswith("[") else shlex.split(text)


def parse_dockerfile(text: str) -> list[Instruction]:
    """Dockerfile lines -> instructions (comments dropped, `\\` continuations joined)."""
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    assert not pending, "Dockerfile ends inside a line continuation"
    instructions: list[Instruction] = []
    stage = -1
    for line in logical:
        name, _, rest = line.partition(" ")
        name = name.upper()
        flags = {}
        while rest.lstrip().startswith("--"):
            flag, _, rest = rest.lstrip().partition(" ")
            key, _, value = flag[2:].partition("=")
            flags[key] = value
        if name == "FROM":
            stage += 1
        instructions.append(Instruction(stage, name, rest.strip(), flags))
    return instructions


@pytest.fixture(scope="module")
def dockerfile() -> list[Instruction]:
    return parse_dockerfile((REPO / "Dockerfile").read_text())


def last_stage(instructions: list[Instruction]) -> list[Instruction]:
    final = max(i.stage for i in instructions)
    return [i for i in instructions if i.stage == final]


def test_dockerfile__slim_multi_stage_uv_build(dockerfile: list[Instruction]) -> None:
    args = {
        i.args.split("=", 1)[0]: i.args.split("=", 1)[1]
        for i in dockerfile
        if i.name == "ARG" and "=" in i.args
    }
    froms = [expand_args(i.args, args) for i in dockerfile if i.name == "FROM"]
    assert len(froms) == 2, froms
    assert all(f.split()[0] == "python:3.11-slim" for f in froms), froms
    assert froms[0].split()[-2:] == ["AS", "builder"], froms
    builder = [i for i in dockerfile if i.stage == 0]
    runs = [i.args for i in builder if i.name == "RUN"]
    assert any(re.search(r'pip install "?uv==0\.13\.9"?', run) for run in runs), runs  # ./dev's pin
    syncs = [shlex.split(run) for run in runs if run.startswith("uv sync")]
    assert len(syncs) == 2, runs
    assert {"--frozen", "--no-dev", "--no-install-project"} <= set(syncs[0])
    assert {"--frozen", "--no-dev", "--no-editable"} <= set(
        syncs[1]
    ) and "--no-install-project" not in syncs[1]
    runtime = last_stage(dockerfile)
    copies = [i for i in runtime if i.name == "COPY"]
    assert any(
        i.flags.get("from") == "builder" and i.args.split()[0] == "/app/.venv" for i in copies
    )
    assert not any(i.name == "RUN" and "uv " in i.args for i in runtime), (
        "uv belongs in the builder"
    )


def test_dockerfile__any_debian_python_base(dockerfile: list[Instruction]) -> None:
    """The official image by default; scripts/image_check.sh builds it on a local Debian base,
    so the base is one global ARG and the build uses `python3` from PATH, not the official
    image's /usr/local/bin (Debian's is /usr/bin)."""
    global_args = [i.args for i in dockerfile if i.stage == -1 and i.name == "ARG"]
    assert "BASE_IMAGE=python:3.11-slim" in global_args, global_args
    assert [i.args.split()[0] for i in dockerfile if i.name == "FROM"] == ["${BASE_IMAGE}"] * 2
    assert not [i.args for i in dockerfile if "/usr/local/bin/python" in i.args]
    builder_runs = [i.args for i in dockerfile if i.stage == 0 and i.name == "RUN"]
    # Debian's system pip refuses `pip install` (PEP 668): uv comes from a venv of its own.
    assert re.match(r"python3 -m venv (\S+)\s+&&\s+\1/bin/pip install", builder_runs[0]), (
        builder_runs
    )
    env = " ".join(i.args for i in dockerfile if i.stage == 0 and i.name == "ENV")
    assert "UV_PYTHON=python3" in env and "UV_PYTHON_DOWNLOADS=never" in env


def test_image_check_script__is_valid_bash_and_run_by_ci() -> None:
    script = REPO / "scripts" / "image_check.sh"
    assert os.access(script, os.X_OK), "scripts/image_check.sh is not executable"
    result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    if shellcheck := shutil.which("shellcheck"):
        result = subprocess.run([shellcheck, str(script)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout
    assert re.search(r"^scripts/image_check\.sh$", (REPO / ".ci" / "run").read_text(), re.M)


def expand_args(text: str, args: dict[str, str]) -> str:
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: args[m.group(1) or m.group(2)], text)


def test_dockerfile__runtime_user_is_not_root(dockerfile: list[Instruction]) -> None:
    users = [i.args for i in last_stage(dockerfile) if i.name == "USER"]
    assert users, "the runtime stage never sets USER, so it runs as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0"), users[-1]


def test_dockerfile__command_signal_and_healthcheck(dockerfile: list[Instruction]) -> None:
    runtime = last_stage(dockerfile)
    cmd = [i for i in runtime if i.name == "CMD"][-1].exec_form()
    assert cmd == ["fluffymail", "web", "--host", "0.0.0.0", "--port", "8000"]
    check_cli_command(cmd, "Dockerfile CMD")
    assert not [i for i in runtime if i.name == "ENTRYPOINT"], (
        "an ENTRYPOINT would change every platform's command"
    )
    assert [i.args for i in runtime if i.name == "STOPSIGNAL"] == ["SIGTERM"]

    (healthcheck,) = [i for i in runtime if i.name == "HEALTHCHECK"]
    keyword, _, probe = healthcheck.args.partition(" ")
    assert keyword == "CMD"
    probe_argv = json.loads(probe)
    assert probe_argv == ["python", "/app/healthcheck.py"]  # the URL comes from the environment
    copied = {
        i.args.split()[-1]: i.args.split()[0]
        for i in runtime
        if i.name == "COPY" and "from" not in i.flags
    }
    assert copied.get("/app/healthcheck.py") == "deploy/healthcheck.py"
    assert (REPO / "deploy" / "healthcheck.py").is_file()
    env = " ".join(i.args for i in runtime if i.name == "ENV")
    assert "/app/.venv/bin" in env, "the venv's `fluffymail` and `python` must be on PATH"


def dockerignore_patterns() -> list[tuple[bool, re.Pattern[str]]]:
    patterns = []
    for raw in (REPO / ".dockerignore").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        glob = line.lstrip("!").strip("/")
        regex = ""
        i = 0
        while i < len(glob):
            if glob.startswith("**/", i):
                regex, i = regex + "(?:.*/)?", i + 3
            elif glob.startswith("**", i):
                regex, i = regex + ".*", i + 2
            elif glob[i] == "*":
                regex, i = regex + "[^/]*", i + 1
            elif glob[i] == "?":
                regex, i = regex + "[^/]", i + 1
            elif glob[i] == "[":
                end = glob.index("]", i)
                regex, i = regex + glob[i : end + 1], end + 1
            else:
                regex, i = regex + re.escape(glob[i]), i + 1
        patterns.append((negate, re.compile(regex + r"\Z")))
    return patterns


def dockerignored(path: str, patterns: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents decides."""
    parts = path.split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for negate, pattern in patterns:
        if any(pattern.match(candidate) for candidate in candidates):
            excluded = not negate
    return excluded


def test_dockerignore__keeps_what_the_build_copies_and_nothing_private(
    dockerfile: list[Instruction],
) -> None:
    patterns = dockerignore_patterns()
    sources = [
        source
        for i in dockerfile
        if i.name == "COPY" and "from" not in i.flags
        for source in i.args.split()[:-1]
    ]
    assert sources, "no COPY from the build context"
    for source in sources:
        assert (REPO / source).exists(), f"COPY {source}: no such file in the repository"
        files = [REPO / source] if (REPO / source).is_file() else (REPO / source).rglob("*")
        for path in files:
            relative = path.relative_to(REPO).as_posix()
            if path.is_file() and "__pycache__" not in relative:
                assert not dockerignored(relative, patterns), (
                    f".dockerignore drops {relative}, which the build copies"
                )
    for private in (
        ".env",
        ".git/config",
        ".venv/bin/python",
        "tests/conftest.py",
        "bench/queue_bench.py",
    ):
        assert dockerignored(private, patterns), (
            f".dockerignore lets {private} into the build context"
        )
    assert dockerignored("src/fluffymail/__pycache__/config.cpython-311.pyc", patterns)


# ---- compose.yaml --------------------------------------------------------------------------------


def duration_seconds(value: str | int | float) -> float:
    """Compose/Fly durations: `30s`, `1m30s`, `500ms`, or a number of seconds."""
    if isinstance(value, int | float):
        return float(value)
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 1e-6}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)", value)
    assert parts and "".join(a + b for a, b in parts) == value, f"not a duration: {value!r}"
    return sum(float(amount) * units[unit] for amount, unit in parts)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed: compose.yaml not parsed")
    return yaml.safe_load((REPO / "compose.yaml").read_text())


def test_compose__services_commands_and_order(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) >= {"postgres", "migrate", "web", "worker"}
    assert services["postgres"]["image"].startswith("postgres:16")
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert any(
        volume.endswith(":/var/lib/postgresql/data") for volume in services["postgres"]["volumes"]
    )
    assert set(compose.get("volumes") or {}) >= {"pgdata"}

    for name in ("migrate", "web", "worker"):
        service = services[name]
        check_cli_command(shell_words(service["command"]), f"compose.yaml {name}")
        assert service["environment"]["DATABASE_URL"].startswith("postgresql://")
        assert "@postgres:" in service["environment"]["DATABASE_URL"]
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert shell_words(services["migrate"]["command"]) == ["fluffymail", "db", "upgrade"]
    assert services["migrate"]["restart"] == "no"
    for name in ("web", "worker"):
        assert (
            services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        )
        assert services[name]["environment"]["FLUFFYMAIL_MIGRATE_ON_START"] == "false"
    assert services["worker"]["deploy"]["replicas"] == 2
    assert "ports" not in services["worker"], "published ports would collide between replicas"


def test_compose__web_and_workers_share_the_data_directory(
    compose: dict[str, Any], dockerfile: list[Instruction]
) -> None:
    """Uploads are written by the web app and imported by a worker, in other containers."""
    env = " ".join(i.args for i in last_stage(dockerfile) if i.name == "ENV")
    match = re.search(r"FLUFFYMAIL_DATA_DIR=(\S+)", env)
    assert match, "the image sets no FLUFFYMAIL_DATA_DIR"
    mounts = {}
    for name in ("web", "worker"):
        volumes = [v.split(":") for v in compose["services"][name].get("volumes", [])]
        mounts[name] = {source for source, target, *_ in volumes if target == match.group(1)}
    assert mounts["web"] and mounts["web"] == mounts["worker"], mounts
    assert mounts["web"] <= set(compose["volumes"]), "the data directory is not a named volume"


def test_compose__health_checks_and_stop_grace(compose: dict[str, Any]) -> None:
    services = compose["services"]
    web_argv = shell_words(services["web"]["command"])
    web_port, web_path = health_probe_target(services["web"]["healthcheck"]["test"], "compose web")
    assert (web_port, web_path) == (int(option_value(web_argv, "--port") or 0), HEALTH_PATH)

    worker = services["worker"]
    port, path = health_probe_target(worker["healthcheck"]["test"], "compose worker")
    metrics_port = option_value(shell_words(worker["command"]), "--metrics-port")
    metrics_port = metrics_port or worker["environment"].get("FLUFFYMAIL_METRICS_PORT")
    assert (port, path) == (int(metrics_port), HEALTH_PATH)

    for name in ("web", "worker"):
        grace = float(services[name]["environment"].get("FLUFFYMAIL_SHUTDOWN_GRACE", DEFAULT_GRACE))
        stop = duration_seconds(services[name]["stop_grace_period"])
        assert stop > grace, f"compose {name}: stop_grace_period {stop}s <= shutdown grace {grace}s"


# ---- fly.toml ------------------------------------------------------------------------------------


def test_fly__processes_release_checks_and_kill_timeout() -> None:
    fly = tomllib.loads((REPO / "fly.toml").read_text())
    processes = fly["processes"]
    assert set(processes) == {"web", "worker"}
    argv = {name: shell_words(command) for name, command in processes.items()}
    for name, words in argv.items():
        check_cli_command(words, f"fly.toml [processes] {name}")
    assert shell_words(fly["deploy"]["release_command"]) == ["fluffymail", "db", "upgrade"]
    check_cli_command(shell_words(fly["deploy"]["release_command"]), "fly.toml release_command")

    assert fly["kill_signal"] == "SIGTERM"
    grace = float(fly.get("env", {}).get("FLUFFYMAIL_SHUTDOWN_GRACE", DEFAULT_GRACE))
    assert duration_seconds(fly["kill_timeout"]) > grace

    http = fly["http_service"]
    assert http["processes"] == ["web"]
    assert http["internal_port"] == int(option_value(argv["web"], "--port") or 0)
    assert [check["path"] for check in http["checks"]] == [HEALTH_PATH]

    worker_checks = [c for c in fly.get("checks", {}).values() if c.get("processes") == ["worker"]]
    assert worker_checks, "no check for the worker process"
    metrics_port = int(option_value(argv["worker"], "--metrics-port") or 0)
    for check in worker_checks:
        assert (check["type"], check["port"], check["path"]) == ("http", metrics_port, HEALTH_PATH)
    # Fly checks (and scrapes) the machine over its network, not inside it: loopback would fail.
    assert option_value(argv["worker"], "--metrics-host") == "0.0.0.0"


# ---- render.yaml ---------------------------------------------------------------------------------


def test_render__web_worker_database() -> None:
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed: render.yaml not parsed")
    blueprint = yaml.safe_load((REPO / "render.yaml").read_text())
    services = {service["type"]: service for service in blueprint["services"]}
    assert set(services) == {"web", "worker"}
    (database,) = blueprint["databases"]
    groups = {
        group["name"]: {v["key"]: v.get("value") for v in group["envVars"]}
        for group in blueprint.get("envVarGroups", [])
    }

    for kind, service in services.items():
        assert service["runtime"] == "docker" and service["dockerfilePath"] == "./Dockerfile"
        for key in ("dockerCommand", "preDeployCommand"):
            check_cli_command(shell_words(service[key]), f"render.yaml {kind}.{key}")
        assert shell_words(service["preDeployCommand"]) == ["fluffymail", "db", "upgrade"]
        env = {v["key"]: v for v in service["envVars"] if "key" in v}
        for group in (v["fromGroup"] for v in service["envVars"] if "fromGroup" in v):
            env.update({key: {"value": value} for key, value in groups[group].items()})
        assert env["DATABASE_URL"]["fromDatabase"] == {
            "name": database["name"],
            "property": "connectionString",
        }
        grace = float(env.get("FLUFFYMAIL_SHUTDOWN_GRACE", {}).get("value", DEFAULT_GRACE))
        assert service["maxShutdownDelaySeconds"] > grace, f"render {kind}: shutdown delay <= grace"

    web = services["web"]
    assert web["healthCheckPath"] == HEALTH_PATH
    port = option_value(shell_words(web["dockerCommand"]), "--port")
    assert {v["key"]: v.get("value") for v in web["envVars"] if "key" in v}.get("PORT") == port
    assert shell_words(services["worker"]["dockerCommand"])[1] == "worker"
    assert services["worker"]["numInstances"] >= 2


# ---- railway.json --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", RAILWAY_FILES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_railway__dockerfile_build_commands_health_restart(path: Path) -> None:
    config = json.loads(path.read_text())
    where = path.relative_to(REPO).as_posix()
    assert config["build"] == {"builder": "DOCKERFILE", "dockerfilePath": "Dockerfile"}
    deploy = config["deploy"]
    start = shell_words(deploy["startCommand"])
    check_cli_command(start, f"{where} startCommand")
    assert isinstance(deploy["preDeployCommand"], list)
    for command in deploy["preDeployCommand"]:
        assert shell_words(command) == ["fluffymail", "db", "upgrade"]
        check_cli_command(shell_words(command), f"{where} preDeployCommand")
    assert deploy["restartPolicyType"] in ("ON_FAILURE", "ALWAYS")
    assert deploy["drainingSeconds"] > DEFAULT_GRACE, f"{where}: drainingSeconds <= shutdown grace"
    if "healthcheckPath" in deploy:
        assert deploy["healthcheckPath"] == HEALTH_PATH
        # Railway probes $PORT: the process must listen there.
        raw = shlex.split(shlex.split(deploy["startCommand"])[-1])
        assert any("$PORT" in w or "${PORT" in w for w in raw), (
            f"{where}: health check probes $PORT"
        )
        if start[1] == "worker":  # over the network: the metrics port must not bind loopback
            assert option_value(start, "--metrics-host") == "0.0.0.0", where
    for field_name in ("numReplicas", "drainingSeconds", "overlapSeconds", "healthcheckTimeout"):
        if field_name in deploy:
            assert isinstance(deploy[field_name], int), (
                f"{where}: {field_name} must be a JSON number"
            )


def test_railway__web_and_worker_configs() -> None:
    kinds = {}
    for path in RAILWAY_FILES:
        argv = shell_words(json.loads(path.read_text())["deploy"]["startCommand"])
        kinds[argv[1]] = path
    assert set(kinds) == {"web", "worker"}
    assert kinds["web"] == REPO / "railway.json"
    assert json.loads(kinds["web"].read_text())["deploy"]["healthcheckPath"] == HEALTH_PATH


# ---- Procfile ------------------------------------------------------------------------------------


def test_procfile__web_worker_release() -> None:
    processes = {}
    for line in (REPO / "Procfile").read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, sep, command = line.partition(":")
        assert sep and re.fullmatch(r"[a-z][a-z0-9_-]*", name), f"Procfile: bad line {line!r}"
        assert name not in processes, f"Procfile: {name} twice"
        processes[name] = command.strip()
    assert set(processes) == {"web", "worker", "release"}
    for name, command in processes.items():
        check_cli_command(shell_words(command), f"Procfile {name}")
    assert processes["release"] == "fluffymail db upgrade"
    assert "${PORT" in processes["web"] or "$PORT" in processes["web"], (
        "Procfile web must bind $PORT"
    )
    # Heroku-style platforms allow 30 s between SIGTERM and SIGKILL.
    assert DEFAULT_GRACE < 30


# ---- Terraform (ECS/Fargate) ---------------------------------------------------------------------


def tf_locals(text: str) -> dict[str, str]:
    """Scalar `name = 8000` / `name = "x"` entries of the locals block."""
    block = re.search(r"^locals \{\n(.*?)^\}", text, re.S | re.M)
    assert block, "no locals block"
    return {
        m.group(1): m.group(2).strip('"')
        for m in re.finditer(r"^\s+(\w+)\s*=\s*(\d+|\"[^\"]*\")\s*$", block.group(1), re.M)
    }


def tf_commands(text: str) -> list[list[str]]:
    """Every `command = [...]` list in the container definitions, with locals resolved."""
    local = tf_locals(text)

    def element(token: str) -> str:
        token = token.strip()
        if m := re.fullmatch(r"tostring\(local\.(\w+)\)", token):
            return local[m.group(1)]
        assert token.startswith('"') and token.endswith('"'), (
            f"unsupported command element {token!r}"
        )
        return re.sub(r"\$\{local\.(\w+)\}", lambda m: local[m.group(1)], token[1:-1])

    return [
        [element(t) for t in m.group(1).split(",")]
        for m in re.finditer(r"\bcommand\s*=\s*\[([^\]]*)\]", text)
    ]


def test_terraform__commands_health_checks_stop_timeout() -> None:
    text = TF_FILE.read_text()
    commands = tf_commands(text)
    cli = [c for c in commands if c[0] == "fluffymail"]
    probes = [c for c in commands if c[0] == "CMD"]
    assert [c[1] for c in cli] == ["web", "worker", "db"], cli
    for argv in cli:
        check_cli_command(argv, "ecs.tf")
    local = tf_locals(text)
    assert option_value(cli[0], "--port") == local["web_port"]
    targets = [health_probe_target(probe, "ecs.tf") for probe in probes]
    assert targets == [
        (int(local["web_port"]), HEALTH_PATH),
        (int(local["metrics_port"]), HEALTH_PATH),
    ]
    assert 'FLUFFYMAIL_METRICS_PORT", value = tostring(local.metrics_port)' in text
    assert text.count("stopTimeout  = var.stop_timeout") == 2
    assert "desired_count   = var.worker_desired_count # Scale as needed" in text


def tf_name(key: str) -> str:
    return key.strip('"')  # python-hcl2 >= 7 keeps the quotes of labels and strings


def test_terraform__structure_parsed_with_hcl2() -> None:
    hcl2 = pytest.importorskip(
        "hcl2",
        reason="python-hcl2 is not installed (ask for it in the dev group): ecs.tf not parsed",
    )
    with TF_FILE.open() as handle:
        module = hcl2.load(handle)
    variables = {tf_name(k): v for block in module["variable"] for k, v in block.items()}
    assert {"image", "cluster_arn", "subnet_ids", "database_url_secret_arn"} <= set(variables)
    for required in ("image", "cluster_arn", "subnet_ids", "database_url_secret_arn"):
        assert "default" not in variables[required], f"variable {required} must be required"
    assert variables["worker_desired_count"]["default"] == 2
    assert variables["stop_timeout"]["default"] > variables["shutdown_grace"]["default"]
    assert variables["shutdown_grace"]["default"] == DEFAULT_GRACE

    resources: dict[str, dict[str, Any]] = {}
    for block in module["resource"]:
        for kind, named in block.items():
            for name, body in named.items():
                resources[f"{tf_name(kind)}.{tf_name(name)}"] = body
    assert {
        "aws_ecs_task_definition.web",
        "aws_ecs_task_definition.worker",
        "aws_ecs_task_definition.migrate",
        "aws_ecs_service.web",
        "aws_ecs_service.worker",
    } <= set(resources)
    worker = resources["aws_ecs_service.worker"]
    assert "var.worker_desired_count" in str(worker["desired_count"])
    assert "aws_ecs_task_definition.worker" in str(worker["task_definition"])
    assert "aws_ecs_service.migrate" not in resources, (
        "migrations run once per release, not as a service"
    )
    for name in ("web", "worker"):
        definition = resources[f"aws_ecs_task_definition.{name}"]
        assert [tf_name(v) for v in definition["requires_compatibilities"]] == ["FARGATE"]
        assert "var.stop_timeout > var.shutdown_grace" in str(definition["lifecycle"])


def terraform() -> str:
    binary = shutil.which("terraform")
    if binary is None:
        pytest.skip("terraform is not on PATH: ecs.tf not format-checked")
    return binary


def terraform_env(tmp_path: Path, mirror: Path | None = None) -> dict[str, str]:
    rc = tmp_path / "terraform.rc"
    rc.write_text(
        ""
        if mirror is None
        else f'provider_installation {{\n  filesystem_mirror {{\n    path = "{mirror}"\n  }}\n}}\n'
    )
    return {
        **os.environ,
        "TF_CLI_CONFIG_FILE": str(rc),
        "CHECKPOINT_DISABLE": "1",
        "TF_IN_AUTOMATION": "1",
        "TF_DATA_DIR": str(tmp_path / ".terraform"),
    }


def test_terraform__fmt_check(tmp_path: Path) -> None:
    result = subprocess.run(
        [terraform(), "fmt", "-check", "-diff", "-no-color", str(TF_FILE)],
        capture_output=True,
        text=True,
        env=terraform_env(tmp_path),
        timeout=60,
    )
    assert result.returncode == 0, (
        f"terraform fmt would change ecs.tf:\n{result.stdout}{result.stderr}"
    )


def test_terraform__validate_with_a_local_provider_mirror(tmp_path: Path) -> None:
    """Offline only: needs the hashicorp/aws provider in a local filesystem mirror."""
    binary = terraform()
    mirror = Path(os.environ.get("TERRAFORM_PROVIDER_MIRROR", "/opt/tf-plugins"))
    if not (mirror / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
        pytest.skip(
            f"no hashicorp/aws provider in a local mirror at {mirror}: ecs.tf not validated"
        )
    work = tmp_path / "module"
    work.mkdir()
    shutil.copy(TF_FILE, work / TF_FILE.name)
    env = terraform_env(tmp_path, mirror)
    for step in (
        ["init", "-backend=false", "-input=false", "-no-color"],
        ["validate", "-no-color"],
    ):
        result = subprocess.run(
            [binary, *step], cwd=work, capture_output=True, text=True, env=env, timeout=240
        )
        assert result.returncode == 0, f"terraform {step[0]}:\n{result.stdout}{result.stderr}"


# ---- production mode, trusted proxies, the secret key (security issue #15, 4 and 5) ------------


def check_production_env(env: dict[str, Any], where: str, *, web: bool) -> None:
    """The process runs in production mode (a secret key is required, cookies are Secure), a web
    process trusts its platform's proxy, and no secret key is written into the file."""
    assert env.get("FLUFFYMAIL_ENVIRONMENT") == "production", f"{where}: not in production mode"
    if web:
        proxies = env.get("FLUFFYMAIL_FORWARDED_ALLOW_IPS")
        assert proxies, f"{where}: FLUFFYMAIL_FORWARDED_ALLOW_IPS unset: the proxy is not trusted"
        if proxies != "*":
            for network in proxies.split(","):
                ipaddress.ip_network(network.strip(), strict=False)
        hosts = env.get("FLUFFYMAIL_ALLOWED_HOSTS")
        assert hosts, f"{where}: FLUFFYMAIL_ALLOWED_HOSTS unset: production web would not start"
    assert not env.get("FLUFFYMAIL_SECRET_KEY"), f"{where}: a secret key committed to the file"
    config = Settings(
        _env_file=None,
        environment=env["FLUFFYMAIL_ENVIRONMENT"],
        forwarded_allow_ips=env.get("FLUFFYMAIL_FORWARDED_ALLOW_IPS", "127.0.0.1"),
        secret_key=Fernet.generate_key().decode(),
        **({"allowed_hosts": "crm.example.com"} if web else {}),
    )
    assert config.is_production
    if web:  # the app these settings build starts (production refuses to without hosts)
        create_app(config)


def test_fly__production_proxy_and_secret_key() -> None:
    text = (REPO / "fly.toml").read_text()
    fly = tomllib.loads(text)
    check_production_env(fly["env"], "fly.toml [env]", web=True)  # shared by web and worker
    assert "fly secrets set FLUFFYMAIL_SECRET_KEY" in text, "fly.toml: say how to set the key"
    if fly["env"]["FLUFFYMAIL_FORWARDED_ALLOW_IPS"] == "*":
        assert "publishes no fixed address range" in text, "fly.toml: say why '*' is safe"


def test_render__production_proxy_and_secret_key() -> None:
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed: render.yaml not parsed")
    text = (REPO / "render.yaml").read_text()
    blueprint = yaml.safe_load(text)
    groups = {group["name"]: group["envVars"] for group in blueprint.get("envVarGroups", [])}
    services = {service["type"]: service for service in blueprint["services"]}
    for kind, service in services.items():
        variables = [
            variable
            for entry in service["envVars"]
            for variable in (groups[entry["fromGroup"]] if "fromGroup" in entry else [entry])
        ]
        env = {v["key"]: v.get("value") for v in variables}
        env |= shell_assignments(service["dockerCommand"])  # defaults set by the start command
        check_production_env(env, f"render.yaml {kind}", web=kind == "web")
        [key] = [v for v in variables if v["key"] == "FLUFFYMAIL_SECRET_KEY"]
        if kind == "web":
            assert key == {"key": "FLUFFYMAIL_SECRET_KEY", "sync": False}, "render: ask for it"
        else:  # the same value as the web service's
            assert key["fromService"]["name"] == services["web"]["name"]
    assert "publishes no fixed address range" in text, "render.yaml: say why '*' is safe"


@pytest.mark.parametrize("path", RAILWAY_FILES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_railway__production_and_proxy_in_the_start_command(path: Path) -> None:
    """Railway's config files cannot hold variables: the start command defaults them."""
    start = json.loads(path.read_text())["deploy"]["startCommand"]
    where = path.relative_to(REPO).as_posix()
    check_production_env(shell_assignments(start), where, web=shell_words(start)[1] == "web")
    assert "SECRET_KEY" not in path.read_text()
    # A value set in Railway's dashboard still wins over the default.
    assert "FLUFFYMAIL_ENVIRONMENT=${FLUFFYMAIL_ENVIRONMENT:-production}" in start


def test_terraform__production_and_proxy() -> None:
    text = TF_FILE.read_text()
    block = re.search(r"environment = \[\n    for name, value in \{\n(.*?)\n    \}", text, re.S)
    assert block, "ecs.tf: no shared environment map"
    env = dict(re.findall(r'^\s*(FLUFFYMAIL_\w+)\s*=\s*"?([^"\s]*)"?', block.group(1), re.M))
    check_production_env(env, "ecs.tf", web=True)
    assert '{ name = "FLUFFYMAIL_SECRET_KEY", valueFrom = var.secret_key_secret_arn }' in text


def test_compose__requires_the_secret_key(compose: dict[str, Any]) -> None:
    for name in ("migrate", "web", "worker"):
        value = compose["services"][name]["environment"]["FLUFFYMAIL_SECRET_KEY"]
        assert value.startswith("${FLUFFYMAIL_SECRET_KEY:?"), f"compose {name}: key not required"


# ---- deploy/README.md ----------------------------------------------------------------------------


def test_deploy_readme__names_real_commands_and_the_required_settings() -> None:
    text = (REPO / "deploy" / "README.md").read_text()
    for line in re.findall(r"`(fluffymail [^`]*)`", text):
        check_cli_command(shell_words(line), "deploy/README.md")
    for setting in (
        "DATABASE_URL",
        "FLUFFYMAIL_SECRET_KEY",
        "FLUFFYMAIL_OLD_SECRET_KEYS",
        "FLUFFYMAIL_ENVIRONMENT",
        "FLUFFYMAIL_FORWARDED_ALLOW_IPS",
        "fluffymail secrets rotate",
        "FLUFFYMAIL_SHUTDOWN_GRACE",
        "FLUFFYMAIL_MIGRATE_ON_START",
        "FLUFFYMAIL_METRICS_PORT",
        HEALTH_PATH,
    ):
        assert setting in text, f"deploy/README.md does not mention {setting}"
    known = {name.upper() for name in Settings.model_fields} | {"DATABASE_URL"}
    for name in re.findall(r"\bFLUFFYMAIL_([A-Z_]+)\b", text):
        assert name in known, f"deploy/README.md: FLUFFYMAIL_{name} is not a setting"
