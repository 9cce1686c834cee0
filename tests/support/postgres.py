"""A real PostgreSQL server for tests and benchmarks: initdb + pg_ctl on a temporary folder.

The server binaries come from Debian's postgresql-NN package (`make test` installs it where it is
missing); they live in /usr/lib/postgresql/NN/bin, which is not on PATH. PostgreSQL refuses to
run as root, so as root the cluster belongs to the `postgres` user (created by the package) and
every pg_ctl runs through `runuser`. It listens on 127.0.0.1 only, on a free port, and trusts
local connections (the folder is private to the test run and goes away with it).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from generator.launch import free_port

PG_BIN_VARIABLE = "PG_BIN"
START_TIMEOUT = 60


class PostgresUnavailable(RuntimeError):
    pass


def server_binaries() -> Path:
    """The folder holding initdb and pg_ctl: $PG_BIN, else the newest Debian one, else PATH."""
    candidates = [os.environ.get(PG_BIN_VARIABLE, "")]
    candidates += sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True
    )
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(str(Path(initdb).parent))
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").is_file():
            return Path(candidate)
    raise PostgresUnavailable(
        "no PostgreSQL server binaries (initdb, pg_ctl): `make test` installs postgresql-15"
    )


class PostgresServer:
    """One cluster: `start()`, `restart()`, `stop()`; `url` for `contract serve --db`."""

    def __init__(self, folder: Path) -> None:
        self.bin = server_binaries()
        self.folder = folder
        self.data = folder / "data"
        self.log = folder / "postgres.log"
        self.port = free_port()
        self.user = "postgres"
        self._as = self._run_as()
        self._databases = 0

    @staticmethod
    def _run_as() -> list[str]:
        if os.geteuid() != 0:
            return []
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            raise PostgresUnavailable("running as root, and there is no postgres user") from None
        return ["runuser", "-u", "postgres", "--"]

    @property
    def url(self) -> str:
        return self.database_url("postgres")

    def database_url(self, name: str) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{name}"

    def create_database(self) -> str:
        """A new, empty database of its own (tests sharing the cluster do not meet); its URL."""
        import psycopg

        self._databases += 1
        name = f"agentos_{os.getpid()}_{self._databases}"
        with psycopg.connect(self.url, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.database_url(name)

    def _pg(self, tool: str, *args: str) -> None:
        command = [*self._as, str(self.bin / tool), *args]
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=START_TIMEOUT, check=False
        )
        if result.returncode != 0:
            tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
            raise PostgresUnavailable(f"{tool} failed: {' | '.join(tail)}")

    def initdb(self) -> None:
        if self._as:
            shutil.chown(self.folder, user="postgres")
        self._pg(
            "initdb", "-D", str(self.data), "-A", "trust", "-U", self.user,
            "-E", "UTF8", "--no-sync", "--no-instructions",
        )  # fmt: skip

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
            " -c max_connections=300 -c fsync=off -c full_page_writes=off"
        )
        self._pg("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._pg("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self, mode: str = "immediate") -> None:
        """Stop (by default as a crash would: no checkpoint, WAL replayed) and start again."""
        self.stop(mode)
        self.start()


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """A running cluster in a fresh folder (in /tmp: the postgres user must reach it)."""
    folder = Path(tempfile.mkdtemp(prefix="agentos-pg-"))
    try:
        server = PostgresServer(folder)
        server.initdb()
        server.start()
        try:
            yield server
        finally:
            try:
                server.stop("immediate")
            except PostgresUnavailable:
                pass
    finally:
        shutil.rmtree(folder, ignore_errors=True)
