"""Evaluation runner: BM25-only, dense-only and the full pipeline side by side, per split,
language and kind; Markdown + PNG report; CI gate against evals/thresholds.toml."""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evidence_finder.errors import BadInputError
from evidence_finder.evaluation.metrics import judge, summarise
from evidence_finder.settings import PROJECT_ROOT, get_settings

EVALS_DIR = PROJECT_ROOT / "evals"
MODES = ("bm25", "dense", "hybrid")
KINDS = ("fact", "barrier_enabler", "quote", "synthesis", "unanswerable")
REPORTED = ("recall@5", "recall@10", "hit@10", "mrr@10", "ndcg@10", "true_abstention",
            "false_abstention")


def load_questions(paths: list[Path]) -> list[dict[str, Any]]:
    """Questions from JSONL files in the eval format; errors name the file and line."""
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for path in paths:
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise BadInputError(f"cannot read question file {str(path)!r}: {exc}") from exc
        for n, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                q = json.loads(line)
            except json.JSONDecodeError as exc:
                raise BadInputError(f"{path}:{n}: not valid JSON ({exc.msg})") from exc
            missing = [f for f in ("id", "question", "gold") if f not in q]
            if missing:
                raise BadInputError(f"{path}:{n}: missing field(s) {', '.join(missing)}")
            q.setdefault("lang", "nl")
            q.setdefault("kind", "unanswerable" if not q["gold"] else "fact")
            q.setdefault("split", Path(path).stem)
            key = (str(path), str(q["id"]))
            if key in seen:
                raise BadInputError(f"{path}:{n}: duplicate id {q['id']!r}")
            seen.add(key)
            out.append(q)
    return out


BLIND = "blind.jsonl"  # scored once, on request (`evidence eval --questions evals/questions/blind.jsonl`)


def default_question_files() -> list[Path]:
    return sorted(p for p in (EVALS_DIR / "questions").glob("*.jsonl") if p.name != BLIND)


def is_cross_report(q: dict[str, Any]) -> bool:
    """A question whose gold evidence lies in two or more reports."""
    return len({g["doc"] for g in q.get("gold", [])}) >= 2


@dataclass
class EvalRun:
    questions: list[dict[str, Any]]
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # mode → per question
    latency_ms: dict[str, list[float]] = field(default_factory=dict)

    def groups(self) -> dict[str, list[int]]:
        """Named subsets of question indices: all, per split, per language, per kind."""
        g: dict[str, list[int]] = {"all": list(range(len(self.questions)))}
        for i, q in enumerate(self.questions):
            keys = [f"split={q['split']}", f"lang={q['lang']}", f"kind={q['kind']}",
                    f"split={q['split']},lang={q['lang']}", f"split={q['split']},kind={q['kind']}"]
            if is_cross_report(q):
                keys += ["cross_report", f"split={q['split']},cross_report"]
            for key in keys:
                g.setdefault(key, []).append(i)
        return g

    def table(self) -> dict[str, dict[str, dict[str, float]]]:
        """group → mode → metrics."""
        out: dict[str, dict[str, dict[str, float]]] = {}
        for name, idx in self.groups().items():
            out[name] = {m: summarise([self.rows[m][i] for i in idx]) for m in self.rows}
        return out


def run(searcher: Any, questions: list[dict[str, Any]], modes: tuple[str, ...] = MODES,
        k: int | None = None) -> EvalRun:
    """Rank each question in each mode, ``k`` deep (default: settings retrieval.top_k)."""
    k = k or get_settings().retrieval.top_k
    result = EvalRun(questions)
    for mode in modes:
        rows, lat = [], []
        for q in questions:
            res = searcher.search(q["question"], k=k, mode=mode)
            ranking = [(h.passage.doc_id, h.passage.text) for h in res.hits]
            rows.append({"id": q["id"], "answerable": bool(q["gold"]),
                         "judged": judge(q["gold"], ranking), "abstained": res.abstain,
                         "confidence": res.confidence})
            lat.append(res.elapsed_ms)
        result.rows[mode] = rows
        result.latency_ms[mode] = lat
    return result


def _fmt(v: float | None) -> str:
    return "–" if v is None else f"{v:.3f}"


def to_markdown(run_: EvalRun, title: str = "Retrieval evaluation") -> str:
    table = run_.table()
    lines = [f"# {title}", ""]
    order = ["all"] + sorted(k for k in table if k.startswith("split=") and "," not in k)
    order += sorted(k for k in table if k.startswith("split=") and ",lang=" in k)
    order += sorted(k for k in table if k.startswith("lang="))
    order += [f"kind={kd}" for kd in KINDS if f"kind={kd}" in table]
    order += ["cross_report"] if "cross_report" in table else []
    order += sorted(k for k in table if k.startswith("split=") and ",kind=" in k)
    order += sorted(k for k in table if k.startswith("split=") and k.endswith(",cross_report"))
    lines.append("| questions | mode | n | " + " | ".join(REPORTED) + " |")
    lines.append("|---|---|---|" + "---|" * len(REPORTED))
    for name in order:
        for mode, metrics in table[name].items():
            cells = " | ".join(_fmt(metrics.get(m)) for m in REPORTED)
            lines.append(f"| {name} | {mode} | {int(metrics['n'])} | {cells} |")
    lines.append("")
    for mode, lat in run_.latency_ms.items():
        s = sorted(lat)
        if s:
            lines.append(f"- {mode} latency: p50 {s[len(s) // 2]:.1f} ms, "
                         f"p95 {s[min(len(s) - 1, int(0.95 * len(s)))]:.1f} ms")
    return "\n".join(lines) + "\n"


def to_json(run_: EvalRun) -> dict[str, Any]:
    return {"table": run_.table(),
            "per_question": {m: [{k: v for k, v in r.items() if k != "judged"} |
                                 {"matched_ranks": [i + 1 for i, x in enumerate(r["judged"].matched) if x]}
                                 for r in rows] for m, rows in run_.rows.items()}}


def write_chart(run_: EvalRun, path: Path) -> None:
    """Grouped bars: Recall@10 and nDCG@10 per mode, overall and per language/split."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = run_.table()
    groups = [g for g in ("all", "split=test", "lang=nl", "lang=en") if g in table]
    metrics = ("recall@10", "ndcg@10")
    fig, axes = plt.subplots(1, len(metrics), figsize=(11, 4), sharey=True)
    for ax, metric in zip(axes, metrics):
        width = 0.8 / max(len(run_.rows), 1)
        for mi, mode in enumerate(run_.rows):
            vals = [table[g][mode].get(metric, 0.0) for g in groups]
            ax.bar([i + mi * width for i in range(len(groups))], vals, width, label=mode)
        ax.set_xticks([i + width * (len(run_.rows) - 1) / 2 for i in range(len(groups))], groups)
        ax.set_title(metric)
        ax.set_ylim(0, 1)
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def load_thresholds(path: Path | None = None) -> dict[str, Any]:
    path = path or EVALS_DIR / "thresholds.toml"
    return tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def gate(run_: EvalRun, thresholds: dict[str, Any]) -> list[str]:
    """Failures of the CI gate: the full pipeline below a threshold or below a baseline."""
    table = run_.table()
    failures: list[str] = []
    for bound in ("minimum", "maximum"):
        for group, spec in thresholds.get(bound, {}).items():
            metrics = table.get(group, {}).get("hybrid")
            if metrics is None:
                failures.append(f"no questions in group {group!r}")
                continue
            for metric, limit in spec.items():
                value = metrics.get(metric)
                if value is None:
                    failures.append(f"{group} hybrid {metric}: no value")
                elif bound == "minimum" and value + 1e-9 < float(limit):
                    failures.append(f"{group} hybrid {metric} = {_fmt(value)} < threshold {limit}")
                elif bound == "maximum" and value - 1e-9 > float(limit):
                    failures.append(f"{group} hybrid {metric} = {_fmt(value)} > ceiling {limit}")
    for group in thresholds.get("beat_baselines", {}).get("groups", []):
        rows = table.get(group, {})
        for metric in thresholds["beat_baselines"].get("metrics", ["recall@10", "ndcg@10"]):
            best = max((rows[m].get(metric, 0.0) for m in ("bm25", "dense") if m in rows), default=0.0)
            value = rows.get("hybrid", {}).get(metric, 0.0)
            if value + 1e-9 < best:
                failures.append(f"{group} hybrid {metric} = {value:.3f} below best baseline {best:.3f}")
    return failures
