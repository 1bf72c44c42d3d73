"""A throwaway PostgreSQL server for the tests: the machine's own binaries (Debian's ``postgresql``
package: ``initdb``, ``pg_ctl``), a data directory in a temporary folder, TCP on 127.0.0.1.

Written here rather than taken from pytest-postgresql because the tests run as root on CI and
PostgreSQL refuses to run as root: the server runs as the ``postgres`` user the package creates.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from tests.support.ops import free_port


def binaries() -> Path:
    """Where ``pg_ctl`` is: on PATH, else the newest of Debian's ``/usr/lib/postgresql/<n>/bin``."""
    if found := shutil.which("pg_ctl"):
        return Path(found).parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
    if not versions:
        raise RuntimeError("PostgreSQL's server binaries are missing: `apt-get install postgresql` (.ci/run does)")
    return versions[-1].parent


def _as_owner() -> tuple[Callable[[], None] | None, int | None]:
    """Run the server as ``postgres`` when this process is root (PostgreSQL refuses root)."""
    if os.geteuid() != 0:
        return None, None
    owner = pwd.getpwnam("postgres")

    def demote() -> None:
        os.setgid(owner.pw_gid)
        os.setuid(owner.pw_uid)

    return demote, owner.pw_uid


@dataclass
class Server:
    bin: Path
    data: Path
    port: int
    demote: Callable[[], None] | None

    def _pg_ctl(self, *args: str) -> None:
        subprocess.run(  # noqa: S603 (fixed argv)
            [str(self.bin / "pg_ctl"), "-D", str(self.data), *args],
            check=True,
            capture_output=True,
            preexec_fn=self.demote,
            timeout=60,
        )

    def start(self) -> None:
        options = f"-p {self.port} -h 127.0.0.1 -k {self.data} -F"
        self._pg_ctl("-o", options, "-l", str(self.data / "server.log"), "-w", "start")

    def stop(self) -> None:
        self._pg_ctl("-m", "immediate", "-w", "stop")

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A database of its own for one test; its SQLAlchemy URL."""
        name = f"test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextmanager
def postgres_server() -> Iterator[Server]:
    demote, uid = _as_owner()
    # Not pytest's tmp_path: its parents are private to root, and the server runs as postgres.
    root = Path(tempfile.mkdtemp(prefix="learning-images-pg-"))
    data = root / "data"
    data.mkdir()
    if uid is not None:
        os.chown(root, uid, -1)
        os.chown(data, uid, -1)
    server = Server(binaries(), data, free_port(), demote)
    try:
        subprocess.run(  # noqa: S603 (fixed argv)
            [str(server.bin / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
            check=True,
            capture_output=True,
            preexec_fn=demote,
            timeout=120,
        )
        server.start()
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped (a test stops it on purpose)
            server.stop()
        shutil.rmtree(root, ignore_errors=True)
