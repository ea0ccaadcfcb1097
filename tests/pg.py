"""A real PostgreSQL for the test run: a throwaway cluster the tests start themselves (not a test file).

The project's rule is that storage tests run on real databases, so PostgreSQL-only code paths (row
locks, advisory locks, ``ON CONFLICT``) are exercised against the real server, not a mock. This module
finds the server binaries (``PATH``, then ``/usr/lib/postgresql/*/bin`` as Debian installs them), runs
``initdb`` into a temporary directory and starts the server on 127.0.0.1 on a free port, with its unix
socket inside that directory too. PostgreSQL refuses to run as root, so under root the server runs as
the ``postgres`` user (created by Debian's package) or ``nobody``.

Environment:
  ``LINLI_TEST_PG_URL``  use this existing server instead (any ``postgresql://`` URL of a role that may
                         ``CREATE DATABASE``); each test gets a database of its own there, dropped after.
  ``LINLI_TEST_PG_BINDIR`` look for ``initdb``/``pg_ctl``/``postgres`` only there (pick a version).
  ``LINLI_TEST_PG=skip`` do not look for PostgreSQL at all (the PostgreSQL tests skip).

Whatever goes wrong is raised as :class:`PgUnavailable` with a reason fit for ``pytest.skip``.
"""

import contextlib
import glob
import importlib.util
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url

ENV_URL = "LINLI_TEST_PG_URL"
ENV_SWITCH = "LINLI_TEST_PG"
ENV_BINDIR = "LINLI_TEST_PG_BINDIR"
SERVER_BINARIES = ("initdb", "pg_ctl", "postgres")
DEFAULT_DIRS = ("/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin", "/usr/local/pgsql/bin")
ASYNC_DRIVER = "postgresql+asyncpg"
INSTALL_HINT = "install the server (Debian: bash .ci/install-postgres.sh) or set LINLI_TEST_PG_URL"
# Durability is pointless for a cluster deleted after the run; these make it start and commit faster.
_SERVER_OPTIONS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=60")
_UNPRIVILEGED_USERS = ("postgres", "nobody")


class PgUnavailable(RuntimeError):
    """No PostgreSQL for this run; ``str(exc)`` says why, for the skip message."""


@dataclass(frozen=True)
class PgServer:
    """A running server: ``admin_url`` points at its maintenance database (async driver)."""

    admin_url: URL

    def database_url(self, name: str) -> URL:
        return self.admin_url.set(database=name)


# --- finding binaries -------------------------------------------------------------------------------


def _version_key(directory: str) -> tuple[int, ...]:
    """``/usr/lib/postgresql/16/bin`` before ``.../15/bin``: newest major version first."""
    return tuple(int(n) for n in re.findall(r"\d+", directory)) or (0,)


def find_server_bindir(path: str | None = None, patterns: Sequence[str] | None = None) -> Path | None:
    """The first directory holding ``initdb``, ``pg_ctl`` and ``postgres`` together, or None.

    ``LINLI_TEST_PG_BINDIR`` alone if set; else ``PATH`` first, so a developer can pick a version, then
    the distributions' layouts, newest first (Debian keeps them off ``PATH``, in
    ``/usr/lib/postgresql/<major>/bin``).
    """
    if path is None and patterns is None and os.environ.get(ENV_BINDIR):
        path, patterns = os.environ[ENV_BINDIR], ()
    search = os.environ.get("PATH", "") if path is None else path
    candidates = [d for d in search.split(os.pathsep) if d]
    for pattern in DEFAULT_DIRS if patterns is None else patterns:
        candidates += sorted(glob.glob(pattern), key=_version_key, reverse=True)
    for directory in map(Path, candidates):
        if all(os.access(directory / name, os.X_OK) for name in SERVER_BINARIES):
            return directory
    return None


def missing_drivers() -> list[str]:
    """Python drivers the storage layer needs for PostgreSQL that are not installed."""
    return [pkg for mod, pkg in (("asyncpg", "asyncpg"), ("psycopg", "psycopg[binary]")) if not _has(mod)]


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


# --- running as someone who is not root -------------------------------------------------------------


def _server_account() -> pwd.struct_passwd | None:
    """Who runs the server: ourselves unless we are root, which PostgreSQL refuses."""
    if os.geteuid() != 0:
        return None
    for name in _UNPRIVILEGED_USERS:
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise PgUnavailable(
        "running as root and there is no 'postgres' or 'nobody' user to run PostgreSQL as "
        "(it refuses to run as root)"
    )


def _run(cmd: Sequence[str], account: pwd.struct_passwd | None, timeout: float) -> None:
    """Run one server tool (as ``account`` when given); failures become PgUnavailable with its output."""
    user = {} if account is None else {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
    if account is not None:
        env.update(HOME=tempfile.gettempdir(), USER=account.pw_name, LOGNAME=account.pw_name)
    try:
        proc = subprocess.run(
            list(cmd), capture_output=True, text=True, timeout=timeout, env=env, check=False, **user
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PgUnavailable(f"{Path(cmd[0]).name} failed: {exc}") from exc
    if proc.returncode != 0:
        output = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise PgUnavailable(f"{Path(cmd[0]).name} exited {proc.returncode}: {' | '.join(output)}")


def free_port() -> int:
    """A local TCP port free now (another process may take it before the caller binds it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tail(path: Path, lines: int = 5) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return "(no server log)"


# --- the throwaway cluster --------------------------------------------------------------------------


@dataclass
class OwnCluster:
    """A throwaway cluster a test may stop and start again, on the same port (a PostgreSQL restart)."""

    server: PgServer
    bindir: Path
    data: Path
    log: Path
    options: str
    account: pwd.struct_passwd | None

    @property
    def port(self) -> int:
        return int(self.server.admin_url.port or 0)

    def stop(self, mode: str = "fast") -> None:
        """``pg_ctl stop``: ``fast`` ends every session (rolling back what they had open), as a restart does."""
        _run([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"], self.account, 60)

    def start(self) -> None:
        """Start it again on the same port; raises PgUnavailable (with the server log) if it will not."""
        pg_ctl = [str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60"]
        try:
            _run([*pg_ctl, "-o", self.options, "start"], self.account, timeout=90)
        except PgUnavailable as exc:
            raise PgUnavailable(f"{exc}; server log: {_tail(self.log)}") from exc


@contextlib.contextmanager
def own_cluster(bindir: Path | None = None, attempts: int = 3) -> Iterator[OwnCluster]:
    """initdb + start on 127.0.0.1:<free port>; stopped and deleted on exit, whatever happened (also when the test
    left it stopped)."""
    bindir = bindir or find_server_bindir()
    if bindir is None:
        where = os.environ.get(ENV_BINDIR) or f"PATH or {', '.join(DEFAULT_DIRS)}"
        raise PgUnavailable(
            f"no PostgreSQL server binaries ({', '.join(SERVER_BINARIES)}) in {where}; {INSTALL_HINT}"
        )
    account = _server_account()
    # Not pytest's tmp_path: that lives under a 0700 root directory the server's user cannot enter.
    base = Path(tempfile.mkdtemp(prefix="linli-pg-"))
    data, sockets, log = base / "data", base / "sock", base / "server.log"
    password = secrets.token_hex(16)
    started = False
    try:
        sockets.mkdir()
        pwfile = base / "pw"
        pwfile.write_text(password + "\n")
        if account is not None:
            for path in (base, sockets, pwfile):
                os.chown(path, account.pw_uid, account.pw_gid)
        initdb = [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", f"--pwfile={pwfile}"]
        initdb += ["--auth=scram-sha-256", "--encoding=UTF8", "--no-locale", "--no-sync"]
        _run(initdb, account, timeout=120)
        pwfile.unlink()
        for attempt in range(attempts):
            port = free_port()  # another process may grab it before the server does: then try again
            options = " ".join([f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets}",
                                *(f"-c {o}" for o in _SERVER_OPTIONS)])
            url = URL.create(ASYNC_DRIVER, "postgres", password, "127.0.0.1", port, "postgres")
            cluster = OwnCluster(PgServer(url), bindir, data, log, options, account)
            try:
                cluster.start()
            except PgUnavailable:
                if attempt == attempts - 1:
                    raise
                continue
            started = True
            break
        yield cluster
    finally:
        if started:
            with contextlib.suppress(PgUnavailable):  # already stopped by the test: pg_ctl says so, and that is fine
                _run([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], account, 60)
        shutil.rmtree(base, ignore_errors=True)


@contextlib.contextmanager
def throwaway_cluster(bindir: Path | None = None, attempts: int = 3) -> Iterator[PgServer]:
    """initdb + start on 127.0.0.1:<free port>; stopped and deleted on exit, whatever happened."""
    with own_cluster(bindir, attempts) as cluster:
        yield cluster.server


def restartable_cluster() -> contextlib.AbstractContextManager[OwnCluster]:
    """A cluster of the test's own (never ``LINLI_TEST_PG_URL``'s server, which it must not restart); raises
    PgUnavailable as :func:`postgres_server` does."""
    if os.environ.get(ENV_SWITCH, "").lower() in {"0", "off", "no", "skip"}:
        raise PgUnavailable(f"{ENV_SWITCH}={os.environ[ENV_SWITCH]} turns the PostgreSQL tests off")
    missing = missing_drivers()
    if missing:
        raise PgUnavailable(f"Python drivers missing: pip install {' '.join(missing)}")
    return own_cluster()


def _external(url: str) -> PgServer:
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise PgUnavailable(f"{ENV_URL} is not a postgresql:// URL: {parsed!r}")
    return PgServer(parsed.set(drivername=ASYNC_DRIVER))


@contextlib.contextmanager
def postgres_server() -> Iterator[PgServer]:
    """The server for this test session: ``LINLI_TEST_PG_URL`` if set, else a throwaway cluster."""
    if os.environ.get(ENV_SWITCH, "").lower() in {"0", "off", "no", "skip"}:
        raise PgUnavailable(f"{ENV_SWITCH}={os.environ[ENV_SWITCH]} turns the PostgreSQL tests off")
    missing = missing_drivers()
    if missing:
        raise PgUnavailable(f"Python drivers missing: pip install {' '.join(missing)}")
    if os.environ.get(ENV_URL):
        yield _external(os.environ[ENV_URL])
        return
    with throwaway_cluster() as server:
        yield server


# --- one database per test --------------------------------------------------------------------------


async def create_database(server: PgServer) -> URL:
    """A new empty database on the server, so tests never see each other's rows."""
    import asyncpg

    name = f"linli_test_{secrets.token_hex(6)}"
    conn = await asyncpg.connect(_dsn(server.admin_url))
    try:
        await conn.execute(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0')
    except asyncpg.PostgresError as exc:
        raise PgUnavailable(f"cannot CREATE DATABASE on {server.admin_url!r}: {exc}") from exc
    finally:
        await conn.close()
    return server.database_url(name)


async def drop_database(server: PgServer, url: URL) -> None:
    """Drop a database made by :func:`create_database` (FORCE: a leaked connection must not block it)."""
    import asyncpg

    conn = await asyncpg.connect(_dsn(server.admin_url))
    try:
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
        except asyncpg.PostgresSyntaxError:  # servers before 13 have no FORCE
            await conn.execute(f'DROP DATABASE IF EXISTS "{url.database}"')
    finally:
        await conn.close()


def _dsn(url: URL) -> str:
    """A libpq-style DSN asyncpg accepts (it does not know SQLAlchemy's ``+driver`` suffix)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


__all__ = [
    "ENV_BINDIR",
    "ENV_SWITCH",
    "ENV_URL",
    "OwnCluster",
    "PgServer",
    "PgUnavailable",
    "create_database",
    "drop_database",
    "find_server_bindir",
    "free_port",
    "missing_drivers",
    "own_cluster",
    "postgres_server",
    "restartable_cluster",
    "throwaway_cluster",
]
