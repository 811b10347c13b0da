"""Contract between the chart and the project: every command the chart runs in our images is a real entrypoint.

For every container of ours (the Python image and the Spark image), and every exec probe in them:
- the command resolves to a project entrypoint: `python -m <module>` (or the SparkApplication's main file,
  mapped from the Spark image's APP_ROOT to this checkout) runs `--help` with exit 0 under the venv's python;
- every `--flag` the chart passes is an option of that CLI;
- every setting the entrypoint requires (the `Settings` fields without a default) is set by the chart.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.chart.render import REPO, by_kind, containers, env_names, pod_spec, spark_app_root
from twinlake.settings import PREFIX, Settings

pytestmark = pytest.mark.chart
OUR_IMAGES = ("twinlake/python:", "twinlake/spark:")
STORES = ["minio", "versitygw"]


def required_settings() -> set[str]:
    names = {PREFIX + name.upper() for name, field in Settings.model_fields.items() if field.is_required()}
    assert names, "Settings has no required field: the contract below would check nothing"
    return names


@cache
def cli_help(target: tuple[str, ...]) -> str:
    """`--help` of an entrypoint (a module or a file), run with this venv's python outside the stack's env."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(PREFIX)}
    env["TWINLAKE_ENV_FILE"] = os.devnull
    done = subprocess.run(
        [sys.executable, *target, "--help"], capture_output=True, text=True, cwd=REPO, env=env, timeout=120
    )
    assert done.returncode == 0, f"{' '.join(target)} --help exited {done.returncode}:\n{done.stderr[-2000:]}"
    return done.stdout


def options_of(help_text: str) -> set[str]:
    return set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", help_text))


def check_command(command: list[str], where: str) -> None:
    assert command[:2] == ["python", "-m"] and len(command) >= 3, f"{where}: not `python -m <module>`: {command}"
    module = command[2]
    assert module.split(".")[0] in {"jobs", "producers", "twinlake", "dashboard"}, f"{where}: {module} is not ours"
    flags = {a.split("=")[0] for a in command[3:] if a.startswith("--")}
    unknown = flags - options_of(cli_help(("-m", module)))
    assert not unknown, f"{where}: python -m {module} has no option {sorted(unknown)}"


def ours(container: dict[str, Any]) -> bool:
    return str(container["image"]).startswith(OUR_IMAGES)


@pytest.mark.parametrize("store", STORES)
def test_every_container_of_ours_runs_a_real_entrypoint(rendered: dict[str, list[dict[str, Any]]], store: str) -> None:
    checked = 0
    for resource in rendered[store]:
        if pod_spec(resource) is None:
            continue
        for container in filter(ours, containers(resource)):
            where = f"{resource['kind']}/{resource['metadata']['name']}/{container['name']}"
            assert "command" in container, f"{where}: our images have no default command; set one"
            check_command(container["command"], where)
            for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
                if "exec" in container.get(probe, {}):
                    check_command(container[probe]["exec"]["command"], f"{where} {probe}")
            missing = required_settings() - env_names(container.get("env", []))
            assert not missing, f"{where}: the chart does not set {sorted(missing)}"
            checked += 1
    assert checked >= 3, "expected the Pandas worker, the dashboard and the store-init Job at least"


@pytest.mark.parametrize("store", STORES)
def test_spark_application_runs_the_spark_engine(rendered: dict[str, list[dict[str, Any]]], store: str) -> None:
    (app,) = by_kind(rendered[store], "SparkApplication")
    spec = app["spec"]
    assert spec["image"].startswith("twinlake/spark:")
    root = spark_app_root()
    main = spec["mainApplicationFile"]
    assert main.startswith(f"local://{root}/"), f"{main} is not under the Spark image's APP_ROOT {root}"
    local = REPO / main.removeprefix(f"local://{root}/")
    assert local.is_file(), f"{main} maps to {local}, which does not exist"
    assert local.relative_to(REPO).as_posix() == "jobs/spark_engine/__main__.py"
    help_text = cli_help((str(local),))
    flags = {a for a in spec.get("arguments", []) if a.startswith("--")}
    assert not flags - options_of(help_text), f"{main} has no option {sorted(flags - options_of(help_text))}"
    missing = required_settings() - env_names(spec["driver"].get("env", []))
    assert not missing, f"the SparkApplication's driver env lacks {sorted(missing)}"
    python = spec["sparkConf"]["spark.pyspark.python"]
    assert python.startswith(f"{root}/"), python


def test_spark_image_matches_the_chart() -> None:
    dockerfile = (REPO / "docker" / "spark.Dockerfile").read_text(encoding="utf-8")
    values = (REPO / "charts" / "twinlake" / "values.yaml").read_text(encoding="utf-8")
    assert re.search(rf"^\s*appRoot: {re.escape(spark_app_root())}$", values, re.MULTILINE)
    assert re.search(r"^FROM spark:4\.0\.1-python3@sha256:[0-9a-f]{64}$", dockerfile, re.MULTILINE)
    assert re.search(r"^FROM maven:3\.9-eclipse-temurin-17@sha256:[0-9a-f]{64} AS jars$", dockerfile, re.MULTILINE)
    assert "stack/spark-jars/pom.xml" in dockerfile and "/opt/spark/jars" in dockerfile
    assert "spark.jars.packages" not in dockerfile
    assert re.search(r"^USER 185\b", dockerfile, re.MULTILINE)


def test_python_image_runs_as_the_chart_uid() -> None:
    dockerfile = (REPO / "docker" / "python.Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim\b", dockerfile, re.MULTILINE)
    uid = re.search(r"^\s*pythonUid: (\d+)$", (REPO / "charts/twinlake/values.yaml").read_text(), re.MULTILINE)
    assert uid and re.search(rf"^USER {uid.group(1)}\b", dockerfile, re.MULTILINE)


def test_settings_env_names_exist() -> None:
    """Every TWINLAKE_* variable the chart sets is read by settings, the one reader of the environment.

    That is a `Settings` field, or a name the local settings (Spark master and memory, cache folder) read by prefix.
    """
    chart = "".join(p.read_text(encoding="utf-8") for p in (REPO / "charts/twinlake/templates").rglob("*.*"))
    fields = {PREFIX + name.upper() for name in Settings.model_fields}
    settings_source = (REPO / "twinlake/settings.py").read_text(encoding="utf-8")
    local = {PREFIX + name for name in re.findall(r'f"\{PREFIX\}([A-Z0-9_]+)"', settings_source)}
    unknown = set(re.findall(r"name: (TWINLAKE_[A-Z0-9_]+)", chart)) - fields - local
    assert not unknown, f"the chart sets variables nothing reads: {sorted(unknown)}"


def test_contract_checker_catches_a_bad_flag() -> None:
    with pytest.raises(AssertionError, match="no option"):
        check_command(["python", "-m", "jobs.health", "--file", "x", "--max-agee", "1"], "test")
    with pytest.raises(AssertionError):
        check_command(["python", "-m", "jobs.no_such_module"], "test")


def test_repo_paths() -> None:
    assert Path(REPO / "jobs" / "spark_engine" / "__main__.py").is_file()


@pytest.mark.parametrize("image", ["python", "spark"])
def test_images_pin_their_bases_by_digest_and_install_only_hashed_dependencies(image: str) -> None:
    dockerfile = (REPO / "docker" / f"{image}.Dockerfile").read_text(encoding="utf-8")
    bases = re.findall(r"^FROM (\S+)", dockerfile, re.MULTILINE)
    assert bases and all(re.fullmatch(r"[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}", b) for b in bases), bases
    joined = re.sub(r"\\\n\s*", " ", dockerfile)  # continuation lines joined: one instruction per line
    installs = [line for line in joined.splitlines() if "pip" in line and " install " in line]
    assert any("--require-hashes" in line and "requirements.lock" in line for line in installs), installs
    project = [line for line in installs if "requirements.lock" not in line]
    assert project and all("--no-deps" in line for line in project), "the project must not resolve anything"
    ignored = (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert "!docker/requirements.lock" in ignored


def test_the_lock_pins_every_runtime_dependency_of_pyproject_with_hashes() -> None:
    """Every dependency the Python image installs: the runtime ones and those of the extras its Dockerfile names."""
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    dockerfile = (REPO / "docker" / "python.Dockerfile").read_text(encoding="utf-8")
    (extras,) = re.findall(r"pip install '\.\[([a-z,]+)\]'", dockerfile)
    pinned = [*project["dependencies"], *(p for e in extras.split(",") for p in project["optional-dependencies"][e])]
    lock = (REPO / "docker" / "requirements.lock").read_text(encoding="utf-8")
    entries = re.findall(r"^([a-z0-9][\w.-]*==[\w.]+) \\\n((?:\s+--hash=sha256:[0-9a-f]{64}(?: \\)?\n)+)", lock, re.M)
    locked = {name.lower() for name, _hashes in entries}
    assert {p.lower() for p in pinned} <= locked, "docker/requirements.lock differs from pyproject: run `make lock`"
    assert len(entries) == len(re.findall(r"^[a-z0-9][\w.-]*==", lock, re.M)), "a locked package without hashes"
    assert {"setuptools", "wheel"} <= {name.split("==")[0] for name in locked}, "the build backend is locked too"
