"""The smaller findings of #17.6: surrogate questions, remote images in exports, export
folders, weak logins (file names with newlines: tests/test_reliability_paths.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import SecretStr

from evidence_finder.errors import EvidenceError
from evidence_finder.settings import Settings
from evidence_finder.types import Answer, Citation, Passage
from evidence_finder.ui import app, render
from evidence_finder.ui.guards import ExportFolders, question_problem, shown
from evidence_finder.ui.render import EvidenceItem, Turn

EVIL = "Zie de grafiek ![x](http://evil.example/p.png) en [klik](https://evil.example/)."


def _answer() -> Answer:
    p = Passage("p1", "doc.txt", "passage", EVIL, 0, len(EVIL), 0, len(EVIL))
    c = Citation(1, p, "Titel", EVIL, 0, len(EVIL))
    return Answer("vraag", f"{EVIL} [1]", [c])


def test_markdown_export_never_renders_images_or_links_from_documents() -> None:
    a = _answer()
    md = render.answer_markdown("vraag", a, [EvidenceItem(a.citations[0], None, "", "")], "nl")
    assert not re.search(r"!\[|(?<!\\)\]\(", md), md
    assert "!\\[x\\](http://evil.example/p.png)" in md  # still readable as text


def test_lone_surrogate_question_is_a_message() -> None:
    assert question_problem("Wat is \ud800 KA2?") == (
        "the question contains a lone surrogate (U+D800) at position 8, which is not text (a broken "
        "copy-paste?); retype the question and ask again")
    assert question_problem("Wat is KA2?") is None
    assert shown("Wat is \ud800 KA2?").encode("utf-8") == "Wat is \ufffd KA2?".encode()


def test_exports_do_not_leave_a_folder_per_answer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app, "_EXPORTS", ExportFolders(tmp_path / "exports", keep=5))
    a = _answer()
    turn = Turn(question="vraag", mode="answer", answer=a,
                evidence=[EvidenceItem(a.citations[0], None, "", "")])
    paths = [app._write_exports(turn, "nl") for _ in range(20)]
    assert all(Path(md).parent.parent == tmp_path / "exports" for md, *_ in paths)
    assert len(list((tmp_path / "exports").iterdir())) == 5
    assert Path(paths[-1][0]).is_file()


@pytest.mark.parametrize(("user", "password", "said"), [
    (" ", "een-sterk-wachtwoord-1", "EVIDENCE_SERVER__USERNAME ' ' is blank"),
    ("ana ", "een-sterk-wachtwoord-1", "EVIDENCE_SERVER__USERNAME 'ana ' is blank"),
    ("ana", "geheim", "EVIDENCE_SERVER__PASSWORD is too weak"),
    ("ana", "aaaaaaaaaaaaaaaa", "EVIDENCE_SERVER__PASSWORD is too weak"),
    ("wachtwoordje", "wachtwoordje", "EVIDENCE_SERVER__PASSWORD is too weak"),
])
def test_blank_or_weak_credentials_are_refused_at_start_up(settings: Settings, user: str,
                                                           password: str, said: str) -> None:
    s = settings.model_copy(update={"server": settings.server.model_copy(
        update={"username": user, "password": SecretStr(password)})})
    with pytest.raises(EvidenceError, match=said.replace("(", r"\(")):
        app.check_binding(s, "0.0.0.0")
