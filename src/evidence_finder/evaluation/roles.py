"""Per-role precision / recall / F1 of ``sentence_role`` on the hand-labelled sample.

    python evals/roles/score.py [labels.jsonl] [--errors dev]

``role_scores(path)`` returns ``{split: {"roles": {role: {p, r, f1, support}}, "macro_f1",
"accuracy", "n"}}`` for use in eval reports. Macro-F1 averages over roles with support in
that split.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path
from typing import Any

from evidence_finder.ingest.roles import ROLES, sentence_role
from evidence_finder.settings import PROJECT_ROOT

LABELS = PROJECT_ROOT / "evals" / "roles" / "labels.jsonl"


def load(path: Path = LABELS) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def predict(rows: list[dict[str, str]]) -> list[str]:
    return [sentence_role(r["text"], r.get("heading", "")) for r in rows]


def _prf(gold: list[str], pred: list[str]) -> dict[str, Any]:
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for g, p in zip(gold, pred, strict=True):
        if g == p:
            tp[g] += 1
        else:
            fp[p] += 1
            fn[g] += 1
    roles: dict[str, dict[str, float]] = {}
    for role in ROLES:
        prec = tp[role] / (tp[role] + fp[role]) if tp[role] + fp[role] else 0.0
        rec = tp[role] / (tp[role] + fn[role]) if tp[role] + fn[role] else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        roles[role] = {"p": prec, "r": rec, "f1": f1, "support": tp[role] + fn[role], "predicted": tp[role] + fp[role]}
    present = [roles[r]["f1"] for r in ROLES if roles[r]["support"]]
    return {
        "roles": roles,
        "macro_f1": sum(present) / len(present) if present else 0.0,
        "accuracy": sum(tp.values()) / len(gold) if gold else 0.0,
        "n": len(gold),
    }


def role_scores(labels_path: Path | str = LABELS) -> dict[str, dict[str, Any]]:
    """Scores per split ('dev', 'test') and over 'all' labelled sentences."""
    rows = load(Path(labels_path))
    pred = predict(rows)
    out: dict[str, dict[str, Any]] = {}
    for split in ("dev", "test", "all"):
        idx = [i for i, r in enumerate(rows) if split == "all" or r["split"] == split]
        out[split] = _prf([rows[i]["role"] for i in idx], [pred[i] for i in idx])
    return out


def to_markdown(scores: dict[str, dict[str, Any]]) -> str:
    """The eval report's section: per-role precision, recall and F1 on the held-out labels."""
    lines = ["## Evidence roles (hand-labelled sentences, `evals/roles/labels.jsonl`)", "",
             "| split | role | precision | recall | F1 | labelled | predicted |", "|---|---|---|---|---|---|---|"]
    for split in ("dev", "test"):
        s = scores[split]
        for role in ROLES:
            m = s["roles"][role]
            lines.append(f"| {split} | {role} | {m['p']:.3f} | {m['r']:.3f} | {m['f1']:.3f} | "
                         f"{m['support']} | {m['predicted']} |")
        lines.append(f"| {split} | macro-F1 / accuracy | | | {s['macro_f1']:.3f} | {s['n']} | "
                     f"acc {s['accuracy']:.3f} |")
    return "\n".join(lines) + "\n"


def format_table(scores: dict[str, dict[str, Any]]) -> str:
    lines = []
    for split in ("dev", "test"):
        s = scores[split]
        lines.append(f"{split} (n={s['n']})  macro-F1 {s['macro_f1']:.3f}  accuracy {s['accuracy']:.3f}")
        lines.append(f"  {'role':<15}{'P':>7}{'R':>7}{'F1':>7}{'gold':>6}{'pred':>6}")
        for role in ROLES:
            m = s["roles"][role]
            lines.append(f"  {role:<15}{m['p']:7.3f}{m['r']:7.3f}{m['f1']:7.3f}{m['support']:6d}{m['predicted']:6d}")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("labels", nargs="?", type=Path, default=LABELS)
    ap.add_argument("--errors", choices=["dev", "test"], help="list the mistakes of a split")
    args = ap.parse_args()
    print(format_table(role_scores(args.labels)))
    if args.errors:
        rows = load(args.labels)
        for r, p in zip(rows, predict(rows), strict=True):
            if r["split"] == args.errors and r["role"] != p:
                print(f"gold={r['role']:<14} pred={p:<14} [{r['heading'][:40]}] {r['text'][:160]}")


if __name__ == "__main__":
    main()
