"""A deployed stack's resources keep their URNs: a URN the engine no longer sees is a resource it
deletes (and, under a new URN, creates again), unless an alias carries it over. Each shipped
stack's URNs are recorded in ``tests/urns/<stack>.txt``; ``make urns`` records a change made on
purpose, after reading this test's message."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.stack import ROOT, render, stack_config

RECORDED = Path(__file__).parent / "urns"
STACKS = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in ROOT.glob("Pulumi.*.yaml"))


def recorded(stack: str) -> set[str]:
    return set((RECORDED / f"{stack}.txt").read_text().split())


def test_every_shipped_stack_has_its_urns_recorded() -> None:
    missing = [s for s in STACKS if not (RECORDED / f"{s}.txt").exists()]
    assert not missing, f"stacks {missing}: no tests/urns/<stack>.txt; run `make urns` to record them"


@pytest.mark.parametrize("stack", STACKS)
def test_a_deployed_stacks_urns_are_unchanged(stack: str) -> None:
    graph = render(stack_config(stack), stack=stack)
    aliased = {name for name, aliases in graph.aliases.items() if aliases}
    now = set(graph.urns)
    gone = {u for u in recorded(stack) - now if u.rsplit("::", 1)[1] not in aliased}
    assert not gone, (
        f"stack {stack}: these deployed resources would be deleted and created again (URN changed, no alias): "
        f"{sorted(gone)}"
    )
    added = now - recorded(stack)
    assert not added, f"stack {stack}: new URNs {sorted(added)}; if they are meant, record them with `make urns`"
