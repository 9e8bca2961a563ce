"""A PostgreSQL cluster of our own, for zero-setup runs and for the test suite.

Uses the server binaries already on the machine. `initdb` refuses to run as root, so when we are
root only the PostgreSQL binaries run as the `postgres` user; Python itself never changes user.
The cluster listens on a Unix socket only, in a directory no one else can enter.

The app itself connects as APP_ROLE, which owns the app database's `public` schema and what is
in it, and nothing more: not a superuser, so a hole in a query cannot run programs on the host
(COPY ... TO PROGRAM), read its files or touch other databases. Only setting the cluster up uses
the superuser.
"""

from __future__ import annotations

import glob
import hashlib
import os
import pwd
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

INSTALL_HINT = (
    "No PostgreSQL server binaries (initdb, pg_ctl) were found. Install them, e.g. "
    "`apt-get install postgresql` on Debian/Ubuntu or `brew install postgresql@16` on macOS, "
    "or set DATABASE_URL to a PostgreSQL server you already run."
)

SUPERUSER = "postgres"
APP_ROLE = "truckroll"


class LocalPostgresError(RuntimeError):
    pass


def find_bindir() -> Path:
    """The directory holding initdb/pg_ctl/postgres, newest major version first."""
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        candidate = Path(out.stdout.strip())
        if (candidate / "initdb").exists():
            return candidate
    patterns = [
        "/usr/lib/postgresql/*/bin",
        "/usr/pgsql-*/bin",
        "/opt/homebrew/opt/postgresql@*/bin",
        "/usr/local/opt/postgresql@*/bin",
    ]
    found = [Path(p) for pattern in patterns for p in glob.glob(pattern) if (Path(p) / "initdb").exists()]
    if not found:
        raise LocalPostgresError(INSTALL_HINT)
    return max(found, key=lambda p: _version_key(p))


def _version_key(bindir: Path) -> tuple[int, ...]:
    # The version is in the directory above bin/: "15", "pgsql-16", "postgresql@17".
    digits = "".join(c if c.isdigit() else " " for c in bindir.parent.name).split()
    return tuple(int(d) for d in digits)


def socket_dir_for(data_dir: Path) -> Path:
    # Socket paths are limited to ~107 bytes, so the socket lives in a short, stable path derived
    # from the data directory: a second process finds a cluster the first one started.
    digest = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:12]
    return Path("/tmp") / f"truckroll-{digest}"  # noqa: S108 - private 0700 dir, short on purpose


@dataclass
class LocalPostgres:
    data_dir: Path
    server_options: Sequence[str] = ()
    fast_unsafe: bool = False  # for throw-away test clusters: no fsync anywhere
    bindir: Path = field(default_factory=find_bindir)

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"

    @property
    def socket_dir(self) -> Path:
        return socket_dir_for(self.data_dir)

    @property
    def _run_as(self) -> str | None:
        return SUPERUSER if os.geteuid() == 0 else None

    def dsn(self, database: str = "postgres", *, user: str = SUPERUSER) -> str:
        return f"postgresql://{quote(user)}@/{quote(database)}?host={quote(str(self.socket_dir))}"

    async def prepare_app_database(self, database: str) -> str:
        """Create (or bring into line) the app role and its database; returns the app's DSN."""
        from infra.db import connect  # the pool's codecs are not needed, only its connect

        admin = await connect(self.dsn("postgres"))
        try:
            await admin.execute(_ENSURE_APP_ROLE)
            if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database):
                await admin.execute(f"CREATE DATABASE {_ident(database)}")
            for shared in ("postgres", "template1"):
                await admin.execute(f"REVOKE CONNECT, TEMPORARY ON DATABASE {shared} FROM PUBLIC")
            # The import writes with PostgreSQL's per-row reference checks off and checks them
            # once at the end (dispatch/importing/import_staging_queries.py). Owning the tables already lets
            # the role drop their foreign keys, so this grants nothing it could not do bluntly.
            if await admin.fetchval("SELECT current_setting('server_version_num')::integer >= 150000"):
                await admin.execute(f"GRANT SET ON PARAMETER session_replication_role TO {APP_ROLE}")
        finally:
            await admin.close()
        owner = await connect(self.dsn(database))
        try:
            await owner.execute(
                f"""
                REVOKE ALL ON DATABASE {_ident(database)} FROM PUBLIC;
                GRANT CONNECT, TEMPORARY ON DATABASE {_ident(database)} TO {APP_ROLE};
                ALTER SCHEMA public OWNER TO {APP_ROLE};
                """
            )
            await owner.execute(_HAND_OVER_OBJECTS)
        finally:
            await owner.close()
        return self.dsn(database, user=APP_ROLE)

    def _own(self, path: Path) -> None:
        if self._run_as is None:
            return
        try:
            entry = pwd.getpwnam(self._run_as)
        except KeyError:
            raise LocalPostgresError(
                "Running as root, the local PostgreSQL must run as the 'postgres' user, which does not "
                "exist here. Install PostgreSQL from your distribution's packages, run as a normal user, "
                "or set DATABASE_URL."
            ) from None
        os.chown(path, entry.pw_uid, entry.pw_gid)

    def _check_reachable(self) -> None:
        if self._run_as is None:
            return
        probe = subprocess.run(
            [
                shutil.which("test") or "/usr/bin/test",
                "-w",
                str(self.data_dir),
                "-a",
                "-x",
                str(self.data_dir),
            ],
            user=self._run_as,
            cwd="/",
            check=False,
        )
        if probe.returncode != 0:
            raise LocalPostgresError(
                f"The 'postgres' user cannot enter {self.data_dir}: one of its parent directories is "
                "private. Point TRUCKROLL_DATA_DIR somewhere it can reach (e.g. /var/lib/truckroll)."
            )

    def _run(self, args: Sequence[str], *, quiet: bool = True) -> None:
        result = subprocess.run(
            list(args), user=self._run_as, cwd="/", capture_output=quiet, text=True, check=False
        )
        if result.returncode != 0:
            detail = (result.stderr or result.stdout or "").strip()
            raise LocalPostgresError(f"{Path(args[0]).name} failed: {detail}")

    def is_initialized(self) -> bool:
        return (self.pgdata / "PG_VERSION").exists()

    def initialize(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._own(self.data_dir)
        self._check_reachable()
        if self.is_initialized():
            return
        args = [
            str(self.bindir / "initdb"),
            "-D",
            str(self.pgdata),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        ]
        if self.fast_unsafe:
            args.append("--no-sync")
        self._run(args)

    def is_running(self) -> bool:
        if not self.is_initialized():
            return False
        result = subprocess.run(
            [str(self.bindir / "pg_ctl"), "status", "-D", str(self.pgdata)],
            user=self._run_as,
            cwd="/",
            capture_output=True,
            check=False,
        )
        return result.returncode == 0

    def start(self) -> None:
        """Start the cluster (initializing it first if needed). Idempotent."""
        self.initialize()
        if self.is_running():
            return
        self.socket_dir.mkdir(mode=0o700, exist_ok=True)
        self._own(self.socket_dir)
        options = [
            "-c",
            "listen_addresses=",
            "-c",
            f"unix_socket_directories={self.socket_dir}",
            "-c",
            "max_connections=200",
        ]
        if self.fast_unsafe:
            options += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        options += list(self.server_options)
        log = self.data_dir / "postgres.log"
        self._run(
            [
                str(self.bindir / "pg_ctl"),
                "start",
                "-w",
                "-t",
                "60",
                "-D",
                str(self.pgdata),
                "-l",
                str(log),
                "-o",
                " ".join(_quote_option(o) for o in options),
            ]
        )

    def stop(self) -> None:
        if self.is_running():
            self._run([str(self.bindir / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(self.pgdata)])


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


_ENSURE_APP_ROLE = f"""
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
        CREATE ROLE {APP_ROLE} LOGIN;
    END IF;
END
$$;
ALTER ROLE {APP_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
"""

# A database made before the app role existed holds objects the superuser created: the app role
# takes them over (a table's indexes and the sequences it owns follow it).
_HAND_OVER_OBJECTS = f"""
DO $$
DECLARE
    item record;
BEGIN
    FOR item IN
        SELECT c.oid::regclass AS name FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relowner <> '{APP_ROLE}'::regrole
          AND (c.relkind IN ('r', 'p', 'v', 'm', 'f')
               OR c.relkind = 'S' AND NOT EXISTS (
                   SELECT 1 FROM pg_depend d
                   WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i')
               ))
    LOOP
        EXECUTE format('ALTER TABLE %s OWNER TO {APP_ROLE}', item.name);
    END LOOP;
    FOR item IN
        SELECT p.oid::regprocedure AS name FROM pg_proc p
        WHERE p.pronamespace = 'public'::regnamespace AND p.proowner <> '{APP_ROLE}'::regrole
    LOOP
        EXECUTE format('ALTER ROUTINE %s OWNER TO {APP_ROLE}', item.name);
    END LOOP;
    FOR item IN
        SELECT t.oid::regtype AS name FROM pg_type t
        WHERE t.typnamespace = 'public'::regnamespace AND t.typowner <> '{APP_ROLE}'::regrole
          AND t.typtype IN ('e', 'd', 'r', 'm') AND t.typelem = 0 AND t.typrelid = 0
    LOOP
        EXECUTE format('ALTER TYPE %s OWNER TO {APP_ROLE}', item.name);
    END LOOP;
END
$$;
"""


def _quote_option(option: str) -> str:
    # pg_ctl -o passes options through a shell-like split.
    return "'" + option.replace("'", "'\\''") + "'" if (" " in option or option == "") else option
