#!/usr/bin/env python3
"""Validate the retrieval evaluation question sets (dev.jsonl, test.jsonl, blind.jsonl).

Checks (see shared/docs/eval-format.md):
  * every line is a JSON object with the fields id, question, lang, kind, gold, answer
    (and optionally split, which must match the file name);
  * lang in {nl, en}; kind in {fact, barrier_enabler, quote, synthesis, unanswerable};
  * ids are unique (within and across the files);
  * unanswerable questions have an empty gold list, all others at least one item,
    synthesis at least two;
  * the optional extra field cross_report, if present, is true exactly when the gold
    items come from two or more documents;
  * every gold text is 40-120 characters, has no leading/trailing whitespace and
    occurs verbatim within a single line of its document in the corpus.

Prints counts per split x lang x kind x doc. Exit code 1 on any error.

Usage: python3 evals/questions/check_gold.py [CORPUS_DIR]
       (default: ../shared/corpus relative to the repository root)
Stdlib only.
"""
import json
import os
import sys
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
DEFAULT_CORPUS = os.path.join(REPO_ROOT, "..", "shared", "corpus")
FILES = ("dev.jsonl", "test.jsonl", "blind.jsonl")
LANGS = {"nl", "en"}
KINDS = ("fact", "barrier_enabler", "quote", "synthesis", "unanswerable")
REQUIRED = ("id", "question", "lang", "kind", "gold", "answer")


def load_corpus(corpus_dir):
    docs = {}
    for name in sorted(os.listdir(corpus_dir)):
        if name.endswith(".txt"):
            with open(os.path.join(corpus_dir, name), encoding="utf-8") as f:
                docs[name] = f.read().split("\n")
    return docs


def main():
    corpus_dir = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_CORPUS)
    if not os.path.isdir(corpus_dir):
        print(f"corpus directory not found: {corpus_dir}")
        return 1
    docs = load_corpus(corpus_dir)
    errors = []
    seen_ids = {}
    counts = Counter()          # (split, lang, kind, doc)
    per_split = Counter()       # (split, lang, kind)
    doc_cover = Counter()       # (split, doc)
    n_questions = Counter()

    for fname in FILES:
        path = os.path.join(HERE, fname)
        split = fname.split(".")[0]
        if not os.path.exists(path):
            errors.append(f"{fname}: missing")
            continue
        with open(path, encoding="utf-8") as f:
            for ln, line in enumerate(f, 1):
                if not line.strip():
                    continue
                where = f"{fname}:{ln}"
                try:
                    q = json.loads(line)
                except json.JSONDecodeError as e:
                    errors.append(f"{where}: invalid JSON ({e})")
                    continue
                if not isinstance(q, dict):
                    errors.append(f"{where}: not an object")
                    continue
                missing = [k for k in REQUIRED if k not in q]
                if missing:
                    errors.append(f"{where}: missing fields {missing}")
                    continue
                qid = q["id"]
                where = f"{fname}:{ln} ({qid})"
                if not isinstance(qid, str) or not qid:
                    errors.append(f"{where}: id must be a non-empty string")
                if qid in seen_ids:
                    errors.append(f"{where}: duplicate id (also {seen_ids[qid]})")
                seen_ids[qid] = where
                if "split" in q and q["split"] != split:
                    errors.append(f"{where}: split {q['split']!r} != {split!r}")
                for k in ("question", "answer"):
                    if not isinstance(q[k], str) or not q[k].strip():
                        errors.append(f"{where}: {k} must be a non-empty string")
                lang, kind, gold = q["lang"], q["kind"], q["gold"]
                if lang not in LANGS:
                    errors.append(f"{where}: bad lang {lang!r}")
                if kind not in KINDS:
                    errors.append(f"{where}: bad kind {kind!r}")
                if not isinstance(gold, list):
                    errors.append(f"{where}: gold must be a list")
                    continue
                if kind == "unanswerable" and gold:
                    errors.append(f"{where}: unanswerable must have empty gold")
                if kind != "unanswerable" and not gold:
                    errors.append(f"{where}: answerable question without gold")
                if kind == "synthesis" and len(gold) < 2:
                    errors.append(f"{where}: synthesis needs >= 2 gold items")
                n_questions[split] += 1
                per_split[(split, lang, kind)] += 1
                qdocs = set()
                for gi, g in enumerate(gold):
                    gw = f"{where} gold[{gi}]"
                    if not isinstance(g, dict) or set(g) != {"doc", "text"}:
                        errors.append(f"{gw}: must be {{doc, text}}")
                        continue
                    doc, text = g["doc"], g["text"]
                    if doc not in docs:
                        errors.append(f"{gw}: unknown doc {doc!r}")
                        continue
                    if not isinstance(text, str) or not (40 <= len(text) <= 120):
                        errors.append(f"{gw}: text length {len(text) if isinstance(text, str) else '?'} not in 40-120")
                        continue
                    if text != text.strip():
                        errors.append(f"{gw}: text has leading/trailing whitespace")
                    if "\n" in text:
                        errors.append(f"{gw}: text spans several lines")
                    hits = [i + 1 for i, line in enumerate(docs[doc]) if text in line]
                    if not hits:
                        errors.append(f"{gw}: text not found verbatim within one line of {doc}: {text!r}")
                    qdocs.add(doc)
                if "cross_report" in q and q["cross_report"] is not (len(qdocs) >= 2):
                    errors.append(f"{where}: cross_report={q['cross_report']!r} but gold spans {len(qdocs)} document(s)")
                if not gold:
                    qdocs.add("-")
                for d in qdocs:
                    counts[(split, lang, kind, d)] += 1
                    doc_cover[(split, d)] += 1

    # report
    splits = [f.split(".")[0] for f in FILES]
    print(f"corpus: {corpus_dir} ({len(docs)} documents)")
    print("questions: " + ", ".join(f"{s}={n_questions[s]}" for s in splits))
    print("\nper split x lang x kind:")
    print(f"{'split':6} {'kind':16} {'nl':>4} {'en':>4} {'all':>5} {'share':>6}")
    for s in splits:
        for k in KINDS:
            nl, en = per_split[(s, "nl", k)], per_split[(s, "en", k)]
            share = (nl + en) / n_questions[s] if n_questions[s] else 0
            print(f"{s:6} {k:16} {nl:4} {en:4} {nl + en:5} {share:6.0%}")
        tnl = sum(per_split[(s, "nl", k)] for k in KINDS)
        ten = sum(per_split[(s, "en", k)] for k in KINDS)
        print(f"{s:6} {'TOTAL':16} {tnl:4} {ten:4} {tnl + ten:5}")
    print("\nper split x lang x kind x doc (questions citing the doc; '-' = no gold):")
    doc_names = sorted(docs) + ["-"]
    short = {d: (d[:3] if d != "-" else "-") for d in doc_names}
    print(f"{'split':6} {'lang':4} {'kind':16} " + " ".join(f"{short[d]:>4}" for d in doc_names))
    for s in splits:
        for lang in ("nl", "en"):
            for k in KINDS:
                print(f"{s:6} {lang:4} {k:16} " + " ".join(f"{counts[(s, lang, k, d)]:4}" for d in doc_names))
        print(f"{s:6} {'all':4} {'TOTAL':16} " + " ".join(f"{doc_cover[(s, d)]:4}" for d in doc_names))
    for s in splits:
        for d in sorted(docs):
            if doc_cover[(s, d)] == 0:
                errors.append(f"{s}: document {d} not covered")

    if errors:
        print(f"\n{len(errors)} error(s):")
        for e in errors:
            print("  " + e)
        return 1
    print("\nOK: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
