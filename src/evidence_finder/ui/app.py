"""Gradio web chat: layout and wiring. Entry points: ``build`` (the Blocks) and ``launch``.

What the app does lives in :mod:`.backend`; how answers and evidence look, in :mod:`.render`;
interface text, in :mod:`.i18n`. Errors a user can cause are shown as messages, never as
tracebacks.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from evidence_finder.errors import EvidenceError, NoIndexError
from evidence_finder.ingest.load import SUPPORTED_EXTENSIONS
from evidence_finder.models.embedders import Embedder
from evidence_finder.retrieval.search import Filters, Searcher
from evidence_finder.settings import Settings
from evidence_finder.ui import render
from evidence_finder.ui.assets import CSS, EVIDENCE_JS, TRANSCRIPT_JS
from evidence_finder.ui.backend import Backend, DocumentRow
from evidence_finder.ui.exports import write_exports
from evidence_finder.ui.guards import ExportFolders, check_credentials, question_problem, shown
from evidence_finder.ui.i18n import DEFAULT_LANG, EXAMPLES, LANG_CHOICES, Lang, t
from evidence_finder.ui.render import Turn, esc
from evidence_finder.ui.sources import delete_question, interface_style, type_choices, type_label
from evidence_finder.ui.throttle import LoginThrottle

if TYPE_CHECKING:
    from evidence_finder.answer.service import AnswerService

log = logging.getLogger(__name__)
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def _message(exc: BaseException, lang: str) -> str:
    if isinstance(exc, NoIndexError):
        return t("no_index", lang)
    if isinstance(exc, EvidenceError):
        return str(exc)
    log.exception("unexpected error in the web chat")
    return t("unexpected", lang, name=type(exc).__name__)


def _filters(docs: list[str] | None, sectors: list[str] | None, types: list[str] | None,
             kinds: list[str] | None, years: list[Any] | None, speakers: list[str] | None = None) -> Filters:
    return Filters(docs=list(docs or []), sectors=list(sectors or []), types=list(types or []),
                   kinds=list(kinds or []), years=[int(y) for y in years or []],
                   speakers=list(speakers or []))


def _doc_table(rows: list[DocumentRow], lang: str) -> dict[str, list[Any]]:
    headers = [t(k, lang) for k in ("col_file", "col_title", "col_publisher", "col_year", "col_sectors",
                                    "col_type", "col_lang", "col_passages", "col_quotes", "col_tables")]
    data = [[r.doc_id, r.title, r.publisher, r.year or "", ", ".join(r.sectors), type_label(r.type, lang), r.language,
             r.passages, r.quotes, r.tables] for r in rows]
    return {"headers": headers, "data": data}


_EXPORTS = ExportFolders()


def _write_exports(turn: Turn, lang: str) -> tuple[str, str, str, str]:
    """The latest answer as Markdown, CSV, RIS and BibTeX files (Gradio serves them as downloads)."""
    # one folder per answer, only the newest kept (not one left per answer)
    return write_exports(_EXPORTS.new(), turn, lang).paths()


def build_note(backend: Backend, lang: str) -> str:
    """The chat's line about a background index build ("indexing 620 of 1,645 passages"), or ""."""
    b = backend.build
    if b.error:
        return t("build_failed", lang, error=b.error[:200])
    if not b.running:
        return ""
    sep = "." if lang == "nl" else ","
    return t("building", lang, done=f"{b.done:,}".replace(",", sep), total=f"{b.total:,}".replace(",", sep)
             if b.total else "…")


def _chat_tab(lang0: Lang, choices: dict[str, list[Any]]) -> SimpleNamespace:
    """The Ask tab's layout: transcript, question, mode, examples, filters, evidence, exports."""
    with gr.Tab(t("tab_chat", lang0), id="chat") as tab_chat, gr.Row():
        with gr.Column(scale=7):
            transcript = gr.HTML(render.render_transcript([], lang0), elem_id="ef-transcript",
                                 js_on_load=TRANSCRIPT_JS, max_height=640, padding=False)
            with gr.Row(equal_height=True):
                question = gr.Textbox(label=t("question", lang0), show_label=False, lines=1,
                                      placeholder=t("question_ph", lang0), scale=6,
                                      elem_id="ef-question", autofocus=True)
                ask_btn = gr.Button(t("ask", lang0), variant="primary", scale=1,
                                    elem_id="ef-ask", min_width=180)
            with gr.Row(equal_height=False):
                mode = gr.Radio([(t("mode_answer", lang0), "answer"),
                                 (t("mode_quotes", lang0), "quotes")], value="answer",
                                label=t("mode", lang0), show_label=False, elem_id="ef-mode",
                                container=False, scale=4)
                clear_btn = gr.Button(t("clear", lang0), size="sm", scale=0, min_width=90,
                                      elem_id="ef-clear")
            examples_label = gr.Markdown(f"**{t('examples', lang0)}**")
            with gr.Row(elem_classes="ef-examples"):
                example_btns = [gr.Button(q, size="sm", elem_id=f"ef-example-{i}")
                                for i, q in enumerate(EXAMPLES)]
            with gr.Accordion(t("filters", lang0), open=False, elem_id="ef-filters") as filters_acc:
                with gr.Row():
                    f_doc = gr.Dropdown(choices["docs"], multiselect=True, label=t("f_doc", lang0),
                                        elem_id="ef-f-doc")
                    f_sector = gr.Dropdown(choices["sectors"], multiselect=True,
                                           label=t("f_sector", lang0), elem_id="ef-f-sector")
                    f_type = gr.Dropdown(choices["types"], multiselect=True,
                                         label=t("f_type", lang0), elem_id="ef-f-type")
                with gr.Row():
                    f_kind = gr.Dropdown(choices["kinds"], multiselect=True,
                                         label=t("f_kind", lang0), elem_id="ef-f-kind")
                    f_year = gr.Dropdown([str(y) for y in choices["years"]], multiselect=True,
                                         label=t("f_year", lang0), elem_id="ef-f-year")
                    f_speaker = gr.Dropdown(choices["speakers"], multiselect=True,
                                            label=t("f_speaker", lang0), elem_id="ef-f-speaker")
        with gr.Column(scale=5):
            evidence_title = gr.Markdown(f"### {t('evidence', lang0)}")
            evidence = gr.HTML(render.render_evidence(None, 0, None, lang0), elem_id="ef-evidence",
                               js_on_load=EVIDENCE_JS, max_height=720, padding=False)
            with gr.Row():
                md_btn = gr.DownloadButton(t("export_md", lang0), interactive=False, size="sm",
                                           elem_id="ef-export-md")
                csv_btn = gr.DownloadButton(t("export_csv", lang0), interactive=False, size="sm",
                                            elem_id="ef-export-csv")
            with gr.Row():
                ris_btn = gr.DownloadButton(t("export_ris", lang0), interactive=False, size="sm",
                                            elem_id="ef-export-ris")
                bib_btn = gr.DownloadButton(t("export_bib", lang0), interactive=False, size="sm",
                                            elem_id="ef-export-bib")
    return SimpleNamespace(tab_chat=tab_chat, transcript=transcript, question=question, ask_btn=ask_btn, mode=mode, clear_btn=clear_btn, examples_label=examples_label, example_btns=example_btns, filters_acc=filters_acc, f_doc=f_doc, f_sector=f_sector, f_type=f_type, f_kind=f_kind, f_year=f_year, f_speaker=f_speaker, evidence_title=evidence_title, evidence=evidence, md_btn=md_btn, csv_btn=csv_btn, ris_btn=ris_btn, bib_btn=bib_btn)


def _sources_tab(lang0: Lang, choices: dict[str, list[Any]], types_label: str, max_mb: int) -> SimpleNamespace:
    """The Sources tab's layout: the document table, upload and delete (with confirmation)."""
    with gr.Tab(t("tab_sources", lang0), id="sources", elem_id="ef-tab-sources") as tab_sources:
        docs_title = gr.Markdown(f"### {t('docs_heading', lang0)}")
        docs_table = gr.Dataframe(headers=_doc_table([], lang0)["headers"], interactive=False,
                                  wrap=True, elem_id="ef-docs")
        with gr.Row():
            with gr.Column():
                upload_title = gr.Markdown(f"### {t('upload_heading', lang0)}")
                up_files = gr.File(file_count="multiple", file_types=list(SUPPORTED_EXTENSIONS),
                                   label=t("upload_files", lang0), elem_id="ef-upload")
                up_info = gr.Markdown(t("upload_info", lang0, types=types_label, mb=max_mb))
                with gr.Row():
                    up_title = gr.Textbox(label=t("upload_title", lang0), elem_id="ef-up-title")
                    up_year = gr.Number(None, label=t("upload_year", lang0), precision=0,
                                        elem_id="ef-up-year")
                with gr.Row():
                    up_sectors = gr.Dropdown(sorted({"PO", "VO", "MBO", "HO", "teacher training",
                                                     *choices["sectors"]}),
                                             multiselect=True, allow_custom_value=True,
                                             label=t("upload_sectors", lang0))
                    up_type = gr.Dropdown(type_choices(lang0), value="report",
                                          label=t("upload_type", lang0))
                up_btn = gr.Button(t("upload_go", lang0), variant="primary", elem_id="ef-upload-go")
                up_status = gr.HTML("", elem_id="ef-upload-status")
            with gr.Column():
                delete_title = gr.Markdown(f"### {t('delete_heading', lang0)}")
                del_doc = gr.Dropdown(choices["docs"], label=t("delete_doc", lang0),
                                      elem_id="ef-del-doc")
                del_btn = gr.Button(t("delete_go", lang0), variant="stop", elem_id="ef-delete-go")
                with gr.Group(visible=False, elem_id="ef-delete-confirm") as del_confirm:
                    del_question = gr.HTML("")
                    with gr.Row():
                        del_yes = gr.Button(t("delete_yes", lang0), variant="stop", size="sm",
                                            elem_id="ef-delete-yes")
                        del_no = gr.Button(t("delete_cancel", lang0), size="sm", elem_id="ef-delete-no")
                del_status = gr.HTML("", elem_id="ef-delete-status")

    return SimpleNamespace(tab_sources=tab_sources, docs_title=docs_title, docs_table=docs_table, upload_title=upload_title, up_files=up_files, up_info=up_info, up_title=up_title, up_year=up_year, up_sectors=up_sectors, up_type=up_type, up_btn=up_btn, up_status=up_status, delete_title=delete_title, del_doc=del_doc, del_btn=del_btn, del_confirm=del_confirm, del_question=del_question, del_yes=del_yes, del_no=del_no, del_status=del_status)


def build(settings: Settings, searcher: Searcher | None = None, answer_service: AnswerService | None = None,
          *, embedder: Embedder | None = None, background_build: list[Path] | None = None) -> Any:
    """The web chat as a ``gr.Blocks``; pass CSS with :func:`launch_options` when launching.
    With ``background_build`` (paths), the dense index is built in a background thread while
    the chat answers from BM25 and shows how far the build is."""
    backend = Backend(settings, searcher, answer_service, embedder)
    if background_build is not None:
        backend.build_in_background(background_build)
    lang0 = DEFAULT_LANG
    choices = backend.filter_choices()
    types_label = ", ".join(SUPPORTED_EXTENSIONS)
    max_mb = settings.server.max_upload_mb

    with gr.Blocks(title="Evidence Finder") as demo:
        turns_state = gr.State([])
        with gr.Row(equal_height=True):
            header = gr.HTML(_header_html(lang0), elem_id="ef-header")
            lang = gr.Radio(LANG_CHOICES, value=lang0, show_label=False, elem_id="ef-lang",
                            container=False)
        banner = gr.HTML("", elem_id="ef-banner", visible=False)
        note0 = build_note(backend, lang0)
        build_status = gr.HTML(f'<div class="ef-banner" role="status">{esc(note0)}</div>', visible=bool(note0),
                               elem_id="ef-build")
        build_timer = gr.Timer(2.0, active=backend.build.running)

        def build_tick(lang_v: str) -> tuple[Any, Any]:
            note = build_note(backend, lang_v)
            return (gr.HTML(f'<div class="ef-banner" role="status">{esc(note)}</div>', visible=bool(note)),
                    gr.Timer(active=backend.build.running and not backend.build.error))

        build_timer.tick(build_tick, lang, [build_status, build_timer])
        with gr.Tabs():
            chat = _chat_tab(lang0, choices)
            sources = _sources_tab(lang0, choices, types_label, max_mb)
        # The tabs' components, by name, for the event wiring below.
        (tab_chat, transcript, question, ask_btn, mode, clear_btn, examples_label, example_btns,
         filters_acc, f_doc, f_sector, f_type, f_kind, f_year, f_speaker, evidence_title,
         evidence, md_btn, csv_btn, ris_btn, bib_btn) = (
            chat.tab_chat, chat.transcript, chat.question, chat.ask_btn, chat.mode, chat.clear_btn,
            chat.examples_label, chat.example_btns, chat.filters_acc, chat.f_doc, chat.f_sector,
            chat.f_type, chat.f_kind, chat.f_year, chat.f_speaker, chat.evidence_title, chat.evidence,
            chat.md_btn, chat.csv_btn, chat.ris_btn, chat.bib_btn)
        (tab_sources, docs_title, docs_table, upload_title, up_files, up_info, up_title, up_year,
         up_sectors, up_type, up_btn, up_status, delete_title, del_doc, del_btn, del_confirm,
         del_question, del_yes, del_no, del_status) = (
            sources.tab_sources, sources.docs_title, sources.docs_table, sources.upload_title,
            sources.up_files, sources.up_info, sources.up_title, sources.up_year, sources.up_sectors,
            sources.up_type, sources.up_btn, sources.up_status, sources.delete_title, sources.del_doc,
            sources.del_btn, sources.del_confirm, sources.del_question, sources.del_yes, sources.del_no,
            sources.del_status)

        filter_inputs = [f_doc, f_sector, f_type, f_kind, f_year, f_speaker]
        export_btns = [md_btn, csv_btn, ris_btn, bib_btn]
        no_change = (gr.skip(),) * len(export_btns)

        # ------------------------------------------------------------------ asking
        def ask(q: str, mode_v: str, docs: Any, sectors: Any, types: Any, kinds: Any, years: Any,
                speakers: Any, turns: list[Turn], lang_v: str) -> Iterator[tuple[Any, ...]]:
            q = (q or "").strip()
            if not q:
                gr.Warning(t("question_empty", lang_v))
                yield (gr.skip(),) * 8
                return
            problem = question_problem(q)
            if problem:  # shown as a message, never as {"error": null} from a failed encoding
                turns = [*turns, Turn(question=shown(q), mode=mode_v, error=problem)]
                yield (render.render_transcript(turns, lang_v), gr.skip(), turns, "", *no_change)
                return
            history = list(turns)
            turns = [*history, Turn(question=q, mode=mode_v)]
            i = len(turns) - 1
            yield (render.render_transcript(turns, lang_v), gr.skip(), turns, "", *no_change)
            turn = turns[i]
            try:
                filters = _filters(docs, sectors, types, kinds, years, speakers)
                for turn in backend.ask(q, filters, mode_v, history):
                    turns[i] = turn
                    if turn.answer is None:
                        yield (render.render_transcript(turns, lang_v), gr.skip(), turns, gr.skip(),
                               *no_change)
            except Exception as exc:  # every failure becomes a message in the conversation
                turn = Turn(question=q, mode=mode_v, error=_message(exc, lang_v))
                turns[i] = turn
            panel = render.render_evidence(turn, i, None, lang_v)
            if turn.answer is not None and turn.answer.citations:
                downloads = tuple(gr.DownloadButton(value=path, interactive=True)
                                  for path in _write_exports(turn, lang_v))
            else:  # a refusal or an error: the last real answer stays exportable
                downloads = no_change
            yield (render.render_transcript(turns, lang_v), panel, turns, gr.skip(), *downloads)

        ask_outputs = [transcript, evidence, turns_state, question, *export_btns]
        ask_inputs = [question, mode, *filter_inputs, turns_state, lang]
        question.submit(ask, ask_inputs, ask_outputs)
        ask_btn.click(ask, ask_inputs, ask_outputs)
        for btn, example in zip(example_btns, EXAMPLES):
            btn.click(lambda ex=example: ex, None, question).then(ask, ask_inputs, ask_outputs)

        def open_citation(turns: list[Turn], lang_v: str, evt: gr.EventData) -> str:
            data = getattr(evt, "_data", None) or {}
            try:
                i, n = int(data.get("turn", -1)), int(data.get("n", -1))
            except (TypeError, ValueError):
                return gr.skip()
            if not 0 <= i < len(turns):
                return gr.skip()
            return render.render_evidence(turns[i], i, n, lang_v)

        transcript.click(open_citation, [turns_state, lang], evidence)

        def clear(lang_v: str) -> tuple[Any, ...]:
            return (render.render_transcript([], lang_v), render.render_evidence(None, 0, None, lang_v), [],
                    *(gr.DownloadButton(value=None, interactive=False) for _ in export_btns))

        clear_btn.click(clear, lang, [transcript, evidence, turns_state, *export_btns])

        # ------------------------------------------------------------------ sources
        def refresh(lang_v: str) -> tuple[Any, ...]:
            try:
                rows = backend.documents()
                note = ""
            except Exception as exc:
                rows, note = [], _message(exc, lang_v)
            c = backend.filter_choices()
            return (
                gr.Dataframe(value=_doc_table(rows, lang_v)),
                gr.HTML(f'<div class="ef-banner" role="status">{esc(note)}</div>', visible=bool(note)),
                gr.Dropdown(choices=c["docs"]), gr.Dropdown(choices=c["sectors"]),
                gr.Dropdown(choices=c["types"]), gr.Dropdown(choices=c["kinds"]),
                gr.Dropdown(choices=[str(y) for y in c["years"]]), gr.Dropdown(choices=c["speakers"]),
                gr.Dropdown(choices=c["docs"], value=None),
            )

        refresh_outputs = [docs_table, banner, *filter_inputs, del_doc]
        demo.load(refresh, lang, refresh_outputs)

        def upload(files: Any, title: str, year: Any, sectors: Any, doc_type: str, lang_v: str,
                   progress: gr.Progress = gr.Progress()) -> str:
            paths = [f if isinstance(f, str) else getattr(f, "name", str(f)) for f in files or []]
            if not paths:
                return f'<p class="ef-status-err">{esc(t("upload_none", lang_v))}</p>'
            progress(0, desc=t("upload_progress", lang_v, label="…"))
            try:
                result = backend.upload(
                    paths, title=title or "", year=int(year) if year else None, sectors=list(sectors or []),
                    doc_type=doc_type or "report",
                    progress=lambda f, label: progress(f, desc=t("upload_progress", lang_v, label=label)),
                )
            except Exception as exc:
                return f'<p class="ef-status-err" role="alert">{esc(_message(exc, lang_v))}</p>'
            parts = []
            if result.added:
                done = t("upload_done", lang_v, n=len(result.added), names=", ".join(result.added))
                parts.append(f'<p class="ef-status-ok">{esc(done)}</p>')
            parts += [f'<p class="ef-status-err" role="alert">'
                      f'{esc(t("upload_skipped", lang_v, name=name, reason=reason))}</p>'
                      for name, reason in result.skipped]
            return "".join(parts)

        up_btn.click(upload, [up_files, up_title, up_year, up_sectors, up_type, lang], up_status) \
            .then(refresh, lang, refresh_outputs) \
            .then(lambda: (None, "", None), None, [up_files, up_title, up_year])

        def delete(doc_id: str | None, lang_v: str) -> str:
            if not doc_id:
                return f'<p class="ef-status-err">{esc(t("delete_none", lang_v))}</p>'
            try:
                n, uploaded = backend.delete(doc_id)
            except Exception as exc:
                return f'<p class="ef-status-err" role="alert">{esc(_message(exc, lang_v))}</p>'
            note = "" if uploaded else " " + t("delete_corpus_note", lang_v)
            return f'<p class="ef-status-ok">{esc(t("delete_done", lang_v, doc=doc_id, n=n) + note)}</p>'

        def confirm_delete(doc_id: str | None, lang_v: str) -> tuple[Any, ...]:
            """Nothing is deleted before the user confirms which document goes."""
            if not doc_id:
                return gr.Group(visible=False), "", f'<p class="ef-status-err">{esc(t("delete_none", lang_v))}</p>'
            titles = {d: title for title, d in backend.filter_choices()["docs"]}
            return gr.Group(visible=True), delete_question(doc_id, titles, lang_v), ""

        del_btn.click(confirm_delete, [del_doc, lang], [del_confirm, del_question, del_status])
        del_yes.click(lambda: gr.Group(visible=False), None, del_confirm) \
            .then(delete, [del_doc, lang], del_status).then(refresh, lang, refresh_outputs)
        del_no.click(lambda lang_v: (gr.Group(visible=False),
                                     f'<p class="ef-status-ok">{esc(t("delete_cancelled", lang_v))}</p>'),
                     lang, [del_confirm, del_status])
        del_doc.change(lambda: gr.Group(visible=False), None, del_confirm)  # a new choice asks again

        # ------------------------------------------------------------------ language
        def switch_language(lang_v: str, turns: list[Turn]) -> tuple[Any, ...]:
            last = len(turns) - 1
            return (
                _header_html(lang_v),
                gr.Tab(label=t("tab_chat", lang_v)), gr.Tab(label=t("tab_sources", lang_v)),
                render.render_transcript(turns, lang_v),
                render.render_evidence(turns[last] if turns else None, last, None, lang_v),
                gr.Textbox(label=t("question", lang_v), placeholder=t("question_ph", lang_v)),
                gr.Button(value=t("ask", lang_v)),
                gr.Radio(choices=[(t("mode_answer", lang_v), "answer"), (t("mode_quotes", lang_v), "quotes")],
                         label=t("mode", lang_v)),
                gr.Button(value=t("clear", lang_v)),
                f"**{t('examples', lang_v)}**",
                gr.Accordion(label=t("filters", lang_v)),
                gr.Dropdown(label=t("f_doc", lang_v)), gr.Dropdown(label=t("f_sector", lang_v)),
                gr.Dropdown(label=t("f_type", lang_v)), gr.Dropdown(label=t("f_kind", lang_v)),
                gr.Dropdown(label=t("f_year", lang_v)), gr.Dropdown(label=t("f_speaker", lang_v)),
                f"### {t('evidence', lang_v)}",
                gr.DownloadButton(label=t("export_md", lang_v)),
                gr.DownloadButton(label=t("export_csv", lang_v)),
                gr.DownloadButton(label=t("export_ris", lang_v)), gr.DownloadButton(label=t("export_bib", lang_v)),
                f"### {t('docs_heading', lang_v)}", f"### {t('upload_heading', lang_v)}",
                gr.File(label=t("upload_files", lang_v)),
                t("upload_info", lang_v, types=types_label, mb=max_mb),
                gr.Textbox(label=t("upload_title", lang_v)), gr.Number(label=t("upload_year", lang_v)),
                gr.Dropdown(label=t("upload_sectors", lang_v)),
                gr.Dropdown(label=t("upload_type", lang_v), choices=type_choices(lang_v)),
                gr.Button(value=t("upload_go", lang_v)),
                f"### {t('delete_heading', lang_v)}", gr.Dropdown(label=t("delete_doc", lang_v)),
                gr.Button(value=t("delete_go", lang_v)),
                gr.Button(value=t("delete_yes", lang_v)), gr.Button(value=t("delete_cancel", lang_v)),
                gr.Group(visible=False),
            )

        lang.change(switch_language, [lang, turns_state], [
            header, tab_chat, tab_sources, transcript, evidence, question, ask_btn, mode, clear_btn,
            examples_label, filters_acc, *filter_inputs, evidence_title, *export_btns, docs_title,
            upload_title, up_files, up_info, up_title, up_year, up_sectors, up_type, up_btn,
            delete_title, del_doc, del_btn, del_yes, del_no, del_confirm,
        ]).then(refresh, lang, refresh_outputs)
    return demo


def _header_html(lang: str) -> str:
    return f"<h1>Evidence Finder</h1><p>{esc(t('subtitle', lang))}</p>{interface_style(lang)}"


def launch_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``Blocks.launch``: look, upload limit and login."""
    theme = gr.themes.Soft(
        primary_hue="blue", neutral_hue="slate",
        font=["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"],
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"],
    )
    opts: dict[str, Any] = {"theme": theme, "css": CSS, "show_error": False,
                            "max_file_size": f"{settings.server.max_upload_mb}mb", "footer_links": []}
    user = settings.server.username
    password = settings.server.password.get_secret_value()
    if user and password:
        opts["auth"] = (user, password)
        opts["auth_message"] = "Evidence Finder"
        opts["app_kwargs"] = {"middleware": [login_throttle(settings)]}
    return opts


def login_throttle(settings: Settings) -> Any:
    """Gradio's auth callback never sees the client: failed logins are counted in front of it."""
    from starlette.middleware import Middleware

    s = settings.server
    return Middleware(LoginThrottle, max_failures=s.login_max_failures,  # type: ignore[arg-type]
                      window_s=s.login_window_s, lockout_s=s.login_lockout_s,
                      max_lockout_s=s.login_max_lockout_s)


def check_binding(settings: Settings, host: str) -> None:
    """Refuse to serve beyond this machine without a login."""
    user = settings.server.username
    password = settings.server.password.get_secret_value()
    if bool(user) != bool(password):
        raise EvidenceError(
            "set both EVIDENCE_SERVER__USERNAME and EVIDENCE_SERVER__PASSWORD, or neither"
        )
    check_credentials(user, password)
    if host not in LOCAL_HOSTS and not (user and password):
        raise EvidenceError(
            f"refusing to serve on {host!r} without a login: set EVIDENCE_SERVER__USERNAME and "
            "EVIDENCE_SERVER__PASSWORD, or bind to 127.0.0.1"
        )


def launch(settings: Settings, host: str, port: int, *, demo: Any = None, block: bool = True,
           background_build: list[Path] | None = None) -> Any:
    """Serve the web chat on ``host:port`` (blocks unless ``block`` is False; then returns the Blocks)."""
    check_binding(settings, host)
    demo = demo or build(settings, background_build=background_build)
    demo.launch(server_name=host, server_port=port, prevent_thread_lock=not block, quiet=not block,
                **launch_options(settings))
    return demo
