"""Reading the selected images with the training tier's read-only credential, each checked against
its row before it is handed out: its size, its SHA-256 and its metadata must be what was
registered. An image that differs is named and skipped, never used; an image whose row was
erased since the epoch began is not returned, and its cached copy is evicted.

Reads run side by side (``workers``): each is a round trip to the store, and training reads many.
Clients and database connections are made per process, so a ``DataLoader``'s worker processes
each open their own (boto3 clients and database connections must not cross a fork).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from learning_images import contract
from learning_images.concurrency import bounded_map
from learning_images.outputs import StackOutputs
from learning_images.registry.database import DatabaseError
from learning_images.registry.models import LearningSample
from learning_images.training.cache import Cache
from learning_images.training.selection import Sample

#: Reads in flight at once.
WORKERS = 16


class UnavailableError(Exception):
    """An image that is not handed out: it differs from its row, is erased, or cannot be read."""

    def __init__(self, sample: Sample, why: str) -> None:
        super().__init__(f"{sample.image_reference}: {why}")
        self.sample, self.why = sample, why


@dataclass
class Counts:
    downloaded: int = 0
    cached: int = 0
    skipped: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, *, downloaded: int = 0, cached: int = 0, skipped: str | None = None) -> None:
        with self.lock:
            self.downloaded += downloaded
            self.cached += cached
            if skipped:
                self.skipped.append(skipped)


def differences(sample: Sample, data: bytes, metadata: dict[str, str]) -> list[str]:
    """How the fetched image differs from its row (empty: it is what was registered)."""
    found = []
    if len(data) != sample.size_bytes:
        found.append(f"{len(data)} bytes, registered {sample.size_bytes}")
    if sample.content_sha256 and hashlib.sha256(data).hexdigest() != sample.content_sha256:
        found.append("its SHA-256 differs from the registered content_sha256")
    for name, value in sample.fields.items():
        seen = metadata.get(contract.metadata_key(name))
        if seen != value:
            found.append(f"metadata {name} is {seen!r}, registered {value!r}")
    return found


class Reader:
    """Fetch and verify samples of one store (``outputs``), with the training tier's session
    (``session_factory()``, called once per process), rows from ``engine``, through ``cache``."""

    def __init__(
        self,
        outputs: StackOutputs,
        engine: Engine,
        session_factory: Callable[[], Any],
        cache: Cache | None,
        *,
        workers: int = WORKERS,
    ) -> None:
        self.outputs, self.engine, self.cache, self.workers = outputs, engine, cache, workers
        self._session_factory = session_factory
        self._pid: int | None = None
        self._s3: Any = None
        #: One lock per process: ``read_all``'s threads all found no client of this process at
        #: once and each made its own (and disposed the pool the others were using). Keyed by pid,
        #: so a process forked while a thread held it takes a fresh one.
        self._starting: dict[int, threading.Lock] = {}
        self.counts = Counts()

    def _client(self) -> Any:
        pid = os.getpid()
        if self._pid != pid:  # a new process (a DataLoader worker): its own client and pool
            with self._starting.setdefault(pid, threading.Lock()):
                if self._pid != pid:
                    self.engine.dispose(close=False)
                    self._s3 = self._session_factory()
                    self._pid = pid
        return self._s3

    def erased(self, sample: Sample) -> bool:
        """Whether ``sample``'s row is erased now (one lookup by primary key)."""
        try:
            with self.engine.connect() as connection:
                at = connection.execute(
                    select(LearningSample.erased_at).where(LearningSample.id == sample.id)
                ).scalar_one_or_none()
        except SQLAlchemyError as exc:
            raise DatabaseError(f"the learning store cannot be read ({type(exc).__name__})") from None
        return at is not None

    def _still_held(self, digest: str) -> bool:
        """Whether a row not erased still holds these bytes (a duplicate keeps its cached copy)."""
        with self.engine.connect() as connection:
            count = connection.execute(
                select(func.count())
                .select_from(LearningSample)
                .where(LearningSample.content_sha256 == digest, LearningSample.erased_at.is_(None))
            ).scalar_one()
        return bool(count)

    def read(self, sample: Sample) -> bytes:
        """The image, verified; raises :class:`UnavailableError` naming why it is not handed out."""
        digest = sample.content_sha256
        self._client()  # per-process state before the first query of this process
        if self.erased(sample):
            if self.cache is not None and digest and not self._still_held(digest):
                self.cache.evict(digest)
            raise UnavailableError(sample, "erased since the selection was made")
        if self.cache is not None and digest and (cached := self.cache.get(digest)) is not None:
            self.counts.add(cached=1)
            return cached
        try:
            found = self._client().get_object(Bucket=self.outputs.bucket_name, Key=sample.object_key)
            data: bytes = found["Body"].read()
        except (ClientError, BotoCoreError) as exc:
            raise UnavailableError(sample, f"cannot be read: {exc}") from None
        wrong = differences(sample, data, dict(found.get("Metadata", {})))
        if wrong:
            raise UnavailableError(sample, "; ".join(wrong))
        if self.cache is not None and digest:
            self.cache.put(digest, data)
        self.counts.add(downloaded=1)
        return data

    def read_all(
        self, samples: Iterable[Sample], progress: Callable[[], None] | None = None
    ) -> Iterator[tuple[Sample, bytes]]:
        """Every sample that can be handed out, read ``workers`` at a time, in any order; the others
        are named in ``counts.skipped``."""

        def one(sample: Sample) -> tuple[Sample, bytes | None]:
            try:
                return sample, self.read(sample)
            except UnavailableError as why:
                self.counts.add(skipped=str(why))
                return sample, None
            finally:
                if progress is not None:
                    progress()

        for sample, data in bounded_map(one, samples, self.workers):
            if data is not None:
                yield sample, data
