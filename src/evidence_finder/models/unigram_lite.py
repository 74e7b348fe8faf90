"""Token ids of a few short texts without building e5's whole Unigram tokenizer.

Why: ``Tokenizer.from_file`` on e5's tokenizer.json takes ~0.5 s (it builds a trie of all
250,002 pieces, holding the GIL), a third of a one-shot ``evidence search``, to tokenize one
question. A Unigram tokenizer segments each pre-tokenized word with the vocabulary pieces
that are substrings of that word, and nothing else of the vocabulary matters but its lowest
score (unknown characters score that minus 10). So a tokenizer whose vocabulary is only
those pieces, with their scores, plus the lowest-scoring piece, finds the same segmentation;
its ids are mapped back to the full vocabulary's.

The pieces are looked up in a sorted array derived once from tokenizer.json and stored
beside it (``tokenizer.lite/``, memory-mapped: ~2 ms per text instead of 0.5 s to load). A
text that contains a special token's text (``<s>``, ``<mask>`` …) goes to the full
tokenizer, which splits those off before normalising; so does a tokenizer of another shape
than e5's (Unigram, Metaspace pre-tokenizer, no byte fallback), and any text once more than
``full_after`` texts were encoded (then the full one is cheaper per text).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

LITE_DIRNAME = "tokenizer.lite"
LITE_VERSION = 1


class LiteUnigramTokenizer:
    """``encode_ids(texts)`` as ``Tokenizer.from_file(path).encode_batch(texts)`` gives
    ids (truncated to ``max_length``), for e5's Unigram tokenizer.json."""

    def __init__(self, tokenizer_json: Path, max_length: int = 512, full_after: int = 64) -> None:
        self.path = Path(tokenizer_json)
        self.max_length = max_length
        self.full_after = full_after
        self.encoded = 0
        self._full: Any = None
        self._lite = _load_or_build(self.path)
        if self._lite is not None:
            from tokenizers import Tokenizer

            self._specials = [t["content"] for t in self._lite.skeleton["added_tokens"]]
            # the normaliser and pre-tokenizer alone: a model of the special tokens only
            self._analyser = Tokenizer.from_str(self._lite.tokenizer_json([]))

    def encode_ids(self, texts: Sequence[str]) -> list[list[int]]:
        out = []
        for text in texts:
            self.encoded += 1
            lite = self._lite is not None and self.encoded <= self.full_after
            out.append(self._lite_ids(text) if lite and not self._has_special(text) else self._full_ids(text))
        return out

    def _has_special(self, text: str) -> bool:
        normalized = self._analyser.normalizer.normalize_str(text)
        return any(s in text or s in normalized for s in self._specials)

    def _lite_ids(self, text: str) -> list[int]:
        from tokenizers import Tokenizer

        assert self._lite is not None
        words = [w for w, _ in self._analyser.pre_tokenizer.pre_tokenize_str(
            self._analyser.normalizer.normalize_str(text))]
        rows = self._lite.rows_of(words)
        tok = Tokenizer.from_str(self._lite.tokenizer_json(rows))
        tok.enable_truncation(self.max_length)
        tok.no_padding()
        return [int(self._lite.ids[rows[i]]) for i in tok.encode(text).ids]

    def _full_ids(self, text: str) -> list[int]:
        if self._full is None:
            from tokenizers import Tokenizer

            self._full = Tokenizer.from_file(str(self.path))
            self._full.enable_truncation(self.max_length)
            self._full.no_padding()
        return list(self._full.encode(text).ids)


class _LiteVocab:
    """The vocabulary sorted by piece: pieces, their ids and scores (memory maps), and
    tokenizer.json without its vocabulary (``skeleton``)."""

    def __init__(self, directory: Path) -> None:
        self.pieces = np.load(directory / "pieces.npy", mmap_mode="r")
        self.ids = np.load(directory / "ids.npy", mmap_mode="r")
        self.scores = np.load(directory / "scores.npy", mmap_mode="r")
        meta = json.loads((directory / "lite.json").read_text(encoding="utf-8"))
        self.skeleton: dict[str, Any] = meta["skeleton"]
        self.max_chars = int(meta["max_piece_chars"])
        # always present: the special tokens (ids kept in order) and the lowest score
        self.always = sorted(set(meta["special_rows"]) | {int(meta["min_score_row"])})

    def rows_of(self, words: list[str]) -> list[int]:
        """Rows (in the sorted arrays) of every piece that is a substring of some word, and
        of the pieces always present, ordered by original id."""
        subs = sorted({w[i:j] for w in words for i in range(len(w))
                       for j in range(i + 1, min(len(w), i + self.max_chars) + 1)})
        found: list[int] = []
        if subs:
            wanted = np.array(subs)
            pos = np.minimum(np.searchsorted(self.pieces, wanted), len(self.pieces) - 1)
            found = [int(p) for p in pos[self.pieces[pos] == wanted]]
        return sorted(set(found) | set(self.always), key=lambda r: int(self.ids[r]))

    def tokenizer_json(self, rows: list[int]) -> str:
        """tokenizer.json with only ``rows`` in the vocabulary, renumbered 0.. in their order."""
        rows = rows or self.always
        new_id = {int(self.ids[r]): n for n, r in enumerate(rows)}
        sk = self.skeleton
        model = dict(sk["model"], vocab=[[str(self.pieces[r]), float(self.scores[r])] for r in rows],
                     unk_id=new_id[sk["model"]["unk_id"]])
        added = [dict(t, id=new_id[t["id"]]) for t in sk["added_tokens"]]
        post = json.loads(json.dumps(sk["post_processor"]))
        for special in (post or {}).get("special_tokens", {}).values():
            special["ids"] = [new_id[i] for i in special["ids"]]
        return json.dumps(dict(sk, model=model, added_tokens=added, post_processor=post))


def _load_or_build(path: Path) -> _LiteVocab | None:
    """The derived vocabulary beside ``path``, built (once, ~0.5 s) if missing or older
    than tokenizer.json; None when the tokenizer is not of e5's shape or the directory is
    not writable (then the full tokenizer is used)."""
    directory = path.parent / LITE_DIRNAME
    try:
        stat = path.stat()
        source = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "version": LITE_VERSION}
        meta_path = directory / "lite.json"
        if meta_path.is_file() and json.loads(meta_path.read_text(encoding="utf-8")).get("source") == source:
            return _LiteVocab(directory)
        if not _build(path, directory, source):
            return None
        return _LiteVocab(directory)
    except (OSError, ValueError, KeyError):
        return None


def _build(path: Path, directory: Path, source: dict[str, int]) -> bool:
    data = json.loads(path.read_text(encoding="utf-8"))
    model, pre = data.get("model") or {}, data.get("pre_tokenizer") or {}
    if (model.get("type") != "Unigram" or model.get("byte_fallback") or pre.get("type") != "Metaspace"
            or not pre.get("split", True)):
        return False
    vocab = model["vocab"]
    pieces = np.array([p for p, _ in vocab])
    if any("\0" in p for p, _ in vocab) or len({p for p, _ in vocab}) != len(vocab):
        return False  # NumPy strings drop trailing NULs; duplicate pieces have no one id
    order = np.argsort(pieces, kind="stable")
    row_of = np.empty(len(order), dtype=np.int64)
    row_of[order] = np.arange(len(order))
    scores = np.array([s for _, s in vocab], dtype=np.float64)
    skeleton = dict(data, model=dict(model, vocab=[]))
    meta = {"source": source, "skeleton": skeleton, "max_piece_chars": int(max(len(p) for p, _ in vocab)),
            "special_rows": [int(row_of[t["id"]]) for t in data.get("added_tokens", [])],
            "min_score_row": int(row_of[int(np.argmin(scores))])}
    tmp = Path(tempfile.mkdtemp(prefix=f".{LITE_DIRNAME}.tmp-", dir=directory.parent))
    try:
        np.save(tmp / "pieces.npy", pieces[order])
        np.save(tmp / "ids.npy", order.astype(np.int64))
        np.save(tmp / "scores.npy", scores[order])
        (tmp / "lite.json").write_text(json.dumps(meta), encoding="utf-8")  # last: the marker
        shutil.rmtree(directory, ignore_errors=True)
        os.replace(tmp, directory)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return True
