"""The rule catalogue as tables: docs/rules.md's matrix and the README's summary (``make docs``)."""

from __future__ import annotations

from learning_images.backends import BACKENDS
from learning_images.rules.catalogue import RULES
from learning_images.rules.model import Enforcement, Holding


def _code(values: tuple[str, ...]) -> str:
    return ", ".join(f"`{v}`" for v in values) or "-"


def _test_names(proofs: tuple[str, ...]) -> str:
    """``file::test`` proofs as the README shows them: the test names."""
    return ", ".join(f"`{proof.split('::')[1]}`" for proof in proofs)


def _cell(held: Holding, proven: str = "proven offline by") -> str:
    proofs = _test_names(held.proofs)
    gaps = "; ".join(f"not held: `{check}`: {why}" for check, why in held.gaps.items())
    return (
        f"**{held.enforcement.value}**: {held.how}"
        + (f" ({proven} {proofs})" if proofs else "")
        + (f" ({gaps})" if gaps else "")
    )


def _views() -> list[tuple[str, str, bool]]:
    """Each way a backend can be deployed, as the matrix and the summary show it: (label, backend,
    with the upload gateway). A backend the gateway can front shows both, the gateway first (the
    default)."""
    views = []
    for row in BACKENDS.values():
        if row.gateway_only:
            views += [(f"{row.title} through its upload gateway", row.name, True)]
        elif row.gateway_capable:
            views += [(f"{row.title} with its upload gateway (default)", row.name, True)]
            views += [(f"{row.title} without it", row.name, False)]
        else:
            views += [(row.title, row.name, False)]
    return views


def markdown_table() -> str:
    """docs/rules.md's matrix: per rule, how each backend holds it, what proves it and what covers
    each gap; on AWS also the guards and lifecycle rules that hold it and what only a live run proves.
    A backend the gateway may front shows the gateway's column beside its own; one the gateway
    always fronts shows one, with what covers each gap."""
    header = ["contract rule", "AWS guards (Sids) and lifecycle rules", "only a live AWS run proves"]
    for label, backend, gateway in _views():
        beside = gateway and not BACKENDS[backend].gateway_only
        header += [label] if beside else [label, f"what covers the {label.removesuffix(' without it')} gap"]
    rows = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in RULES:
        cells = [r.rule, _code(r.sids + r.lifecycle), r.live or "-"]
        for _, backend, gateway in _views():
            held = r.holding(backend, gateway=gateway)
            if gateway and not BACKENDS[backend].gateway_only:
                cells.append(_cell(held, "proven by") if held is not r.held[backend] else "as without it")
            else:
                cells += [_cell(held), held.covered_by or "-"]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def summary_table() -> str:
    """The README's summary: per backend, how many rules it holds each way (the matrix is docs/rules.md)."""
    order = (Enforcement.STORAGE, Enforcement.GATEWAY, Enforcement.CLIENT, Enforcement.NONE)
    rows = ["| backend | " + " | ".join(e.value for e in order) + " |", "|---|" + "---|" * len(order)]
    for label, backend, gateway in _views():
        held = [rule.holding(backend, gateway=gateway).enforcement for rule in RULES]
        rows.append(f"| {label} | " + " | ".join(str(held.count(e)) for e in order) + " |")
    return "\n".join(rows)
