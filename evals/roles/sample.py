"""Reproduce the sentence sample behind ``evals/roles/labels.jsonl``.

The roles in labels.jsonl were assigned by hand; this script only reproduces *which*
sentences were drawn (and their headings and dev/test split), so the sample can be audited
or extended. It is deliberately independent of the ingest pipeline (stdlib only): lines are
joined into paragraphs, heading-like lines are tracked, and paragraphs are split on
``[.!?]`` followed by whitespace and a capital. Sentence text is whitespace-normalised.

    python evals/roles/sample.py [--corpus corpus/] [--out sample.jsonl]
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

SEED = 14
TOTAL = 330
MIN_PER_DOC = 30

_NUMBERED = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2})*\.?|\d{1,2}\s+/)\s+[A-Z“‘\"]")
_PAGE = re.compile(r"^(?:pagina\s*)?\d{1,4}$", re.I)
_BULLET = re.compile("^(?:[\uf000-\uf0ff•●▪◦‣\\-–+*]|\\d{1,2}[.)])\\s*")
_SENT_END = re.compile(r"(?<=[.!?])[”\"’)]?\s+(?=[A-Z“\"‘(])")
_TERMINAL = (".", "!", "?", ":", ";", "”", "\"", "’")


def _caps(line: str) -> bool:
    letters = [c for c in line if c.isalpha()]
    return len(letters) >= 8 and all(c.isupper() for c in letters)


def is_heading(line: str, prev: str) -> bool:
    """A numbered or all-caps line, or a short title line after a finished sentence."""
    if len(line) > 160 or line.endswith((".", ",", ";")):
        return False
    if _NUMBERED.match(line) and len(line.split()) <= 20:
        return True
    if _caps(line) and not line.startswith(("UIT:", "BRON:")):
        return True
    words = line.split()
    return (
        len(words) <= 8
        and line[:1].isupper()
        and not line.endswith(_TERMINAL)
        and (not prev or prev.endswith(_TERMINAL))
        and not re.search(r"\d+%", line)
    )


def sentences(text: str) -> list[tuple[str, str]]:
    """(sentence, nearest preceding heading) pairs of a report text."""
    out: list[tuple[str, str]] = []
    heading, prev, prev_heading = "", "", False
    para: list[str] = []

    def flush() -> None:
        joined = re.sub(r"\s+", " ", " ".join(para)).strip()
        for s in _SENT_END.split(joined):
            s = s.strip()
            if len(s) >= 20 and len(s.split()) >= 4 and re.search(r"[a-z]{3}", s):
                out.append((s, heading))
        para.clear()

    for raw in text.splitlines():
        line = raw.strip()
        if not line or _PAGE.match(line):
            continue
        if prev_heading and line[:1].islower() and len(line.split()) <= 10 and not line.endswith(_TERMINAL):
            heading = (heading + " " + line)[:120]  # a heading wrapped over two lines
            prev_heading = False
        elif is_heading(line, prev):
            flush()
            heading = re.sub(r"\s+", " ", line)[:120]
            prev_heading = True
        else:
            prev_heading = False
            m = _BULLET.match(line)
            if m and m.group():
                flush()
                line = line[m.end():]
            para.append(line)
        prev = line
    flush()
    return out


def allocate(counts: dict[str, int], total: int = TOTAL, floor: int = MIN_PER_DOC) -> dict[str, int]:
    """Proportional allocation with a floor per document (capped at what a document has)."""
    alloc = {d: min(n, floor) for d, n in counts.items()}
    rest = total - sum(alloc.values())
    big = {d: n for d, n in counts.items() if n > floor}
    size = sum(big.values())
    for d, n in big.items():
        alloc[d] = min(n, alloc[d] + round(rest * n / size))
    return alloc


def draw(corpus: Path) -> list[dict[str, str]]:
    rng = random.Random(SEED)
    per_doc = {p.name: sentences(p.read_text(encoding="utf-8")) for p in sorted(corpus.glob("*.txt"))}
    alloc = allocate({d: len(s) for d, s in per_doc.items()})
    rows: list[dict[str, str]] = []
    for doc, sents in per_doc.items():
        for i in sorted(rng.sample(range(len(sents)), alloc[doc])):
            text, heading = sents[i]
            rows.append({"doc": doc, "text": text, "heading": heading})
    order = list(range(len(rows)))
    rng.shuffle(order)
    for rank, i in enumerate(order):
        rows[i]["split"] = "dev" if rank % 2 == 0 else "test"
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--corpus", type=Path, default=Path(__file__).resolve().parents[2] / "corpus")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    rows = draw(args.corpus)
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    if args.out:
        args.out.write_text(lines, encoding="utf-8")
    else:
        print(lines, end="")


if __name__ == "__main__":
    main()
