"""The project installs as a client: a wheel with the commands and only the client's dependencies,
and a development lock that pins what requirements-dev.txt asks for."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from learning_images.sandbox.render import ROOT

COMMANDS = {
    "learning-images-upload": "learning_images.ops.upload_batch:main",
    "learning-images-erase": "learning_images.ops.erase:main",
    "learning-images-retention": "learning_images.ops.retention:main",
    "learning-images-verify": "learning_images.verify.cli:main",
    "learning-images-city-kit": "learning_images.ops.city_kit:main",
    "learning-images-register": "learning_images.ops.register:main",
    "learning-images-reconcile": "learning_images.ops.reconcile:main",
    "learning-images-fetch": "learning_images.ops.fetch:main",
    "learning-images-ingest-report": "learning_images.ops.ingest_report:main",
    "learning-images-sandbox": "learning_images.sandbox.cli:main",
}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(  # noqa: S603 (fixed argv)
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    (built,) = out.glob("learning_images-*.whl")
    return zipfile.ZipFile(built)


def test_the_wheel_installs_every_client_command(wheel: zipfile.ZipFile) -> None:
    entry_points = next(n for n in wheel.namelist() if n.endswith("entry_points.txt"))
    declared = dict(re.findall(r"^(\S+) = (\S+)$", wheel.read(entry_points).decode(), re.M))
    assert declared == COMMANDS, f"console commands differ: {declared}"
    for target in COMMANDS.values():
        module = target.split(":")[0].replace(".", "/") + ".py"
        assert module in wheel.namelist(), f"{module} is not in the wheel"


def test_a_citys_install_needs_neither_pulumi_nor_the_sandbox(wheel: zipfile.ZipFile) -> None:
    metadata = wheel.read(next(n for n in wheel.namelist() if n.endswith("METADATA"))).decode()
    required = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:") and "extra ==" not in line]
    names = {re.split(r"[<>=! ;\[]", line.removeprefix("Requires-Dist:").strip())[0].lower() for line in required}
    assert names == {"boto3", "botocore", "pydantic", "rich"}, f"the base install requires {names}"


def test_the_lock_pins_every_requirement_at_its_version_with_hashes() -> None:
    lock = (ROOT / "requirements-dev.lock").read_text()
    pinned = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+) \\$", lock, re.M))
    pinned = {name.lower().replace("_", "-"): version for name, version in pinned.items()}
    wanted: dict[str, str] = {}
    for source in ("requirements.txt", "requirements-dev.txt"):
        for name, version in re.findall(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==(\S+)", (ROOT / source).read_text(), re.M):
            wanted[name.lower().replace("_", "-")] = version
    stale = {name: (version, pinned.get(name)) for name, version in wanted.items() if pinned.get(name) != version}
    assert not stale, f"requirements-dev.lock is stale (wanted, locked): {stale}; run `make lock`"
    unhashed = [line for line in lock.splitlines() if re.match(r"^[A-Za-z0-9_.-]+==\S+$", line)]
    assert not unhashed, f"every locked package carries its hashes: {unhashed}"


def test_the_client_package_needs_no_checkout() -> None:
    """Nothing a city runs reads files of the repository."""
    client = ROOT / "scripts" / "learning_images"
    offenders = [
        str(p.relative_to(ROOT))
        for p in [*client.glob("*.py"), *(client / "ops").glob("*.py"), *(client / "verify").glob("*.py")]
        if "project_root" in p.read_text() or re.search(r"^from learning_images\.sandbox", p.read_text(), re.M)
    ]
    assert not offenders, f"client modules that need the checkout or the sandbox: {offenders}"


def test_the_wheel_carries_the_component_and_the_gateway_it_deploys(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    for module in (
        "learning_images_infra/component.py",
        "learning_images_infra/component_types.py",
        "learning_images_infra/naming.py",
        "learning_images_infra/r2/gateway.py",
    ):
        assert module in names, f"{module} is not in the wheel: a program could not build a store from the install"
    assert "learning_images_infra/r2/gateway/dist/worker.js" in names, (
        "the R2 store uploads this Worker: it must ship in the wheel"
    )


def test_the_wheel_installs_only_the_projects_own_top_level_packages(wheel: zipfile.ZipFile) -> None:
    """A top-level ``infra`` (or any generic name) would shadow, or be shadowed by, a user's own."""
    tops = {n.split("/")[0] for n in wheel.namelist() if not n.split("/")[0].endswith((".dist-info", ".data"))}
    assert tops == {"learning_images", "learning_images_infra"}, f"the wheel installs top-level {sorted(tops)}"


def test_a_users_own_infra_package_and_the_installed_program_coexist(wheel: zipfile.ZipFile, tmp_path: Path) -> None:
    """A platform engineer's program keeps its resources in its own ``infra`` folder and imports the
    component beside it, from one virtualenv."""
    installed = tmp_path / "site"
    wheel.extractall(installed)
    program = tmp_path / "program"
    (program / "infra").mkdir(parents=True)
    (program / "infra" / "__init__.py").write_text("OWNER = 'the user'\n")
    probe = (
        "import infra\n"
        "from learning_images_infra.component import LearningImageStore\n"
        "assert infra.OWNER == 'the user', infra.__file__\n"
        "assert LearningImageStore.__module__ == 'learning_images_infra.component'\n"
        "print(infra.__file__)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "LEARNING_IMAGES_PROJECT"} | {"PYTHONPATH": str(installed)}
    result = subprocess.run(  # noqa: S603 (fixed argv)
        [sys.executable, "-c", probe], cwd=program, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"the user's infra package and learning_images_infra clash: {result.stderr[-2000:]}"
    assert result.stdout.strip() == str(program / "infra" / "__init__.py"), result.stdout


def test_an_example_builds_its_store_from_the_installed_wheel(wheel: zipfile.ZipFile, tmp_path: Path) -> None:
    """The AWS example, run from outside the checkout against the wheel's files (not the repository's):
    a platform engineer's program with the package installed, no stack config."""
    installed = tmp_path / "site"
    wheel.extractall(installed)
    program = tmp_path / "program"
    program.mkdir()
    (program / "__main__.py").write_text((ROOT / "examples" / "aws-minimal" / "__main__.py").read_text())
    probe = (
        "import json, sys, learning_images_infra.component, learning_images.outputs\n"
        "from learning_images.sandbox.render import render\n"
        "from learning_images_infra import component\n"
        f"assert component.__file__.startswith({str(installed)!r}), component.__file__\n"
        "import learning_images.sandbox.render as r\n"
        f"assert r.__file__.startswith({str(installed)!r}), r.__file__\n"
        f"graph = render({{}}, stack='example', program={str(program / '__main__.py')!r})\n"
        "print(json.dumps(sorted(r.type for r in graph if r.type.endswith('LearningImageStore'))))\n"
    )
    # No checkout anywhere: the render raised ProjectNotFoundError at import when none was found.
    env = {k: v for k, v in os.environ.items() if k != "LEARNING_IMAGES_PROJECT"} | {"PYTHONPATH": str(installed)}
    result = subprocess.run(  # noqa: S603 (fixed argv)
        [sys.executable, "-c", probe], cwd=program, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == '["learning-images:index:LearningImageStore"]', result.stdout


@pytest.mark.parametrize("command", ["register", "reconcile"])
def test_the_learning_store_commands_explain_their_extra_when_it_is_missing(command: str) -> None:
    """A client install has no SQLAlchemy: --help works, a run says which extra it needs (exit 2)."""
    probe = (
        "import sys\n"
        "sys.modules['sqlalchemy'] = None; sys.modules['alembic'] = None\n"
        f"from learning_images.ops import {command}\n"
        f"sys.exit({command}.main(['--outputs', 'missing.json']))\n"
    )
    result = subprocess.run(  # noqa: S603 (fixed argv)
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2 and "[registry] extra" in result.stderr, result.stderr[-1000:]
