"""A throwaway PostgreSQL server for the tests and benchmarks: Debian's `postgresql` binaries, `initdb` into a new
temporary folder, listening on 127.0.0.1 at a free port, trusted local logins, removed afterwards.

    with temporary_server() as base:          # postgresql://postgres@127.0.0.1:PORT
        url = new_database(base, "drawings")  # postgresql://postgres@127.0.0.1:PORT/drawings

PostgreSQL refuses to run as root; run as root, the server runs as the `postgres` user that Debian's package creates.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

from tools.pagedriver import free_port

INSTALL_HINT = "install Debian's postgresql package (apt-get install postgresql)"


class NoPostgres(RuntimeError):
    """PostgreSQL's server programs are not installed here."""


def bin_dir() -> Path | None:
    """The folder of initdb, pg_ctl and postgres: on the PATH, else Debian's newest /usr/lib/postgresql/N/bin."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(os.path.realpath(on_path)).parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


def _as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


@contextmanager
def temporary_server(timeout: float = 60):
    """Start a PostgreSQL server of its own; yield its base URL (no database name). Stopped and deleted after."""
    bins = bin_dir()
    if bins is None:
        raise NoPostgres(f"no PostgreSQL server programs (initdb, pg_ctl) found: {INSTALL_HINT}")
    folder = Path(tempfile.mkdtemp(prefix="drawings-postgres-"))
    if os.geteuid() == 0:
        import pwd

        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(folder)
            raise NoPostgres(f"running as root and no `postgres` user to run the server as: {INSTALL_HINT}") from None
        os.chown(folder, user.pw_uid, user.pw_gid)
    data, port = folder / "data", free_port()
    run = lambda cmd: subprocess.run(_as_server_user(cmd), check=True, capture_output=True, text=True,  # noqa: E731
                                     timeout=timeout, cwd=folder)
    started = False
    try:
        run([str(bins / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
        options = (f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off "
                   "-c max_connections=200")
        run([str(bins / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "server.log"), "-w",
             "-t", str(int(timeout)), "start"])
        started = True
        yield f"postgresql://postgres@127.0.0.1:{port}"
    except subprocess.CalledProcessError as e:
        log = (folder / "server.log").read_text()[-2000:] if (folder / "server.log").exists() else ""
        raise RuntimeError(f"{Path(e.cmd[-1] if e.cmd else '?').name} failed: {e.stderr.strip()}\n{log}") from None
    finally:
        if started:
            subprocess.run(_as_server_user([str(bins / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                           capture_output=True, timeout=timeout, cwd=folder)
        shutil.rmtree(folder, ignore_errors=True)


def new_database(base: str, name: str) -> str:
    """Create database `name` on the server at `base`; its URL."""
    import sqlalchemy as sa

    engine = sa.create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))  # a name the caller makes, never a visitor's text
    finally:
        engine.dispose()
    return f"{base}/{name}"
