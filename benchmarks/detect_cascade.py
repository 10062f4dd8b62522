"""The cascade (a cheap gate tier, then a deep tier on the gate's uncertain band), leave-one-folder-out.

Built from the fold scores ``benchmarks/detect_folders.py`` saved for both tiers, on the test
documents both scored (joined by text key). For each held-out folder the band is chosen by
:func:`synthfilter.detect.stack.choose_band` on the *other* folders' test documents (the
narrowest band of gate log-odds whose cascade AUROC is within 0.01 of the deep tier's there),
then applied to the held-out folder, so no folder chooses its own band. Speed follows from the
two tiers' measured documents/second and the escalated share:
``1 / (1 / gate + share / deep)``. Also reported: the two tiers' sum on every row, each score
standardised by the mean and standard deviation of its own fold's calibration humans (no
held-out statistics).

Used through ``python benchmarks/detect_folders.py --cascade fast,accurate``.
"""

from __future__ import annotations

import numpy as np

from benchmarks.detect_sum import joined_rows, scored_auroc, standardised
from synthfilter.detect.stack import choose_band

__all__ = ["joined", "cascade_summary"]


def joined(gate: dict, deep: dict) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per held-out folder: (labels, gate scores, deep scores) on the test documents both tiers scored."""
    return {held: (y, s[:, 0], s[:, 1]) for held, (y, _, s) in joined_rows({"gate": gate, "deep": deep}).items()}


def cascade_summary(gate: dict, deep: dict, gate_speed: float | None, deep_speed: float | None,
                    tolerance: float = 0.01) -> dict:
    """Per folder and mean: gate, deep and cascade AUROC, escalated share; the cascade's documents/second."""
    rows = joined(gate, deep)
    per_folder = {}
    for held, (y, g, d) in rows.items():
        others = [rows[h] for h in rows if h != held]
        oy, og, od = (np.concatenate([o[i] for o in others]) for i in range(3))
        low, high, _ = choose_band(og, od, oy, tolerance=tolerance)
        band = (g >= low) & (g <= high)
        mixed = np.where(band, d, g)
        summed = standardised(g, gate[held]["cal"]) + standardised(d, deep[held]["cal"])
        per_folder[held] = {"n": int(len(y)), "gate_auroc": scored_auroc(y, g), "deep_auroc": scored_auroc(y, d),
                            "cascade_auroc": scored_auroc(y, mixed), "sum_auroc": scored_auroc(y, summed), "band": [round(low, 4), round(high, 4)],
                            "escalated_share": round(float(band.mean()), 4)}
    mean = {k: round(float(np.mean([r[k] for r in per_folder.values()])), 4)
            for k in ("gate_auroc", "deep_auroc", "cascade_auroc", "sum_auroc", "escalated_share")}
    docs_per_s = None
    if gate_speed and deep_speed:
        docs_per_s = round(1.0 / (1.0 / gate_speed + mean["escalated_share"] / deep_speed), 1)
    return {"per_folder": per_folder, "mean": mean, "docs_per_s": docs_per_s, "tolerance": tolerance,
            "within_tolerance_of_deep": bool(mean["cascade_auroc"] >= mean["deep_auroc"] - tolerance)}
