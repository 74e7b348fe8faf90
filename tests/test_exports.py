"""Exports to cite from (#16.4): the files are written, then read back — CSV with the csv
module, RIS line by line, BibTeX with a small brace-aware parser."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from evidence_finder.answer import exports
from evidence_finder.answer.service import AnswerService
from evidence_finder.retrieval.search import Searcher
from evidence_finder.settings import Settings
from evidence_finder.types import Answer, Citation, DocumentMeta, Passage
from evidence_finder.ui.exports import write_exports
from evidence_finder.ui.render import EvidenceItem, Turn

PABO = DocumentMeta(doc_id="rapport_pabo.txt", title="Internationalisering op de pabo", publisher="Testbureau",
                    year=2021, sectors=("HO", "teacher training"), short_title="Pabo-rapport")
ODD = DocumentMeta(doc_id="odd.pdf", title="Kosten {50%} & baten_2 #1 \\ ~", publisher="Bureau & Co",
                   year=2020, type="factsheet", language="nl")


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def parse_ris(text: str) -> list[dict[str, list[str]]]:
    records, cur = [], None
    for line in text.splitlines():
        if not line.strip():
            continue
        m = re.fullmatch(r"([A-Z][A-Z0-9])  - (.*)", line)
        assert m, f"not a RIS line: {line!r}"
        tag, value = m.groups()
        if tag == "TY":
            assert cur is None, "TY before the previous ER"
            cur = {}
        assert cur is not None, f"{tag} outside a record"
        if tag == "ER":
            records.append(cur)
            cur = None
            continue
        cur.setdefault(tag, []).append(value)
    assert cur is None, "record without ER"
    return records


def parse_bibtex(text: str) -> list[tuple[str, str, dict[str, str]]]:
    """(type, key, fields) per entry; field values with their outer braces removed. Fails on
    unbalanced braces, which is what breaks a .bib file in Zotero or biber."""
    entries, i = [], 0
    while (at := text.find("@", i)) >= 0:
        m = re.compile(r"@(\w+)\{([^,\s]+),").match(text, at)
        assert m, text[at:at + 40]
        pos, fields = m.end(), {}
        while True:
            fm = re.compile(r"\s*(\w+)\s*=\s*\{").match(text, pos)
            if not fm:
                break
            depth, j = 1, fm.end()
            while depth:
                assert j < len(text), "unbalanced braces"
                ch = text[j]
                if ch == "\\":
                    j += 2
                    continue
                depth += {"{": 1, "}": -1}.get(ch, 0)
                j += 1
            fields[fm.group(1)] = text[fm.end():j - 1]
            pos = j
            if text[pos:pos + 1] == ",":
                pos += 1
        close = re.compile(r"\s*\}").match(text, pos)
        assert close, f"entry {m.group(2)} is not closed: {text[pos:pos + 40]!r}"
        entries.append((m.group(1), m.group(2), fields))
        i = close.end()
    return entries


def test_exports_of_a_real_answer_read_back(built_index: Settings, hash_embedder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    svc = AnswerService(Searcher(built_index, embedder=hash_embedder), built_index)
    answer = svc.ask("Welke drempels zijn er bij een KA2-aanvraag?")
    assert answer.citations
    files = write_exports(tmp_path, Turn(answer.question, answer=answer), "nl")
    rows = read_csv(Path(files.csv))
    assert list(rows[0]) == list(exports.CSV_COLUMNS)
    assert list(exports.CSV_COLUMNS)[1:11] == ["doc_id", "title", "publisher", "year", "section", "page",
                                              "speaker", "kind", "char_start", "char_end"]
    assert "text" in exports.CSV_COLUMNS
    pabo = [r for r in rows if r["doc_id"] == "rapport_pabo.txt"]
    assert pabo and {(r["title"], r["publisher"], r["year"]) for r in pabo} == {
        ("Internationalisering op de pabo", "Testbureau", "2021")}
    source = (Path(__file__).parent / "data" / "corpus" / "rapport_pabo.txt").read_text(encoding="utf-8")
    for r in pabo:  # the offsets point at the verbatim text in the source file, or span it
        where = " ".join(source[int(r["char_start"]):int(r["char_end"])].split())
        if r["offsets"] == "exact":
            assert where == r["text"]
        else:
            assert r["offsets"] == "passage" and r["text"][:20] in where
        assert r["claim"] and r["claim"] in " ".join(answer.text.split())  # a whole claim, not a fragment
    ris = parse_ris(Path(files.ris).read_text(encoding="utf-8"))
    assert [r["TI"] for r in ris][0] == ["Internationalisering op de pabo"]
    first = ris[0]
    assert (first["TY"], first["PY"], first["PB"], first["KW"]) == (
        ["RPRT"], ["2021"], ["Testbureau"], ["HO", "teacher training"])
    assert len(ris) == len({c.passage.doc_id for c in answer.citations})
    bib = parse_bibtex(Path(files.bibtex).read_text(encoding="utf-8"))
    assert bib[0][:2] == ("techreport", "testbureau2021internationalisering")
    assert bib[0][2]["title"] == "{Internationalisering op de pabo}" and bib[0][2]["year"] == "2021"
    assert bib[0][2]["institution"] == "Testbureau"
    md = Path(files.markdown).read_text(encoding="utf-8")
    assert "**Internationalisering op de pabo** (Testbureau)" in md


def test_quote_rows_have_the_speaker_and_no_claim_fragments(built_index: Settings, hash_embedder,  # type: ignore[no-untyped-def]
                                                             tmp_path: Path) -> None:
    svc = AnswerService(Searcher(built_index, embedder=hash_embedder), built_index)
    answer = svc.ask("Wat zeggen respondenten over de KA2-aanvraag?", mode="quotes")
    rows = read_csv(Path(write_exports(tmp_path, Turn(answer.question, answer=answer, mode="quotes"), "nl").csv))
    quote = next(r for r in rows if r["doc_id"] == "rapport_pabo.txt")
    assert (quote["kind"], quote["speaker"], quote["section"], quote["claim"]) == (
        "quote", "coördinator", "1.2. Belemmeringen bij KA2-aanvragen", "")
    assert quote["text"].startswith("“Nou, voor mij") and quote["text"].endswith("uitleggen.”")
    assert len(rows) == len(answer.citations)  # one row per quote, not one per sentence inside it


def _cite(n: int, meta: DocumentMeta, text: str, page: int | None = None) -> Citation:
    p = Passage(f"p{n}", meta.doc_id, "passage", text, 100, 100 + len(text), 0, len(text), section="2 > 2.1 Kosten",
                page=page)
    return Citation(n, p, meta.title, text, 0, len(text))


def test_claims_are_cut_at_markers_and_formulas_are_neutralised() -> None:
    a = _cite(1, PABO, "=SUM(A1) is een drempel. Tweede zin.")
    b = _cite(2, ODD, "Kosten zijn hoog.", page=7)
    text = "Zwaar, zegt “men. Echt” [1]. Laag [1, 2].\n\n- Punt een: “a. b.” [2]"
    rows = list(csv.DictReader(io.StringIO(exports.evidence_csv("q", Answer("q", text, [a, b]),
                                                                {"rapport_pabo.txt": PABO}))))
    assert [(r["n"], r["claim"]) for r in rows] == [
        ("1", "Zwaar, zegt “men. Echt”."), ("1", "Laag."), ("2", "Laag."), ("2", "Punt een: “a. b.”")]
    assert rows[0]["text"] == "'=SUM(A1) is een drempel. Tweede zin."
    assert (rows[0]["char_start"], rows[0]["char_end"]) == ("100", str(100 + len(a.text)))
    assert (rows[2]["title"], rows[2]["publisher"], rows[2]["page"]) == (ODD.title, "", "7")  # no meta given


def test_references_escape_and_stay_parseable() -> None:
    cites = [_cite(1, PABO, "x"), _cite(2, ODD, "y"), _cite(3, PABO, "z"),
             _cite(4, DocumentMeta(doc_id="b.txt", title="Internationalisering in cijfers",
                                   publisher="Testbureau", year=2021), "w")]
    docs = exports.cited_documents(cites, {m.doc_id: m for m in (PABO, ODD, cites[3].passage and
                                                                 DocumentMeta(doc_id="b.txt",
                                                                              title="Internationalisering in cijfers",
                                                                              publisher="Testbureau", year=2021))})
    assert [d.doc_id for d in docs] == ["rapport_pabo.txt", "odd.pdf", "b.txt"]  # first use, once each
    bib = parse_bibtex(exports.bibtex(docs))
    assert [(kind, key) for kind, key, _ in bib] == [
        ("techreport", "testbureau2021internationalisering"), ("misc", "bureau2020kosten"),
        ("techreport", "testbureau2021internationaliseringb")]
    odd = bib[1][2]
    assert odd["title"] == r"{Kosten \{50\%\} \& baten\_2 \#1 \textbackslash{} \textasciitilde{}}"
    assert odd["publisher"] == r"Bureau \& Co" and odd["type"] == "factsheet"
    ris = parse_ris(exports.ris(docs))
    assert [r["TY"][0] for r in ris] == ["RPRT", "GEN", "RPRT"]
    assert ris[1]["TI"] == [ODD.title] and ris[0]["ST"] == ["Pabo-rapport"]
    assert ris[0]["N1"] == ["Evidence Finder document id: rapport_pabo.txt"]


def test_evidence_items_supply_metadata_when_the_answer_has_no_hits(tmp_path: Path) -> None:
    c = _cite(1, PABO, "De administratie is omvangrijk.")
    turn = Turn("q", answer=Answer("q", "Omvangrijk [1].", [c]), evidence=[EvidenceItem(c, PABO)])
    rows = read_csv(Path(write_exports(tmp_path, turn, "en").csv))
    assert (rows[0]["publisher"], rows[0]["year"], rows[0]["claim"]) == ("Testbureau", "2021", "Omvangrijk.")
