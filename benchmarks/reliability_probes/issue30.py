"""Issue 30's failures, re-run: stale results, files overwritten, text rewritten, rows read twice, unclear errors.

Faults of processes and disks (a long token, orphan workers, killed writes, a full disk) are in
:mod:`.issue30_faults`. Items 8 and ``estimate --detector`` of item 12 belong to issue 27.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from synthfilter.pipeline import step_folder

from .base import Probes, files_of
from .common import cli, error_line, read_jsonl, write_jsonl
from .issue30_faults import Faults


class Issue30(Faults, Probes):
    """One probe per failure of the sweep that filed issue 30."""

    kind = "issue30"
    PROBES = ("stale_tag", "stale_clean", "foreign_out", "json_text", "json_groups", "symlinked_input_file",
              "out_through_symlinked_folder", "report_is_input", "null_named_group", "hidden_stray_parquet",
              "file_read_twice", "invalid_utf8", "long_token", "orphan_workers", "killed_final_write", "full_disk",
              "datatrove_documents", "duplicate_keys", "out_is_a_file", "ids_beyond_64_bits", "unreadable_subfolder",
              "reservoir_without_manifest")

    def _labels(self, path: Path) -> list[str]:
        return [r["sf_label"] for r in read_jsonl(path)] if path.exists() else []

    # ----------------------------------------------------------------------------- 1. stale results
    def _calibration(self, name: str) -> tuple[Path, Path, Path, Path]:
        """The probe's folder, 300 human texts to calibrate on, the detector's path and a datasets cache."""
        d = self.folder(name)
        human = write_jsonl(d / "human.jsonl", [{"text": t} for t in self.texts(300)])
        return d, human, d / "c.npz", d / "cache"

    def stale_tag(self) -> dict[str, Any]:
        name = "1. detector file replaced at the same path: tag twice with one datasets cache"
        d, human, det, cache = self._calibration(name)
        src = write_jsonl(d / "in.jsonl", self.rows(150, 150))
        steps = [cli(["calibrate", human, "--target-fpr", "0.01", "--out", det, "--detector", self.s.detector], cache),
                 cli(["tag", src, d / "a.jsonl", "--detector", det], cache),
                 cli(["calibrate", human, "--target-fpr", "0.5", "--out", det, "--force", "--detector",
                      self.s.detector], cache),
                 cli(["tag", src, d / "b.jsonl", "--detector", det], cache),
                 cli(["tag", src, d / "fresh.jsonl", "--detector", det], d / "cache-fresh")]
        a, b, fresh = (self._labels(d / f) for f in ("a.jsonl", "b.jsonl", "fresh.jsonl"))
        held = all(r["rc"] == 0 for r in steps) and b == fresh and a != b
        return self.verdict(name, "the second tag gives the new file's labels (as a fresh cache does), not the old",
                            held, 300, len(b), exits=[r["rc"] for r in steps],
                            synthetic={"1%": a.count("synthetic"), "50%": b.count("synthetic"),
                                       "50%, fresh cache": fresh.count("synthetic")})

    def stale_clean(self) -> dict[str, Any]:
        name = "1. detector file replaced at the same path: clean rerun into its folder"
        d, human, det, cache = self._calibration(name)
        src = write_jsonl(d / "in.jsonl", self.rows(300, 200))
        args = ["--max-synthetic", "0.1", "--basis", "labels", "--resample", "100", "--embedder", "hashing", "--detector", det]
        cal = lambda fpr: cli(["calibrate", human, "--target-fpr", fpr, "--out", det, "--force", "--detector",  # noqa: E731
                               self.s.detector], cache)
        runs = [cal("0.5"), cli(["clean", src, d / "out", *args], cache), cal("0.01"),
                cli(["clean", src, d / "out", *args], cache), cli(["clean", src, d / "fresh", *args], d / "cache-f")]
        held = all(r["rc"] == 0 for r in runs)
        detail: dict[str, Any] = {"exits": [r["rc"] for r in runs]}
        if held:
            rep = json.loads((d / "out" / "report.json").read_text())
            detail["tag_resumed"] = bool(rep["steps"]["tag"].get("resumed"))
            detail["same_as_fresh"] = (d / "out" / "output.jsonl").read_bytes() == (d / "fresh" / "output.jsonl"
                                                                                  ).read_bytes()
            held = not detail["tag_resumed"] and detail["same_as_fresh"]
        return self.verdict(name, "the tag step is recomputed (its fingerprint holds the file's SHA-256); output "
                            "identical to a run into a fresh folder", held, 500, 100 if held else 0, **detail)

    # ----------------------------------------------------------------------------- 2. clean in a foreign folder
    def foreign_out(self) -> dict[str, Any]:
        name = "2. clean into a non-empty folder it did not write"
        d = self.folder(name)
        src = write_jsonl(d / "in.jsonl", self.rows(150, 50))
        out = d / "out"
        for rel in ("output.jsonl", "output.parquet", "report.json", "manifest.json", "notes.txt",
                    "dropped/mine.jsonl", "steps/mine/part.parquet"):
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            (out / rel).write_text(f"the user's {rel}\n")
        before = files_of(out)
        r = self.run(name, ["clean", src, out, *self.clean_args(50)])
        return self.refused(name, "exit 2 naming what the folder holds; every file in it unchanged", r, 200,
                            ["an earlier clean run did not write", "notes.txt"], untouched=files_of(out) == before)

    # ----------------------------------------------------------------------------- 3. text rewritten
    def json_text(self) -> dict[str, Any]:
        name = "3. text column with one number: 'null', '42', '\"hi\"' stay strings"
        english = self.texts(1)[0]
        values = ["null", "42", '"hi"', "true", "[1, 2]", '{"a": 1}', 5, None, english]
        rows = [{"id": i, "text": v} for i, v in enumerate(values)]
        src = write_jsonl(self.folder(name) / "in.jsonl", rows)

        def same(a: dict[str, Any], b: dict[str, Any]) -> str | None:
            if type(a["text"]) is not type(b["text"]) or a["text"] != b["text"]:
                return f"text {a['text']!r} came out as {b['text']!r}"
            want_not_text = not isinstance(a["text"], str)
            return None if (b["sf_reason"] == "not_text") == want_not_text else f"sf_reason {b['sf_reason']!r}"

        return self.tagged(name, "exit 0; every text written back exactly as read; only the number and null are "
                           "not_text", src, rows, same)

    def json_groups(self) -> dict[str, Any]:
        name = "3. group values '1' (string) and 1 (integer) in one column (quota --by)"
        rows = [{"id": i, "sf_label": "synthetic" if i % 10 < 4 else "human", "g": "1" if i % 2 else 1}
                for i in range(400)]
        src = write_jsonl(self.folder(name) / "in.jsonl", rows)
        res = self.quota(name, "exit 0; two groups of 200, each at most 10% synthetic", src, rows,
                         ["--by", "g", "--id-column", "id"])
        res["held"] = res["held"] and sorted(res["detail"].get("groups", {}).values()) == [200, 200]
        return res

    # ----------------------------------------------------------------------------- 4. outputs through symlinks
    def symlinked_input_file(self) -> dict[str, Any]:
        name = "4. tag in/ ext.jsonl where in/ext.jsonl -> ../ext.jsonl"
        d = self.folder(name)
        ext = write_jsonl(d / "ext.jsonl", self.rows(20))
        (d / "in").mkdir()
        (d / "in" / "ext.jsonl").symlink_to("../ext.jsonl")
        before = ext.read_bytes()
        r = self.run(name, ["tag", d / "in", ext])
        return self.refused(name, "exit 2 ('is the input'); ext.jsonl unchanged", r, 20, ["is the input"],
                            untouched=ext.read_bytes() == before)

    def out_through_symlinked_folder(self) -> dict[str, Any]:
        name = "4. clean OUT under a folder the input reaches by symlink"
        d = self.folder(name)
        write_jsonl(d / "data" / "a.jsonl", self.rows(100, 20))
        (d / "in").mkdir()
        write_jsonl(d / "in" / "b.jsonl", self.rows(100, 20))
        (d / "in" / "sub").symlink_to(d / "data")
        before = files_of(d / "data")
        r = self.run(name, ["clean", d / "in", d / "data" / "out", *self.clean_args(50)])
        return self.refused(name, "exit 2 ('inside the input folder ... through a symlink'); nothing written", r,
                            240, ["inside the input folder", "through a symlink"],
                            untouched=files_of(d / "data") == before)

    def report_is_input(self) -> list[dict[str, Any]]:
        out = []
        for command, args in (("quota", ["--max-synthetic", "0.1", "--basis", "labels"]), ("resample", ["--size", "10", "--embedder",
                                                                                     "hashing"])):
            name = f"4. {command} IN OUT where OUT.{command}.json is IN"
            d = self.folder(name)
            src = write_jsonl(d / f"o.jsonl.{command}.json", self.rows(40, 10, sf_label="human"))
            before = src.read_bytes()
            r = self.run(name, [command, src, d / "o.jsonl", *args])
            out.append(self.refused(name, "exit 2 ('is the input'); input unchanged, nothing written", r, 50,
                                    ["is the input"], untouched=src.read_bytes() == before
                                    and not (d / "o.jsonl").exists()))
        return out

    # ----------------------------------------------------------------------------- 5-7. groups, steps, folders
    def null_named_group(self) -> dict[str, Any]:
        name = "5. a group named '<null>' beside null groups (quota --by)"
        rows = [{"id": i, "sf_label": "synthetic" if i % 10 < 3 else "human", "domain": "<null>" if i % 2 else None}
                for i in range(600)]
        src = write_jsonl(self.folder(name) / "in.jsonl", rows)
        res = self.quota(name, "exit 0; two groups of 300 (null, and '<null>' reported as '<<null>>'), each at most "
                         "10% synthetic", src, rows, ["--by", "domain", "--id-column", "id"])
        res["held"] = res["held"] and res["detail"].get("groups") == {"<null>": 300, "<<null>>": 300}
        return res

    def hidden_stray_parquet(self) -> dict[str, Any]:
        name = "6. hidden stray Parquet files in finished step folders (clean --resample 200)"
        d = self.folder(name)
        src = write_jsonl(d / "in.jsonl", self.rows(600, 100))
        first = self.run(name, ["clean", src, d / "out", *self.clean_args(200)])
        if first["rc"] != 0:
            return self.verdict(name, "(first run)", False, 700, 0, message=error_line(first["stderr"]))
        before = (d / "out" / "output.jsonl").read_bytes()
        for step in (step_folder("quota"), step_folder("resample")):
            folder = d / "out" / "steps" / step
            shutil.copy(next(folder.glob("part-*.parquet")), folder / ".stray.parquet")
        r = self.run(name, ["clean", src, d / "out", *self.clean_args(200)])
        got = (d / "out" / "output.jsonl").read_bytes() if r["rc"] == 0 else b""
        return self.verdict(name, "exit 0; 200 rows, byte-identical to before (a folder is read from its checksum "
                            "list)", r["rc"] == 0 and got == before, 700, len(got.splitlines()), exit=r["rc"])

    def file_read_twice(self) -> dict[str, Any]:
        name = "7. a file symlinked inside its input folder"
        d = self.folder(name)
        rows = self.rows(10)
        write_jsonl(d / "in" / "a.jsonl", rows)
        (d / "in" / "b.jsonl").symlink_to("a.jsonl")
        return self.tagged(name, "exit 0; 10 rows in, 10 out (the file is read once, with a warning)", d / "in", rows)

    # ----------------------------------------------------------------------------- 9, 12. errors that name things
    def invalid_utf8(self) -> dict[str, Any]:
        name = "9. invalid UTF-8 in a JSON line"
        src = self.folder(name) / "in.jsonl"
        lines = [json.dumps(r).encode() for r in self.rows(5)]
        lines[2] = b'{"id": 2, "text": "caf\xe9 and \xff\xfe bytes"}'
        src.write_bytes(b"\n".join(lines) + b"\n")
        r = self.run(name, ["tag", src, src.parent / "out.parquet"])
        return self.refused(name, "exit 2 naming the file and line 3; nothing written", r, 5,
                            ["in.jsonl", "line 3", "not UTF-8"], untouched=not (src.parent / "out.parquet").exists())

    def duplicate_keys(self) -> dict[str, Any]:
        name = "12. duplicate keys in a JSON line"
        lines = [json.dumps(r) for r in self.rows(3)] + ['{"id": 9, "text": "one", "text": "two"}']
        src = write_jsonl(self.folder(name) / "in.jsonl", lines)
        r = self.run(name, ["tag", src, src.parent / "out.jsonl"])
        return self.refused(name, "exit 2 naming the file, line 4 and the key", r, 4, ["in.jsonl", "line 4", "'text'"])

    def out_is_a_file(self) -> dict[str, Any]:
        name = "12. clean OUT that is a file"
        d = self.folder(name)
        src = write_jsonl(d / "in.jsonl", self.rows(100, 20))
        (d / "out").write_text("my notes\n")
        r = self.run(name, ["clean", src, d / "out", *self.clean_args(50)])
        return self.refused(name, "exit 2 ('exists and is not a folder'); the file unchanged", r, 120,
                            ["exists and is not a folder"], untouched=(d / "out").read_text() == "my notes\n")

    def ids_beyond_64_bits(self) -> dict[str, Any]:
        name = "12. an id of 2**64 beside ids of 2**63 and more"
        rows = [{"id": 2**63 + i, "text": f"row {i}", "is_ai": i % 2} for i in range(20)] + \
               [{"id": 2**64, "text": "row 20", "is_ai": 0}]
        src = write_jsonl(self.folder(name) / "in.jsonl", rows)
        r = self.run(name, ["quota", src, src.parent / "out.jsonl", "--max-synthetic", "0.1", "--label-column",
                            "is_ai", "--id-column", "id"])
        return self.refused(name, "exit 2 naming the column, the value and its row", r, 21,
                            ["'id'", "18446744073709551616", "row 21", "beyond the unsigned 64-bit range"])

    def reservoir_without_manifest(self) -> list[dict[str, Any]]:
        d = self.folder("reservoir without manifest")
        human = write_jsonl(d / "human.jsonl", [{"text": t} for t in self.texts(120)])
        add = self.run("reservoir add", ["reservoir", "add", d / "res", human, "--source", "s", "--licence", "l"])
        (d / "res" / "manifest.json").unlink()
        raw = write_jsonl(d / "raw.jsonl", self.rows(60, 20))
        src = d / "in.jsonl"
        self.run("tag for the reservoir probes", ["tag", raw, src])  # the estimate needs scores
        out = []
        for command, args in (("estimate", ["estimate", src, "--reference", d / "res"]),
                              ("quota --basis estimated", ["quota", src, d / "q.jsonl", "--max-synthetic", "0.1",
                                                           "--basis", "estimated", "--reference", d / "res"])):
            name = f"12. {command} --reference: a reservoir whose manifest is gone"
            r = self.run(name, args)
            res = self.refused(name, "exit 2: the shards cannot be verified, so they are not read", r, 80,
                               ["manifest.json is missing", "cannot be verified"])
            res["held"] = res["held"] and add["rc"] == 0
            out.append(res)
        return out

    def unreadable_subfolder(self) -> dict[str, Any]:
        """As an ordinary user (``nobody`` when this runs as root, for whom permissions do not apply)."""
        name = "12. an unreadable sub-folder of the input"
        d = self.folder(name)
        write_jsonl(d / "in" / "a.jsonl", self.rows(10))
        (d / "in" / "locked").mkdir()
        write_jsonl(d / "in" / "locked" / "b.jsonl", self.rows(10))
        os.chmod(d / "in" / "locked", 0)
        for path in [d, *d.parents]:
            if path == Path("/"):
                break
            if not os.stat(path).st_mode & 0o005:
                os.chmod(path, os.stat(path).st_mode | 0o005)  # the temporary folders are private: open them
        (d / "cache").mkdir(mode=0o777)
        os.chmod(d / "cache", 0o777)
        (d / "outdir").mkdir(mode=0o777)
        os.chmod(d / "outdir", 0o777)
        prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if os.geteuid() == 0 else []
        if prefix and not shutil.which("setpriv"):
            return self.verdict(name, "(needs setpriv to run as an ordinary user)", False, 20)
        r = self.run_as(prefix, ["tag", d / "in", d / "outdir" / "out.jsonl"], d / "cache")
        os.chmod(d / "in" / "locked", 0o755)
        return self.refused(name, "exit 2 naming the folder ('cannot list this input folder')", r, 20,
                            ["locked", "cannot list this input folder"])
