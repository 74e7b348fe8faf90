"""LLM backends through llama-index: any OpenAI-compatible endpoint, or Ollama.

llama-index objects stay in this module: callers see ``stream_chat(system, user) -> Iterator[str]``
and ``complete(system, user) -> str``. Every failure (missing package, connection, timeout,
HTTP error, malformed stream) becomes a :class:`BackendError` or
:class:`MissingDependencyError` whose message never contains the API key.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

from evidence_finder.errors import BackendError, EvidenceError, MissingDependencyError
from evidence_finder.settings import LLMSettings

INSTALL_HINT = "pip install 'evidence-finder[llm]'"
OLLAMA_URL = "http://127.0.0.1:11434"
TOTAL_TIMEOUT_FACTOR = 5  # a whole streamed answer may take this many read timeouts
_BEARER = re.compile(r"(Bearer\s+)\S+", re.I)
_KEYLIKE = re.compile(r"\b(sk-[A-Za-z0-9_\-*]{6,})")


class LLMBackend:
    """A chat model at an OpenAI-compatible endpoint or an Ollama server."""

    def __init__(self, cfg: LLMSettings) -> None:
        if cfg.backend == "none":
            raise ValueError("LLMBackend needs settings.llm.backend 'openai' or 'ollama'")
        self.cfg = cfg
        self.name = cfg.backend
        # Only the settings count (EVIDENCE_LLM__*, [llm] in evidence.toml): an OPENAI_* variable
        # left in a shell must not silently point the app at another endpoint or key.
        self.base_url = cfg.base_url or (OLLAMA_URL if cfg.backend == "ollama" else "")
        self.model = cfg.model
        self._key = cfg.api_key.get_secret_value()
        self._client: Any = None

    def __repr__(self) -> str:  # never show the key, not even in a debugger or a log line
        return f"LLMBackend(backend={self.name!r}, base_url={self.base_url!r}, model={self.model!r})"

    # ------------------------------------------------------------------ client
    def client(self) -> Any:
        if self._client is None:
            self._client = self._build()
        return self._client

    def _build(self) -> Any:
        if not self.model:
            raise BackendError(f"no model configured for the {self.name} LLM backend: set "
                               "EVIDENCE_LLM__MODEL or [llm] model in evidence.toml")
        if self.name == "openai":
            if not self.base_url:
                raise BackendError("no base URL configured for the openai LLM backend: set "
                                   "EVIDENCE_LLM__BASE_URL (e.g. http://127.0.0.1:8080/v1)")
            try:
                from llama_index.llms.openai_like import OpenAILike
            except ImportError as exc:
                raise MissingDependencyError(
                    f"the openai LLM backend needs llama-index: {INSTALL_HINT}") from exc
            return OpenAILike(
                model=self.model, api_base=self.base_url, api_key=self._key or "not-needed",
                timeout=self.cfg.timeout_s, max_retries=0, temperature=self.cfg.temperature,
                max_tokens=self.cfg.max_tokens, is_chat_model=True, context_window=self.cfg.context_window,
            )
        try:
            from llama_index.llms.ollama import Ollama
        except ImportError as exc:
            raise MissingDependencyError(f"the ollama LLM backend needs llama-index: {INSTALL_HINT}") from exc
        return Ollama(model=self.model, base_url=self.base_url, request_timeout=self.cfg.timeout_s,
                      temperature=self.cfg.temperature,
                      additional_kwargs={"num_predict": self.cfg.max_tokens})

    # ------------------------------------------------------------------ calls
    def stream_chat(self, system: str, user: str) -> Iterator[str]:
        """Text deltas of the model's reply; raises BackendError on any failure."""
        try:
            client = self.client()  # importing llama-index is slow: not part of the deadline
            # timeout_s bounds each read (the client's job); this bounds a server that dribbles.
            deadline = time.monotonic() + TOTAL_TIMEOUT_FACTOR * self.cfg.timeout_s
            stream = client.stream_chat(_messages(system, user))
            for chunk in stream:
                delta = getattr(chunk, "delta", None)
                if delta:
                    yield str(delta)
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"no complete answer within {TOTAL_TIMEOUT_FACTOR * self.cfg.timeout_s:g} s")
        except EvidenceError as exc:
            raise BackendError(self.scrub(str(exc))) from None
        except Exception as exc:  # noqa: BLE001 - any client failure means: fall back
            raise BackendError(self.describe(exc)) from None

    def complete(self, system: str, user: str) -> str:
        try:
            reply = self.client().chat(_messages(system, user))
            return str(reply.message.content or "")
        except EvidenceError as exc:
            raise BackendError(self.scrub(str(exc))) from None
        except Exception as exc:  # noqa: BLE001
            raise BackendError(self.describe(exc)) from None

    # ------------------------------------------------------------------ errors
    def describe(self, exc: BaseException) -> str:
        """A short, key-free account of a client failure."""
        name = type(exc).__name__
        status = getattr(exc, "status_code", None) or getattr(getattr(exc, "response", None),
                                                              "status_code", None)
        if isinstance(exc, TimeoutError):
            why = str(exc)
        elif "Timeout" in name:
            why = f"no response within {self.cfg.timeout_s:g} s"
        elif status:
            why = f"HTTP {status}"
            if status in (401, 403):
                why += " (check the API key)"
            elif status == 404:
                why += " (check the base URL and model name)"
        elif "Connect" in name or isinstance(exc, ConnectionError):
            why = "cannot connect"
        else:
            detail = str(exc).splitlines()[0][:200] if str(exc) else ""
            why = f"unexpected reply ({name}{': ' + detail if detail else ''})"
        return self.scrub(f"{self.name} model {self.model!r} at {self.base_url}: {why}")

    def scrub(self, text: str) -> str:
        if self._key:
            text = text.replace(self._key, "***")
        return _KEYLIKE.sub("***", _BEARER.sub(r"\1***", text))


def _messages(system: str, user: str) -> list[Any]:
    from llama_index.core.llms import ChatMessage

    return [ChatMessage(role="system", content=system), ChatMessage(role="user", content=user)]
