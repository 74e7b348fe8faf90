"""Ingest with a slow fake embedder, for crash-safety tests (run as a script, killed midway).

    python tests/helpers/ingest_slow.py CORPUS INDEX_DIR [--sleep S] [--batch N] [--pause-bm25 S]
                                        [--pause-store S] [--text-first]

Prints ``batch <n>`` (flushed) when the n-th embedding batch starts, ``bm25`` when the BM25
rebuild starts and ``done`` at the end, so a test can SIGKILL it at a chosen point. With
``--pause-store`` it also prints ``store <doc_id>`` (and pauses) before each document's
SQLite write, i.e. after its vectors are in Chroma. Uses the
same vectors as ``HashEmbedder`` in tests/conftest.py, so a later in-process ingest with the
fake embedder continues exactly where this one stopped.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))
sys.path.insert(0, str(TESTS.parent / "src"))

from evidence_finder.index import build as pipeline  # noqa: E402
from evidence_finder.settings import IndexSettings, Settings  # noqa: E402
from helpers.fakes import HashEmbedder  # noqa: E402


def say(line: str) -> None:
    print(line, flush=True)


class SlowHashEmbedder(HashEmbedder):
    def __init__(self, sleep: float) -> None:
        super().__init__()
        self.sleep = sleep

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        say(f"batch {self.calls + 1}")
        time.sleep(self.sleep)
        return super().embed_batch(texts)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", type=Path)
    ap.add_argument("index_dir", type=Path)
    ap.add_argument("--sleep", type=float, default=0.3)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--pause-bm25", type=float, default=0.0)
    ap.add_argument("--pause-store", type=float, default=None)
    ap.add_argument("--text-first", action="store_true",
                    help="as `evidence serve` does: a text-only pass (prints `text done`), then the embedding")
    args = ap.parse_args()

    refresh = pipeline._refresh_bm25

    def slow_refresh(store, settings):  # type: ignore[no-untyped-def]
        say("bm25")
        time.sleep(args.pause_bm25)
        refresh(store, settings)

    pipeline._refresh_bm25 = slow_refresh
    if args.pause_store is not None:
        replace = pipeline.IndexStore.replace_document

        def slow_replace(store, meta, *rest):  # type: ignore[no-untyped-def]
            say(f"store {meta.doc_id}")
            time.sleep(args.pause_store)
            replace(store, meta, *rest)

        pipeline.IndexStore.replace_document = slow_replace  # type: ignore[method-assign]
    settings = Settings(data_dir=args.index_dir.parent / "data", index_dir=args.index_dir,
                        index=IndexSettings(embed_batch=args.batch))
    if args.text_first:
        pipeline.ingest([args.corpus], settings, embedder=SlowHashEmbedder(args.sleep), embed=False)
        say("text done")
    report = pipeline.ingest([args.corpus], settings, embedder=SlowHashEmbedder(args.sleep))
    say(f"done {report.embedded}")


if __name__ == "__main__":
    main()
