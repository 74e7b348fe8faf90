"""The lite Unigram tokenizer (models/unigram_lite.py) must give the full tokenizer's ids.

Fast: a small Unigram tokenizer shaped like e5's (normaliser, Metaspace, template, special
tokens with ``<mask>`` last, truncation), compared with ``Tokenizer.from_file`` on seeded
random texts. Slow: the real e5 tokenizer on every eval question and the corpus's paragraphs.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest
from tokenizers import Tokenizer

from evidence_finder.models.unigram_lite import LITE_DIRNAME, LiteUnigramTokenizer

REPO = Path(__file__).resolve().parents[1]
ALPHABET = "abcdeéëïoöuüklmnprstvz ABCKÆßﬁĳ½①-–'’“”.,:;!?0123456789中文한😀\u0301\u00a0\t\n  "
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]


def _random_text(rng: random.Random, longest: int = 60) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, longest)))


def make_unigram_tokenizer(path: Path, seed: int = 0) -> Path:
    """~600 pieces: single characters (not all: some are unknown), random substrings and words,
    metaspace-prefixed pieces, scores from a seeded generator."""
    import tokenizers as tk

    rng = random.Random(seed)
    chars = sorted(set("abcdeéklmnoprstuvz.,'-0123456789ABCK中"))
    pieces: dict[str, float] = {}
    for c in chars:
        pieces[c] = rng.uniform(-12, -8)
        pieces["▁" + c] = rng.uniform(-11, -7)
    for _ in range(500):
        n = rng.randint(2, 7)
        piece = "".join(rng.choice(chars[:20]) for _ in range(n))
        pieces[("▁" if rng.random() < 0.4 else "") + piece] = rng.uniform(-14, -3)
    pieces["▁"] = -2.5
    # characters without a piece of their own inside pieces: paths through an unknown character
    # compete with them, and its penalty is the vocabulary's lowest score (this one) minus 10
    for piece in ("öu", "▁ö", "üb", "bü", "ïo", "½a", "aß", "ßs", "▁ü"):
        pieces[piece] = rng.uniform(-30, -20)
    pieces["zzzzzzzzq"] = -40.0
    # 'ÿwx': ÿw + x (-32) beats unknown + wx (-51), but not if the unknown penalty were
    # taken from the pieces of this text only (-20 - 10 - 1 = -31)
    pieces.update({"ÿw": -20.0, "wx": -1.0, "x": -12.0})
    vocab = [(s, 0.0) for s in SPECIALS] + sorted(pieces.items()) + [("<mask>", 0.0)]
    tok = tk.Tokenizer(tk.models.Unigram(vocab, unk_id=3, byte_fallback=False))
    tok.normalizer = tk.normalizers.Sequence([tk.normalizers.NFKC(), tk.normalizers.Replace(tk.Regex(" {2,}"), " ")])
    tok.pre_tokenizer = tk.pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.post_processor = tk.processors.TemplateProcessing(single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
                                                          special_tokens=[("<s>", 0), ("</s>", 2)])
    tok.add_special_tokens([tk.AddedToken(t, normalized=False, lstrip=t == "<mask>")
                            for t in [*SPECIALS, "<mask>"]])
    path.mkdir(parents=True, exist_ok=True)
    tok.save(str(path / "tokenizer.json"))
    return path / "tokenizer.json"


def _full_ids(path: Path, texts: list[str], max_length: int) -> list[list[int]]:
    tok = Tokenizer.from_file(str(path))
    tok.enable_truncation(max_length)
    tok.no_padding()
    return [e.ids for e in tok.encode_batch(texts)]


def test_lite_ids_equal_the_full_tokenizers(tmp_path: Path) -> None:
    path = make_unigram_tokenizer(tmp_path / "model")
    rng = random.Random(1)
    texts = ["query: " + _random_text(rng) for _ in range(1500)] + ["", " ", "query: ", "中中中 😀😀", "ﬁne ĳs", "ÿwx", "query: ÿwx ÿw"]
    lite = LiteUnigramTokenizer(path, max_length=512, full_after=10_000)
    assert lite.encode_ids(texts) == _full_ids(path, texts, 512)
    assert lite._full is None  # none of these needed the full tokenizer
    assert (path.parent / LITE_DIRNAME / "lite.json").is_file()
    unknown = _full_ids(path, ["query: 😀 ½"], 512)[0]
    assert 3 in unknown  # the texts do reach unknown characters


def test_truncation_and_special_tokens_as_the_full_tokenizer(tmp_path: Path) -> None:
    path = make_unigram_tokenizer(tmp_path / "model")
    rng = random.Random(2)
    long = ["query: " + _random_text(rng, 300) for _ in range(50)]
    lite = LiteUnigramTokenizer(path, max_length=24, full_after=10_000)
    assert lite.encode_ids(long) == _full_ids(path, long, 24)
    assert all(len(ids) <= 24 for ids in lite.encode_ids(long))
    special = ["query: abc<s>de", "query: <mask> ab", "query: ab </s>", "query: x<unk>y", "query: <pad>"]
    assert lite.encode_ids(special) == _full_ids(path, special, 24)
    assert lite._full is not None  # those went to the full tokenizer


def test_the_derived_vocabulary_follows_tokenizer_json(tmp_path: Path) -> None:
    path = make_unigram_tokenizer(tmp_path / "model", seed=0)
    texts = ["query: " + _random_text(random.Random(3)) for _ in range(300)]
    assert LiteUnigramTokenizer(path, full_after=1000).encode_ids(texts) == _full_ids(path, texts, 512)
    make_unigram_tokenizer(tmp_path / "model", seed=5)  # another vocabulary in its place
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    lite = LiteUnigramTokenizer(path, full_after=1000)
    assert lite.encode_ids(texts) == _full_ids(path, texts, 512) and lite._full is None


def test_after_many_texts_the_full_tokenizer_takes_over(tmp_path: Path) -> None:
    path = make_unigram_tokenizer(tmp_path / "model")
    texts = ["query: " + _random_text(random.Random(4)) for _ in range(20)]
    lite = LiteUnigramTokenizer(path, full_after=5)
    assert lite.encode_ids(texts) == _full_ids(path, texts, 512)
    assert lite._full is not None


def test_another_kind_of_tokenizer_is_used_as_it_is(tmp_path: Path) -> None:
    from tokenizers import models, pre_tokenizers

    tok = Tokenizer(models.WordLevel({"<unk>": 0, "a": 1, "b": 2}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.save(str(tmp_path / "tokenizer.json"))
    lite = LiteUnigramTokenizer(tmp_path / "tokenizer.json")
    assert lite.encode_ids(["a b c"]) == [[1, 2, 0]]
    assert not (tmp_path / LITE_DIRNAME).exists()


@pytest.mark.slow
def test_the_real_e5_tokenizer_gives_the_same_ids(tmp_path: Path) -> None:
    """Every eval question and every paragraph of the corpus (as a question would be
    prefixed), plus seeded random texts. Slow: converts the real model (~5 s)."""
    from evidence_finder.models.e5_convert import ensure_e5_model

    path = ensure_e5_model(tmp_path / "models") / "tokenizer.json"
    texts = ["query: " + json.loads(line)["question"]
             for f in sorted((REPO / "evals" / "questions").glob("*.jsonl"))
             for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
    for f in sorted((REPO / "corpus").iterdir()):
        if f.suffix in (".txt", ".md"):
            texts += ["query: " + p[:400] for p in f.read_text(encoding="utf-8").split("\n\n") if p.strip()]
    rng = random.Random(6)
    texts += ["query: " + _random_text(rng) for _ in range(500)]
    assert len(texts) > 2000
    lite = LiteUnigramTokenizer(path, full_after=len(texts))
    assert lite.encode_ids(texts) == _full_ids(path, texts, 512)
    assert lite._full is None
