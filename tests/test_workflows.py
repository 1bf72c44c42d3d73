"""The CI workflows: valid for GitHub Actions (actionlint), and shaped as the contract needs."""

from __future__ import annotations

import re
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
    assert "learning_images.verify " in runs and "--junit" in runs, "dev is verified and the JUnit report kept"
    assert uses(dev, "actions/upload-artifact"), "the verification report is kept for the report job"
    report = load("deploy.yml")["jobs"]["report"]
    assert uses(report, "mikepenz/action-junit-report"), "the verification report is published"


def test_prod_waits_for_approval_and_verifies_replication() -> None:
    prod = load("deploy.yml")["jobs"]["prod"]
    assert prod["needs"] == "dev" and prod["environment"] == "production", "prod runs after dev, behind approval"
    (up,) = uses(prod, "pulumi/actions")
    assert up["with"]["policyPackConfigs"] == "policies/config.prod.json"
    runs = " ".join(str(s.get("run", "")) for s in steps(prod))
    assert "--wait-replication" in runs, "prod's verification waits for the replica"


#: Whose actions may run where an OIDC token can be minted: GitHub's own, and the two vendors whose
#: actions exchange the token (AWS, Pulumi).
TOKEN_HOLDERS = ("actions/", "aws-actions/", "pulumi/")


@pytest.mark.parametrize("workflow", ["pull-request.yml", "deploy.yml"])
def test_every_action_is_pinned_by_commit_with_its_tag_named(workflow: str) -> None:
    """A tag can be moved to other code; a commit cannot."""
    lines = [line.strip() for line in (WORKFLOWS / workflow).read_text().splitlines() if "uses:" in line]
    assert lines, f"{workflow}: no action found"
    for line in lines:
        assert re.fullmatch(r"(- )?uses: [\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*", line), (
            f"{workflow}: `{line}` must be pinned by a 40-hex commit with its tag in a comment"
        )


@pytest.mark.parametrize("workflow", ["pull-request.yml", "deploy.yml"])
def test_only_jobs_that_assume_a_role_hold_an_oidc_token_and_they_run_no_third_party_action(workflow: str) -> None:
    for name, job in load(workflow)["jobs"].items():
        holds_token = (job.get("permissions") or {}).get("id-token") == "write"
        assumes = bool(uses(job, "aws-actions/configure-aws-credentials") or uses(job, "pulumi/auth-actions"))
        assert holds_token == assumes, f"{workflow}:{name}: id-token: write only where a role is assumed"
        if holds_token:
            foreign = [s["uses"] for s in steps(job) if "uses" in s and not s["uses"].startswith(TOKEN_HOLDERS)]
            assert not foreign, f"{workflow}:{name} holds an OIDC token and runs third-party actions {foreign}"


def test_the_deploy_workflow_says_which_backends_it_does_not_deploy() -> None:
    text = (WORKFLOWS / "deploy.yml").read_text()
    assert "r2 and gcs stacks have no deploy job" in " ".join(line.lstrip("# ") for line in text.splitlines()), (
        "deploy.yml must say plainly that R2 and GCS are not deployed by it"
    )
