"""The NumPy e5 forward pass (questions without torch) must give PyTorch's vectors.

Fast: a tiny random XLM-RoBERTa (2 layers, 32 wide) saved as the e5 conversion saves the
real one, run by transformers and by ``NumpyE5Encoder``; the real model is compared in
tests/test_embedder_registry.py (slow) and on every eval question by
bench/bench_query_engine.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evidence_finder.models.e5_numpy import NumpyE5Encoder, load_safetensors_mmap

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

WORDS = ["<s>", "<pad>", "</s>", "<unk>", "query", ":", "passage", "welke", "drempels", "ervaren", "scholen", "bij", "erasmus+", "ka2", "kort"]
TEXTS = ["query : welke drempels ervaren scholen bij erasmus+ ka2", "passage : kort", "query : onbekend woord kort"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tokenizers import Tokenizer, models, pre_tokenizers, processors

    out = tmp_path_factory.mktemp("tiny-e5")
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.post_processor = processors.TemplateProcessing(single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
    tok.save(str(out / "tokenizer.json"))
    torch.manual_seed(0)
    config = transformers.XLMRobertaConfig(
        vocab_size=len(WORDS), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
        intermediate_size=64, max_position_embeddings=40, pad_token_id=1, layer_norm_eps=1e-12)
    model = transformers.XLMRobertaModel(config, add_pooling_layer=False).eval()
    model.save_pretrained(out, safe_serialization=True)
    return out


def reference(model_dir: Path, texts: list[str]) -> np.ndarray:
    from tokenizers import Tokenizer

    model = transformers.XLMRobertaModel.from_pretrained(model_dir, add_pooling_layer=False).eval()
    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    rows = []
    with torch.no_grad():
        for text in texts:
            ids = torch.tensor([tok.encode(text).ids])
            v = model(input_ids=ids).last_hidden_state[0].mean(dim=0)
            rows.append(torch.nn.functional.normalize(v, dim=0).numpy())
    return np.stack(rows)


def test_numpy_forward_pass_gives_the_pytorch_vectors(tiny: Path) -> None:
    ours = NumpyE5Encoder(tiny).encode(TEXTS)
    ref = reference(tiny, TEXTS)
    assert ours.shape == (3, 32) and ours.dtype == np.float32
    np.testing.assert_allclose(ours, ref, atol=2e-6)


def test_weights_are_memory_mapped_not_read(tiny: Path) -> None:
    weights = load_safetensors_mmap(tiny / "model.safetensors")
    word = weights["embeddings.word_embeddings.weight"]
    assert isinstance(word, np.memmap) and word.shape == (len(WORDS), 32)
