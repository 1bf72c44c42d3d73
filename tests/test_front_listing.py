"""The enforcing local S3 lists a page from the keys it can reach (as S3 does from its index),
and answers exactly what moto answers from the whole bucket: same versions, same order, same
markers, same latest flags."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.s3.models import S3Backend, s3_backends

from learning_images.sandbox.front import listing_what_is_reachable

BUCKET = "listing-bucket"
KEYS = [f"{prefix}{n:02d}.jpg" for prefix in ("a-", "ab-", "b-") for n in range(4)]


@pytest.fixture(scope="module")
def backend() -> Iterator[Any]:
    """A versioned bucket: keys with one, two and three versions, and delete markers."""
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        for number, key in enumerate(KEYS):
            for _ in range(1 + number % 3):
                s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
            if number % 4 == 1:
                s3.delete_object(Bucket=BUCKET, Key=key)
        yield s3_backends[DEFAULT_ACCOUNT_ID]["global"]


def page(answer: Any) -> tuple[Any, ...]:
    versions, prefixes, markers, next_key, next_version = answer
    return (
        [(v.name, v.version_id, v.is_latest) for v in versions],
        prefixes,
        [(m.name, m.version_id, m.is_latest) for m in markers],
        next_key,
        next_version,
    )


def pages(listing: Any, backend: Any, **request: Any) -> list[tuple[Any, ...]]:
    """Every page of one listing, following the markers each page returns."""
    answered, key_marker, version_marker = [], None, None
    for _ in range(50):
        answer = page(listing(backend, BUCKET, key_marker=key_marker, version_id_marker=version_marker, **request))
        answered.append(answer)
        key_marker, version_marker = answer[3], answer[4]
        if key_marker is None:
            return answered
    raise AssertionError(f"the listing of {BUCKET} {request} never ended")


@pytest.mark.parametrize(
    ("prefix", "max_keys", "delimiter"),
    list(itertools.product(["", "a", "ab-", "a-01.jpg", "c"], [1, 2, 3, 5, 1000], [None, "-"])),
)
def test_the_local_s3_lists_a_page_as_moto_does_from_the_whole_bucket(
    backend: Any, prefix: str, max_keys: int, delimiter: str | None
) -> None:
    request = {"prefix": prefix, "max_keys": max_keys, "delimiter": delimiter}
    whole = pages(S3Backend.list_object_versions, backend, **request)
    reachable = pages(listing_what_is_reachable(S3Backend.list_object_versions), backend, **request)
    assert reachable == whole, f"ListObjectVersions of {BUCKET} {request}: the front's page differs from moto's"
