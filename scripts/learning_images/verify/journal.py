"""The probe journal and the state lock: what lets a run killed before its clean-up be cleaned by the
next, and keeps two verifiers of one store from removing each other's probes."""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from learning_images.verify.probes import CannotVerifyError


def journal_path(state_dir: Path, bucket: str, endpoint_url: str | None) -> Path:
    """Where a verifier notes each probe key before writing it, per store."""
    return state_dir / f"probes-{store_name(bucket, endpoint_url)}.txt"


def note(journal: Path, key: str) -> None:
    """Durably, before the upload: a SIGKILL after the request must still find the key here."""
    journal.parent.mkdir(parents=True, exist_ok=True)
    with journal.open("a", encoding="utf-8") as handle:
        handle.write(key + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def noted(journal: Path) -> list[str]:
    """The keys a journal names, each once, in the order written."""
    if not journal.exists():
        return []
    return list(dict.fromkeys(line for line in journal.read_text(encoding="utf-8").split() if line))


def store_name(bucket: str, endpoint_url: str | None) -> str:
    """What names one store in the state directory: its bucket, and where another endpoint than the
    backend's own serves it (two sandboxes may hold buckets of one name), a digest of that URL."""
    if endpoint_url is None:
        return bucket
    return f"{bucket}-{hashlib.sha256(endpoint_url.encode()).hexdigest()[:8]}"


@contextmanager
def state_lock(state_dir: Path | None, store: str) -> Iterator[None]:
    """One verifier per store and state directory: two share the probe journal and would remove
    each other's probes mid-run (5 FAILs that were not the store's). An exclusive lock on
    ``<state-dir>/lock-<store>``, held for the run."""
    if state_dir is None:
        yield
        return
    state_dir.mkdir(parents=True, exist_ok=True)
    with (state_dir / f"lock-{store}").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CannotVerifyError(
                f"another verification of this store is running with the state directory {state_dir}; wait for "
                "it, or give this one its own --state-dir"
            ) from None
        yield
