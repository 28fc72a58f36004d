"""A throwaway PostgreSQL cluster for the registry tests (real server, never mocked).

``scripts/bootstrap.sh`` installs Debian's ``postgresql`` when absent. The cluster lives in a
temporary folder, listens on a Unix socket only, and is stopped at the end of the session.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def _as_postgres(args: list[str]) -> list[str]:
    if os.geteuid() == 0:  # the server refuses to run as root
        return ["runuser", "-u", "postgres", "--", *args]
    return args


@contextmanager
def throwaway_cluster(port: int = 54329) -> Iterator[str]:
    """Yield a SQLAlchemy URL of a fresh database; the cluster is removed afterwards."""
    initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
    if initdb is None or pg_ctl is None:
        raise RuntimeError("PostgreSQL is not installed: run scripts/bootstrap.sh")
    folder = Path(tempfile.mkdtemp(prefix="vcsdk-pg-"))
    data = folder / "data"
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    try:
        subprocess.run(
            _as_postgres([initdb, "-D", str(data), "-A", "trust", "-U", "postgres"]), check=True, capture_output=True
        )
        options = f"-p {port} -k {folder} -c listen_addresses='' -c fsync=off -c max_connections=50"
        subprocess.run(
            _as_postgres([pg_ctl, "-D", str(data), "-o", options, "-w", "-l", str(folder / "log"), "start"]),
            check=True,
            capture_output=True,
        )
        try:
            yield f"postgresql+psycopg://postgres@/postgres?host={folder}&port={port}"
        finally:
            subprocess.run(
                _as_postgres([pg_ctl, "-D", str(data), "-m", "immediate", "stop"]), capture_output=True, check=False
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
