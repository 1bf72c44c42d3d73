"""The backend table is the one place a backend is named: what it is (``learning_images.backends``)
and how it is built (its store module). Everything else reads the row."""

from __future__ import annotations

import ast
import importlib
import typing
from pathlib import Path

from learning_images import backends
from learning_images.backends import BACKENDS
from tests.support.stack import ROOT

#: Modules that are one backend's own (its store package, its stand-in, its side of the contract),
#: the table itself, and what still names backends by design, each with why.
ALLOWED = {
    "scripts/learning_images/backends.py": "the table",
    "scripts/learning_images/gcs.py": "Cloud Storage's permissions: the gcs backend's own module",
    "scripts/learning_images/r2.py": "R2's token permission groups: the r2 backend's own module",
    "scripts/learning_images/gateway.py": "the R2 upload gateway's side of the contract",
    "scripts/learning_images/sandbox/gateway.py": "the R2 upload gateway in workerd, with Miniflare's local R2",
    "scripts/learning_images/sandbox/r2.py": "the r2 stand-in",
    "scripts/learning_images/sandbox/gcs.py": "the gcs stand-in",
    "scripts/learning_images/sandbox/gcs_iam.py": "the gcs grants' offline evaluation",
    "scripts/learning_images/sandbox/spaces.py": "the spaces stand-in",
    "scripts/learning_images/sandbox/b2.py": "the b2 stand-in",
    "scripts/learning_images/sandbox/minio.py": "the minio stand-in",
    "scripts/learning_images/sandbox/front.py": "the front's MinIO semantics (its questions, for the minio stand-in)",
    "scripts/learning_images/rules/model.py": "Rule.held maps the rows' per-backend columns to backends",
    "scripts/learning_images/rules/catalogue.py": "the rows, written column by column per backend (open work)",
    "scripts/learning_images/sandbox/render.py": "`aws` there is the AWS partition, not the backend",
    "scripts/learning_images/sandbox/s3_authorization.py": "`aws` there is the AWS partition, not the backend",
    "scripts/learning_images/sandbox/access_analyzer.py": "AWS's own analyser",
    "infra/learning_images_infra/component.py": "an example in its docstring",
}
BACKEND_PACKAGES = tuple(f"infra/learning_images_infra/{name}/" for name in BACKENDS)


def _literal_strings(tree: ast.AST) -> set[int]:
    """ids of the string constants inside ``Literal[...]`` (a type's values, checked below)."""
    inside = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and getattr(node.value, "id", getattr(node.value, "attr", "")) == "Literal":
            inside |= {id(n) for n in ast.walk(node.slice)}
    return inside


def test_no_module_outside_the_table_names_a_backend() -> None:
    named = []
    sources = [*sorted((ROOT / "scripts" / "learning_images").rglob("*.py")), *sorted((ROOT / "infra").rglob("*.py"))]
    for path in sources:
        relative = str(path.relative_to(ROOT))
        if relative in ALLOWED or relative.startswith(BACKEND_PACKAGES) or path.name == "component_types.py":
            continue
        tree = ast.parse(path.read_text())
        literal = _literal_strings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and node.value in BACKENDS and id(node) not in literal:
                named.append(f"{relative}:{node.lineno}: {node.value!r}")
    assert not named, f"a backend named outside the backend table (read its row instead): {named}"


def test_the_types_that_list_backends_list_exactly_the_tables() -> None:
    from learning_images.outputs import StackOutputs  # noqa: PLC0415
    from learning_images_infra.settings import Settings  # noqa: PLC0415

    for model in (Settings, StackOutputs):
        listed = typing.get_args(model.model_fields["backend"].annotation)
        assert list(listed) == list(BACKENDS), f"{model.__name__}.backend lists {listed}, the table {list(BACKENDS)}"


def test_every_row_names_a_store_module_with_its_store() -> None:
    for row in BACKENDS.values():
        module = importlib.import_module(row.store_module)
        assert callable(getattr(module, "STORE", None)), f"{row.store_module}: no STORE for the {row.name} row"


def test_every_rows_settings_are_settings() -> None:
    from learning_images_infra.settings import Settings  # noqa: PLC0415

    fields = set(Settings.model_fields)
    for row in BACKENDS.values():
        named = {*row.required, *row.own_settings, *row.lacks, *row.fixed, *row.erasure_lag}
        assert named <= fields, f"the {row.name} row names settings that do not exist: {sorted(named - fields)}"


def test_every_stand_in_provides_what_the_sandbox_reads() -> None:
    for row in BACKENDS.values():
        if row.stand_in is None:
            continue
        module = importlib.import_module(row.stand_in)
        assert callable(module.shipped_store) and module.STANDS_IN, f"{row.stand_in}: shipped_store and STANDS_IN"


def test_the_default_backend_is_the_first_row() -> None:
    assert next(iter(BACKENDS)) == backends.DEFAULT and backends.backend(None) is BACKENDS[backends.DEFAULT]


def test_the_backend_table_lives_beside_the_docs_that_describe_it() -> None:
    assert (ROOT / "scripts" / "learning_images" / "backends.py").name in Path(
        ROOT / "docs" / "development.md"
    ).read_text()


def test_the_client_package_never_imports_the_program() -> None:
    """The sandbox's R2 stand-in imported learning_images_infra.r2.access: a client needing the program's SDKs."""
    found = []
    for path in sorted((ROOT / "scripts" / "learning_images").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            found += [
                f"{path.relative_to(ROOT)}: {name}" for name in names if name.split(".")[0] == "learning_images_infra"
            ]
    assert not found, f"the client package imports the program: {found}"
