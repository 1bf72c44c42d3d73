"""The CI workflows: valid for GitHub Actions (actionlint), and shaped as the contract needs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from learning_images.sandbox.render import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
ACTIONLINT = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which("actionlint")


def load(name: str) -> dict[str, Any]:
    workflow: dict[str, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    return workflow


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job["steps"])


def uses(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in steps(job) if str(s.get("uses", "")).startswith(action)]


def lint(*paths: Path) -> subprocess.CompletedProcess[str]:
    assert ACTIONLINT, "actionlint is installed by requirements-dev.txt"
    return subprocess.run([ACTIONLINT, "-no-color", *map(str, paths)], capture_output=True, text=True, check=False)  # noqa: S603


def test_workflows_pass_actionlint() -> None:
    result = lint(*sorted(WORKFLOWS.glob("*.yml")))
    assert result.returncode == 0, f"actionlint found problems:\n{result.stdout}{result.stderr}"


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n"
    )
    assert lint(broken).returncode != 0, "the linter must fail on an invalid workflow, or its pass proves nothing"


def test_pull_requests_run_the_test_command() -> None:
    test = load("pull-request.yml")["jobs"]["test"]
    assert any(s.get("run") == "make test" for s in steps(test)), "PRs run the README's test command"


def test_pull_requests_preview_every_stack_with_the_policy_pack() -> None:
    preview = load("pull-request.yml")["jobs"]["preview"]
    assert preview["strategy"]["matrix"]["stack"] == ["dev", "prod", "r2"]
    (pulumi,) = uses(preview, "pulumi/actions")
    assert pulumi["with"]["command"] == "preview" and pulumi["with"]["policyPacks"] == "policies"
    assert pulumi["with"]["comment-on-pr"] is True, "each stack's preview is commented on the PR"
    assert "config.prod.json" in pulumi["with"]["policyPackConfigs"], "prod's preview requires replication"


@pytest.mark.parametrize("workflow", ["pull-request.yml", "deploy.yml"])
def test_cloud_credentials_come_from_oidc_never_stored_keys(workflow: str) -> None:
    text = (WORKFLOWS / workflow).read_text()
    for stored in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "PULUMI_ACCESS_TOKEN"):
        assert stored not in text, f"{workflow} uses a long-lived credential ({stored}): use OIDC"
    for name, job in load(workflow)["jobs"].items():
        if uses(job, "aws-actions/configure-aws-credentials"):
            assert job["permissions"]["id-token"] == "write", f"{workflow}:{name} needs id-token: write for OIDC"


def test_merge_deploys_dev_then_verifies_it() -> None:
    dev = load("deploy.yml")["jobs"]["dev"]
    (up,) = uses(dev, "pulumi/actions")
    assert up["with"]["command"] == "up" and up["with"]["stack-name"].endswith("/dev")
    runs = " ".join(str(s.get("run", "")) for s in steps(dev))
    assert "learning_images.verify.verify_contract" in runs and "--junit" in runs, (
        "dev is verified and the JUnit report kept"
    )
    assert uses(dev, "mikepenz/action-junit-report"), "the verification report is published"


def test_prod_waits_for_approval_and_verifies_replication() -> None:
    prod = load("deploy.yml")["jobs"]["prod"]
    assert prod["needs"] == "dev" and prod["environment"] == "production", "prod runs after dev, behind approval"
    (up,) = uses(prod, "pulumi/actions")
    assert up["with"]["policyPackConfigs"] == "policies/config.prod.json"
    runs = " ".join(str(s.get("run", "")) for s in steps(prod))
    assert "--wait-replication" in runs, "prod's verification waits for the replica"
