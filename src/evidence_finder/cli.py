"""The ``evidence`` command: thin wrappers around library entry points.

Machine-readable output follows docs/cli-contract.md exactly (fields may only be added).
Exit codes: 0 ok, 2 bad usage or input, 3 no index.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from evidence_finder.errors import BadInputError, EvidenceError
from evidence_finder.settings import Settings, get_settings

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Evidence Finder: cited evidence from reports on Erasmus+ in education.")

IndexDir = Annotated[Optional[Path], typer.Option("--index-dir", help="Index location.")]
Fmt = Annotated[str, typer.Option("--format", help="text | jsonl")]


def _settings(index_dir: Path | None) -> Settings:
    s = get_settings()
    return s.model_copy(update={"index_dir": index_dir}) if index_dir else s


def _fail(exc: EvidenceError) -> None:
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(exc.exit_code)


def hit_json(rank: int, hit: Any) -> dict[str, Any]:
    p = hit.passage
    return {
        "rank": rank, "doc": p.doc_id, "title": hit.title, "kind": p.kind, "text": p.text,
        "score": round(float(hit.score), 6),
        "location": {"section": p.section, "page": p.page, "char_start": p.char_start,
                     "char_end": p.char_end},
        "id": p.id, "attribution": p.attribution, "speaker": p.speaker, "speaker_org": p.speaker_org,
        "scores": {k: round(float(v), 6) for k, v in hit.scores.items()},
        "roles": list(p.roles), "sectors": list(p.sectors or (hit.meta.sectors if hit.meta else ())),
    }


def read_queries(path: Path) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    """(line number, query or None, error) for each non-empty line of a JSONL file."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as exc:
        raise BadInputError(f"queries file {str(path)!r} does not exist") from exc
    except UnicodeDecodeError as exc:
        raise BadInputError(f"queries file {str(path)!r} is not UTF-8 text: {exc}") from exc
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield n, None, f"{path.name}:{n}: not valid JSON ({exc.msg})"
            continue
        if not isinstance(obj, dict) or "question" not in obj or not isinstance(obj["question"], str):
            yield n, None, f"{path.name}:{n}: each line needs a string field 'question'"
            continue
        obj.setdefault("id", str(n))
        obj["id"] = str(obj["id"])
        yield n, obj, ""


def _check_query_args(question: str | None, queries_file: Path | None, fmt: str) -> None:
    """Shared argument checks of `search` and `ask` (exit 2 on bad usage)."""
    if (question is None) == (queries_file is None):
        typer.echo("error: give a question or --queries-file, not both or neither", err=True)
        raise typer.Exit(2)
    if fmt not in ("text", "jsonl", "json"):
        typer.echo(f"error: --format must be text or jsonl, not {fmt!r}", err=True)
        raise typer.Exit(2)


def _query_items(question: str | None, queries_file: Path | None) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    """The one positional question, or the lines of the queries file."""
    if question is not None:
        return iter([(0, {"id": "1", "question": question}, "")])
    assert queries_file is not None
    return read_queries(queries_file)


@app.command()
def ingest(
    paths: Annotated[Optional[list[Path]], typer.Argument(help="Files or folders (default: corpus/).")] = None,
    index_dir: IndexDir = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    follow_links: Annotated[bool, typer.Option(
        "--follow-links", help="Also index files that links in a folder point to outside it.")] = False,
) -> None:
    """Build or update the index. Only new or changed passages are embedded."""
    from evidence_finder.index.build import default_targets
    from evidence_finder.index.build import ingest as run_ingest

    settings = _settings(index_dir)
    targets = paths or default_targets(settings)
    try:
        if quiet or not sys.stderr.isatty():
            report = run_ingest(targets, settings, progress=_plain_progress(), follow_links=follow_links)
        else:
            report = _ingest_with_bar(targets, settings, follow_links)
    except EvidenceError as exc:
        _fail(exc)
        return
    typer.echo(report.summary())
    if report.skipped and not report.documents:
        raise typer.Exit(2)


def _plain_progress() -> Any:
    last = {"pct": -10}

    def progress(stage: str, done: int, total: int, label: str) -> None:
        pct = 100 if not total else int(100 * done / total)
        if pct >= last["pct"] + 10 or done == total:
            last["pct"] = pct
            typer.echo(f"{stage}: {done}/{total} ({pct}%) {label}", err=True)

    return progress


def _ingest_with_bar(targets: list[Path], settings: Settings, follow_links: bool = False) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from evidence_finder.index.build import ingest as run_ingest

    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), TextColumn("{task.fields[label]}"), transient=False) as bar:
        task = bar.add_task("embedding", total=None, label="")

        def progress(stage: str, done: int, total: int, label: str) -> None:
            bar.update(task, completed=done, total=total, label=label)

        return run_ingest(targets, settings, progress=progress, follow_links=follow_links)


def _filters(doc: list[str] | None, sector: list[str] | None, type_: list[str] | None,
             kind: list[str] | None, year: list[int] | None, speaker: list[str] | None = None,
             group: list[str] | None = None) -> Any:
    from evidence_finder.retrieval.search import Filters

    return Filters(docs=doc or [], sectors=sector or [], types=type_ or [], kinds=kind or [],
                   years=year or [], speakers=speaker or [], groups=group or [])


Group = Annotated[Optional[list[str]], typer.Option(
    "--group", help="Only units about this target group: students, pupils, teachers, school leaders "
    "(or studenten, leerlingen, docenten …)")]


Speaker = Annotated[Optional[list[str]], typer.Option(
    "--speaker", help="Only quotes by this speaker: leerkracht, directeur … or teachers, principals …")]


@app.command()
def search(
    question: Annotated[Optional[str], typer.Argument(help="A question (or use --queries-file).")] = None,
    queries_file: Annotated[Optional[Path], typer.Option("--queries-file", help="JSONL with id and question.")] = None,
    top_k: Annotated[Optional[int], typer.Option(
        "--top-k", min=1, max=100, help="Passages to show (default: retrieval.top_k, 10).")] = None,
    fmt: Fmt = "text",
    index_dir: IndexDir = None,
    doc: Annotated[Optional[list[str]], typer.Option("--doc", help="Only this document id.")] = None,
    sector: Annotated[Optional[list[str]], typer.Option("--sector", help="PO, VO, MBO, HO, teacher training …")] = None,
    type_: Annotated[Optional[list[str]], typer.Option("--type", help="report | factsheet")] = None,
    kind: Annotated[Optional[list[str]], typer.Option("--kind", help="passage | quote | table")] = None,
    year: Annotated[Optional[list[int]], typer.Option("--year")] = None,
    speaker: Speaker = None,
    group: Group = None,
    mode: Annotated[str, typer.Option("--mode", help="hybrid | dense | bm25")] = "hybrid",
) -> None:
    """Find the passages that answer a question."""
    _check_query_args(question, queries_file, fmt)
    from evidence_finder.retrieval.search import Searcher

    filters = _filters(doc, sector, type_, kind, year, speaker, group)
    try:
        settings = _settings(index_dir)
        searcher = Searcher(settings)
        k = top_k or settings.retrieval.top_k

        def one(q: dict[str, Any]) -> None:
            res = searcher.search(q["question"], k=k, filters=filters, mode=mode)
            if fmt == "text":
                _print_result(res)
            else:
                typer.echo(json.dumps({
                    "id": q["id"], "question": q["question"], "abstain": res.abstain,
                    "elapsed_ms": round(res.elapsed_ms, 2),
                    "results": [hit_json(r, h) for r, h in enumerate(res.hits, start=1)],
                    "lang": res.lang, "confidence": round(res.confidence, 4),
                    "intents": list(res.intents), "gap": res.gap,
                }, ensure_ascii=False))

        raise typer.Exit(_run_queries(question, queries_file, one))
    except EvidenceError as exc:
        _fail(exc)


def _run_queries(question: str | None, queries_file: Path | None,
                 one: Callable[[dict[str, Any]], None]) -> int:
    """Run ``one`` on each query in input order; a malformed line or a bad question is
    reported with its line or id and the rest still run. The exit code: 0, or 2 after any."""
    rc = 0
    for _n, q, err in _query_items(question, queries_file):
        if q is None:
            typer.echo(f"error: {err}", err=True)
            rc = 2
            continue
        try:
            one(q)
        except BadInputError as exc:
            typer.echo(f"error: query {q['id']}: {exc}", err=True)
            rc = 2
    return rc


def _print_result(res: Any) -> None:
    from evidence_finder.ingest.speakers import speaker_label

    if res.abstain:
        msg = ("The documents do not seem to cover this question; closest passages:"
               if res.lang == "en" else
               "De documenten lijken deze vraag niet te behandelen; dichtstbijzijnde passages:")
        typer.secho(msg, fg="yellow")
    for rank, h in enumerate(res.hits, start=1):
        p = h.passage
        where = " · ".join(x for x in (p.section.split(" > ")[-1] if p.section else "",
                                       f"p. {p.page}" if p.page else "") if x)
        typer.secho(f"\n[{rank}] {h.title}  ({p.kind}, score {h.score:.4f})", bold=True)
        if where:
            typer.echo(f"    {where}")
        text = p.text if len(p.text) < 600 else p.text[:600] + " …"
        typer.echo("    " + text.replace("\n\n", "\n    "))
        who = speaker_label(p.speaker, p.speaker_org, p.attribution) if p.kind == "quote" else ""
        if who:
            typer.echo(f"    — {who}")
    typer.echo(f"\n({res.elapsed_ms:.0f} ms)")


@app.command()
def serve(
    host: Annotated[Optional[str], typer.Option("--host")] = None,
    port: Annotated[Optional[int], typer.Option("--port")] = None,
    index_dir: IndexDir = None,
    build: Annotated[bool, typer.Option(
        "--build/--no-build",
        help="First bring the index up to date with corpus/ (and uploads): documents and BM25 at "
        "once, the dense vectors in the background while the chat answers from BM25.")] = True,
) -> None:
    """Start the web chat."""
    from evidence_finder.ui.app import launch

    settings = _settings(index_dir)
    try:
        background = _text_pass(settings) if build else None
        launch(settings, host=host or settings.server.host, port=port or settings.server.port,
               background_build=background)
    except EvidenceError as exc:
        _fail(exc)


def _text_pass(settings: Settings) -> list[Path] | None:
    """Parse new or changed documents and build BM25 (seconds); the targets to embed in the
    background when some passages still lack vectors, else None."""
    import time

    from evidence_finder.index.build import default_targets, dense_pending
    from evidence_finder.index.build import ingest as run_ingest

    targets = default_targets(settings)
    t0 = time.perf_counter()
    try:
        report = run_ingest(targets, settings, embed=False)
    except EvidenceError as exc:  # e.g. another ingest holds the writer lock
        typer.echo(f"warning: the index was not brought up to date ({exc}); serving it as it is", err=True)
        return None
    for path, reason in report.skipped:
        typer.echo(f"skipped {path}: {reason}", err=True)
    units = report.passages + report.quotes + report.tables
    typer.echo(f"index: {report.documents} documents, {units} passages, BM25 ready "
               f"({time.perf_counter() - t0:.1f} s)", err=True)
    if not dense_pending(settings.resolved_index_dir):
        return None
    typer.echo("embedding passages in the background; the chat answers from BM25 until then and "
               "shows the progress (about 1 minute per 1,000 passages on 2 quiet cores, several on busy ones)", err=True)
    return targets


@app.command("eval")
def eval_(
    questions: Annotated[Optional[list[Path]], typer.Option("--questions", help="Question JSONL file(s).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="md | json")] = "md",
    index_dir: IndexDir = None,
    modes: Annotated[str, typer.Option("--modes", help="Comma-separated: bm25,dense,hybrid")] = "bm25,dense,hybrid",
    gate: Annotated[bool, typer.Option("--gate", help="Fail (exit 1) below evals/thresholds.toml.")] = False,
    report_name: Annotated[str, typer.Option("--report-name", help="Base name under evals/reports/.")] = "latest",
    answers: Annotated[bool, typer.Option("--answers/--no-answers", help="Also check `ask` answers.")] = True,
) -> None:
    """Score retrieval on question sets: BM25, dense and hybrid side by side; check answers."""
    from evidence_finder.evaluation import runner
    from evidence_finder.retrieval.search import Searcher

    if fmt not in ("md", "json"):
        typer.echo(f"error: --format must be md or json, not {fmt!r}", err=True)
        raise typer.Exit(2)
    try:
        qs = runner.load_questions(questions or runner.default_question_files())
        if not qs:
            raise BadInputError("no questions found; pass --questions FILE")
        settings = _settings(index_dir)
        searcher = Searcher(settings)
        result = runner.run(searcher, qs, tuple(m.strip() for m in modes.split(",") if m.strip()),
                            k=settings.retrieval.top_k)
    except EvidenceError as exc:
        _fail(exc)
        return
    md = runner.to_markdown(result)
    answer_failures: list[str] = []
    if answers:
        table, answer_failures = _answer_checks(searcher, qs, runner.load_thresholds().get("answers", {}))
        md += "\n" + table
    md += "\n" + _annotation_report()
    reports = runner.EVALS_DIR / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    (reports / f"{report_name}.md").write_text(md, encoding="utf-8")
    (reports / f"{report_name}.json").write_text(json.dumps(runner.to_json(result), indent=1))
    runner.write_chart(result, reports / f"{report_name}.png")
    typer.echo(md if fmt == "md" else json.dumps(runner.to_json(result)["table"], indent=1))
    if gate:
        failures = runner.gate(result, runner.load_thresholds()) + answer_failures
        for f in failures:
            typer.secho(f"GATE FAILED: {f}", fg="red", err=True)
        if failures:
            raise typer.Exit(1)
        typer.echo("eval gate: passed")


def _annotation_report() -> str:
    """Evidence-role and quote-speaker precision/recall on the hand labels (when present)."""
    from evidence_finder.evaluation import roles, speakers

    parts = []
    if roles.LABELS.is_file():
        parts.append(roles.to_markdown(roles.role_scores()))
    if speakers.LABELS.is_file() and speakers.CORPUS.is_dir():
        parts.append(speakers.to_markdown(speakers.speaker_scores()))
    return "\n".join(parts)


def _answer_checks(searcher: Any, qs: list[dict[str, Any]],
                   floors: dict[str, dict[str, float]] | None = None) -> tuple[str, list[str]]:
    """Run `ask` on every question and check markers, verbatim spans and gold coverage;
    ``floors``: minimum gold coverage per group (thresholds.toml, [answers."split=test"])."""
    from evidence_finder.answer.citations import answer_json
    from evidence_finder.answer.service import AnswerService
    from evidence_finder.evaluation import answers as checks

    service = AnswerService(searcher, searcher.settings)
    docs, sources = checks.document_texts(searcher.store), checks.source_texts(searcher.store)
    rows, lat = [], []
    for q in qs:
        a = service.ask(q["question"])
        lat.append(a.elapsed_ms)
        rows.append(checks.check_answer(answer_json(a, str(q["id"])), q["gold"], docs, sources))
    summary = checks.summarise_checks(rows)
    lat.sort()
    lines = ["## Answer checks (`evidence ask`, extractive)", "",
             "| metric | value |", "|---|---|"]
    lines += [f"| {k} | {v:.3f} |" for k, v in summary.items()]
    groups: dict[str, list[int]] = {}
    for i, q in enumerate(qs):
        if q["gold"]:
            for key in (f"split={q['split']}", f"split={q['split']},kind={q['kind']}"):
                groups.setdefault(key, []).append(i)
    coverage = {g: checks.summarise_checks([rows[i] for i in idx])["gold_coverage"] for g, idx in groups.items()}
    lines += [f"| gold_coverage {g} | {coverage[g]:.3f} |" for g in sorted(coverage)]
    lines += [f"| latency p50 ms | {lat[len(lat) // 2]:.1f} |",
              f"| latency p95 ms | {lat[min(len(lat) - 1, int(0.95 * len(lat)))]:.1f} |", ""]
    failures = []
    if summary["dangling_markers"]:
        failures.append(f"{int(summary['dangling_markers'])} answer marker(s) without a citation")
    if summary["verbatim_in_document"] < 1.0:
        failures.append(f"only {summary['verbatim_in_document']:.1%} of citations are verbatim spans")
    for group, spec in (floors or {}).items():
        limit = float(spec.get("gold_coverage", 0.0))
        if group not in coverage:
            failures.append(f"answers: no questions in group {group!r}")
        elif coverage[group] + 1e-9 < limit:
            failures.append(f"answers {group} gold_coverage = {coverage[group]:.3f} < threshold {limit}")
    return "\n".join(lines), failures


@app.command()
def calibrate(
    questions: Annotated[Optional[list[Path]], typer.Option("--questions", help="Calibration questions (dev split).")] = None,
    index_dir: IndexDir = None,
) -> None:
    """Fit the abstention model on answerable vs unanswerable dev questions."""
    from evidence_finder.evaluation import runner
    from evidence_finder.retrieval import abstain
    from evidence_finder.retrieval.search import Searcher

    try:
        files = questions or [runner.EVALS_DIR / "questions" / "dev.jsonl"]
        qs = runner.load_questions(files)
        settings = _settings(index_dir)
        searcher = Searcher(settings)
    except EvidenceError as exc:
        _fail(exc)
        return
    samples = []
    for q in qs:
        feats = searcher.features(q["question"])
        samples.append((feats, bool(q["gold"])))
    model = abstain.fit(samples)
    path = abstain.calibration_path(settings.data_dir)
    model.save(searcher.embedder.id, path, info={"fitted_on": [str(f.name) for f in files],
                                                 "n": len(samples)})
    typer.echo(f"abstention model for {searcher.embedder.id}: weights {model.weights}, "
               f"bias {model.bias:.3f}, threshold {model.threshold:.3f}; written to {path}")


@app.command()
def ask(
    question: Annotated[Optional[str], typer.Argument(help="A question (or use --queries-file).")] = None,
    queries_file: Annotated[Optional[Path], typer.Option(
        "--queries-file", help="JSONL with id and question.")] = None,
    top_k: Annotated[Optional[int], typer.Option(
        "--top-k", min=1, max=50, help="Passages the answer draws on (default: answer.passages, 10).")] = None,
    fmt: Fmt = "text",
    index_dir: IndexDir = None,
    mode: Annotated[str, typer.Option("--mode", help="answer | quotes")] = "answer",
    speaker: Speaker = None,
) -> None:
    """Answer a question with verified citations (extractive by default, or the configured LLM)."""
    _check_query_args(question, queries_file, fmt)
    if mode not in ("answer", "quotes"):
        typer.echo(f"error: --mode must be answer or quotes, not {mode!r}", err=True)
        raise typer.Exit(2)
    from evidence_finder.answer.citations import answer_json, render_text
    from evidence_finder.answer.service import AnswerService
    from evidence_finder.retrieval.search import Searcher

    try:
        settings = _settings(index_dir)
        service = AnswerService(Searcher(settings), settings)

        def one(q: dict[str, Any]) -> None:
            answer = service.ask(q["question"], mode=mode, k=top_k,  # type: ignore[arg-type]
                                 filters=_filters(None, None, None, None, None, speaker))
            if fmt == "text":
                typer.echo(render_text(answer) + "\n")
            else:
                typer.echo(json.dumps(answer_json(answer, q["id"]), ensure_ascii=False))

        raise typer.Exit(_run_queries(question, queries_file, one))
    except EvidenceError as exc:
        _fail(exc)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
