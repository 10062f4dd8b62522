"""Write each shipped tier's measured recall on unseen sources into the package, for the labels note.

    python benchmarks/unseen_recall.py

Reads ``benchmarks/results/detect_folders.json`` (leave-one-folder-out: each tier retrained
without a folder, its threshold transferred from the other folders) and writes, per tier,
the share of AI text flagged at the transferred threshold on every held-out folder in a
language the tier scores, to ``synthfilter/detect/weights/unseen_recall.json``. The quota
and ``clean`` quote it when a share is counted from labels without a reference
(:func:`synthfilter.quota.notes.labels_note`). Rerun it after rerunning ``detect_folders.py``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from synthfilter.detect.train import WEIGHTS_VERSION, WEIGHTS_VERSIONS  # noqa: E402
from synthfilter.quota.notes import MEASURED_PATH  # noqa: E402

RESULT = ROOT / "benchmarks" / "results" / "detect_folders.json"


def recall_table(result: dict) -> dict:
    """Per tier: mean, min and max recall at the transferred threshold over the folders it scores."""
    tiers = {}
    for name, tier in sorted(result["tiers"].items()):
        folders = {f: v["tpr_transferred"] for f, v in tier["per_folder"].items() if v.get("scored")}
        if not folders:
            continue
        values = list(folders.values())
        tiers[name] = {"version": WEIGHTS_VERSIONS.get(name, WEIGHTS_VERSION), "folders": len(values),
                       "mean_recall": round(sum(values) / len(values), 4), "min_recall": min(values),
                       "max_recall": max(values), "per_folder": folders}
    return {"source": "benchmarks/results/detect_folders.json (leave-one-folder-out, transferred threshold)",
            "tiers": tiers}


def main() -> int:
    if not RESULT.exists():
        print(f"SKIP: {RESULT} not found (run benchmarks/detect_folders.py first)")
        return 0
    table = recall_table(json.loads(RESULT.read_text()))
    MEASURED_PATH.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    for name, t in table["tiers"].items():
        print(f"{name}@{t['version']}: mean recall {t['mean_recall']:.3f} over {t['folders']} folders "
              f"({t['min_recall']:.3f}-{t['max_recall']:.3f})")
    print(f"wrote {MEASURED_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
