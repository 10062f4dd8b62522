"""``OUT/report.html``: one self-contained page of what ``clean`` did (figures embedded as PNG).

It shows the score histogram per group and per language, the labelled and estimated synthetic
shares before and after, cluster sizes before and after tail resampling, the rows dropped per
reason and step, the time of every step, the versions and the exact command. Everything comes
from the run's ``report.json``, ``manifest.json`` and the tag step's scores.
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["write_html_report"]

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#222}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.25rem .6rem;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}code{background:#f4f4f4;padding:0 .2rem}
img{max-width:100%}.note{color:#666;font-size:.9rem}
"""


def _figure(draw) -> str:
    """A matplotlib figure drawn by ``draw(fig)`` as an inline ``<img>``."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(9, 3.6))
    try:
        draw(fig)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=90)
    finally:
        plt.close(fig)
    return f'<img alt="figure" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _pct(x: Any) -> str:
    return "n/a" if x is None else f"{100 * float(x):.1f}%"


def _histograms(scores: np.ndarray, keys: np.ndarray, title: str) -> str:
    names = [k for k, _ in sorted(zip(*np.unique(keys, return_counts=True)), key=lambda kv: -kv[1])][:8]

    def draw(fig):
        ax = fig.add_subplot(1, 1, 1)
        bins = np.linspace(0, 1, 41)
        for name in names:
            part = scores[(keys == name) & np.isfinite(scores)]
            if len(part):
                ax.hist(part, bins=bins, histtype="step", density=True, label=f"{name} ({len(part)})")
        ax.set_xlabel("sf_score")
        ax.set_ylabel("density")
        ax.set_title(title)
        ax.legend(fontsize=8)

    return _figure(draw)


def _clusters(resample: dict[str, Any]) -> str:
    before, after = resample.get("before") or {}, resample.get("after") or {}
    if not before:
        return "<p class=note>No cluster counts (resampling by category or skipped).</p>"
    order = sorted(before, key=lambda k: -before[k])

    def draw(fig):
        ax = fig.add_subplot(1, 1, 1)
        x = np.arange(len(order))
        ax.bar(x - 0.2, [before[k] for k in order], 0.4, label="before")
        ax.bar(x + 0.2, [after.get(k, 0) for k in order], 0.4, label="after")
        ax.set_yscale("log")
        ax.set_xlabel("cluster (largest first)")
        ax.set_ylabel("rows")
        ax.set_title("Cluster sizes before and after tail resampling")
        ax.legend(fontsize=8)

    return _figure(draw)


def write_html_report(out: Path, report: dict[str, Any], tagged: Any, *, by: str | None = None,
                      command: str | None = None) -> Path:
    """Write ``out/report.html`` from the run's report, its manifest and the tagged rows; return its path.

    ``tagged`` is the tag step's ``datasets.Dataset`` (its ``sf_score``, ``sf_lang`` and
    ``by`` column are read); ``command`` is the command line to show (default: the one the
    manifest records, if any).
    """
    manifest = json.loads((out / "manifest.json").read_text()) if (out / "manifest.json").exists() else {}
    steps = report.get("steps", {})
    parts = [f"<!doctype html><html lang=en><head><meta charset=utf-8><title>synthfilter clean report</title>"
             f"<style>{_STYLE}</style></head><body><h1>synthfilter clean report</h1>"]
    parts.append(f"<p>{report.get('rows_in')} rows in, {report.get('rows_out')} rows out "
                 f"(engine {html.escape(str(report.get('engine')))}); output: "
                 f"<code>{html.escape(str(report.get('output')))}</code></p>")

    parts.append("<h2>Synthetic share</h2>")
    rows = [[name, _pct(s.get("synthetic_share")), s.get("rows_out")] for name, s in steps.items()]
    parts.append(_table(["after step", "labelled synthetic share", "rows"], rows))
    est = report.get("estimated_synthetic_share")
    if est:
        lines = [f"Before: {est['before_text']}", f"After: {est['after_text']}"]
        parts.append("<p>" + "<br>".join(html.escape(line) for line in lines) + "</p>")
    calibration = steps.get("calibrate", {})
    if calibration.get("text"):
        parts.append(f"<p>Labels: {html.escape(calibration['text'])}</p>")
    for note in report.get("notes") or []:
        parts.append(f"<p class=note><strong>Warning:</strong> {html.escape(note)}</p>")
    if not est and not report.get("notes"):
        parts.append("<p class=note>True share not estimated: give known-human text of the same kind "
                     "(<code>--first-seen-column</code>/<code>--human-before</code>, <code>--provenance-column</code>/"
                     "<code>--human-values</code> or <code>--reference</code>) to see it beside the label count.</p>")

    parts.append("<h2>Scores</h2>")
    table = tagged.with_format("arrow").select_columns(
        [c for c in ("sf_score", "sf_lang", by) if c and c in tagged.column_names])[:]
    scores = table.column("sf_score").to_numpy(zero_copy_only=False).astype(np.float64)
    if "sf_lang" in table.column_names:
        langs = np.asarray([v or "?" for v in table.column("sf_lang").to_pylist()], dtype=object)
        parts.append(_histograms(scores, langs, "Score histogram per language"))
    if by and by in table.column_names:
        groups = np.asarray([str(v) for v in table.column(by).to_pylist()], dtype=object)
        parts.append(_histograms(scores, groups, f"Score histogram per {by}"))

    parts.append("<h2>Rows dropped, per step and reason</h2>")
    dropped = report.get("dropped", {})
    rows = [[step, info["rows"], ", ".join(f"{k}: {v}" for k, v in info["reasons"].items()) or "-"]
            for step, info in dropped.items()]
    parts.append(_table(["step", "rows dropped", "reasons"], rows) if rows else "<p>None.</p>")
    parts.append("<p class=note>Dropped rows are in <code>dropped/</code> with <code>sf_drop_reason</code>; "
                 "<code>sf_row</code> is each row's position in the input.</p>")

    parts.append("<h2>Tail resampling</h2>")
    resample = steps.get("resample", {})
    if resample:
        junk = resample.get("junk_share_before")
        if junk is not None:
            parts.append(f"<p>Junk rows (unknown, very short, boiler-plate): {_pct(junk)} before, "
                         f"{_pct(resample.get('junk_share_after'))} after.</p>")
        parts.append(_clusters(resample))

    parts.append("<h2>Timings</h2>")
    rows = [[name, s.get("seconds", "resumed" if s.get("resumed") else "-"), s.get("rows_out")]
            for name, s in steps.items()]
    parts.append(_table(["step", "seconds", "rows out"], rows))

    parts.append("<h2>Run</h2>")
    shown = command or manifest.get("command")
    if shown:
        parts.append(f"<p>Command: <code>{html.escape(shown)}</code></p>")
    versions = manifest.get("versions", {})
    parts.append(_table(["package", "version"], [[k, v] for k, v in versions.items()]))
    parts.append("<p class=note>Configuration:</p><pre>" + html.escape(json.dumps(manifest.get("config", {}), indent=1))
                 + "</pre></body></html>")
    from ..io import atomic_write_text

    path = out / "report.html"
    atomic_write_text(path, "".join(parts))
    return path
