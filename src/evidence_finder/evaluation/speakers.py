"""Speaker precision and recall against the hand labels in ``labels.jsonl``.

Runs the real ingest steps (load → clean → structure) on each labelled corpus document and
pairs every label with the quote unit whose cleaned text starts with its ``quote_start``
(repeated quotes pair in reading order). A labelled quote that the structure step did not
detect counts as a quote with no speaker.

- role precision: of the quotes given a speaker role, the share whose role is the label's;
- role recall: of the labels with a role, the share found with that role;
- organisation: the same, an organisation counting as right when the label's name (letters
  and digits, lower-cased) is contained in the prediction.

    PYTHONPATH=src python evals/speakers/score.py [--corpus DIR] [--show-errors]
"""

from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from evidence_finder.ingest.clean import clean
from evidence_finder.ingest.load import load_source
from evidence_finder.ingest.structure import analyse
from evidence_finder.settings import PROJECT_ROOT

LABELS = PROJECT_ROOT / "evals" / "speakers" / "labels.jsonl"
CORPUS = PROJECT_ROOT / "corpus"


@dataclass
class Counts:
    predicted: int = 0  # quotes given a value
    labelled: int = 0  # labels with a value
    correct: int = 0  # predicted and equal to a non-empty label
    errors: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.correct / self.labelled if self.labelled else 0.0


def _key(text: str) -> str:
    return " ".join(text.split())


def _org_key(text: str) -> str:
    return re.sub(r"[^0-9a-zà-ÿ]", "", text.lower())


def _corpus_dir(corpus: Path | None) -> Path:
    for d in (corpus, CORPUS):
        if d is not None and d.is_dir():
            return d
    raise FileNotFoundError("no corpus directory: pass --corpus DIR")


def predictions(doc_path: Path) -> list[tuple[str, str, str]]:
    """(quote text, speaker role, speaker organisation) of every quote unit, in reading order."""
    doc = clean(load_source(doc_path))
    return [(doc.text[u.start:u.end], u.speaker, u.speaker_org) for u in analyse(doc) if u.kind == "quote"]


def speaker_scores(labels: Path = LABELS, corpus: Path | None = None) -> dict[str, Counts]:
    """Role and organisation counts over all labels: {'role': Counts, 'organisation': Counts,
    'coverage': Counts (labelled quotes found as quote units: correct / labelled)}."""
    rows = [json.loads(line) for line in labels.read_text(encoding="utf-8").splitlines() if line.strip()]
    by_doc: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in rows:
        by_doc[r["doc"]].append(r)
    root = _corpus_dir(corpus)
    role, org, coverage = Counts(), Counts(), Counts()
    for doc_name, doc_rows in sorted(by_doc.items()):
        units = predictions(root / doc_name)
        used: set[int] = set()
        for r in doc_rows:
            start = _key(r["quote_start"])
            k = next((k for k, (t, _, _) in enumerate(units) if k not in used and _key(t).startswith(start)),
                     None)
            coverage.labelled += 1
            got_role, got_org = ("", "")
            if k is not None:
                used.add(k)
                coverage.correct += 1
                got_role, got_org = units[k][1], units[k][2]
            tag = f"{doc_name[:3]} {r['quote_start'][:30]!r}"
            _count(role, r["role"], got_role, got_role == r["role"], tag)
            org_ok = bool(r["organisation"]) and _org_key(r["organisation"]) in _org_key(got_org)
            _count(org, r["organisation"], got_org, org_ok, tag)
    coverage.predicted = coverage.labelled
    return {"role": role, "organisation": org, "coverage": coverage}


def to_markdown(scores: dict[str, Counts]) -> str:
    """The eval report's section: speaker precision and recall on hand-labelled quotes."""
    lines = ["## Quote speakers (hand-labelled quotes of 001, 003, 004, `evals/speakers/labels.jsonl`)", "",
             "| field | precision | recall | found | labelled | correct |", "|---|---|---|---|---|---|"]
    for name in ("role", "organisation"):
        c = scores[name]
        lines.append(f"| {name} | {c.precision:.3f} | {c.recall:.3f} | {c.predicted} | {c.labelled} | {c.correct} |")
    return "\n".join(lines) + "\n"


def _count(c: Counts, label: str, got: str, ok: bool, tag: str) -> None:
    c.labelled += bool(label)
    c.predicted += bool(got)
    c.correct += bool(label and got and ok)
    if (label or got) and not (label and got and ok):
        c.errors.append(f"{tag}: label {label!r}, got {got!r}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=None)
    ap.add_argument("--show-errors", action="store_true")
    args = ap.parse_args()
    scores = speaker_scores(corpus=args.corpus)
    print(f"{'':14}{'precision':>10}{'recall':>8}{'found':>7}{'labelled':>10}{'correct':>9}")
    for name in ("role", "organisation"):
        c = scores[name]
        print(f"{name:14}{c.precision:>10.3f}{c.recall:>8.3f}{c.predicted:>7}{c.labelled:>10}{c.correct:>9}")
    cov = scores["coverage"]
    print(f"quotes detected: {cov.correct}/{cov.labelled}")
    if args.show_errors:
        for name in ("role", "organisation"):
            print(f"\n{name} errors:")
            for e in scores[name].errors:
                print("  " + e)


if __name__ == "__main__":
    main()
