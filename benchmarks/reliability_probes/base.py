"""The helpers every group of small probes shares: run a command, judge its outcome as a probe result."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Callable

from .common import REPO, Setup, _key, cli, env_for, error_line, make_text, read_jsonl, slug


class Probes:
    """Helpers of a group of small probes, each run through the command it concerns (``kind``: the group)."""

    kind = "hostile"

    def __init__(self, s: Setup) -> None:
        self.s = s
        self.base = s.work / self.kind
        self.rng = random.Random(f"{self.kind}:{s.seed}")

    def texts(self, n: int, kind: str = "human") -> list[str]:
        return [make_text(self.rng, kind) for _ in range(n)]

    def run(self, name: str, args: list[Any]) -> dict[str, Any]:
        return cli(args, self.base / f"cache-{slug(name)}")

    def run_as(self, prefix: list[str], args: list[Any], cache: Path) -> dict[str, Any]:
        return cli(args, cache, prefix=prefix)

    def result(self, name: str, expected: str, held: bool, rows_in: int, rows_out: int, rows_explained: int,
               rows_lost: int, **detail: Any) -> dict[str, Any]:
        return {"name": name, "kind": self.kind, "expected": expected, "held": bool(held), "rows_in": rows_in,
                "rows_out": rows_out, "rows_explained": rows_explained, "rows_lost": rows_lost, "detail": detail}

    def refused(self, name: str, expected: str, r: dict[str, Any], rows_in: int, needles: list[str],
                untouched: bool = True) -> dict[str, Any]:
        """A probe whose documented outcome is a clear error (exit 2) naming ``needles``."""
        message = error_line(r["stderr"])
        named = all(n in message for n in needles)
        ok = r["rc"] == 2 and named and untouched
        return self.result(name, expected, ok, rows_in, 0, rows_in if r["rc"] == 2 else 0,
                           0 if r["rc"] == 2 else rows_in, exit=r["rc"], message=message,
                           names=dict(zip(needles, [n in message for n in needles])), input_untouched=untouched)

    def tagged(self, name: str, expected: str, src: Path, in_rows: list[dict[str, Any]],
               check: Callable[[dict[str, Any], dict[str, Any]], str | None] | None = None,
               extra: list[str] | None = None) -> dict[str, Any]:
        """``tag`` ``src``; every input id must come out exactly once and pass ``check(in_row, out_row)``."""
        out = self.base / slug(name) / "out.jsonl"
        r = self.run(name, ["tag", src, out, *(extra or [])])
        if r["rc"] != 0:
            return self.result(name, expected, False, len(in_rows), 0, len(in_rows) if r["rc"] == 2 else 0,
                               0 if r["rc"] == 2 else len(in_rows), exit=r["rc"], message=error_line(r["stderr"]))
        got = read_jsonl(out)
        want_ids = Counter(_key(row["id"]) for row in in_rows)
        got_ids = Counter(_key(row.get("id")) for row in got)
        lost = sum((want_ids - got_ids).values())
        extra_rows = sum((got_ids - want_ids).values())
        by_id = {_key(row["id"]): row for row in in_rows}
        problems = {}
        for row in got:
            if row.get("sf_label") == "unknown" and not row.get("sf_reason"):
                problems[str(row.get("id"))] = "unknown without sf_reason"
            elif check is not None and _key(row.get("id")) in by_id:
                why = check(by_id[_key(row["id"])], row)
                if why:
                    problems[str(row.get("id"))] = why
        ok = lost == 0 and extra_rows == 0 and not problems
        outcomes = Counter(f"{row.get('sf_label')}/{row.get('sf_reason') or '-'}" for row in got)
        return self.result(name, expected, ok, len(in_rows), len(got), 0, lost, exit=r["rc"],
                           extra_rows=extra_rows, problems=dict(list(problems.items())[:10]),
                           outcomes=dict(outcomes.most_common()))

    def quota(self, name: str, expected: str, src: Path, in_rows: list[dict[str, Any]], args: list[str],
              id_check: bool = True) -> dict[str, Any]:
        """``quota`` ``src``; rows out + reported drops must equal rows in, ids unique and from the input."""
        out = self.base / slug(name) / "out.jsonl"
        r = self.run(name, ["quota", src, out, "--max-synthetic", "0.1", "--basis", "labels", *args])
        if r["rc"] != 0:
            return self.result(name, expected, False, len(in_rows), 0, len(in_rows) if r["rc"] == 2 else 0,
                               0 if r["rc"] == 2 else len(in_rows), exit=r["rc"], message=error_line(r["stderr"]))
        got = read_jsonl(out)
        report = json.loads(Path(f"{out}.quota.json").read_text())
        dropped = sum(report["dropped"].values())
        lost = len(in_rows) - len(got) - dropped
        in_ids = Counter(_key(row["id"]) for row in in_rows)
        out_ids = Counter(_key(row["id"]) for row in got)
        ids_ok = not (out_ids - in_ids) and max(out_ids.values(), default=1) == 1
        share_ok = all(g["share_after"] <= 0.1 + 1e-9 for g in report["groups"].values())
        ok = lost == 0 and (ids_ok or not id_check) and share_ok
        return self.result(name, expected, ok, len(in_rows), len(got), dropped, max(lost, 0), exit=r["rc"],
                           ids_exact_unique_from_input=ids_ok, share_after_per_group_ok=share_ok,
                           groups={g: sum(x["before"].values()) for g, x in report["groups"].items()},
                           dropped=report["dropped"], realised_share=report["realised_share"])

    # --- the probes

    # --- more helpers, for the issue-30 and sweep probes
    #: Names of the probe methods :meth:`all` runs, in order.
    PROBES: tuple[str, ...] = ()

    def all(self) -> list[dict[str, Any]]:
        """Run every probe of :attr:`PROBES`; a probe that raises is recorded as not held, with the error."""
        out: list[dict[str, Any]] = []
        for name in self.PROBES:
            try:
                got = getattr(self, name)()
            except Exception as exc:  # the harness itself failed on this probe: say so, go on
                got = self.result(name.replace("_", " "), "(the probe ran)", False, 0, 0, 0, 0,
                                  harness_error=f"{type(exc).__name__}: {exc}"[:800])
            got = got if isinstance(got, list) else [got]
            for g in got:
                print(f"  {'held' if g['held'] else 'FAILED':<6} {g['name']}", flush=True)
            out += got
        return out

    def verdict(self, name: str, expected: str, held: bool, rows_in: int = 0, rows_out: int = 0,
                **detail: Any) -> dict[str, Any]:
        """A probe judged as a whole (no row accounting): held rows in are explained, none lost."""
        return self.result(name, expected, held, rows_in, rows_out, rows_in - rows_out if held else 0, 0, **detail)

    def folder(self, name: str) -> Path:
        path = self.base / slug(name)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def clean_args(self, resample: int, *extra: Any) -> list[Any]:
        return ["--max-synthetic", "0.1", "--basis", "labels", "--resample", str(resample), "--embedder", "hashing",
                "--detector", self.s.detector, *extra]

    def rows(self, n_human: int, n_ai: int = 0, **extra: Any) -> list[dict[str, Any]]:
        texts = self.texts(n_human) + self.texts(n_ai, "ai")
        return [{"id": i, "text": t, **extra} for i, t in enumerate(texts)]

    def py(self, name: str, code: str, timeout: float = 600) -> dict[str, Any]:
        """Run ``code`` in a fresh Python (this repository first on the path); its last stdout line as JSON."""
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                              env=env_for(self.base / f"cache-{slug(name)}"), cwd=REPO)
        lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
        try:
            return {"rc": proc.returncode, **json.loads(lines[-1])}
        except (IndexError, ValueError):
            return {"rc": proc.returncode, "error": (proc.stderr or proc.stdout)[-1500:]}


def files_of(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative POSIX path -> bytes): to see that nothing changed."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
