"""The contract as data is self-consistent."""

from __future__ import annotations

import fnmatch
import uuid

import pytest

from learning_images import contract


def test_iam_key_wildcard_accepts_every_contract_key() -> None:
    for _ in range(50):
        key = f"{uuid.uuid4()}.jpg"
        assert contract.OBJECT_KEY_PATTERN.match(key)
        assert fnmatch.fnmatchcase(key, contract.OBJECT_KEY_IAM_WILDCARD), f"the bucket policy would refuse {key}"


@pytest.mark.parametrize(
    "key",
    [
        "paris/0b9f2f8e-6d3c-4b8e-9d2a-3f1c2b7a9e10.jpg",
        "0B9F2F8E-6D3C-4B8E-9D2A-3F1C2B7A9E10.jpg",
        "image.jpg",
        "x.png",
    ],
)
def test_object_reference_refuses_keys_outside_the_contract(key: str) -> None:
    with pytest.raises(ValueError, match="is not a lowercase"):
        contract.object_reference("s3", "bucket", key)


def test_object_reference_uses_the_backend_scheme() -> None:
    key = "0b9f2f8e-6d3c-4b8e-9d2a-3f1c2b7a9e10.jpg"
    assert contract.object_reference("s3", "learning-images", key) == f"s3://learning-images/{key}"


def test_uploads_exclude_unsure() -> None:
    assert contract.Label.UNSURE not in contract.UPLOAD_LABELS
    assert set(contract.UPLOAD_LABELS) | set(contract.EXCLUDED_LABELS) == set(contract.Label)


def test_only_command_centre_may_delete() -> None:
    deleters = [t.name for t in contract.TIERS if any("Delete" in a for a in t.s3_actions)]
    assert deleters == ["command-centre"], f"only the Command Centre deletes (GDPR), not {deleters}"
