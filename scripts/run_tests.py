"""Run the test suites: SQLite, then PostgreSQL on a throwaway cluster, then the browser suite.

PostgreSQL runs when its binaries are found (or fails when REQUIRE_POSTGRES=1 and they are not);
the PostgreSQL suite also starts a throwaway redis-server, as a deployment with several workers
has, and the rate limits are counted there (required when REQUIRE_POSTGRES=1 or REQUIRE_REDIS=1); with
both, tests/deploy runs two gunicorn app hosts behind nginx from deploy/ (nginx required when
REQUIRE_POSTGRES=1);
the browser suite runs when /usr/bin/chromium exists (or fails when REQUIRE_BROWSER=1).
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTEST = [sys.executable, "-m", "pytest"]
CHROMIUM = "/usr/bin/chromium"


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes"}


def _pytest(args: list[str], env: dict[str, str] | None = None) -> int:
    code = subprocess.call([*PYTEST, *args], cwd=ROOT, env={**os.environ, **(env or {})})
    if code == 5:
        print("pytest collected no tests: treated as a failure", file=sys.stderr)
    return code


PG_TOOLS = ("initdb", "pg_ctl", "createdb")


def find_pg_bin() -> Path | None:
    """A directory holding initdb, pg_ctl and createdb: Debian's newest version first, then PATH."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True)
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(str(Path(on_path).parent))
    for candidate in candidates:
        if all((Path(candidate) / tool).exists() for tool in PG_TOOLS):
            return Path(candidate)
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ThrowawayCluster:
    """A PostgreSQL cluster in a temporary folder on a free loopback port, removed afterwards."""

    def __init__(self, bin_dir: Path):
        self.bin_dir = bin_dir
        self.dir = Path(tempfile.mkdtemp(prefix="deliberation-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        # initdb refuses to run as root: run the server as the postgres user then.
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_user, *args], check=True, stdout=subprocess.DEVNULL)

    def start(self) -> str:
        if self.as_user:
            shutil.chown(self.dir, user="postgres")
            self.dir.chmod(0o700)
        self._run(str(self.bin_dir / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        options = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=50")
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-o", options, "-l",
                  str(self.dir / "server.log"), "-w", "start")
        self._run(str(self.bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                  "deliberation_test")
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/deliberation_test"

    def stop(self) -> None:
        try:
            subprocess.run([*self.as_user, str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "fast",
                            "-w", "stop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


class ThrowawayRedis:
    """A redis-server on a free loopback port, keeping nothing on disk, stopped afterwards."""

    def __init__(self, binary: str):
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="deliberation-redis-"))
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.dir), "--logfile", str(self.dir / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def start(self) -> str:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with status {self.process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return f"redis://127.0.0.1:{self.port}/0"
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("redis-server did not answer within 20 seconds")

    def stop(self) -> None:
        try:
            self.process.terminate()
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def start_redis() -> tuple[ThrowawayRedis | None, dict[str, str], int]:
    """A throwaway Redis and the environment that points the tests at it, or an exit status if required and missing."""
    binary = shutil.which("redis-server")
    if binary is None:
        if _flag("REQUIRE_REDIS") or _flag("REQUIRE_POSTGRES"):
            print("REQUIRE_POSTGRES=1 or REQUIRE_REDIS=1 but redis-server was not found", file=sys.stderr)
            return None, {}, 1
        print("redis-server not found: rate limits tested in memory only (set REQUIRE_REDIS=1 to fail instead)")
        return None, {}, 0
    server = ThrowawayRedis(binary)
    try:
        url = server.start()
    except RuntimeError as error:
        server.stop()
        print(f"redis-server failed to start: {error}", file=sys.stderr)
        return None, {}, 1
    print(f"throwaway redis-server on 127.0.0.1:{server.port} started", flush=True)
    return server, {"TEST_REDIS_URL": url}, 0


def run_sqlite(extra: list[str]) -> int:
    print("\n=== SQLite suite ===", flush=True)
    return _pytest(["tests", "--ignore=tests/e2e", *extra])


def run_postgres(extra: list[str]) -> int:
    print("\n=== PostgreSQL suite ===", flush=True)
    bin_dir = find_pg_bin()
    if bin_dir is None:
        if _flag("REQUIRE_POSTGRES"):
            print("REQUIRE_POSTGRES=1 but no PostgreSQL binaries (initdb, pg_ctl) were found", file=sys.stderr)
            return 1
        print("PostgreSQL binaries not found: PostgreSQL suite skipped (set REQUIRE_POSTGRES=1 to fail instead)")
        return 0
    redis_server, redis_env, status = start_redis()
    if status:
        return status
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        if _flag("REQUIRE_POSTGRES"):
            print("REQUIRE_POSTGRES=1 but nginx was not found (the two-host test needs it)", file=sys.stderr)
            if redis_server is not None:
                redis_server.stop()
            return 1
        print("nginx not found: the two-host test (tests/deploy) is skipped")
    cluster = ThrowawayCluster(bin_dir)
    started = time.monotonic()
    try:
        url = cluster.start()
        print(f"throwaway cluster on 127.0.0.1:{cluster.port} started in {time.monotonic() - started:.1f}s", flush=True)
        return _pytest(["tests", "--ignore=tests/e2e", *extra], env={"TEST_DATABASE_URL": url, **redis_env})
    finally:
        cluster.stop()
        if redis_server is not None:
            redis_server.stop()


def run_browser(extra: list[str]) -> int:
    print("\n=== Browser suite (Chromium) ===", flush=True)
    if not Path(CHROMIUM).exists():
        if _flag("REQUIRE_BROWSER"):
            print(f"REQUIRE_BROWSER=1 but {CHROMIUM} does not exist", file=sys.stderr)
            return 1
        print(f"{CHROMIUM} not found: browser suite skipped (set REQUIRE_BROWSER=1 to fail instead)")
        return 0
    return _pytest(["tests/e2e", *extra], env={"RUN_BROWSER_TESTS": "1"})


SUITES = {"sqlite": run_sqlite, "postgres": run_postgres, "browser": run_browser}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=sorted(SUITES), help="run one suite")
    args, extra = parser.parse_known_args()
    names = [args.only] if args.only else list(SUITES)
    results = {name: SUITES[name](extra) for name in names}
    print("\n=== Summary ===")
    for name, code in results.items():
        print(f"{name:<10} {'passed' if code == 0 else f'FAILED (exit {code})'}")
    return 0 if all(code == 0 for code in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
