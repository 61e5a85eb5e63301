"""The serverless deployment files (issue 20): AWS Lambda + EventBridge (Terraform), a Cloud Run
job and service, a Kubernetes CronJob and a crontab. Each is parsed, the command it runs must
exist in the CLI with those options, and each run's budget must fit in its trigger interval and
its platform's timeout. Nothing is applied (see test_deploy_files.py for why)."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from fluffymail.cli.worker import EXIT_WORK_LEFT
from fluffymail.config import Settings
from fluffymail.serverless import LAMBDA_MARGIN
from fluffymail.serverless.http import create_app
from tests.unit.test_deploy_files import (
    HEALTH_PATH,
    REPO,
    check_cli_command,
    option_value,
    terraform,
    terraform_env,
    tf_name,
)

LAMBDA_TF = REPO / "deploy" / "terraform" / "lambda" / "main.tf"
CLOUD_RUN_JOB = REPO / "deploy" / "cloudrun" / "drain-job.yaml"
CLOUD_RUN_SERVICE = REPO / "deploy" / "cloudrun" / "drain-service.yaml"
CRONJOB = REPO / "deploy" / "kubernetes" / "drain-cronjob.yaml"
CRONTAB = REPO / "deploy" / "crontab"
TRIGGER_SECONDS = 60  # every file starts a run once a minute
SETTINGS = {name.upper() for name in Settings.model_fields} | {"DATABASE_URL"}


def load_yaml(path: Path) -> Any:
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed")
    return yaml.safe_load(path.read_text())


def env_of(container: dict[str, Any], where: str) -> dict[str, Any]:
    """A container's environment; every FLUFFYMAIL_ name must be a setting, secrets by reference."""
    env = {item["name"]: item.get("value", item.get("valueFrom")) for item in container["env"]}
    for name in env:
        assert name.removeprefix("FLUFFYMAIL_") in SETTINGS, f"{where}: {name} is not a setting"
    assert env["FLUFFYMAIL_ENVIRONMENT"] == "production", f"{where}: not in production mode"
    for secret in ("DATABASE_URL", "FLUFFYMAIL_SECRET_KEY"):
        assert "secretKeyRef" in env[secret], f"{where}: {secret} must come from a secret"
    return env


def check_drain_command(argv: list[str], where: str) -> float:
    """A real `fluffymail worker --drain` command whose budget fits in the trigger interval."""
    check_cli_command(argv, where)
    assert argv[1:3] == ["worker", "--drain"], f"{where}: not a drain run: {argv}"
    # configured values compared, nothing timed: the run's budget against the trigger interval
    budget = float(option_value(argv, "--max-seconds") or Settings().drain_seconds)
    assert budget < TRIGGER_SECONDS, f"{where}: a run's budget outlasts the trigger interval"
    return budget


# ---- AWS Lambda + EventBridge ------------------------------------------------------------------


def lambda_module() -> tuple[dict[str, Any], dict[str, Any]]:
    hcl2 = pytest.importorskip("hcl2", reason="python-hcl2 is not installed")
    with LAMBDA_TF.open() as handle:
        module = hcl2.load(handle)
    variables = {tf_name(k): v for block in module["variable"] for k, v in block.items()}
    resources = {
        f"{tf_name(kind)}.{tf_name(name)}": body
        for block in module["resource"]
        for kind, named in block.items()
        for name, body in named.items()
    }
    return variables, resources


def test_lambda__function_schedule_and_command() -> None:
    variables, resources = lambda_module()
    function = resources["aws_lambda_function.drain"]
    [image_config] = function["image_config"]
    command = [tf_name(word) for word in image_config["command"]]
    check_cli_command(command, "lambda/main.tf")
    assert command == ["fluffymail", "serverless", "lambda"]
    assert tf_name(function["package_type"]) == "Image"
    drain, timeout = variables["drain_seconds"]["default"], variables["timeout"]["default"]
    assert drain + LAMBDA_MARGIN <= timeout < TRIGGER_SECONDS
    assert tf_name(variables["schedule"]["default"]) == "rate(1 minute)"
    assert "var.drain_seconds + 3 <= var.timeout" in str(function["lifecycle"])
    assert resources["aws_lambda_function_event_invoke_config.drain"]["maximum_retry_attempts"] == 0
    target = resources["aws_cloudwatch_event_target.drain"]
    assert "aws_lambda_function.drain.arn" in str(target["arn"])
    assert "aws_cloudwatch_event_rule.drain" in str(target["rule"])
    assert tf_name(resources["aws_lambda_permission.events"]["principal"]) == "events.amazonaws.com"
    for secret in ("database_url", "secret_key"):
        assert variables[secret]["sensitive"] is True and "default" not in variables[secret]


def test_lambda__environment_is_production_and_names_real_settings() -> None:
    text = LAMBDA_TF.read_text()
    block = re.search(r"variables = \{\n(.*?)\n\s*\}", text, re.S)
    assert block, "lambda/main.tf: no environment variables"
    env = dict(re.findall(r"^\s*(\w+)\s*=\s*(.+?)(?:\s+#.*)?$", block.group(1), re.M))
    for name in env:
        assert name.removeprefix("FLUFFYMAIL_") in SETTINGS, f"lambda/main.tf: {name} unknown"
    assert env["FLUFFYMAIL_ENVIRONMENT"] == '"production"'
    assert env["FLUFFYMAIL_SECRET_KEY"] == "var.secret_key"
    assert env["FLUFFYMAIL_MIGRATE_ON_START"] == '"false"'


def test_lambda__terraform_fmt_and_validate(tmp_path: Path) -> None:
    binary = terraform()
    env = terraform_env(tmp_path)
    fmt = subprocess.run(
        [binary, "fmt", "-check", "-diff", "-no-color", str(LAMBDA_TF)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert fmt.returncode == 0, f"terraform fmt would change lambda/main.tf:\n{fmt.stdout}"
    mirror = Path("/opt/tf-plugins")
    if not (mirror / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
        pytest.skip("no hashicorp/aws provider in a local mirror: lambda/main.tf not validated")
    work = tmp_path / "module"
    work.mkdir()
    (work / "main.tf").write_text(LAMBDA_TF.read_text())
    env = terraform_env(tmp_path, mirror)
    for step in (
        ["init", "-backend=false", "-input=false", "-no-color"],
        ["validate", "-no-color"],
    ):
        result = subprocess.run(
            [binary, *step], cwd=work, capture_output=True, text=True, env=env, timeout=240
        )
        assert result.returncode == 0, f"terraform {step[0]}:\n{result.stdout}{result.stderr}"


# ---- Cloud Run -----------------------------------------------------------------------------------


def test_cloud_run_job__a_drain_run_within_the_task_timeout() -> None:
    job = load_yaml(CLOUD_RUN_JOB)
    assert job["kind"] == "Job" and job["apiVersion"] == "run.googleapis.com/v1"
    task = job["spec"]["template"]["spec"]["template"]["spec"]
    [container] = task["containers"]
    budget = check_drain_command(
        container["command"] + container["args"], "cloudrun/drain-job.yaml"
    )
    assert budget < task["timeoutSeconds"], "the task timeout must exceed the run's budget"
    env_of(container, "cloudrun/drain-job.yaml")
    assert '--schedule "* * * * *"' in CLOUD_RUN_JOB.read_text()


async def test_cloud_run_service__the_http_variant_and_its_probe() -> None:
    service = load_yaml(CLOUD_RUN_SERVICE)
    spec = service["spec"]["template"]["spec"]
    [container] = spec["containers"]
    argv = container["command"] + container["args"]
    check_cli_command(argv, "cloudrun/drain-service.yaml")
    assert argv[1:3] == ["serverless", "http"]
    env = env_of(container, "cloudrun/drain-service.yaml")
    assert "secretKeyRef" in env["FLUFFYMAIL_DRAIN_SECRET"], "the shared secret is a secret"
    assert float(env["FLUFFYMAIL_DRAIN_SECONDS"]) < min(spec["timeoutSeconds"], TRIGGER_SECONDS)
    probe = container["startupProbe"]["httpGet"]
    assert probe == {"path": HEALTH_PATH, "port": container["ports"][0]["containerPort"]}
    config = Settings(_env_file=None, drain_secret="s", database_url="postgresql://x/y")  # type: ignore[call-arg]
    app = create_app(config)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://d") as c:
        assert (await c.get(probe["path"])).status_code == 200


# ---- Kubernetes CronJob --------------------------------------------------------------------------


def test_kubernetes_cronjob__every_minute_with_exit_75_rerun() -> None:
    cronjob = load_yaml(CRONJOB)
    assert cronjob["kind"] == "CronJob" and cronjob["spec"]["schedule"] == "* * * * *"
    job = cronjob["spec"]["jobTemplate"]["spec"]
    pod = job["template"]["spec"]
    [container] = pod["containers"]
    check_drain_command(container["command"], "kubernetes/drain-cronjob.yaml")
    env = env_of(container, "kubernetes/drain-cronjob.yaml")
    assert pod["terminationGracePeriodSeconds"] > float(env["FLUFFYMAIL_SHUTDOWN_GRACE"])
    assert pod["restartPolicy"] == "Never"  # podFailurePolicy requires it
    [rule] = job["podFailurePolicy"]["rules"]
    assert rule["action"] == "Ignore" and rule["onExitCodes"]["values"] == [EXIT_WORK_LEFT]
    assert rule["onExitCodes"]["containerName"] == container["name"]
    assert pod["securityContext"]["runAsUser"] == 10001, "the image's unprivileged user"


# ---- crontab -------------------------------------------------------------------------------------


def test_crontab__a_drain_run_every_minute_and_no_secret() -> None:
    lines = [
        line
        for line in CRONTAB.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    env = dict(line.split("=", 1) for line in lines if re.match(r"^[A-Z_]+=", line))
    [entry] = [line for line in lines if not re.match(r"^[A-Z_]+=", line)]
    fields = entry.split(None, 5)
    assert fields[:5] == ["*"] * 5, "every minute"
    words = shlex.split(fields[5])
    command = words[words.index("&&") + 1 : words.index(">>")]
    check_drain_command(command, "deploy/crontab")
    for name in env:
        assert name in ("SHELL", "PATH") or name.removeprefix("FLUFFYMAIL_") in SETTINGS
    assert env["FLUFFYMAIL_ENVIRONMENT"] == "production"
    assert "SECRET_KEY=" not in CRONTAB.read_text() and "DATABASE_URL=" not in CRONTAB.read_text()
