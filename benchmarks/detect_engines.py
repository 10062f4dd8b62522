"""PyTorch against ONNX Runtime for the transformer bodies the detectors run, on this machine.

    python benchmarks/detect_engines.py [--models smollm2,e5] [--batches 1,4,16,64] [--repeats 3]
    python benchmarks/detect_engines.py --docs          # rewrite the docs section from the JSON
    python benchmarks/detect_engines.py --check           # exit 1 when the docs section differs

Issue #14 asks to run the language model through ONNX Runtime where that is faster (an earlier
probe measured 1.6x for SmolLM2-135M). For each body (``smollm2``: SmolLM2-135M-Instruct's
decoder, which the ``lm``, ``lm-hidden`` and ``stack`` tiers run; ``e5``:
multilingual-e5-small, which ``accurate`` and ``multilingual`` run) this

1. exports the body to ONNX (fp32, ``torch.onnx.export``, dynamic batch and length) into a
   temporary folder;
2. checks that ONNX Runtime gives the same last hidden state as PyTorch on a padded batch of
   another shape than the exported one (largest absolute difference over real tokens);
3. times both engines on 128-token inputs at each batch size (one warm-up run, then
   ``--repeats`` runs; both engines on all cores of the machine).

The detectors batch: ``lm`` 4 texts a pass, ``lm-hidden`` 8, ``accurate`` up to 64 windows,
so the figure that decides is the one at those batch sizes, not at batch 1.

Needs ``onnx`` and ``onnxruntime`` (not synthfilter dependencies); without them the script
says so and exits 0. Writes benchmarks/results/detect_engines.json; ``--docs`` writes the
table between ``<!-- detect-engines:begin -->`` and ``<!-- detect-engines:end -->`` of docs/benchmarks/detect.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._proc import RESULTS, add_docs_flags, rewrite_docs_section, write_result  # noqa: E402

BEGIN, END = "<!-- detect-engines:begin -->", "<!-- detect-engines:end -->"
TOKENS = 128
#: ONNX Runtime must be at least this many times as fast, at the batch size a tier uses, to be worth a switch
WORTH = 1.2
#: the batch size each body runs at inside synthfilter (texts or windows per forward pass)
TIER_BATCH = {"smollm2": 4, "e5": 64}
BODIES = {
    "smollm2": "SmolLM2-135M-Instruct decoder (lm, lm-hidden, stack)",
    "e5": "multilingual-e5-small encoder (accurate, multilingual)",
}


def load_body(name: str) -> tuple[Any, int]:
    """(torch module mapping (input_ids, attention_mask) to the last hidden state, vocabulary size)."""
    import torch

    if name == "smollm2":
        from synthfilter.detect.lm import _load_causal_lm

        _, lm, _ = _load_causal_lm(None, None)
        inner, vocab = lm.get_decoder(), lm.config.vocab_size
    elif name == "e5":
        from synthfilter.diversity.multilingual import load_multilingual_e5

        inner = load_multilingual_e5().model
        vocab = inner.config.vocab_size
    else:
        raise ValueError(f"models: unknown body {name!r}; expected one of {sorted(BODIES)}")

    class Body(torch.nn.Module):
        def __init__(self, body: Any) -> None:
            super().__init__()
            self.body = body

        def forward(self, input_ids, attention_mask):
            kwargs = {"use_cache": False} if name == "smollm2" else {}
            return self.body(input_ids=input_ids, attention_mask=attention_mask, **kwargs).last_hidden_state

    return Body(inner).eval(), int(vocab)


def export(body: Any, vocab: int, path: Path) -> float:
    """Export ``body`` to ``path`` with dynamic batch and length; returns the seconds it took."""
    import torch

    ids = torch.randint(5, vocab, (2, 16), generator=torch.Generator().manual_seed(0))
    mask = torch.ones_like(ids)
    axes = {0: "batch", 1: "tokens"}
    start = time.perf_counter()
    with torch.no_grad():
        torch.onnx.export(body, (ids, mask), str(path), input_names=["input_ids", "attention_mask"],
                          output_names=["hidden"], dynamic_axes={"input_ids": axes, "attention_mask": axes,
                                                                 "hidden": axes},
                          dynamo=False, opset_version=17)
    return time.perf_counter() - start


def inputs(vocab: int, batch: int, tokens: int, seed: int, padded: bool = False) -> tuple[Any, Any]:
    """Token ids drawn from the vocabulary and their mask; ``padded``: row ``i`` keeps ``tokens - 7 i`` tokens."""
    import torch

    ids = torch.randint(5, vocab, (batch, tokens), generator=torch.Generator().manual_seed(seed))
    mask = torch.ones_like(ids)
    if padded:
        for i in range(batch):
            mask[i, max(2, tokens - 7 * i):] = 0
    return ids, mask


def max_difference(body: Any, session: Any, vocab: int) -> float:
    """Largest |torch - onnxruntime| of the last hidden state over real tokens, on a padded 3 x 77 batch."""
    import torch

    ids, mask = inputs(vocab, 3, 77, seed=1, padded=True)
    with torch.inference_mode():
        ref = body(ids, mask).numpy()
    got = session.run(None, {"input_ids": ids.numpy(), "attention_mask": mask.numpy()})[0]
    return float(np.abs(got - ref)[mask.numpy().astype(bool)].max())


def docs_per_second(run, batch: int, repeats: int) -> float:
    run()  # warm-up
    start = time.perf_counter()
    for _ in range(repeats):
        run()
    return round(batch * repeats / (time.perf_counter() - start), 2)


def measure(name: str, batches: list[int], repeats: int, threads: int) -> dict:
    import onnxruntime as ort
    import torch

    torch.set_num_threads(threads)
    body, vocab = load_body(name)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{name}.onnx"
        seconds = export(body, vocab, path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        out: dict[str, Any] = {"body": BODIES[name], "export_seconds": round(seconds, 1),
                               "onnx_mb": round(sum(f.stat().st_size for f in Path(folder).iterdir()) / 1e6, 1),
                               "max_abs_difference": max_difference(body, session, vocab), "batches": {}}
        for batch in batches:
            ids, mask = inputs(vocab, batch, TOKENS, seed=2)
            with torch.inference_mode():
                t = docs_per_second(lambda: body(ids, mask), batch, repeats)
            o = docs_per_second(lambda: session.run(None, {"input_ids": ids.numpy(), "attention_mask": mask.numpy()}),
                                batch, repeats)
            out["batches"][str(batch)] = {"torch_docs_per_s": t, "onnxruntime_docs_per_s": o, "ratio": round(o / t, 2)}
            print(f"  {name} batch {batch}: torch {t} docs/s, onnxruntime {o} docs/s", flush=True)
    tier = out["batches"].get(str(TIER_BATCH[name]))
    out["tier_batch"] = TIER_BATCH[name]
    out["onnxruntime_worth_it"] = None if tier is None else tier["ratio"] >= WORTH
    return out


def render(result: dict) -> str:
    lines = ["| body | batch (texts a pass) | PyTorch docs/s | ONNX Runtime docs/s | ONNX / PyTorch | "
             "largest difference of the hidden state |",
             "|---|---|---|---|---|---|"]
    for name, r in result["bodies"].items():
        for batch, b in r["batches"].items():
            mark = " (the tier's)" if int(batch) == r["tier_batch"] else ""
            lines.append(f"| {r['body']} | {batch}{mark} | {b['torch_docs_per_s']} | {b['onnxruntime_docs_per_s']} | "
                         f"{b['ratio']:.2f}x | {r['max_abs_difference']:.1e} |")
    lines += ["", f"{TOKENS}-token inputs, {result['threads']} threads for both engines, onnxruntime "
              f"{result['onnxruntime']}, torch {result['torch']}; ONNX Runtime is worth a switch at "
              f"{WORTH:.1f}x or more at the tier's batch size: "
              + ", ".join(f"{name} {'yes' if r['onnxruntime_worth_it'] else 'no'}"
                          for name, r in result["bodies"].items()) + "."]
    return "\n".join(lines)


def rewrite_docs(result: dict, check: bool) -> int:
    return rewrite_docs_section(BEGIN, END, render(result), check, "engines",
                                "python benchmarks/detect_engines.py --docs")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="smollm2,e5", help=f"comma-separated bodies of {sorted(BODIES)}")
    parser.add_argument("--batches", default="1,4,16,64", help="comma-separated batch sizes (default 1,4,16,64)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per batch size and engine (default 3)")
    add_docs_flags(parser)
    args = parser.parse_args(argv)
    path = RESULTS / "detect_engines.json"
    if args.docs or args.check:
        return rewrite_docs(json.loads(path.read_text()), check=args.check)
    missing = [name for name in ("onnx", "onnxruntime") if importlib.util.find_spec(name) is None]
    if missing:  # torch.onnx.export needs onnx
        print(f"SKIP: {' and '.join(missing)} not installed (pip install onnx onnxruntime)")
        return 0
    import onnxruntime
    import torch

    threads = os.cpu_count() or 1
    result = {"threads": threads, "tokens": TOKENS, "onnxruntime": onnxruntime.__version__,
              "torch": torch.__version__, "bodies": {}}
    for name in args.models.split(","):
        result["bodies"][name] = measure(name, [int(b) for b in args.batches.split(",")], args.repeats, threads)
    write_result(path.name, result)
    return rewrite_docs(result, check=False)


if __name__ == "__main__":
    sys.exit(main())
