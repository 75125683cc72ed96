"""A ``Backend`` for any OpenAI-compatible completion server.

Works with llama.cpp's ``llama-server``, llama-cpp-python's
``python -m llama_cpp.server``, vLLM and Ollama, over plain HTTP with the
standard library (no extra dependency).  Requests go to ``/v1/completions``
with greedy decoding; a GBNF grammar is sent the way the server understands it:

=============  ==========================================================
flavor         how the grammar travels
=============  ==========================================================
``llama.cpp``  ``"grammar": "<gbnf>"`` (llama-server, llama_cpp.server)
``vllm``       ``"guided_grammar": "<gbnf>"``
``none``       not sent (Ollama and other servers without grammars); the
               caller's validation still rejects anything malformed
=============  ==========================================================

Connection failures, timeouts, HTTP 429 and 5xx are retried with exponential
backoff; a server that stays unreachable is a ``ModelLoadError`` naming the
URL and how to start one, any other failure a ``ModelError``.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

from models.backend import Completion, TokenCallback
from models.errors import ModelError, ModelLoadError

FLAVORS = ("llama.cpp", "vllm", "none")

START_HINT = (
    "start a server, e.g. `python -m llama_cpp.server --model <file.gguf> --host 127.0.0.1 --port 8080` "
    "or `llama-server -m <file.gguf> --port 8080`, or unset NLSH_BACKEND_URL / [backend] url "
    "to use the model in-process"
)


def base_url(url: str) -> str:
    """``http://h:p``, ``http://h:p/``, ``http://h:p/v1`` → ``http://h:p`` (the path before ``/v1``)."""
    parsed = urllib.parse.urlsplit(url.strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ModelLoadError(f"not an http(s) URL: {url!r}", path=url,
                             hint="write it like http://127.0.0.1:8080")
    path = parsed.path.rstrip("/")
    if path.endswith("/v1"):
        path = path[: -len("/v1")]
    return urllib.parse.urlunsplit((parsed.scheme, parsed.netloc, path, "", ""))


class _Retryable(Exception):
    def __init__(self, message: str, *, unreachable: bool = False) -> None:
        super().__init__(message)
        self.unreachable = unreachable


class OpenAIServerBackend:
    """Completions from an OpenAI-compatible HTTP server (see the module docstring)."""

    def __init__(
        self,
        url: str,
        *,
        model: str | None = None,
        flavor: str = "llama.cpp",
        timeout_s: float = 60.0,
        retries: int = 2,
        backoff_s: float = 0.5,
        api_key: str | None = None,
        n_ctx: int = 2048,
        parallel: int = 4,
    ) -> None:
        if flavor not in FLAVORS:
            raise ModelLoadError(f"unknown server flavor {flavor!r}", path=url,
                                 hint="use one of: " + ", ".join(FLAVORS))
        self.url = base_url(url)
        self.model = model
        self.flavor = flavor
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self.api_key = api_key
        self.n_ctx = n_ctx
        # Requests the kernel keeps in flight at once: the server batches them itself (llama-server's slots,
        # ``--parallel``; vLLM's continuous batching).  1 sends one request at a time.
        self.parallel = max(1, parallel)
        self.name = f"{model or 'remote'}@{self.url}"

    # --- connection ---------------------------------------------------------------------

    def connect(self) -> OpenAIServerBackend:
        """Ask the server which model it serves; raise ``ModelLoadError`` if it does not answer."""
        data = self._request("GET", "/v1/models", None)
        models = data.get("data") if isinstance(data, dict) else None
        if not isinstance(models, list) or not models:
            raise ModelLoadError("the server lists no models at /v1/models", path=self.url,
                                 hint="start the server with a model (--model <file.gguf>)")
        first = models[0] if isinstance(models[0], dict) else {}
        if self.model is None:
            self.model = str(first.get("id", "")) or None
        meta = first.get("meta")
        if isinstance(meta, dict) and isinstance(meta.get("n_ctx_train"), int):
            self.n_ctx = min(self.n_ctx, int(meta["n_ctx_train"])) if self.n_ctx else int(meta["n_ctx_train"])
        self.name = f"{self.model or 'remote'}@{self.url}"
        return self

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def _open(self, method: str, path: str, body: dict[str, Any] | None) -> http.client.HTTPResponse:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=self._headers())
        try:
            resp: http.client.HTTPResponse = urllib.request.urlopen(req, timeout=self.timeout_s)
            return resp
        except urllib.error.HTTPError as exc:
            detail = _error_detail(exc)
            if exc.code == 429 or exc.code >= 500:
                raise _Retryable(f"HTTP {exc.code} from {self.url}{path}: {detail}") from exc
            if exc.code == 404:
                raise ModelError(f"{self.url}{path} does not exist (HTTP 404): {detail}",
                                 hint="is this an OpenAI-compatible server? it needs /v1/completions",
                                 ) from exc
            if exc.code in (401, 403):
                raise ModelError(f"the server refused the request (HTTP {exc.code}): {detail}",
                                 hint="set the API key the server expects") from exc
            raise ModelError(f"the server rejected the request (HTTP {exc.code}): {detail}",
                             hint="the server may not support an option sent (grammar, stop, max_tokens)",
                             ) from exc
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, (TimeoutError, socket.timeout)):
                raise _Retryable(f"no answer from {self.url} in {self.timeout_s:g} s") from exc
            raise _Retryable(f"cannot reach {self.url}: {reason}", unreachable=True) from exc
        except TimeoutError as exc:
            raise _Retryable(f"no answer from {self.url} in {self.timeout_s:g} s") from exc
        except (ConnectionError, http.client.HTTPException) as exc:
            raise _Retryable(f"the connection to {self.url} failed: {exc}", unreachable=True) from exc

    def _with_retries(self, fn: Any) -> Any:
        attempt = 0
        while True:
            try:
                return fn()
            except _Retryable as exc:
                if attempt >= self.retries:
                    if exc.unreachable:
                        raise ModelLoadError(f"cannot reach the model server: {exc}", path=self.url,
                                             hint=START_HINT) from exc
                    raise ModelError(f"the model server failed after {attempt + 1} tries: {exc}",
                                     hint="check the server's log; raise [backend] timeout_s or retries"
                                     ) from exc
                time.sleep(self.backoff_s * (2**attempt))
                attempt += 1

    def _request(self, method: str, path: str, body: dict[str, Any] | None) -> Any:
        def once() -> Any:
            resp = self._open(method, path, body)
            with resp:
                try:
                    raw = resp.read()
                except TimeoutError as exc:
                    raise _Retryable(f"no answer from {self.url} in {self.timeout_s:g} s") from exc
                except (ConnectionError, http.client.HTTPException) as exc:
                    raise _Retryable(f"the connection to {self.url} broke: {exc}") from exc
            try:
                return json.loads(raw)
            except ValueError as exc:
                raise ModelError(f"{self.url}{path} did not answer with JSON: {raw[:120]!r}",
                                 hint="is this an OpenAI-compatible server?") from exc

        return self._with_retries(once)

    # --- Backend ------------------------------------------------------------------------

    def _body(self, prompt: str, grammar: str | None, max_tokens: int, stop: list[str] | None,
              stream: bool) -> dict[str, Any]:
        body: dict[str, Any] = {"prompt": prompt, "max_tokens": max_tokens, "temperature": 0.0,
                                "top_p": 1.0, "stream": stream}
        if self.model:
            body["model"] = self.model
        if stop:
            body["stop"] = list(stop)
        if grammar:
            if self.flavor == "llama.cpp":
                body["grammar"] = grammar
            elif self.flavor == "vllm":
                body["guided_grammar"] = grammar
        return body

    def complete(
        self,
        prompt: str,
        *,
        grammar: str | None = None,
        max_tokens: int = 256,
        stop: list[str] | None = None,
        on_token: TokenCallback | None = None,
    ) -> Completion:
        """Greedy completion through ``/v1/completions``; streams when ``on_token`` is given."""
        start = time.perf_counter()
        if on_token is not None:
            return self._stream(prompt, grammar, max_tokens, stop, on_token, start)
        data = self._request("POST", "/v1/completions", self._body(prompt, grammar, max_tokens, stop, False))
        try:
            choice = data["choices"][0]
            text = str(choice.get("text") or "")
        except (KeyError, IndexError, TypeError, AttributeError) as exc:
            raise ModelError(f"unexpected answer from {self.url}/v1/completions: {str(data)[:200]}",
                             hint="is this an OpenAI-compatible server?") from exc
        usage = data.get("usage") or {}
        total = time.perf_counter() - start
        return Completion(
            text=text,
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            total_s=total,
            stopped="length" if choice.get("finish_reason") == "length" else "stop",
            extra={"server": self.url, "model": data.get("model", self.model), "flavor": self.flavor,
                   "grammar_sent": bool(grammar) and self.flavor != "none"},
        )

    def _stream(self, prompt: str, grammar: str | None, max_tokens: int, stop: list[str] | None,
                on_token: TokenCallback, start: float) -> Completion:
        body = self._body(prompt, grammar, max_tokens, stop, True)
        resp = self._with_retries(lambda: self._open("POST", "/v1/completions", body))
        pieces: list[str] = []
        stopped = "stop"
        usage: dict[str, Any] = {}
        first_s = 0.0
        with resp:
            try:
                for event in _sse_events(resp):
                    choices = event.get("choices") or []
                    if event.get("usage"):
                        usage = event["usage"]
                    if not choices:
                        continue
                    text = str(choices[0].get("text") or "")
                    if text:
                        if not pieces:
                            first_s = time.perf_counter() - start
                        pieces.append(text)
                        if on_token(text) is False:
                            stopped = "cancelled"
                            break
                    if choices[0].get("finish_reason") == "length":
                        stopped = "length"
            except TimeoutError as exc:
                raise ModelError(f"the stream from {self.url} stalled for {self.timeout_s:g} s",
                                 hint="raise [backend] timeout_s") from exc
            except (ConnectionError, http.client.HTTPException) as exc:
                raise ModelError(f"the stream from {self.url} broke: {exc}",
                                 hint="check the server's log") from exc
        return Completion(
            text="".join(pieces),
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or len(pieces)),
            prompt_s=first_s,
            total_s=time.perf_counter() - start,
            stopped=stopped,
            extra={"server": self.url, "model": self.model, "flavor": self.flavor, "streamed": True,
                   "grammar_sent": bool(grammar) and self.flavor != "none"},
        )

    def tokenize(self, text: str) -> list[int]:
        """Token ids from the server (llama_cpp.server ``/extras/tokenize`` or llama-server ``/tokenize``)."""
        errors: list[str] = []
        for path, body in (("/extras/tokenize", {"input": text}), ("/tokenize", {"content": text})):
            try:
                data = self._request("POST", path, body)
            except ModelLoadError:
                raise
            except ModelError as exc:
                errors.append(str(exc))
                continue
            tokens = data.get("tokens") if isinstance(data, dict) else None
            if isinstance(tokens, list):
                return [int(t) for t in tokens]
        raise ModelError(f"{self.url} offers no tokenize endpoint ({'; '.join(errors)[:200]})",
                         hint="token counts are unavailable with this server")

    def save_state(self) -> Any:
        """The KV cache lives in the server (which caches prompts itself); nothing to save here."""
        return None

    def load_state(self, state: Any) -> None:
        return None

    def close(self) -> None:
        return None


def _error_detail(exc: urllib.error.HTTPError) -> str:
    try:
        raw = exc.read()[:2000].decode("utf-8", "replace")
    except Exception:  # the body is only decoration for the message
        return exc.reason if isinstance(exc.reason, str) else ""
    try:
        data = json.loads(raw)
    except ValueError:
        return raw.strip()[:300]
    if isinstance(data, dict):
        err = data.get("error", data.get("detail", data))
        if isinstance(err, dict):
            return str(err.get("message", err))[:300]
        return str(err)[:300]
    return raw[:300]


def _sse_events(resp: http.client.HTTPResponse) -> Iterator[dict[str, Any]]:
    """Parse a ``text/event-stream`` body into JSON events, stopping at ``[DONE]``."""
    for raw in resp:
        line = raw.decode("utf-8", "replace").strip()
        if not line.startswith("data:"):
            continue
        payload = line[len("data:"):].strip()
        if payload == "[DONE]":
            return
        try:
            event = json.loads(payload)
        except ValueError:
            continue
        if isinstance(event, dict):
            if "error" in event and not event.get("choices"):
                raise ModelError(f"the server reported an error mid-stream: {event['error']}",
                                 hint="check the server's log")
            yield event


def load_openai_backend(url: str, *, threads: int | None = None, model: str | None = None,
                        timeout_s: float = 60.0, retries: int = 2, flavor: str = "llama.cpp",
                        connect: bool = True) -> OpenAIServerBackend:
    """What ``models.load_backend`` returns for a URL spec (``threads`` is the server's business)."""
    backend = OpenAIServerBackend(url, model=model, timeout_s=timeout_s, retries=retries, flavor=flavor)
    return backend.connect() if connect else backend
