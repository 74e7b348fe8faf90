"""Small guards of the web chat: questions that are not text, weak logins, export folders."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path

from evidence_finder.errors import EvidenceError

MIN_PASSWORD_CHARS = 12
EXPORTS_KEPT = 64  # answers whose downloads stay available; older export folders are removed
_WEAK = frozenset({"password", "wachtwoord", "admin", "welkom", "welcome", "geheim", "secret",
                   "qwerty", "letmein", "changeme", "evidence", "erasmus"})


def question_problem(question: str) -> str | None:
    """A message when the question holds something that is not text (a lone surrogate)."""
    for i, ch in enumerate(question):
        if 0xD800 <= ord(ch) <= 0xDFFF:
            return (f"the question contains a lone surrogate (U+{ord(ch):04X}) at position {i + 1}, "
                    "which is not text (a broken copy-paste?); retype the question and ask again")
    return None


def shown(question: str) -> str:
    """The question with anything that is not text replaced by U+FFFD, safe to display."""
    return "".join("\ufffd" if 0xD800 <= ord(ch) <= 0xDFFF else ch for ch in question)


def check_credentials(user: str, password: str) -> None:
    """Refuse a blank-looking user name or a weak password before the server starts."""
    if not user and not password:
        return
    if not user.strip() or user != user.strip() or not user.isprintable():
        raise EvidenceError(
            f"EVIDENCE_SERVER__USERNAME {user!r} is blank or has spaces or control characters "
            "around it; choose a plain user name"
        )
    low = password.lower()
    if (len(password) < MIN_PASSWORD_CHARS or low in _WEAK or low == user.lower()
            or len(set(password)) < 5):
        raise EvidenceError(
            f"EVIDENCE_SERVER__PASSWORD is too weak: use at least {MIN_PASSWORD_CHARS} characters, "
            "not a common word, not the user name (e.g. `python -c \"import secrets; "
            "print(secrets.token_urlsafe(16))\"`)"
        )


class ExportFolders:
    """One folder per answer's downloads under a single parent; only the newest are kept."""

    def __init__(self, parent: Path | None = None, keep: int = EXPORTS_KEPT) -> None:
        self.parent = parent or Path(tempfile.gettempdir()) / f"evidence-exports-{os.getuid()}"
        self.keep = keep

    def new(self) -> Path:
        self.parent.mkdir(mode=0o700, exist_ok=True)
        out = self.parent / f"{time.time_ns()}-{uuid.uuid4().hex[:8]}"
        out.mkdir()
        self._prune()
        return out

    def _prune(self) -> None:
        folders = sorted(p for p in self.parent.iterdir() if p.is_dir())
        for old in folders[:-self.keep]:
            shutil.rmtree(old, ignore_errors=True)
