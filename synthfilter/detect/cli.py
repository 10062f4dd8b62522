"""``synthfilter calibrate`` and ``synthfilter detector fit | list``: the detector API on the command line.

* ``synthfilter calibrate REFERENCE --target-fpr 0.01 --out detector.npz [--detector fast]``
  sets a detector's threshold from known-human text (a data file or folder, or a
  :class:`~synthfilter.Reservoir` folder) with :meth:`BaseDetector.calibrate
  <synthfilter.detect.base.BaseDetector.calibrate>`, saves it and prints the old and new
  threshold and the false-positive rate on the reference at each.
* ``synthfilter detector fit DATA --out detector.npz [--detector fast]`` fits a fresh
  detector of that kind on labelled rows. A hash-chosen 20% of the rows is held out,
  by ``--group-column`` when given (rows sharing a value stay together), else by
  normalised text (duplicates stay together); the detector is fitted on the other 80%,
  its threshold is the smallest that flags at most ``--target-fpr`` of the *held-out*
  human rows (human text it was not fitted on: calibrating on the training humans
  flags several times the target on new text), and the AUROC on the held-out rows is
  printed. When fewer held-out human rows are there than the rate needs
  (``ceil(1 / target_fpr)``, 100 for 0.01), the threshold comes from every human row,
  those it was fitted on included, and a note says so: expect more false positives on
  new text than the target, and run ``synthfilter calibrate`` on human text it has not
  seen. As in ``python -m synthfilter.detect.train``, the two classes weigh equally in
  the fit and the heavy tiers (``lm``, ``embed``, ``stack``, ``cascade``) have their
  probability scale refitted, and the cascade its band chosen, on the held-out rows.
  The detector's ``classes_`` are ``["human", "synthetic"]`` (the ``sf_label``
  vocabulary, as for the shipped ones) whatever the labels' vocabulary.
* ``synthfilter detector list`` prints the registry: name, weights version, languages,
  default threshold.

Both writing commands refuse to overwrite ``--out`` unless ``--force`` is given, and
``--out`` must end in ``.npz`` (how ``--detector`` and :func:`~synthfilter.load_detector`
recognise a saved detector).
"""

from __future__ import annotations

import argparse
import math
import re
from pathlib import Path
from typing import Any

from ..commands import INPUT_HELP, command_group

__all__ = ["add_parser"]

# ----------------------------------------------------------------------------- helpers
def _check_fpr(target_fpr: float) -> float:
    if not (isinstance(target_fpr, float) and 0.0 < target_fpr < 1.0):
        raise ValueError(f"--target-fpr must be a share in (0, 1), e.g. 0.01; got {target_fpr!r}")
    return target_fpr


def _check_out(out: str, force: bool, inputs: list[str]) -> None:
    from ..io import check_output

    if Path(out).suffix.lower() != ".npz":
        raise ValueError(f"--out must name a .npz file (that is how --detector and load_detector recognise a "
                         f"saved detector), got {out}")
    if Path(out).is_dir():
        raise ValueError(f"--out {out} is a folder; name a .npz file")
    if Path(out).exists() and not force:
        raise ValueError(f"--out {out} exists; pass --force to overwrite it")
    check_output(inputs, out)


def _texts(ds: Any, column: str, source: str) -> list:
    if column not in ds.column_names:
        raise ValueError(f"--text-column {column}: no such column in {source}; columns present: {ds.column_names}")
    return ds[column]


def _pct(share: float) -> str:
    return "n/a" if math.isnan(share) else f"{100 * share:.2f}%"


def _cmd_fit(args: argparse.Namespace) -> int:
    from ..io import read_dataset
    from .fit import HELD_OUT, fit_detector, read_labels
    from .inputs import require_scorable

    _check_fpr(args.target_fpr)
    _check_out(args.out, args.force, [args.data])
    from .registry import DETECTORS, available_detectors

    if args.detector not in DETECTORS:
        raise ValueError(f"--detector {args.detector}: fit needs a detector kind, one of {available_detectors()}")
    ds = read_dataset(args.data)
    texts = _texts(ds, args.text_column, args.data)
    if args.label_column not in ds.column_names:
        raise ValueError(f"--label-column {args.label_column}: no such column in {args.data}; "
                         f"columns present: {ds.column_names}")
    if args.group_column is not None and args.group_column not in ds.column_names:
        raise ValueError(f"--group-column {args.group_column}: no such column in {args.data}; "
                         f"columns present: {ds.column_names}")
    require_scorable(texts, f"--text-column {args.text_column} of {args.data}",
                     "fit never drops rows: remove or fix them first")
    y = read_labels(ds[args.label_column], args.label_column, args.data)
    if len(set(y.tolist())) < 2:
        raise ValueError(f"--label-column {args.label_column}: {args.data} holds only "
                         f"{'human' if y.size and y[0] == 0 else 'AI'} rows; fitting needs both classes")
    groups = ds[args.group_column] if args.group_column else None
    det, s = fit_detector(args.detector, texts, y, groups, target_fpr=args.target_fpr, seed=args.seed)
    det.save(args.out)
    by = f"--group-column {args.group_column}" if args.group_column else "normalised text"
    print(f"fitted {det.tag} on {s['fit_rows']} rows ({s['fit_human']} human, {s['fit_ai']} AI); held out "
          f"{s['held_rows']} rows ({s['held_human']} human, {s['held_ai']} AI), {HELD_OUT:.0%} chosen by hash of "
          f"{by} (--seed {args.seed})")
    auroc = s["held_auroc"]
    print("held-out AUROC: " + ("n/a (the held-out rows lack a class)" if math.isnan(auroc) else f"{auroc:.4f}"))
    print(f"threshold {det.threshold_:.6g} (--target-fpr {args.target_fpr}): flags {_pct(s['held_human_fpr'])} of "
          f"held-out human rows, {_pct(s['held_ai_tpr'])} of held-out AI rows")
    if s["threshold_basis"] != "held-out":
        print(f"note: {s['held_human']} held-out human rows cannot resolve --target-fpr {args.target_fpr} (it needs "
              f"{s['needed']}), so the threshold comes from all {s['threshold_humans']} human rows, including the "
              f"{s['fit_human']} it was fitted on: expect more false positives on new human text; run "
              f"`synthfilter calibrate HUMAN --detector {args.out} --target-fpr {args.target_fpr} --out NEW.npz` "
              "on human text it has not seen")
    languages = ", ".join(det.languages_) or "every language (none had enough rows to be declared)"
    print(f"wrote {args.out} (languages: {languages}); use it with --detector {args.out}")
    return 0


# ----------------------------------------------------------------------------- calibrate
def _reference_texts(reference: str, text_column: str) -> tuple[list, str]:
    """The texts of REFERENCE and how to name it: a reservoir's texts, or a data file's ``text_column``."""
    from ..io import read_dataset
    from ..reservoir import Reservoir, is_reservoir

    if is_reservoir(reference):
        return Reservoir(reference).texts(), f"reservoir {reference}"
    return _texts(read_dataset(reference), text_column, reference), reference


def _load(name: str) -> Any:
    """``load_detector(name)``, its error about an unknown name given in command-line terms."""
    from .registry import load_detector

    try:
        return load_detector(name)
    except ValueError as err:
        message = str(err)
        if message.startswith("detector: "):
            raise ValueError("--detector " + message.removeprefix("detector: ")) from None
        raise


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from .fit import flagged, needed_humans
    from .inputs import require_scorable

    _check_fpr(args.target_fpr)
    _check_out(args.out, args.force, [args.reference])
    texts, source = _reference_texts(args.reference, args.text_column)
    require_scorable(texts, f"REFERENCE {source} (--text-column {args.text_column})",
                     "calibrate never drops rows: remove or fix them first")
    needed = needed_humans(args.target_fpr)
    if len(texts) < needed:
        raise ValueError(f"REFERENCE {source}: {len(texts)} texts cannot resolve --target-fpr {args.target_fpr}; "
                         f"give at least {needed} or raise --target-fpr")
    det = _load(args.detector)
    old = float(det.threshold_)
    scores = det.score_texts(texts)
    det.calibrate(texts, args.target_fpr)
    new = float(det.threshold_)
    before, after = flagged(scores, old), flagged(scores, new)
    det.info_ = {**getattr(det, "info_", {}), "calibrated": {
        "reference": str(args.reference), "rows": len(texts), "target_fpr": args.target_fpr,
        "reference_fpr": round(after[1], 6), "previous_threshold": old}}
    det.save(args.out)
    print(f"{det.tag}: threshold {old:.6g} -> {new:.6g} (--target-fpr {args.target_fpr}, {len(texts)} human texts "
          f"of {source})")
    print(f"false-positive rate on the reference: {_pct(after[1])} ({after[0]} of {len(texts)} flagged); "
          f"at the old threshold {_pct(before[1])} ({before[0]})")
    print(f"wrote {args.out}; use it with --detector {args.out}")
    return 0


# ----------------------------------------------------------------------------- list
def _cmd_train(args: argparse.Namespace) -> int:
    from .train import run

    return run(args)


def _cmd_list(args: argparse.Namespace) -> int:
    from .persist import read_detector_meta
    from .registry import DETECTORS, available_detectors, weights_path

    print(f"{'detector':<9} {'version':<8} {'languages':<10} {'threshold':>9}  about")
    for name in available_detectors():
        path = weights_path(name)
        about = (DETECTORS[name].__doc__ or "").strip().splitlines()[0].rstrip(".")
        about = re.sub(r":\w+:|`", "", about)  # reST roles and literals read as plain text
        if path.exists():
            meta = read_detector_meta(path)
            langs = ",".join(meta.get("languages") or ["en"])
            print(f"{name:<9} {meta['version']:<8} {langs:<10} {meta['threshold']:>9.4f}  {about}")
        else:
            print(f"{name:<9} {'-':<8} {'-':<10} {'-':>9}  {about} (weights missing)")
    print("shipped weights: --detector NAME; fit your own: synthfilter detector fit DATA --detector NAME --out F.npz")
    return 0


# ----------------------------------------------------------------------------- parsers
def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``calibrate`` command and the ``detector`` command (``fit``, ``list``) to ``sub``."""
    cal = sub.add_parser("calibrate", help="set a detector's threshold from known-human text and save it")
    cal.add_argument("reference", metavar="REFERENCE",
                     help="known-human text: a data file or folder, or a reservoir folder")
    cal.add_argument("--target-fpr", type=float, required=True,
                     help="largest share of human texts to be labelled synthetic, e.g. 0.01")
    cal.add_argument("--out", required=True, help="the calibrated detector (.npz)")
    cal.add_argument("--detector", default="fast", help="registry name or saved .npz (default: fast)")
    cal.add_argument("--text-column", default="text", help="column of REFERENCE holding the text (default: text)")
    cal.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    cal.set_defaults(func=_cmd_calibrate)

    dsub = command_group(sub, "detector", help="fit a detector on your own labelled data, or list the shipped ones")
    fit = dsub.add_parser("fit", help="fit a fresh detector on labelled texts; threshold and AUROC from a held-out 20%%")
    fit.add_argument("data", metavar="DATA", help=INPUT_HELP + ", with a text and a label column")
    fit.add_argument("--out", required=True, help="the fitted detector (.npz)")
    fit.add_argument("--detector", default="fast",
                     help="kind to fit: fast (default; seconds), lm, embed, stack or cascade (language-model tiers: "
                          "a few texts per second)")
    fit.add_argument("--text-column", default="text", help="(default: text)")
    fit.add_argument("--label-column", default="label",
                     help="human/ai (or real/synthetic, 0/1, false/true) per row (default: label)")
    fit.add_argument("--group-column", default=None,
                     help="rows sharing a value (a source, a human original) are held out together "
                          "(default: each distinct text is its own group)")
    fit.add_argument("--target-fpr", type=float, default=0.01,
                     help="threshold: largest share of held-out human rows labelled synthetic (default: 0.01)")
    fit.add_argument("--seed", type=int, default=0, help="seed of the held-out hash (default: 0)")
    fit.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    fit.set_defaults(func=_cmd_fit)
    lst = dsub.add_parser("list", help="the shipped detectors: version, languages, default threshold")
    lst.set_defaults(func=_cmd_list)
    from .recipe import add_arguments as add_train_arguments

    train = dsub.add_parser("train", help="rebuild the shipped weights from ../shared/data/detect, deterministically "
                                          "(the same as python -m synthfilter.detect.train)")
    add_train_arguments(train).set_defaults(func=_cmd_train)

