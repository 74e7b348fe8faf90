"""Gradio web chat (minimal search page until the full chat UI lands)."""

from __future__ import annotations

import html
import os

from evidence_finder.errors import EvidenceError
from evidence_finder.settings import Settings

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def build(settings: Settings):  # type: ignore[no-untyped-def]
    import gradio as gr

    from evidence_finder.retrieval.search import Searcher

    state: dict[str, Searcher] = {}

    def run(question: str) -> str:
        try:
            searcher = state.get("s") or state.setdefault("s", Searcher(settings))
            res = searcher.search(question, k=5)
        except EvidenceError as exc:
            return f"<p class='error'>{html.escape(str(exc))}</p>"
        items = "".join(
            f"<li><b>{html.escape(h.title)}</b> <i>{html.escape(h.passage.section)}</i>"
            f"<p>{html.escape(h.passage.text)}</p></li>" for h in res.hits
        )
        return f"<ol>{items}</ol>"

    with gr.Blocks(title="Evidence Finder") as demo:
        gr.Markdown("# Evidence Finder")
        q = gr.Textbox(label="Vraag / question")
        out = gr.HTML()
        q.submit(run, q, out)
    return demo


def launch(settings: Settings, host: str, port: int) -> None:
    demo = build(settings)
    demo.launch(server_name=host, server_port=port, show_error=False)
