"""A local content-addressed cache of images: a file per SHA-256, so a second epoch downloads
nothing and two rows of the same bytes share one file.

A file is written beside its final place and renamed into it after an fsync: a kill, a full disk
or a read-only directory never leaves a half-written file where a reader finds it. A file is
read back only if its bytes still hash to its name (a disk that corrupted it costs a download).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path


class CacheError(Exception):
    """The cache directory cannot be used; the message names it and the reason."""


class Cache:
    def __init__(self, root: Path) -> None:
        self.root = root
        try:
            root.mkdir(parents=True, exist_ok=True)
            probe = tempfile.NamedTemporaryFile(dir=root, prefix=".probe-", delete=True)  # noqa: SIM115
            probe.close()
        except OSError as exc:
            raise CacheError(f"the cache directory {root} cannot be written: {exc.strerror or exc}") from None

    def path(self, digest: str) -> Path:
        return self.root / digest[:2] / digest

    def get(self, digest: str) -> bytes | None:
        """The cached bytes of ``digest``, or None (not cached, or no longer what its name says)."""
        try:
            data = self.path(digest).read_bytes()
        except FileNotFoundError:
            return None
        if hashlib.sha256(data).hexdigest() != digest:
            self.evict(digest)
            return None
        return data

    def put(self, digest: str, data: bytes) -> Path:
        """Store ``data`` (whose SHA-256 is ``digest``) whole, or raise :class:`CacheError` leaving nothing."""
        final = self.path(digest)
        temporary: str | None = None
        try:
            final.parent.mkdir(exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=final.parent, prefix=f".{digest[:8]}-")
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, final)
            temporary = None
        except OSError as exc:
            raise CacheError(f"the cache directory {self.root} cannot take {digest}: {exc.strerror or exc}") from None
        finally:
            if temporary is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
        return final

    def evict(self, digest: str) -> bool:
        """Remove ``digest``'s file; whether there was one."""
        try:
            self.path(digest).unlink()
        except FileNotFoundError:
            return False
        return True
