"""Database services the tests start themselves: a PgBouncer, a primary with a streaming replica.

Each runs as the `postgres` OS user when the tests run as root (PgBouncer and initdb refuse
root), in a directory of its own under /tmp, on a free port of 127.0.0.1. Outside CI a missing
binary makes the tests that need it skip; under CI=true it fails them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.server import free_port

PG_BIN = Path("/usr/lib/postgresql")
PGBOUNCER_CANDIDATES = ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer")

# URLs that lead through a PgBouncer started here: a server started on one (tests/server.py)
# is told it sits behind a transaction pooler.
POOLED_URL_PORTS: set[int] = set()


def missing(what: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is required under CI=true (make test installs it)")
    pytest.skip(f"{what} is not installed here")


def pg_tool(name: str) -> str | None:
    found = sorted(PG_BIN.glob(f"*/bin/{name}"))
    return str(found[-1]) if found else shutil.which(name)


def as_postgres(*command: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


def private_dir(prefix: str) -> Path:
    # Not under pytest's private (0700, root-owned) temp tree: the postgres user must reach it.
    root = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    return root


def is_pooled(url: str) -> bool:
    return make_url(url).port in POOLED_URL_PORTS


# --- PgBouncer in transaction pooling mode -------------------------------------------------


def pgbouncer_binary() -> str | None:
    for candidate in PGBOUNCER_CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("pgbouncer")


@contextmanager
def running_pgbouncer(target_url: str, *, pool_size: int = 20) -> Iterator[int]:
    """A PgBouncer (pool_mode = transaction) in front of `target_url`'s server; yields its port."""
    binary = pgbouncer_binary()
    if binary is None:
        missing("pgbouncer")
    assert binary is not None
    target = make_url(target_url)
    root = private_dir("stockroom-pgbouncer-")
    port = free_port()
    user = target.username or "postgres"
    (root / "userlist.txt").write_text(f'"{user}" ""\n')
    (root / "pgbouncer.ini").write_text(
        "\n".join(
            [
                "[databases]",
                f"* = host={target.host or '127.0.0.1'} port={target.port or 5432}",
                "[pgbouncer]",
                "listen_addr = 127.0.0.1",
                f"listen_port = {port}",
                "unix_socket_dir =",
                "auth_type = trust",
                f"auth_file = {root / 'userlist.txt'}",
                "pool_mode = transaction",
                f"default_pool_size = {pool_size}",
                "max_client_conn = 1000",
                # What asyncpg sends at startup beyond the parameters PgBouncer tracks.
                "ignore_startup_parameters = extra_float_digits",
                f"logfile = {root / 'pgbouncer.log'}",
                "",
            ]
        )
    )
    if os.geteuid() == 0:
        for name in ("userlist.txt", "pgbouncer.ini"):
            shutil.chown(root / name, "postgres")
    process = subprocess.Popen(
        as_postgres(binary, str(root / "pgbouncer.ini")),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_for_port(port, process, root / "pgbouncer.log")
        POOLED_URL_PORTS.add(port)
        yield port
    finally:
        POOLED_URL_PORTS.discard(port)
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            err = log.read_text(errors="replace") if log.exists() else ""
            raise RuntimeError(f"pgbouncer exited with {process.returncode}: {err}")
        with suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.1)
    raise RuntimeError("pgbouncer did not listen within 30 s")


# --- A private primary and its streaming replica --------------------------------------------


class Instance:
    """One private PostgreSQL instance (its own data directory and port)."""

    def __init__(self, root: Path, name: str) -> None:
        self.root = root
        self.data = root / name
        self.port = free_port()
        self.log = root / f"{name}.log"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def ctl(self, *args: str) -> None:
        pg_ctl = pg_tool("pg_ctl")
        assert pg_ctl
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        subprocess.run(
            as_postgres(pg_ctl, "-D", str(self.data), "-o", options, "-w", "-t", "60", *args),
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        self.ctl("-l", str(self.log), "start")

    def stop(self) -> None:
        with suppress(subprocess.CalledProcessError):
            self.ctl("-m", "immediate", "stop")


@contextmanager
def running_replica_pair() -> Iterator[tuple[Instance, Instance]]:
    """A private primary (wal_level=replica) and a hot standby streaming from it."""
    initdb, basebackup = pg_tool("initdb"), pg_tool("pg_basebackup")
    if not (initdb and basebackup and pg_tool("pg_ctl")):
        missing("PostgreSQL's server binaries (initdb, pg_ctl, pg_basebackup)")
    assert initdb and basebackup
    root = private_dir("stockroom-replica-")
    primary, replica = Instance(root, "primary"), Instance(root, "replica")
    try:
        subprocess.run(
            as_postgres(initdb, "-D", str(primary.data), "-A", "trust", "-U", "postgres"),
            check=True,
            capture_output=True,
        )
        with (primary.data / "postgresql.conf").open("a") as conf:
            conf.write(
                "wal_level = replica\nmax_wal_senders = 4\nhot_standby = on\n"
                "fsync = off\nshared_buffers = 32MB\nmax_connections = 60\n"
            )
        with (primary.data / "pg_hba.conf").open("a") as hba:
            hba.write("host replication postgres 127.0.0.1/32 trust\n")
        primary.start()
        subprocess.run(
            as_postgres(
                basebackup,
                "-h",
                "127.0.0.1",
                "-p",
                str(primary.port),
                "-U",
                "postgres",
                "-D",
                str(replica.data),
                "-R",
                "-X",
                "stream",
            ),
            check=True,
            capture_output=True,
        )
        replica.start()
        yield primary, replica
    finally:
        replica.stop()
        primary.stop()
        shutil.rmtree(root, ignore_errors=True)
