"""What importing each module of the `twinlake` package loads. `twinlake` is the contract that both engines, the
dashboard and the command line share: it must never load an engine's libraries (the dashboard and `twinlake` run
without Spark, a Spark driver without the Pandas worker), and only the clients of the stack load its client
libraries. Every module is found by walking the package, so a new one is checked without editing this test."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import twinlake

PACKAGE = Path(twinlake.__file__).parent

ENGINE_LIBRARIES = ("pandas", "pyspark")
CLIENT_LIBRARIES = ("boto3", "botocore", "minio")
# The modules (a package stands for its submodules too) that may load client libraries when imported, and which.
STACK_CLIENTS: dict[str, frozenset[str]] = {
    "twinlake.broker": frozenset({"botocore"}),  # kafka-python loads botocore for its AWS MSK sign-in
    "twinlake.cli.stack": frozenset(CLIENT_LIBRARIES),  # starts the local stack: S3 and the store's admin API
}

# Each module is imported in a fork of one fresh interpreter that has loaded nothing but the standard library, so
# what a child finds in sys.modules is what that module loads. A `__main__` module runs its command when imported:
# only its top-level imports run (what it loads before the command starts).
IMPORT_EACH = """
import ast, importlib, importlib.util, json, os, sys, traceback
names, watched = json.loads(sys.argv[1]), json.loads(sys.argv[2])


def load(name):
    if not name.endswith(".__main__"):
        importlib.import_module(name)
        return
    spec = importlib.util.find_spec(name)
    tree = ast.parse(spec.loader.get_source(name))
    imports = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    exec(compile(ast.Module(imports, []), spec.origin, "exec"), {"__name__": name, "__package__": spec.parent})


found = {}
for name in names:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            load(name)
            answer = {"loaded": sorted(m for m in watched if m in sys.modules)}
        except BaseException:
            answer = {"error": traceback.format_exc()}
        os.write(write, json.dumps(answer).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        found[name] = json.loads(pipe.read())
    os.waitpid(pid, 0)
print(json.dumps(found))
"""


def twinlake_modules() -> list[str]:
    """Every module and package of `twinlake`, found from its files (importing nothing)."""
    names = []
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return sorted(names)


def allowed_for(module: str) -> frozenset[str]:
    return frozenset().union(
        *(libraries for owner, libraries in STACK_CLIENTS.items() if module == owner or module.startswith(f"{owner}."))
    )


def test_the_modules_are_found_with_packages_and_submodules() -> None:
    modules = twinlake_modules()
    assert {"twinlake", "twinlake.rules", "twinlake.cli", "twinlake.cli.__main__", "twinlake.cli.stack.kafka"} <= (
        set(modules)
    )
    assert len(modules) == len(set(modules)) == len(list(PACKAGE.rglob("*.py")))


def test_every_module_loads_no_engine_and_only_its_own_client_libraries() -> None:
    modules = twinlake_modules()
    watched = [*ENGINE_LIBRARIES, *CLIENT_LIBRARIES]
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_EACH, json.dumps(modules), json.dumps(watched)],
        capture_output=True,
        text=True,
        check=True,
    )
    found: dict[str, dict[str, str | list[str]]] = json.loads(done.stdout)
    assert list(found) == modules
    assert {name: answer["error"] for name, answer in found.items() if "error" in answer} == {}
    loaded = {name: set(answer["loaded"]) for name, answer in found.items()}
    unexpected = {name: sorted(libs - allowed_for(name)) for name, libs in loaded.items() if libs - allowed_for(name)}
    assert unexpected == {}
    # The check sees a library when a module loads it: the stack manager does load the S3 client.
    assert "boto3" in loaded["twinlake.cli.stack"]


def test_every_allowance_names_a_module_of_the_package() -> None:
    assert set(STACK_CLIENTS) <= set(twinlake_modules())
