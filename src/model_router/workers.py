"""`serve --workers N`: workers that each listen on the port, and a parent that only watches.

The parent imports the app once (`preload`), then forks the workers: each binds
its own socket with SO_REUSEPORT, runs the lifespan, and only then listens, so
the kernel hands new connections to ready workers only and no process sits
between a client and the worker that serves it. The parent holds the port
(bound, never listening: a second router on the same port fails at once),
forwards SIGTERM/SIGINT to the workers, restarts a worker that dies, and exits
when they have all stopped. A worker that fails its start-up before any worker
was ever ready (a database that never answered, a bad routing file) stops the
whole command with its exit status; later, a failing worker is retried with
back-off while the others keep serving.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import os
import select
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import uvicorn

from model_router.observability.logs import logging_config
from model_router.settings import Settings

log = logging.getLogger("model_router.workers")

STARTUP_FAILURE = 3
FORWARDED = {signal.SIGTERM, signal.SIGINT}
MAX_BACKOFF = 30.0


def bind(host: str, port: int, *, reuse_port: bool = True) -> socket.socket:
    """A bound TCP socket (not listening) for `host:port`, IPv6 when the host is."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def hold_port(host: str, port: int) -> socket.socket:
    """Fail now if another program has the port; else keep it for our workers."""
    with bind(host, port, reuse_port=False):  # in use (by anyone): OSError here
        pass
    return bind(host, port)


class _Worker(uvicorn.Server):
    """uvicorn's server that tells the parent, through a pipe, when it serves."""

    def __init__(self, config: uvicorn.Config, ready_fd: int) -> None:
        super().__init__(config)
        self.ready_fd = ready_fd

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            os.write(self.ready_fd, b"1")
            os.close(self.ready_fd)


def _die_with_parent() -> None:
    with contextlib.suppress(Exception):  # PR_SET_PDEATHSIG: SIGTERM if the parent dies
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)


def run_worker(config: uvicorn.Config, ready_fd: int) -> int:
    """In a forked child: bind, serve until told to stop; the exit status."""
    os.setpgid(0, 0)  # group signals to the parent reach us once, through it
    _die_with_parent()
    if os.getppid() == 1:
        return 1
    # What the parent imported stays frozen: never traversed by the collector, so
    # its pages stay shared with the parent instead of being copied into each worker.
    sock = bind(config.host, config.port)
    server = _Worker(config, ready_fd)
    server.run(sockets=[sock])
    return 0 if server.started else STARTUP_FAILURE


@dataclass
class Supervisor:
    """Starts `count` workers with `start_worker` (in the child: an exit status),
    restarts them, forwards signals. `run()` returns the command's exit status."""

    count: int
    start_worker: Callable[[int], int]
    on_worker_exit: Callable[[int], None] = lambda pid: None
    workers: dict[int, int] = field(default_factory=dict)  # pid -> ready pipe (read end)
    ready: set[int] = field(default_factory=set)
    stopping: int | None = None
    ever_ready: bool = False
    failures: int = 0

    def spawn(self) -> None:
        read_fd, write_fd = os.pipe()
        # Signals wait until the child has its own handlers and the parent knows its pid.
        signal.pthread_sigmask(signal.SIG_BLOCK, FORWARDED)
        pid = os.fork()
        if pid == 0:  # the child never returns from here
            os.close(read_fd)
            for sig in (*FORWARDED, signal.SIGCHLD):
                signal.signal(sig, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, FORWARDED)
            status = 1
            try:
                status = self.start_worker(write_fd)
            except SystemExit as exc:
                status = exc.code if isinstance(exc.code, int) else 1
            except BaseException:
                log.exception("worker failed")
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(status)
        os.close(write_fd)
        self.workers[pid] = read_fd
        signal.pthread_sigmask(signal.SIG_UNBLOCK, FORWARDED)

    def signal(self, signum: int, _frame: FrameType | None = None) -> None:
        self.stopping = signum  # a second signal is forwarded too: uvicorn stops at once
        for pid in self.workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    def run(self) -> int:
        for sig in FORWARDED:
            signal.signal(sig, self.signal)
        for _ in range(self.count):
            if self.stopping is None:
                self.spawn()
        status = 0
        while self.workers:
            self._read_ready()
            for pid, code in self._reap():
                fd = self.workers.pop(pid)
                os.close(fd)
                self.on_worker_exit(pid)
                was_ready = pid in self.ready
                self.ready.discard(pid)
                if self.stopping is not None:
                    continue
                if not was_ready and not self.ever_ready:
                    log.error("a worker failed to start (status %d): stopping", code)
                    status = code or STARTUP_FAILURE
                    self.signal(signal.SIGTERM)
                    continue
                self.failures = 0 if was_ready else self.failures + 1
                delay = min(MAX_BACKOFF, 0.5 * 2**self.failures) if self.failures else 0.0
                log.warning("worker %d exited (status %d); starting another", pid, code)
                time.sleep(delay)
                if self.stopping is None:
                    self.spawn()
        return status

    def _read_ready(self) -> None:
        fds = {fd: pid for pid, fd in self.workers.items() if pid not in self.ready}
        if not fds:
            time.sleep(0.1)
            return
        readable, _, _ = select.select(list(fds), [], [], 0.1)
        for fd in readable:
            if os.read(fd, 1):
                self.ready.add(fds[fd])
                self.ever_ready = True

    def _reap(self) -> list[tuple[int, int]]:
        done = []
        while self.workers:
            try:
                pid, raw = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            if pid in self.workers:
                done.append((pid, os.waitstatus_to_exitcode(raw)))
        return done


def preload(config: uvicorn.Config) -> None:
    """Import and build the app with the cyclic collector off (it would run
    some 250 times over the import's objects), then freeze what was built:
    it lives as long as the process, and forked workers share its pages."""
    gc.disable()
    try:
        config.load()
        gc.freeze()
    finally:
        gc.enable()


def server_config(settings: Settings, host: str | None, port: int | None) -> uvicorn.Config:
    """uvicorn's settings for the router: httptools, uvloop, no access log."""
    return uvicorn.Config(
        "model_router.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        log_level=settings.log_level,
        log_config=logging_config(settings.log_format, settings.log_level),
        loop="uvloop",
        http="httptools",
        access_log=False,
        proxy_headers=False,  # the router reads no client address
        server_header=False,
        timeout_graceful_shutdown=max(1, round(settings.shutdown_timeout)),
    )


def serve_workers(config: uvicorn.Config, workers: int, metrics_dir: Path | None) -> int:
    """Fork `workers` SO_REUSEPORT workers from the preloaded app, supervise them."""
    guard = hold_port(config.host, config.port)  # OSError: the port is taken
    preload(config)

    def worker_exited(pid: int) -> None:
        if metrics_dir:  # a crashed worker's live gauges go with it
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(pid, metrics_dir)  # type: ignore[no-untyped-call]

    with guard:
        return Supervisor(
            workers,
            lambda ready_fd: run_worker(config, ready_fd),
            worker_exited,
        ).run()
