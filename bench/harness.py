"""What bench/run.py and bench/analytics.py share: child processes that are
always cleaned up, free ports, the nginx mock upstream, a router set up through
its own CLI, /proc accounting (CPU, peak RSS), and PostgreSQL scratch databases.

Standard library, httpx and asyncpg only; run with the project's venv.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
ROOT = BENCH.parent
VENV_BIN = Path(sys.executable).parent
CLI = str(VENV_BIN / "model-router")
CLK_TCK = os.sysconf("SC_CLK_TCK")
PG_ADMIN_DSN = os.environ.get("BENCH_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
UPSTREAM_KEY_SETTING = "BENCH_UPSTREAM_KEY"
UPSTREAM_KEY = "sk-bench-upstream-key-not-secret"


class BenchError(RuntimeError):
    """A failure the user can act on; printed without a traceback."""


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- child processes ---------------------------------------------------------------


def _die_with_parent() -> None:
    """In the child, before exec: get SIGTERM if the benchmark itself dies."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Children:
    """Every process the benchmark starts, each in its own process group, so
    that stopping one stops what it started (the router's workers, nginx's
    worker) and nothing else. `close()` runs on any exit."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []

    def spawn(self, args: Sequence[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            list(args), start_new_session=True, preexec_fn=_die_with_parent, **kwargs
        )
        self.procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> int | None:
        """SIGTERM the child's process group, wait, then SIGKILL it."""
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                log(f"pid {proc.pid} ignored SIGTERM for {timeout:.0f} s; killing it")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # leftovers of the group, if any
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(5)
        if proc in self.procs:
            self.procs.remove(proc)
        return proc.returncode

    def close(self) -> None:
        for proc in reversed(list(self.procs)):
            self.stop(proc, timeout=10)


@contextlib.contextmanager
def cleanup_on_exit() -> Iterator[Children]:
    """Children that are stopped however the block ends (error, Ctrl-C, SIGTERM)."""
    children = Children()

    def on_term(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield children
    finally:
        children.close()
        signal.signal(signal.SIGTERM, previous)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float, what: str) -> float:
    """Seconds from now until `url` answers 200; fails if `proc` exits first."""
    start = time.perf_counter()
    deadline = start + timeout
    with httpx.Client(timeout=1.0) as client:
        while True:
            try:
                if client.get(url).status_code == 200:
                    return time.perf_counter() - start
            except httpx.TransportError:
                pass
            if proc.poll() is not None:
                raise BenchError(f"{what} exited with status {proc.returncode} before healthy")
            if time.perf_counter() > deadline:
                raise BenchError(f"{what} not healthy after {timeout:.0f} s ({url})")
            time.sleep(0.005)


# --- /proc accounting --------------------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw.rsplit(")", 1)[1].split()  # [state, ppid, ..., utime at 11, stime at 12]


def process_tree(root: int) -> list[int]:
    """`root` and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def cpu_seconds(root: int) -> float:
    """utime + stime of `root` and its live descendants, in seconds."""
    ticks = 0
    for pid in process_tree(root):
        if (fields := _stat(pid)) is not None:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / CLK_TCK


def machine_busy_seconds() -> float:
    """CPU seconds the machine's processes have used (all cores, /proc/stat):
    user, nice, system and steal; not interrupts, where loopback traffic lands."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system = fields[0], fields[1], fields[2]
    steal = fields[7] if len(fields) > 7 else 0
    return (user + nice + system + steal) / CLK_TCK


def status_kib(pid: int, field_name: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


def peak_rss(root: int) -> list[dict[str, Any]]:
    """VmHWM (peak resident set) of every process in the tree, in MiB."""
    out = []
    for pid in process_tree(root):
        hwm = status_kib(pid, "VmHWM")
        if hwm is not None:
            out.append({"pid": pid, "peak_rss_mb": round(hwm / 1024, 1), "cmd": cmdline(pid)[:120]})
    return out


# --- the mock upstream: nginx ----------------------------------------------------


@dataclass
class Nginx:
    port: int
    proc: subprocess.Popen[bytes]
    prefix: Path
    startup_s: float

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def require_tool(name: str, package: str) -> str:
    path = shutil.which(name) or (
        f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None
    )
    if path is None:
        raise BenchError(
            f"{name} is not installed. `make bench` installs it (apt-get install {package}); "
            f"or install it yourself: sudo apt-get install -y {package}"
        )
    return path


def start_nginx(children: Children, workdir: Path) -> Nginx:
    binary = require_tool("nginx", "nginx")
    prefix = workdir / "nginx"
    prefix.mkdir()
    bodies = prefix / "bodies"
    shutil.copytree(BENCH / "bodies", bodies)
    for path in (workdir, prefix, bodies, *bodies.iterdir()):
        path.chmod(0o755 if path.is_dir() else 0o644)  # readable by nginx's worker user
    port = free_port()
    user = ""
    if os.geteuid() == 0:
        import pwd

        user = f"user {pwd.getpwuid(0).pw_name};"
    conf = (
        (BENCH / "nginx.conf.template")
        .read_text()
        .format(prefix=prefix, bodies=bodies, port=port, user=user)
    )
    (prefix / "nginx.conf").write_text(conf)
    out = open(prefix / "stdout.log", "wb")  # noqa: SIM115 (the child keeps it)
    start = time.perf_counter()
    proc = children.spawn(
        [
            binary,
            "-p",
            str(prefix),
            "-e",
            str(prefix / "error.log"),
            "-c",
            str(prefix / "nginx.conf"),
        ],
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_healthy(f"http://127.0.0.1:{port}/health", proc, 10, "nginx")
    except BenchError:
        errors = (
            (prefix / "error.log").read_text(errors="replace")
            if (prefix / "error.log").exists()
            else ""
        )
        raise BenchError(f"nginx did not start:\n{errors[-2000:]}") from None
    return Nginx(port, proc, prefix, time.perf_counter() - start)


# --- the router ----------------------------------------------------------------------

# (provider, protocol, base path on the mock); models below point at them.
# "openai" is the catalogue's own provider, pointed at the mock: its
# text-embedding-3-small is the embedding model of the /v1/embeddings phases.
PROVIDERS = (
    ("openai", "openai", "/openai/v1"),
    ("bench-openai", "openai", "/openai/v1"),
    ("bench-openai-stream", "openai", "/openai-stream/v1"),
    ("bench-anthropic", "anthropic", "/anthropic"),
    ("bench-anthropic-stream", "anthropic", "/anthropic-stream"),
    ("bench-gemini", "gemini", "/gemini"),
)
# (model, provider, upstream model, input, cached input, output price per 1M tokens)
MODELS = (
    ("bench-openai", "bench-openai", "gpt-4o-mini", "0.15", "0.075", "0.6"),
    ("bench-openai-stream", "bench-openai-stream", "gpt-4o-mini", "0.15", "0.075", "0.6"),
    ("bench-claude", "bench-anthropic", "claude-haiku-4-5", "1", "0.1", "5"),
    ("bench-claude-stream", "bench-anthropic-stream", "claude-haiku-4-5", "1", "0.1", "5"),
    ("bench-gemini", "bench-gemini", "gemini-2.5-flash", "0.3", "0.03", "2.5"),  # streams too
)


def router_env(database_url: str) -> dict[str, str]:
    """The environment as it is, less every router setting (so production
    defaults apply), plus the database, LOG_LEVEL=warning and the mock's key."""
    try:
        from model_router.settings import Settings

        names = {name.upper() for name in Settings.model_fields}
    except Exception:  # the settings module is being edited: drop the known prefixes
        names = set()
    prefixes = (
        "REQUEST_LOG_",
        "UPSTREAM_",
        "KEY_CACHE_",
        "OPENAI_",
        "ANTHROPIC_",
        "GEMINI_",
        "DEEPSEEK_",
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in names
        and not k.startswith(prefixes)
        and k not in ("DATABASE_URL", "ADMIN_API_KEY")
    }
    env.update(
        DATABASE_URL=database_url,
        LOG_LEVEL="warning",
        PYTHONUNBUFFERED="1",
        **{UPSTREAM_KEY_SETTING: UPSTREAM_KEY},
    )
    return env


def cli(workdir: Path, env: dict[str, str], *args: str, timeout: float = 120) -> str:
    """Run `model-router ARGS` in `workdir` (so no .env is read); its stdout."""
    done = subprocess.run(
        [CLI, *args], cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise BenchError(
            f"`model-router {' '.join(args)}` failed ({done.returncode}):\n"
            f"{done.stdout[-1500:]}{done.stderr[-1500:]}"
        )
    return done.stdout


def cli_parallel(workdir: Path, env: dict[str, str], commands: list[list[str]]) -> list[str]:
    """Independent CLI calls, a few at a time (each is mostly Python start-up)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        return list(pool.map(lambda args: cli(workdir, env, *args), commands))


def set_up_router_db(workdir: Path, env: dict[str, str], mock_base: str | None) -> dict[str, str]:
    """Migrate and load the catalogue (`bootstrap`), add the bench providers and
    models (pointing at the mock), and create a normal and an admin key."""
    cli(workdir, env, "bootstrap")
    keys = [
        ["keys", "create", "--name", "bench"],
        ["keys", "create", "--name", "bench-admin", "--admin"],
    ]
    if mock_base is not None:
        cli_parallel(workdir, env, [
            ["providers", "add", name, "--protocol", protocol, "--base-url", mock_base + path,
             "--api-key-setting", UPSTREAM_KEY_SETTING]
            for name, protocol, path in PROVIDERS
        ])  # fmt: skip
        models = [
            ["models", "add", model, "--provider", provider, "--upstream-model", upstream,
             "--input-price", inp, "--cached-input-price", cached, "--output-price", outp]
            for model, provider, upstream, inp, cached, outp in MODELS
        ]  # fmt: skip
    else:
        models = []
    out = cli_parallel(workdir, env, [*keys, *models])
    return {"user": out[0].strip().splitlines()[-1], "admin": out[1].strip().splitlines()[-1]}


@dataclass
class Router:
    port: int
    proc: subprocess.Popen[bytes]
    startup_s: float
    log_path: Path
    workers: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def tail(self, n: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""


def start_router(
    children: Children, workdir: Path, env: dict[str, str], workers: int, tag: str
) -> Router:
    port = free_port()
    log_path = workdir / f"router-{tag}.log"
    out = open(log_path, "wb")  # noqa: SIM115 (the child keeps it)
    proc = children.spawn(
        [CLI, "serve", "--workers", str(workers), "--host", "127.0.0.1", "--port", str(port)],
        cwd=workdir,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    try:
        startup = wait_healthy(f"http://127.0.0.1:{port}/health", proc, 60, "the router")
    except BenchError as exc:
        raise BenchError(
            f"{exc}\n--- router log ---\n{log_path.read_text(errors='replace')[-3000:]}"
        ) from None
    router = Router(port, proc, startup, log_path, workers)
    # All workers up (not only the first): each has its own pid and import cost.
    deadline = time.perf_counter() + 60
    while workers > 1 and len(router_workers(router)) < workers and time.perf_counter() < deadline:
        time.sleep(0.05)
    return router


def router_workers(router: Router) -> list[int]:
    """The worker processes (`serve` forks them and only watches; with one
    worker, the serve process itself serves)."""
    if router.workers == 1:
        return [router.proc.pid]
    return [p for p in process_tree(router.proc.pid) if p != router.proc.pid]


# --- PostgreSQL ----------------------------------------------------------------------


def pg_reachable() -> str | None:
    """None if PostgreSQL answers at BENCH_PG_DSN, else why not."""
    import asyncpg

    async def check() -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=3)
        await conn.close()

    try:
        asyncio.run(check())
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def pg_url(database: str) -> str:
    base, _, _ = PG_ADMIN_DSN.rpartition("/")
    return f"{base}/{database}"


def pg_create(database: str | None = None) -> str:
    import asyncpg

    name = database or f"mr_bench_{secrets.token_hex(4)}"

    async def create() -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(create())
    return name


def pg_drop(database: str) -> None:
    import asyncpg

    async def drop() -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        finally:
            await conn.close()

    try:
        asyncio.run(drop())
    except Exception as exc:
        log(f"could not drop database {database}: {exc}")


def pg_exists(database: str) -> bool:
    import asyncpg

    async def check() -> bool:
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            return bool(
                await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
            )
        finally:
            await conn.close()

    return asyncio.run(check())


# --- the machine ----------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = status = None
    with contextlib.suppress(OSError):
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]

    def git(*args: str) -> str:
        with contextlib.suppress(Exception):
            return subprocess.run(
                ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10
            ).stdout.strip()
        return ""

    status = git("status", "--porcelain", "--", "src")
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(int(mem) / 1024 / 1024, 1) if mem else None,
        "python": sys.version.split()[0],
        "kernel": os.uname().release,
        "git_revision": git("rev-parse", "HEAD"),
        "git_src_dirty": bool(status),
        "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "node": _version(["node", "--version"]) if shutil.which("node") else "",
        "nginx": _version(["nginx", "-v"]),
        "wrk": _version(["wrk", "-v"]).splitlines()[0] if _version(["wrk", "-v"]) else "",
    }


def _version(args: list[str]) -> str:
    with contextlib.suppress(Exception):
        done = subprocess.run(args, capture_output=True, text=True, timeout=10)
        return (done.stdout + done.stderr).strip()
    return ""


@dataclass
class Workdir:
    path: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="mr-bench-")))

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def publish(stem: str, results: dict[str, Any], table: str, readme_marker: str) -> None:
    """Write `results/<stem>.json` and `.md` atomically, and refresh the table
    between `<!-- bench:<readme_marker>:start/end -->` in bench/README.md."""
    import json

    RESULTS.mkdir(exist_ok=True)
    for name, text in (
        (f"{stem}.json", json.dumps(results, indent=2, default=str) + "\n"),
        (f"{stem}.md", table),
    ):
        tmp = RESULTS / (name + ".tmp")
        tmp.write_text(text)
        tmp.replace(RESULTS / name)
    readme = BENCH / "README.md"
    if not readme.exists():
        return
    text = readme.read_text()
    start, end = f"<!-- bench:{readme_marker}:start -->", f"<!-- bench:{readme_marker}:end -->"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        _, after = rest.split(end, 1)
        readme.write_text(before + start + "\n" + table + end + after)


def run_cli(main: Callable[[], int], label: str) -> None:
    """Exit with main's status; a BenchError or Ctrl-C is a one-line message."""
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"{label}: {exc}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print(f"{label}: interrupted; children stopped", file=sys.stderr)
        sys.exit(130)
