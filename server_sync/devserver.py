"""A throwaway PostgreSQL (with PostGIS) for tests, benchmarks and trying things out.

PostgreSQL refuses to run as root, so when we are root the server runs as the ``postgres`` user
in a temporary directory it owns. It listens on 127.0.0.1 only, on a free port, with fsync off.

    with DevPostgres() as pg:
        print(pg.url)   # postgresql+psycopg2://postgres@127.0.0.1:PORT/c360
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path

PG_BIN = Path(os.environ.get("C360_PG_BIN", "/usr/lib/postgresql/15/bin"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class DevPostgres:
    def __init__(self, database: str = "c360", port: int | None = None, password: str | None = None,
                 tls: tuple[Path, Path] | None = None) -> None:
        self.database = database
        self.password = password  # None: trust; else SCRAM over TCP with this password
        self.tls = tls  # (certificate chain, private key) in PEM: the server offers TLS with them
        self.port = port or free_port()
        self.root = Path(tempfile.mkdtemp(prefix="c360-pg-"))
        self.data = self.root / "data"
        self._as_postgres = os.geteuid() == 0

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [str(PG_BIN / args[0]), *args[1:]]
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, check=check, timeout=120)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/{self.database}"

    @property
    def dsn(self) -> str:
        pw = f" password={self.password}" if self.password else ""
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={self.database}{pw}"

    def url_for(self, database: str) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str, template: str | None = None) -> str:
        """A new database (copied from ``template`` if given); returns its URL."""
        tpl = f' TEMPLATE "{template}"' if template else ""
        self._psql(f'CREATE DATABASE "{name}"{tpl}')
        return self.url_for(name)

    def psql(self, sql: str, database: str | None = None) -> str:
        return self._psql(sql, database or self.database)

    def start(self) -> DevPostgres:
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        if not self.data.exists():
            auth = ["--auth=trust"]
            if self.password:
                pwfile = self.root / "pwfile"
                pwfile.write_text(self.password)
                if self._as_postgres:
                    shutil.chown(pwfile, "postgres", "postgres")
                auth = ["--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={pwfile}"]
            self._run("initdb", "-D", str(self.data), "-U", "postgres", *auth, "-E", "UTF8", "--no-instructions")
        ssl = ""
        if self.tls:
            for src, name in zip(self.tls, ("server.crt", "server.key"), strict=True):
                dst = self.root / name
                shutil.copyfile(src, dst)
                os.chmod(dst, 0o600)  # the server refuses a key others can read
                if self._as_postgres:
                    shutil.chown(dst, "postgres", "postgres")
            ssl = (f" -c ssl=on -c ssl_cert_file={self.root / 'server.crt'} "
                   f"-c ssl_key_file={self.root / 'server.key'}")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-w", "-o",
                  f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                  "-c synchronous_commit=off -c full_page_writes=off" + ssl, "start")
        if self._psql(f"SELECT 1 FROM pg_database WHERE datname = '{self.database}'").strip() != "1":
            self._psql(f'CREATE DATABASE "{self.database}"')
        return self

    def _psql(self, sql: str, database: str = "postgres") -> str:
        psql = shutil.which("psql") or str(PG_BIN / "psql")
        env = dict(os.environ, PGPASSWORD=self.password or "")
        r = subprocess.run([psql, "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database,
                            "-tAc", sql], capture_output=True, text=True, check=True, timeout=60, env=env)
        return r.stdout

    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def pause(self) -> None:
        """Freeze the server (SIGSTOP to every server process): connections hang, nothing is lost."""
        for pid in self._server_pids():
            os.kill(pid, signal.SIGSTOP)

    def resume(self) -> None:
        for pid in self._server_pids():
            os.kill(pid, signal.SIGCONT)

    def _server_pids(self) -> list[int]:
        main = self.postmaster_pid()
        out = subprocess.run(["pgrep", "-P", str(main)], capture_output=True, text=True).stdout.split()
        return [main, *map(int, out)]

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def close(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> DevPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
