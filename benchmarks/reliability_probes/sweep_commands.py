"""New sweep, commands: quota, resample, estimate, calibrate, detector fit, reservoir, tag and clean options."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .base import Probes, files_of
from .common import account_clean, error_line, read_jsonl, write_jsonl


class SweepCommands(Probes):
    kind = "sweep"
    PROBES = ("quota_exact", "quota_missing_by", "quota_output_formats", "resample_sizes", "estimate_empty_reference",
              "estimate_json_new_folder", "calibrate_too_few", "calibrate_out_exists", "calibrate_out_folder",
              "fit_one_class", "reservoir_add_twice", "reservoir_null_texts", "reservoir_flipped_byte",
              "reservoir_sample_too_many", "reservoir_inside_input", "tag_num_proc", "tag_empty_folder",
              "clean_shards", "clean_extremes", "clean_missing_by", "clean_sf_row_column", "clean_input_changed")

    def _labelled(self, n: int, share: float = 0.3) -> list[dict[str, Any]]:
        return [{"id": i, "text": f"row {i}", "sf_label": "synthetic" if (i * 7) % 100 < share * 100 else "human"}
                for i in range(n)]

    # ----------------------------------------------------------------------------- quota
    def quota_exact(self) -> dict[str, Any]:
        name = "quota --mode exact"
        rows = self._labelled(500)
        src = write_jsonl(self.folder(name) / "in.jsonl", rows)
        res = self.quota(name, "exit 0; synthetic rows exactly floor(0.1 x rows kept)", src, rows,
                         ["--mode", "exact", "--id-column", "id"])
        out = self.folder(name) / "out.jsonl"
        if res["held"]:
            got = read_jsonl(out)
            res["held"] = sum(r["sf_label"] == "synthetic" for r in got) == int(0.1 * len(got))
        return res

    def quota_missing_by(self) -> dict[str, Any]:
        name = "quota --by a column that is not there"
        src = write_jsonl(self.folder(name) / "in.jsonl", self._labelled(50))
        r = self.run(name, ["quota", src, src.parent / "out.jsonl", "--max-synthetic", "0.1", "--basis", "labels", "--by", "domain"])
        return self.refused(name, "exit 2 naming the column and the columns present", r, 50, ["'domain'", "sf_label"],
                            untouched=not (src.parent / "out.jsonl").exists())

    def quota_output_formats(self) -> list[dict[str, Any]]:
        import datasets

        out = []
        rows = self._labelled(300)
        src = write_jsonl(self.folder("quota formats") / "in.jsonl", rows)
        for target in ("out.csv", "out.parquet", "out.jsonl.gz", "out.arrow", "saved"):
            name = f"quota to {target}"
            path = self.folder(name) / target
            r = self.run(name, ["quota", src, path, "--max-synthetic", "0.1", "--basis", "labels", "--id-column", "id"])
            if r["rc"] != 0:
                out.append(self.verdict(name, "exit 0; the rows read back", False, 300, message=error_line(r["stderr"])))
                continue
            report = json.loads(Path(f"{path}.quota.json").read_text())
            from synthfilter.io import read_dataset

            back = read_dataset(path) if target != "saved" else datasets.load_from_disk(str(path))
            ids = sorted(back["id"])
            want = sum(sum(g["after"].values()) for g in report["groups"].values())
            out.append(self.verdict(name, "exit 0; as many rows read back as the report keeps, ids from the input",
                                    len(ids) == want and set(ids) <= set(range(300)), 300, len(ids)))
        return out

    # ----------------------------------------------------------------------------- resample, estimate
    def resample_sizes(self) -> list[dict[str, Any]]:
        out = []
        rows = [{"id": i, "text": t} for i, t in enumerate(self.texts(40))]
        src = write_jsonl(self.folder("resample sizes") / "in.jsonl", rows)
        for size, needles in (("100", ["--size 100", "40 usable rows", "--max-copies"]), ("0", ["--size", "at least 1"])):
            name = f"resample --size {size} of 40 rows"
            r = self.run(name, ["resample", src, self.folder(name) / "out.jsonl", "--size", size, "--embedder",
                                "hashing"])
            out.append(self.refused(name, "exit 2 naming --size (and the rows there are)", r, 40, needles))
        return out

    def estimate_empty_reference(self) -> dict[str, Any]:
        name = "estimate with an empty reference file"
        d = self.folder(name)
        src = write_jsonl(d / "in.jsonl", [{"text": t} for t in self.texts(30)])
        (d / "ref.jsonl").write_text("")
        r = self.run(name, ["estimate", src, "--reference", d / "ref.jsonl"])
        return self.refused(name, "exit 2 naming the reference", r, 30, ["ref.jsonl"])

    def estimate_json_new_folder(self) -> dict[str, Any]:
        name = "estimate --json into a folder that does not exist yet"
        d = self.folder(name)
        src = write_jsonl(d / "in.jsonl", [{"text": t} for t in self.texts(60) + self.texts(20, "ai")])
        ref = write_jsonl(d / "ref.jsonl", [{"text": t} for t in self.texts(60)])
        r = self.run(name, ["estimate", src, "--reference", ref, "--json", d / "new" / "deeper" / "est.json"])
        ok = r["rc"] == 0 and (d / "new" / "deeper" / "est.json").exists()
        if ok:
            ok = "share" in json.loads((d / "new" / "deeper" / "est.json").read_text())
        return self.verdict(name, "exit 0; the JSON written (folders created)", ok, 80, exit=r["rc"],
                            message=error_line(r["stderr"]) if r["rc"] else "")

    # ----------------------------------------------------------------------------- calibrate, detector fit
    def calibrate_too_few(self) -> dict[str, Any]:
        name = "calibrate --target-fpr 0.01 on 30 texts"
        d = self.folder(name)
        ref = write_jsonl(d / "human.jsonl", [{"text": t} for t in self.texts(30)])
        r = self.run(name, ["calibrate", ref, "--target-fpr", "0.01", "--out", d / "c.npz"])
        return self.refused(name, "exit 2 naming the texts needed; nothing written", r, 30, ["30 texts", "100"],
                            untouched=not (d / "c.npz").exists())

    def calibrate_out_exists(self) -> dict[str, Any]:
        name = "calibrate --out an existing file without --force"
        d = self.folder(name)
        ref = write_jsonl(d / "human.jsonl", [{"text": t} for t in self.texts(120)])
        (d / "c.npz").write_bytes(b"precious")
        r = self.run(name, ["calibrate", ref, "--target-fpr", "0.01", "--out", d / "c.npz"])
        return self.refused(name, "exit 2 ('--force'); the file unchanged", r, 120, ["--force"],
                            untouched=(d / "c.npz").read_bytes() == b"precious")

    def calibrate_out_folder(self) -> dict[str, Any]:
        name = "calibrate --out a folder named like a .npz"
        d = self.folder(name)
        ref = write_jsonl(d / "human.jsonl", [{"text": t} for t in self.texts(120)])
        (d / "c.npz").mkdir()
        r = self.run(name, ["calibrate", ref, "--target-fpr", "0.01", "--out", d / "c.npz"])
        return self.refused(name, "exit 2 ('is a folder')", r, 120, ["is a folder"])

    def fit_one_class(self) -> dict[str, Any]:
        name = "detector fit on one class only"
        d = self.folder(name)
        src = write_jsonl(d / "in.jsonl", [{"text": t, "label": "human"} for t in self.texts(200)])
        r = self.run(name, ["detector", "fit", src, "--out", d / "d.npz"])
        return self.refused(name, "exit 2 saying both classes are needed; nothing written", r, 200, ["label"],
                            untouched=not (d / "d.npz").exists())

    # ----------------------------------------------------------------------------- reservoir
    def _reservoir(self, name: str, n: int = 50) -> tuple[Path, Path]:
        d = self.folder(name)
        human = write_jsonl(d / "human.jsonl", [{"text": t} for t in self.texts(n)])
        self.run(name + " (add)", ["reservoir", "add", d / "res", human, "--source", "s", "--licence", "l"])
        return d, human

    def reservoir_add_twice(self) -> dict[str, Any]:
        name = "reservoir add the same file twice"
        d, human = self._reservoir(name)
        before = files_of(d / "res")
        r = self.run(name, ["reservoir", "add", d / "res", human, "--source", "s", "--licence", "l"])
        v = self.run(name + " (verify)", ["reservoir", "verify", d / "res"])
        manifest = json.loads((d / "res" / "manifest.json").read_text())
        held = r["rc"] == 0 and v["rc"] == 0 and manifest["version"] == 1 and files_of(d / "res") == before
        return self.verdict(name, "exit 0; nothing added (no new version, files unchanged); verify exits 0", held,
                            50, manifest["rows"], exits=[r["rc"], v["rc"]], version=manifest["version"])

    def reservoir_null_texts(self) -> dict[str, Any]:
        name = "reservoir add a file with null and blank texts"
        d, _ = self._reservoir(name)
        bad = write_jsonl(d / "bad.jsonl", [{"text": t} for t in self.texts(5)] + [{"text": None}, {"text": "  "}])
        before = files_of(d / "res")
        r = self.run(name, ["reservoir", "add", d / "res", bad, "--source", "s2", "--licence", "l"])
        return self.refused(name, "exit 2 naming the rows; the reservoir unchanged", r, 7, ["null, empty, blank"],
                            untouched=files_of(d / "res") == before)

    def reservoir_flipped_byte(self) -> dict[str, Any]:
        name = "reservoir verify after one byte of a shard changed"
        d, _ = self._reservoir(name)
        shard = next((d / "res" / "shards").glob("*.parquet"))
        data = bytearray(shard.read_bytes())
        data[len(data) // 2] ^= 0x01
        shard.write_bytes(bytes(data))
        r = self.run(name, ["reservoir", "verify", d / "res"])
        return self.verdict(name, "exit 1 naming the shard", r["rc"] == 1 and shard.name in r["stdout"], 50,
                            exit=r["rc"], output=r["stdout"][-400:])

    def reservoir_sample_too_many(self) -> dict[str, Any]:
        name = "reservoir sample -n more than it holds"
        d, _ = self._reservoir(name)
        r = self.run(name, ["reservoir", "sample", d / "res", d / "s.jsonl", "-n", "500"])
        return self.refused(name, "exit 2 naming -n and the rows held", r, 50, ["500", "50"],
                            untouched=not (d / "s.jsonl").exists())

    def reservoir_inside_input(self) -> dict[str, Any]:
        name = "reservoir add RES IN where RES is inside the folder IN"
        d = self.folder(name)
        write_jsonl(d / "in" / "a.jsonl", [{"text": t} for t in self.texts(10)])
        before = files_of(d / "in")
        r = self.run(name, ["reservoir", "add", d / "in" / "res", d / "in", "--source", "s", "--licence", "l"])
        return self.refused(name, "exit 2 ('inside the input folder'); the input unchanged", r, 10,
                            ["inside the input folder"], untouched=files_of(d / "in") == before)

    # ----------------------------------------------------------------------------- tag, clean
    def tag_num_proc(self) -> dict[str, Any]:
        name = "tag --num-proc 2 against one process"
        d = self.folder(name)
        src = write_jsonl(d / "in.jsonl", self.rows(1500, 500))
        one = self.run(name, ["tag", src, d / "one.jsonl", "--batch-size", "100"])
        two = self.run(name + " 2", ["tag", src, d / "two.jsonl", "--batch-size", "100", "--num-proc", "2"])
        same = one["rc"] == two["rc"] == 0 and (d / "one.jsonl").read_bytes() == (d / "two.jsonl").read_bytes()
        return self.verdict(name, "both exit 0 with byte-identical outputs", same, 2000, 2000 if same else 0,
                            exits=[one["rc"], two["rc"]])

    def tag_empty_folder(self) -> dict[str, Any]:
        name = "tag an empty folder"
        (self.folder(name) / "in").mkdir(exist_ok=True)
        r = self.run(name, ["tag", self.folder(name) / "in", self.folder(name) / "out.jsonl"])
        return self.refused(name, "exit 2 ('holds no data files')", r, 0, ["holds no data files"])

    def clean_shards(self) -> dict[str, Any]:
        name = "clean --shard-size 7"
        d = self.folder(name)
        rows = self.rows(200, 40)
        src = write_jsonl(d / "in.jsonl", rows)
        r = self.run(name, ["clean", src, d / "out", *self.clean_args(50), "--shard-size", "7"])
        if r["rc"] != 0:
            return self.verdict(name, "exit 0", False, 240, message=error_line(r["stderr"]))
        shards = sorted((d / "out").glob("output-*-of-*.jsonl"))
        listed = json.loads((d / "out" / "manifest.json").read_text())["output"]["files"]
        total = sum(len(p.read_text().splitlines()) for p in shards)
        held = total == 50 and len(shards) == 8 == len(listed) and not (d / "out" / "output.jsonl").exists()
        return self.verdict(name, "exit 0; 8 shards of at most 7 rows, 50 in all, each in the manifest", held, 240,
                            total, shards=len(shards), listed=len(listed))

    def clean_extremes(self) -> list[dict[str, Any]]:
        out = []
        rows = self.rows(200, 60)
        src = write_jsonl(self.folder("clean extremes") / "in.jsonl", rows)
        for label, args, rows_out in (("clean --resample 1", self.clean_args(1), 1),
                                      ("clean --max-synthetic 0", ["--max-synthetic", "0", "--basis", "labels", "--resample", "40",
                                                                   "--embedder", "hashing", "--detector",
                                                                   self.s.detector], 40)):
            d = self.folder(label)
            r = self.run(label, ["clean", src, d / "out", *args])
            if r["rc"] != 0:
                out.append(self.verdict(label, "exit 0", False, 260, message=error_line(r["stderr"])))
                continue
            got = read_jsonl(d / "out" / "output.jsonl")
            acc = account_clean(json.loads((d / "out" / "report.json").read_text()), 260)
            held = len(got) == rows_out and acc["rows_lost"] == 0 and (
                "--max-synthetic" not in label or all(r["sf_label"] != "synthetic" for r in got))
            out.append(self.result(label, f"exit 0; {rows_out} rows out (no synthetic row with 0); rows accounted",
                                   held, 260, len(got), acc["rows_explained"], acc["rows_lost"]))
        return out

    def clean_missing_by(self) -> dict[str, Any]:
        name = "clean --by a column that is not there"
        d = self.folder(name)
        src = write_jsonl(d / "in.jsonl", self.rows(100, 20))
        r = self.run(name, ["clean", src, d / "out", *self.clean_args(30), "--by", "domain"])
        return self.refused(name, "exit 2 naming the column", r, 120, ["'domain'"])

    def clean_sf_row_column(self) -> dict[str, Any]:
        name = "clean an input that already has an sf_row column"
        d = self.folder(name)
        src = write_jsonl(d / "in.jsonl", self.rows(100, 20, sf_row=1))
        r = self.run(name, ["clean", src, d / "out", *self.clean_args(30)])
        return self.refused(name, "exit 2 naming sf_row", r, 120, ["'sf_row'"])

    def clean_input_changed(self) -> dict[str, Any]:
        name = "clean rerun after the input file changed"
        d = self.folder(name)
        src = write_jsonl(d / "in.jsonl", self.rows(200, 40))
        first = self.run(name, ["clean", src, d / "out", *self.clean_args(50)])
        write_jsonl(src, self.rows(200, 40))  # other generated texts, same size and ids
        again = self.run(name, ["clean", src, d / "out", *self.clean_args(50)])
        fresh = self.run(name + " fresh", ["clean", src, d / "fresh", *self.clean_args(50)])
        ok = first["rc"] == again["rc"] == fresh["rc"] == 0
        if ok:
            rep = json.loads((d / "out" / "report.json").read_text())
            ok = not any(s.get("resumed") for s in rep["steps"].values()) and \
                (d / "out" / "output.jsonl").read_bytes() == (d / "fresh" / "output.jsonl").read_bytes()
        return self.verdict(name, "every step recomputed; output identical to a fresh run on the new input", ok, 240,
                            50 if ok else 0, exits=[first["rc"], again["rc"], fresh["rc"]])
