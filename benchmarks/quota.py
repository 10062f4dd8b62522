"""Quota benchmark: 10 million rows of (id, label, domain) on this machine.

    python benchmarks/quota.py [--rows 10000000] [--stream-rows 1000000]

Each mode runs in a fresh process; the time covers the ``enforce_quota`` call (for
streaming: consuming the whole output stream), not the checks afterwards. "Peak extra memory" is the process's peak resident
memory during the call minus its resident memory just before (Linux VmHWM, reset
before the call). Checks that the realised share equals the exact target to the row
and that in-memory and two-pass sharded results are identical.
Writes benchmarks/results/quota.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _proc import in_fresh_process, reset_peak, rss_kb, write_result  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
TARGET = 0.1


def _data(rows: int):
    import datasets
    import pyarrow as pa
    rng = np.random.default_rng(0)
    labels = np.array(["human", "synthetic", "unknown"])[rng.choice(3, rows, p=[0.6, 0.38, 0.02])]
    domains = np.array(["news", "code", "chat", "forum", "wiki"])[rng.integers(0, 5, rows)]
    table = pa.table({"id": np.arange(rows, dtype=np.int64), "sf_label": pa.array(labels),
                      "domain": pa.array(domains)})
    return datasets.Dataset(table)


def _measure(mode: str, rows: int) -> dict:
    from synthfilter.quota import enforce_quota
    ds = _data(rows)
    if mode == "streaming":
        ds = ds.to_iterable_dataset(num_shards=4)
    base = reset_peak()
    t0 = time.perf_counter()
    if mode == "streaming":
        kept = syn = 0
        for row in enforce_quota(ds, TARGET, id_column="id"):
            kept += 1
            syn += row["sf_label"] == "synthetic"
        ids = None
    else:
        kwargs = {"num_shards": 16} if mode.startswith("two-pass") else {}
        if mode.endswith("by-domain"):
            kwargs["by"] = "domain"
        out = enforce_quota(ds, TARGET, id_column="id", **kwargs)
        seconds = time.perf_counter() - t0
        peak = rss_kb("VmHWM")
        # read the kept rows through the indices mapping with Arrow's take (datasets' own
        # row-by-row gather is slow for millions of indices)
        import pyarrow.compute as pc
        table = out.data.table if out._indices is None else out.data.table.take(out._indices.column(0))
        kept, syn = out.num_rows, int(pc.sum(pc.equal(table.column("sf_label"), "synthetic")).as_py())
        ids = table.column("id").to_numpy()
    seconds = time.perf_counter() - t0
    peak = rss_kb("VmHWM")
    result = {"mode": mode, "rows": rows, "seconds": round(seconds, 2), "rows_per_s": round(rows / seconds),
              "peak_extra_mb": round((peak - base) / 1024, 1), "kept": kept, "synthetic_kept": syn,
              "realised_share": syn / kept if kept else 0.0}
    if ids is not None:
        result["ids_digest"] = int(np.bitwise_xor.reduce(ids.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--stream-rows", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    results = []
    for mode, rows in (("in-memory", args.rows), ("two-pass-16-shards", args.rows),
                       ("in-memory-by-domain", args.rows), ("two-pass-16-shards-by-domain", args.rows),
                       ("streaming", args.stream_rows)):
        r = in_fresh_process(_measure, mode, rows)
        print(json.dumps(r), flush=True)
        results.append(r)
    # exactness: all human-counted rows kept, synthetic = floor(0.1 * n_h / 0.9) overall
    import pyarrow.compute as pc
    n_h = int(pc.sum(pc.not_equal(_data(args.rows).data.table.column("sf_label"), "synthetic")).as_py())
    expected_syn = int(Fraction(1, 10) * n_h / Fraction(9, 10))
    exact = {r["mode"]: r["synthetic_kept"] == expected_syn for r in results if r["mode"] in ("in-memory", "two-pass-16-shards")}
    same = results[0]["ids_digest"] == results[1]["ids_digest"] and results[2]["ids_digest"] == results[3]["ids_digest"]
    summary = {"target": TARGET, "expected_synthetic_kept_global": expected_syn, "exact_to_the_row": exact,
               "in_memory_equals_two_pass": same}
    print("summary: " + json.dumps(summary))
    write_result("quota.json", {"runs": results, "summary": summary})
    return 0


if __name__ == "__main__":
    sys.exit(main())
