"""Would compiling the request path with mypyc pay? Pure Python against compiled.

    .venv/bin/python bench/mypyc_probe.py build      # compile HOT into bench/data/mypyc
    .venv/bin/python bench/mypyc_probe.py steps      # translation steps, CPU per call
    .venv/bin/python bench/mypyc_probe.py request    # requests through `serve`, CPU per request
    .venv/bin/python bench/mypyc_probe.py callgrind  # the same, instructions per request

`build` copies src/ to bench/data/mypyc/src and compiles the modules in `HOT`
there (the worktree's own source is never touched, and stays what `make test`
tests); the compiled copy is used by putting it first on PYTHONPATH. Every
measurement runs the pure and the compiled build alternately (ABAB...), each
in a fresh process, and prints medians and spreads. Needs setuptools in the
venv (`uv pip install setuptools`: mypyc builds with it), nginx for the mock
upstream and, for `callgrind`, valgrind.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness

ROOT = harness.ROOT
OUT = harness.BENCH / "data" / "mypyc"
VENV_BIN = harness.VENV_BIN

# The request path, as it stood when this was written. Two modules are left
# interpreted because mypyc cannot compile async generators:
# providers/openai_compat.py and services/completions.py.
HOT = [
    "frontdoors/__init__.py",
    "frontdoors/base.py",
    "frontdoors/openai_chat.py",
    "frontdoors/openai_chat_translate.py",
    "frontdoors/anthropic_messages.py",
    "frontdoors/anthropic_render.py",
    "frontdoors/anthropic_stream.py",
    "frontdoors/openai_responses.py",
    "frontdoors/responses_render.py",
    "frontdoors/responses_stream.py",
    "domain/__init__.py",
    "domain/completion.py",
    "domain/content.py",
    "domain/embeddings.py",
    "domain/keys.py",
    "domain/request.py",
    "domain/usage.py",
    "providers/hints.py",
    "providers/openai_body.py",
    "providers/anthropic/translate.py",
    "providers/anthropic/response.py",
    "providers/anthropic/stream.py",
    "providers/gemini/translate.py",
    "providers/gemini/stream.py",
    "costs/catalogue.py",
    "costs/models.py",
    "costs/pricing.py",
    "routing/router.py",
    "routing/deployments.py",
    "routing/learned/policy.py",
    "governance/budgets.py",
    "governance/governor.py",
    "governance/limits.py",
    "governance/policy.py",
    "governance/tags.py",
    "db/records.py",
    "calls.py",
    "jsonutil.py",
]
# The modules of HOT with coroutines; `build --sync-only` leaves them out
# (an await that crosses between compiled and interpreted code is slower).
ASYNC = {"costs/models.py", "routing/router.py", "governance/governor.py"}


def log(message: str) -> None:
    harness.log(message)


# --- build -------------------------------------------------------------------------


def build(out: Path, modules: list[str]) -> float:
    """Copy src/ to `out` and compile `modules` there; returns the seconds it took."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    shutil.copytree(ROOT / "src", out / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", out / "pyproject.toml")
    files = [f"src/model_router/{m}" for m in modules]
    start = time.perf_counter()
    cpu0 = os.times()
    done = subprocess.run(
        [str(VENV_BIN / "mypyc"), "--config-file", "pyproject.toml", *files],
        cwd=out,
        capture_output=True,
        text=True,
    )
    cpu1 = os.times()
    seconds = time.perf_counter() - start
    (out / "build.log").write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        errors = [line for line in (done.stdout + done.stderr).splitlines() if "error" in line]
        raise harness.BenchError("mypyc failed:\n" + "\n".join(errors[-30:]))
    # mypyc writes the extensions beside a copy of the package in out/; move them in.
    for so in out.glob("**/*.so"):
        if "src" not in so.relative_to(out).parts and "build" not in so.relative_to(out).parts:
            dest = out / "src" / so.relative_to(out)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(so, dest)
    user = (cpu1.children_user - cpu0.children_user) + (cpu1.children_system - cpu0.children_system)
    log(f"built {len(modules)} modules in {seconds:.0f} s wall, {user:.0f} s CPU")
    return seconds


def variant_env(compiled: bool, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a pure (the worktree's src/) or compiled run."""
    env = dict(os.environ if base is None else base)
    env.pop("PYTHONPATH", None)
    if compiled:
        env["PYTHONPATH"] = str(OUT / "src")
    return env


def check_compiled(env: dict[str, str]) -> None:
    """Fails unless the compiled modules are the ones imported."""
    code = "import model_router.frontdoors.openai_chat as m; print(m.__file__)"
    path = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    if not path.endswith(".so"):
        raise harness.BenchError(f"not the compiled build: {path} (run `build` first)")


# --- steps: pure translations on captured payloads --------------------------------


def _sse(path: Path) -> list[tuple[str | None, Any]]:
    events: list[tuple[str | None, Any]] = []
    name: str | None = None
    for line in path.read_text().splitlines():
        if line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data = line[5:].strip()
            if data != "[DONE]":
                events.append((name, json.loads(data)))
            name = None
    return events


def make_steps() -> dict[str, Any]:
    """name -> zero-argument callable, grouped by the module group it exercises."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from model_router.costs.pricing import Price, Rates, cost
    from model_router.frontdoors.anthropic_messages import MessagesDoor
    from model_router.frontdoors.base import Answered
    from model_router.frontdoors.openai_chat import OpenAIChatDoor
    from model_router.frontdoors.openai_responses import ResponsesDoor
    from model_router.jsonutil import dumps
    from model_router.providers import openai_compat
    from model_router.providers.anthropic import response as anthropic_response
    from model_router.providers.anthropic import stream as anthropic_stream
    from model_router.providers.anthropic import translate as anthropic_translate
    from model_router.providers.base import Target
    from model_router.providers.gemini import stream as gemini_stream
    from model_router.providers.gemini import translate as gemini_translate
    from model_router.providers.openai_body import body_from_request

    fixtures = ROOT / "tests" / "fixtures"
    bodies = harness.BENCH / "bodies"
    lua = (harness.BENCH / "wrk" / "openai.lua").read_text()
    template = lua.split("body_template = [[", 1)[1].split("]]", 1)[0]
    chat_body = json.loads(
        template.replace("{{model}}", "bench-openai").replace("{{stream}}", "false")
    )
    claude_body = json.loads((fixtures / "claude_code" / "say_hi_request.json").read_text())
    codex_body = json.loads((fixtures / "codex" / "say_hi_request.json").read_text())
    agents_body = json.loads(
        (fixtures / "openai_agents" / "tool_followup_request.json").read_text()
    )
    chat, messages, responses = OpenAIChatDoor(), MessagesDoor(), ResponsesDoor()
    chat_req = chat.to_request(chat_body, {})
    claude_req = messages.to_request(claude_body, {})
    target = Target(upstream_model="upstream-model", max_output_tokens=4096)
    openai_json = json.loads((bodies / "openai.json").read_text())
    anthropic_json = json.loads((bodies / "anthropic.json").read_text())
    gemini_json = json.loads((bodies / "gemini.json").read_text())
    completion = openai_compat.from_response(openai_json, "bench")
    price = Price(Rates(Decimal("0.15"), Decimal("0.6"), Decimal("0.075")))
    answered = Answered("req-1", "bench-openai", "bench", datetime.now(UTC), 3, None)
    answered = Answered(
        "req-1", "bench-openai", "bench", answered.created, 3, cost(completion.usage, price)
    )
    openai_sse = _sse(bodies / "openai.sse")
    anthropic_sse = _sse(bodies / "anthropic.sse")
    gemini_sse = _sse(bodies / "gemini.sse")
    events = [e for _, data in openai_sse for e in openai_compat.parse_chunk(data)]

    def anthropic_feed() -> None:
        state = anthropic_stream.StreamState("bench")
        for name, data in anthropic_sse:
            state.feed(name, data)

    def gemini_feed() -> None:
        state = gemini_stream.StreamState("bench")
        for _, data in gemini_sse:
            state.feed(data)

    def chat_stream_render() -> None:
        writer = chat.stream_writer(chat_req, answered)
        for event in events:
            writer.event(event)
        writer.close(completion, answered)

    def messages_stream_render() -> None:
        writer = messages.stream_writer(claude_req, answered)
        for event in events:
            writer.event(event)
        writer.close(completion, answered)

    return {
        "frontdoors: chat body -> Request": lambda: chat.to_request(chat_body, {}),
        "frontdoors: Claude Code body (120 KB) -> Request": lambda: messages.to_request(
            claude_body, {}
        ),
        "frontdoors: Codex body (44 KB) -> Request": lambda: responses.to_request(codex_body, {}),
        "frontdoors: agents body -> Request": lambda: responses.to_request(agents_body, {}),
        "frontdoors: render chat answer": lambda: chat.render(completion, answered, chat_req),
        "frontdoors: render Messages answer": lambda: messages.render(
            completion, answered, claude_req
        ),
        "frontdoors: 50-chunk chat stream": chat_stream_render,
        "frontdoors: 50-chunk Messages stream": messages_stream_render,
        "providers: Request -> OpenAI body": lambda: body_from_request(chat_req, target),
        "providers: Request -> Anthropic body": lambda: anthropic_translate.to_request(
            chat_req, target, stream=False
        ),
        "providers: Claude Code -> Anthropic (native)": lambda: anthropic_translate.to_request(
            claude_req, target, stream=False
        ),
        "providers: Request -> Gemini body": lambda: gemini_translate.to_request(chat_req, target),
        "providers: OpenAI answer (interpreted)": lambda: openai_compat.from_response(
            openai_json, "bench"
        ),
        "providers: Anthropic answer": lambda: anthropic_response.from_response(
            anthropic_json, "bench"
        ),
        "providers: Gemini answer": lambda: gemini_translate.from_response(gemini_json, "bench"),
        "providers: Anthropic stream parse": anthropic_feed,
        "providers: Gemini stream parse": gemini_feed,
        "costs: cost(usage, price)": lambda: cost(completion.usage, price),
        "json: dumps(chat answer)": lambda: dumps(
            json.loads(chat.render(completion, answered, chat_req))
        ),
    }


def run_steps(seconds_each: float) -> dict[str, float]:
    """CPU microseconds per call of each step (process_time over a fixed time)."""
    steps = make_steps()
    out: dict[str, float] = {}
    for name, fn in steps.items():
        for _ in range(20):
            fn()  # warm up
        n, start = 0, time.process_time()
        while (spent := time.process_time() - start) < seconds_each:
            for _ in range(20):
                fn()
            n += 20
        out[name] = spent / n * 1e6
    return out


def steps(rounds: int, seconds_each: float) -> dict[str, Any]:
    results: dict[str, dict[str, list[float]]] = {}
    for r in range(rounds):
        for compiled in (False, True):
            env = variant_env(compiled)
            done = subprocess.run(
                [sys.executable, __file__, "--dir", str(OUT), "_steps", str(seconds_each)],
                env=env, capture_output=True, text=True, check=True,
            )  # fmt: skip
            for name, us in json.loads(done.stdout).items():
                results.setdefault(name, {"pure": [], "mypyc": []})[
                    "mypyc" if compiled else "pure"
                ].append(us)
        log(f"steps: round {r + 1}/{rounds}")
    print(
        f"\n{f'step (CPU µs per call, median of {rounds})':<52}"
        f" {'pure':>9} {'mypyc':>9} {'change':>8}"
    )
    for name, by in results.items():
        p, c = statistics.median(by["pure"]), statistics.median(by["mypyc"])
        print(f"{name:<52} {p:>9.1f} {c:>9.1f} {100 * (c - p) / p:>+7.0f}%")
    return results


# --- whole requests through `serve` -------------------------------------------------

CHAT_PATH = "/v1/chat/completions"


def _post_loop(port: int, body: bytes, key: str, n: int, errors: list[str]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    for _ in range(n):
        conn.request("POST", CHAT_PATH, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        if resp.status != 200:
            errors.append(f"{resp.status} {data[:200]!r}")
    conn.close()


def send(port: int, body: bytes, key: str, n: int, concurrency: int) -> None:
    """Exactly `n` requests over `concurrency` keep-alive connections."""
    errors: list[str] = []
    threads = [
        threading.Thread(target=_post_loop, args=(port, body, key, n // concurrency, errors))
        for _ in range(concurrency)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise harness.BenchError(f"{len(errors)} requests failed: {errors[0]}")


def chat_body(model: str) -> bytes:
    lua = (harness.BENCH / "wrk" / "openai.lua").read_text()
    template = lua.split("body_template = [[", 1)[1].split("]]", 1)[0]
    return template.replace("{{model}}", model).replace("{{stream}}", "false").encode()


class Setup:
    """nginx as the upstream and a SQLite router database, shared by every run."""

    def __init__(self, children: harness.Children, workdir: Path) -> None:
        self.nginx = harness.start_nginx(children, workdir)
        self.workdir = workdir
        self.env = harness.router_env(f"sqlite+aiosqlite:///{workdir}/router.db")
        self.keys = harness.set_up_router_db(workdir, self.env, self.nginx.base)

    def env_for(self, compiled: bool) -> dict[str, str]:
        return variant_env(compiled, self.env)


def request(rounds: int, n: int, concurrency: int, models: list[str]) -> dict[str, Any]:
    results: dict[str, dict[str, list[float]]] = {}
    with harness.cleanup_on_exit() as children, tempfile.TemporaryDirectory() as tmp:
        setup = Setup(children, Path(tmp))
        for r in range(rounds):
            for compiled in (False, True):
                variant = "mypyc" if compiled else "pure"
                router = harness.start_router(
                    children, Path(tmp), setup.env_for(compiled), 1, f"{variant}{r}"
                )
                for model in models:
                    body = chat_body(model)
                    send(router.port, body, setup.keys["user"], 200, concurrency)  # warm up
                    time.sleep(0.5)
                    cpu0 = harness.cpu_seconds(router.proc.pid)
                    send(router.port, body, setup.keys["user"], n, concurrency)
                    time.sleep(0.5)  # the request log's last batch
                    cpu = harness.cpu_seconds(router.proc.pid) - cpu0
                    per = cpu / (n // concurrency * concurrency) * 1e3
                    results.setdefault(model, {"pure": [], "mypyc": []})[variant].append(per)
                children.stop(router.proc)
            log(f"request: round {r + 1}/{rounds} {json.dumps(results)}")
    print(f"\nCPU per request (ms), c={concurrency}, {n} requests a run, {rounds} runs each, ABAB")
    for model, by in results.items():
        p, c = statistics.median(by["pure"]), statistics.median(by["mypyc"])
        print(
            f"{model:<22} pure {p:.3f} (range {min(by['pure']):.3f}-{max(by['pure']):.3f})"
            f"  mypyc {c:.3f} (range {min(by['mypyc']):.3f}-{max(by['mypyc']):.3f})"
            f"  change {100 * (c - p) / p:+.1f}%"
        )
    return results


def _callgrind_total(path: Path) -> int:
    for line in path.read_text().splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise harness.BenchError(f"no totals in {path}")


def _event_loop_share(path: Path) -> int:
    """Instructions under uvloop's run_forever: the event loop's thread, where
    the request path runs (the rest is mostly the request log's SQLite thread,
    whose batches, and so whose cost, vary from run to run with timing)."""
    done = subprocess.run(
        ["callgrind_annotate", "--inclusive=yes", "--threshold=100", "--auto=no", str(path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    for line in done.stdout.splitlines():
        if "Loop_25run_forever" in line or "run_forever" in line.split(":")[-1]:
            return int(line.split()[0].replace(",", ""))
    raise harness.BenchError(f"no event loop in {path}")


def _cg(pid: int, flag: str) -> None:
    subprocess.run(["callgrind_control", flag, str(pid)], check=True, capture_output=True)


def _window(proc: Any, tmp: Path, variant: str, work: Any) -> tuple[int, int, float]:
    """Counters zeroed, `work()` run, counters dumped: (whole process, event loop
    thread, wall seconds of the window)."""
    _cg(proc.pid, "-z")
    start = time.perf_counter()
    work()
    seconds = time.perf_counter() - start
    _cg(proc.pid, "-d")
    dump = sorted(tmp.glob(f"callgrind.{variant}.{proc.pid}.*"), key=lambda p: p.stat().st_mtime)[
        -1
    ]
    shutil.copy(dump, OUT / f"callgrind.{variant}.last.out")  # for callgrind_annotate
    return _callgrind_total(dump), _event_loop_share(dump), seconds


def callgrind(n: int, concurrency: int, model: str, variants: list[str]) -> dict[str, int]:
    """Instructions per request of the router process under callgrind. The
    router's periodic jobs (key and catalogue reloads, health, learned routing)
    run by the clock, and valgrind stretches the clock by the machine's load:
    so an idle window measures their rate first, and the request window (`n`
    requests, then the request log's last write) is charged net of it."""
    out: dict[str, int] = {}
    with harness.cleanup_on_exit() as children, tempfile.TemporaryDirectory() as tmp:
        setup = Setup(children, Path(tmp))
        body = chat_body(model)
        sent = n // concurrency * concurrency
        for variant in variants:
            port = harness.free_port()
            proc = children.spawn(
                [
                    "valgrind", "--tool=callgrind",
                    f"--callgrind-out-file={tmp}/callgrind.{variant}.%p",
                    sys.executable, str(VENV_BIN / "model-router"), "serve", "--workers", "1",
                    "--host", "127.0.0.1", "--port", str(port),
                ],
                cwd=tmp, env=setup.env_for(variant != "pure"),
                stdout=subprocess.DEVNULL, stderr=open(Path(tmp) / f"vg-{variant}.log", "wb"),  # noqa: SIM115
            )  # fmt: skip
            harness.wait_healthy(f"http://127.0.0.1:{port}/health", proc, 900, "router")
            send(port, body, setup.keys["user"], 100, concurrency)
            time.sleep(3)
            idle = _window(proc, Path(tmp), variant, lambda: time.sleep(20))
            busy = _window(
                proc, Path(tmp), variant,
                lambda p=port: (send(p, body, setup.keys["user"], n, concurrency), time.sleep(3)),
            )  # fmt: skip
            children.stop(proc)
            for i, part in enumerate(("", " (event loop thread)")):
                net = busy[i] - idle[i] / idle[2] * busy[2]
                out[variant + part] = int(net / sent)
                out[variant + part + " gross"] = busy[i] // sent
            log(f"callgrind {variant}: {out[variant]:,} net instructions per request "
                f"(window {busy[2]:.0f} s, idle rate {idle[0] / idle[2]:,.0f}/s)")  # fmt: skip
    print(f"\ninstructions per request ({model}, c={concurrency}, {n} requests), net of idle:")
    for part in ("", " (event loop thread)"):
        got = {v: out[v + part] for v in variants}
        line = "  ".join(f"{v} {c:,}" for v, c in got.items())
        if len(got) == 2:
            p, c = got["pure"], got["mypyc"]
            line += f"  change {100 * (c - p) / p:+.1f}%"
        print(f"  whole process{part}: {line}")
    return out


def main() -> int:
    global OUT
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    parser.add_argument("--dir", type=Path, default=OUT, help="the compiled build's folder")
    b = sub.add_parser("build")
    b.add_argument("--sync-only", action="store_true", help="leave out the modules with coroutines")
    s = sub.add_parser("steps")
    s.add_argument("--rounds", type=int, default=5)
    s.add_argument("--seconds", type=float, default=0.3)
    r = sub.add_parser("request")
    r.add_argument("--rounds", type=int, default=4)
    r.add_argument("-n", type=int, default=3000)
    r.add_argument("-c", "--concurrency", type=int, default=4)
    r.add_argument("--models", default="bench-openai,bench-claude,bench-gemini")
    c = sub.add_parser("callgrind")
    c.add_argument("-n", type=int, default=300)
    c.add_argument("-c", "--concurrency", type=int, default=4)
    c.add_argument("--model", default="bench-openai")
    c.add_argument("--variants", default="pure,mypyc")
    i = sub.add_parser("_steps")
    i.add_argument("seconds", type=float)
    args = parser.parse_args()
    OUT = args.dir.resolve()
    if args.cmd == "build":
        build(OUT, [m for m in HOT if not (args.sync_only and m in ASYNC)])
    elif args.cmd == "_steps":
        print(json.dumps(run_steps(args.seconds)))
    else:
        check_compiled(variant_env(True))
        if args.cmd == "steps":
            steps(args.rounds, args.seconds)
        elif args.cmd == "request":
            request(args.rounds, args.n, args.concurrency, args.models.split(","))
        else:
            callgrind(args.n, args.concurrency, args.model, args.variants.split(","))
    return 0


if __name__ == "__main__":
    harness.run_cli(main, "mypyc probe")
