"""Pinned command-line tools for the chart tests and `make up`, built from source with Go and cached.

`python scripts/tools.py helm` prints the path of a helm binary of exactly HELM_VERSION, building it on first use:
    GOBIN=~/.cache/twinlake/helm-<ver>/bin go install helm.sh/helm/v3/cmd/helm@<ver>
(a cold build downloads helm's modules through the Go module proxy and compiles them: minutes, once; afterwards
the cached binary is returned at once). `python scripts/tools.py spark-operator-crd` prints the path of the
SparkApplication CRD of spark-operator SPARK_OPERATOR_VERSION, from `go mod download` (cached by Go), falling back
to ../shared/schemas/ next to the repository.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from twinlake.settings import cache_dir

HELM_VERSION = "v3.19.0"
HELM_MODULE = "helm.sh/helm/v3/cmd/helm"
SPARK_OPERATOR_VERSION = "v2.5.2"
SPARK_OPERATOR_MODULE = "github.com/kubeflow/spark-operator/v2"
SPARK_APPLICATION_CRD = "sparkoperator.k8s.io_sparkapplications.yaml"
REPO = Path(__file__).resolve().parents[1]


class ToolError(RuntimeError):
    """A tool could not be provided; the message says what to install or fix."""


def _go() -> str:
    go = shutil.which("go")
    if go is None:
        raise ToolError("`go` is not on PATH: install Go >= 1.24 (https://go.dev/dl/) to build the pinned tools")
    return go


def helm(version: str = HELM_VERSION, *, quiet: bool = False) -> Path:
    """The helm binary of `version`, built with `go install` into the twinlake cache on first use."""
    binary = cache_dir() / f"helm-{version}" / "bin" / "helm"
    if binary.is_file() and os.access(binary, os.X_OK):
        return binary
    binary.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "GOBIN": str(binary.parent), "CGO_ENABLED": "0"}
    if not quiet:
        print(f"building helm {version} with go install (first use only) ...", file=sys.stderr)
    started = time.monotonic()
    done = subprocess.run(
        [_go(), "install", f"{HELM_MODULE}@{version}"], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0 or not binary.is_file():
        raise ToolError(f"go install {HELM_MODULE}@{version} failed:\n{done.stdout}{done.stderr}")
    if not quiet:
        print(f"built {binary} in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return binary


def spark_operator_crd(version: str = SPARK_OPERATOR_VERSION) -> Path:
    """The SparkApplication CRD of spark-operator `version`: from the Go module (cached), else ../shared/schemas."""
    errors = []
    try:
        done = subprocess.run(
            [_go(), "mod", "download", "-json", f"{SPARK_OPERATOR_MODULE}@{version}"],
            capture_output=True,
            text=True,
            check=False,
            cwd=cache_dir() if cache_dir().is_dir() else None,
        )
        info = json.loads(done.stdout or "{}")
        if done.returncode == 0 and info.get("Dir"):
            crd = Path(info["Dir"]) / "charts" / "spark-operator-chart" / "crds" / SPARK_APPLICATION_CRD
            if crd.is_file():
                return crd
            errors.append(f"{crd} not in the module")
        else:
            errors.append(info.get("Error") or done.stderr.strip() or f"go mod download exited {done.returncode}")
    except ToolError as exc:
        errors.append(str(exc))
    shared = REPO.parent / "shared" / "schemas" / f"spark-operator-{version}" / SPARK_APPLICATION_CRD
    if shared.is_file():
        return shared
    errors.append(f"{shared} does not exist")
    raise ToolError(f"no SparkApplication CRD for spark-operator {version}: " + "; ".join(errors))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/tools.py", description=__doc__.splitlines()[0])
    parser.add_argument("tool", choices=["helm", "spark-operator-crd"], help="what to provide; prints its path")
    args = parser.parse_args(argv)
    try:
        path = helm() if args.tool == "helm" else spark_operator_crd()
    except ToolError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
