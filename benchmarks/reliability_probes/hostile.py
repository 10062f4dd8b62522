"""Hostile inputs: file names and formats, unreadable files, schemas, output paths, texts, groups, labels,
provenance, big ids, impossible targets, relative paths, empty input."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import random
from typing import Any

from synthfilter.pipeline import step_folder

from .base import Probes
from .common import account_clean, cli, error_line, make_text, read_jsonl, slug, write_jsonl


class Hostile(Probes):
    """Small hostile inputs, each run through the command it concerns."""

    def formats_nested(self) -> dict[str, Any]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        root = self.base / "formats" / "in"
        layout = ["A.JSONL", "sub/b.jsonl.gz", "sub/c.json.bz2", "sub/deeper/d.jsonl.xz", "sub/deeper/e.jsonl.zst",
                  "f.csv", "sub/deeper/g.parquet", "z/h.NDJSON"]
        rows_all, order = [], []
        for k, rel in enumerate(layout):
            rows = [{"id": k * 100 + j, "text": make_text(self.rng, "human" if j % 2 else "ai").replace("...", ".")
                     + (', with a "quote", a comma' if j == 3 else "")} for j in range(15)]
            rows_all += rows
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            lines = "".join(json.dumps(r) + "\n" for r in rows).encode()
            name = rel.lower()
            if name.endswith(".gz"):
                path.write_bytes(gzip.compress(lines))
            elif name.endswith(".bz2"):
                path.write_bytes(bz2.compress(lines))
            elif name.endswith(".xz"):
                path.write_bytes(lzma.compress(lines))
            elif name.endswith(".zst"):
                import zstandard
                path.write_bytes(zstandard.ZstdCompressor().compress(lines))
            elif name.endswith(".csv"):
                import csv
                with open(path, "w", newline="", encoding="utf-8") as handle:
                    w = csv.DictWriter(handle, fieldnames=["id", "text"])
                    w.writeheader()
                    w.writerows(rows)
            elif name.endswith(".parquet"):
                pq.write_table(pa.table({"id": pa.array([r["id"] for r in rows], pa.int64()),
                                         "text": [r["text"] for r in rows]}), path)
            else:
                path.write_bytes(lines)
        # the documented read order: relative paths compared folder by folder, in sorted order
        order = [k for k, _ in sorted(enumerate(layout), key=lambda kv: kv[1].split("/"))]
        res = self.tagged("every recognised file name in nested folders (tag)",
                          "exit 0; every row of .JSONL/.jsonl.gz/.json.bz2/.jsonl.xz/.jsonl.zst/.csv/.parquet/.NDJSON "
                          "files in nested folders read, files in the documented order", root, rows_all)
        if (self.base / slug(res["name"]) / "out.jsonl").exists():
            got = [r["id"] // 100 for r in read_jsonl(self.base / slug(res["name"]) / "out.jsonl")]
            files_in_order = [g for i, g in enumerate(got) if i == 0 or got[i - 1] != g]
            res["detail"]["file_order_as_documented"] = files_in_order == order
            res["held"] = res["held"] and files_in_order == order
        return res

    def unreadable(self) -> list[dict[str, Any]]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        out = []
        folder = self.base / "junk" / "in"
        good = [{"id": i, "text": t} for i, t in enumerate(self.texts(10))]
        write_jsonl(folder / "a.jsonl", good)
        (folder / "b.jsonl").write_bytes(random.Random(1).randbytes(5000))
        r = self.run("junk", ["tag", folder, self.base / "junk" / "out.jsonl"])
        out.append(self.refused("binary junk named .jsonl (in a folder with a good file)",
                                "exit 2, error naming b.jsonl", r, len(good), ["b.jsonl"]))
        folder = self.base / "badparquet" / "in"
        folder.mkdir(parents=True)
        pq.write_table(pa.table({"id": list(range(10)), "text": self.texts(10)}), folder / "a.parquet")
        pq.write_table(pa.table({"id": list(range(10, 400)), "text": self.texts(390)}), folder / "b.parquet")
        raw = (folder / "b.parquet").read_bytes()
        (folder / "b.parquet").write_bytes(raw[: len(raw) // 2] + raw[-200:])
        r = self.run("badparquet", ["tag", folder, self.base / "badparquet" / "out.jsonl"])
        out.append(self.refused("corrupt Parquet file (in a folder with a good file)",
                                "exit 2, error naming b.parquet", r, 400, ["b.parquet"]))
        return out

    def schemas(self) -> list[dict[str, Any]]:
        out = []
        folder = self.base / "schema-cols" / "in"
        write_jsonl(folder / "a.jsonl", [{"id": i, "text": t} for i, t in enumerate(self.texts(5))])
        write_jsonl(folder / "b.jsonl",
                    [{"id": 10 + i, "text": t, "source": "web"} for i, t in enumerate(self.texts(5))])
        r = self.run("schema-cols", ["tag", folder, self.base / "schema-cols" / "out.jsonl"])
        out.append(self.refused("mixed schemas: an extra column in one file", "exit 2 naming both files and 'source'",
                                r, 10, ["a.jsonl", "b.jsonl", "'source'"]))
        folder = self.base / "schema-types" / "in"
        write_jsonl(folder / "a.jsonl", [{"id": i, "text": t} for i, t in enumerate(self.texts(5))])
        write_jsonl(folder / "b.jsonl", [{"id": f"x{i}", "text": t} for i, t in enumerate(self.texts(5))])
        r = self.run("schema-types", ["tag", folder, self.base / "schema-types" / "out.jsonl"])
        out.append(self.refused("mixed schemas: id int in one file, string in another",
                                "exit 2 naming both files and 'id'", r, 10, ["a.jsonl", "b.jsonl", "'id'"]))
        return out

    def output_paths(self) -> list[dict[str, Any]]:
        out = []
        src = write_jsonl(self.base / "same" / "in.jsonl", [{"id": i, "text": t} for i, t in enumerate(self.texts(20))])
        before = src.read_bytes()
        r = self.run("same", ["tag", src, src])
        out.append(self.refused("tag: output == input", "exit 2 ('is the input'); input unchanged", r, 20,
                                ["is the input"], untouched=src.read_bytes() == before))
        r = self.run("same-q", ["quota", src, src, "--max-synthetic", "0.1", "--label-column", "id"])
        out.append(self.refused("quota: output == input", "exit 2 ('is the input'); input unchanged", r, 20,
                                ["is the input"], untouched=src.read_bytes() == before))
        folder = self.base / "inside" / "corpus"
        write_jsonl(folder / "a.jsonl", [{"id": i, "text": t} for i, t in enumerate(self.texts(40))])
        listing = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))
        content = (folder / "a.jsonl").read_bytes()
        r = self.run("inside", ["clean", folder, folder / "cleaned", "--max-synthetic", "0.1", "--basis", "labels", "--resample", "10",
                                "--embedder", "hashing"])
        untouched = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")) == listing \
            and (folder / "a.jsonl").read_bytes() == content
        out.append(self.refused("clean: output inside the input folder",
                                "exit 2 ('inside the input folder'); input folder unchanged", r, 40,
                                ["inside the input folder"], untouched=untouched))
        return out

    def hostile_texts(self) -> list[dict[str, Any]]:
        english = ("The committee reviewed the proposal in detail and concluded that the new approach would "
                   "improve reliability, reduce maintenance costs and make the service easier to operate.")
        glyphs = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с"}
        attacked = "".join(glyphs.get(ch, ch) if k % 3 == 0 else ch for k, ch in enumerate(english))
        attacked = attacked.replace(" ", " \u200b", 5)
        megabyte = (english + " ") * (1_000_000 // (len(english) + 1) + 1)
        cases = [
            (None, "not_text"), ("", "empty"), ("   \n\t  ", "empty"), ("!!! 123 ???", "empty"),
            ("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0e\x0f" * 10 + "abc", "binary"),
            ("".join(chr(b % 32) if b % 5 else "x" for b in random.Random(2).randbytes(300)), "binary"),
            (random.Random(3).randbytes(300).decode("latin-1"), "unknown"),
            ("ok thanks", "too_short"),
            ("Вчера вечером мы долго гуляли по старому парку и разговаривали о планах на лето и о новых книгах.",
             "unsupported_language:ru"),
            ("Вчера следобед отидохме до морето с приятели и се разхождахме по плажа, докато слънцето залезе "
             "зад хълмовете. Беше много хубаво и спокойно.", "unsupported_language:bg"),
            ("昨天下午我们去了公园散步，天气非常好，孩子们在草地上玩耍，我们一直聊到太阳落山才回家。",
             "unsupported_language:zh"),
            ("ذهبنا أمس إلى السوق القديم واشترينا الكثير من الفواكه والخضروات الطازجة ثم عدنا إلى البيت مساء.",
             "unsupported_language:ar"),
            (megabyte, "scored"), (english, "scored"), (attacked, "scored-like-previous"),
        ]
        rows = [{"id": i, "text": t} for i, (t, _) in enumerate(cases)]
        expect = {i: e for i, (_, e) in enumerate(cases)}
        scores: dict[int, float] = {}

        def check(row_in: dict[str, Any], row: dict[str, Any]) -> str | None:
            want = expect[row_in["id"]]
            scores[row_in["id"]] = row.get("sf_score")
            if want.startswith("scored"):
                if row["sf_label"] not in ("human", "synthetic") or row.get("sf_lang") != "en":
                    return f"expected scored English, got {row['sf_label']}/{row.get('sf_reason')}/{row.get('sf_lang')}"
                if want == "scored-like-previous":
                    clean_score = scores.get(row_in["id"] - 1)
                    if clean_score is None or abs(row["sf_score"] - clean_score) > 0.05:
                        return f"attacked score {row['sf_score']:.3f} vs clean {clean_score}"
                return None
            if row["sf_label"] != "unknown" or (row["sf_reason"] != want and want != "unknown"):
                return f"expected unknown/{want}, got {row['sf_label']}/{row['sf_reason']}"
            return None

        src = write_jsonl(self.base / "texts" / "in.jsonl", rows)
        out = [self.tagged("hostile texts (tag)",
                           "exit 0; None/empty/white space/control/binary/short/ru/bg/zh/ar -> unknown with the "
                           "matching sf_reason; 1 MB and homoglyph-attacked English scored (attacked within 0.05 of "
                           "the clean text)", src, rows, check)]
        # the same rows with ordinary ones, through the whole pipeline
        many = rows + [{"id": 100 + i, "text": t} for i, t in enumerate(self.texts(150) + self.texts(60, "ai"))]
        src2 = write_jsonl(self.base / "texts-clean" / "in.jsonl", many)
        dest = self.base / "texts-clean" / "out"
        r = self.run("texts-clean", ["clean", src2, dest, "--max-synthetic", "0.1", "--basis", "labels", "--resample", "100",
                                     "--embedder", "hashing", "--detector", self.s.detector])
        if r["rc"] == 0:
            acc = account_clean(json.loads((dest / "report.json").read_text()), len(many))
            out.append(self.result("hostile texts through clean", "exit 0; rows in = out + reported drops",
                                   acc["rows_lost"] == 0, len(many), acc["rows_out"], acc["rows_explained"],
                                   acc["rows_lost"], exit=0, unexplained=acc["unexplained_by_step"]))
        else:
            out.append(self.result("hostile texts through clean", "exit 0; rows in = out + reported drops", False,
                                   len(many), 0, 0, 0, exit=r["rc"], message=error_line(r["stderr"])))
        # numbers as the text column: all numbers, and mixed with strings in one file
        nums = [{"id": i, "text": v} for i, v in enumerate([1, 22, 333, -4, 5])]
        src3 = write_jsonl(self.base / "numbers" / "in.jsonl", nums)
        out.append(self.tagged("text column of numbers", "exit 0; every row unknown/not_text", src3, nums,
                               lambda a, b: None if b["sf_reason"] == "not_text" else f"got {b['sf_reason']}"))
        mixed = [{"id": i, "text": v} for i, v in enumerate([english, 12345, None, 3.5, english + " Again."])]
        src4 = write_jsonl(self.base / "mixed-text" / "in.jsonl", mixed)
        out.append(self.tagged("text column mixing strings and numbers",
                               "exit 0; numbers and null unknown/not_text, strings scored", src4, mixed,
                               lambda a, b: None if (b["sf_reason"] == "not_text") == (not isinstance(a["text"], str))
                               else f"got {b['sf_label']}/{b['sf_reason']}"))
        # lone surrogates, written as JSON escapes (valid JSON, invalid Unicode)
        lines = [json.dumps({"id": i, "text": t}) for i, t in enumerate(self.texts(5))]
        lines.insert(3, '{"id": 99, "text": "broken \\ud800 surrogate and a long enough english sentence here"}')
        src5 = write_jsonl(self.base / "surrogate" / "in.jsonl", lines)
        r = self.run("surrogate", ["tag", src5, self.base / "surrogate" / "out.jsonl"])
        if r["rc"] == 0:
            got = read_jsonl(self.base / "surrogate" / "out.jsonl")
            ok = sorted(row["id"] for row in got) == sorted([0, 1, 2, 3, 4, 99])
            out.append(self.result("lone surrogate escapes (\\ud800) in a JSON line", "every row out, or exit 2 "
                                   "naming the file and line", ok, 6, len(got), 0, 6 - len(got), exit=0,
                                   outcomes=[(row["id"], row["sf_label"], row["sf_reason"]) for row in got]))
        else:
            out.append(self.refused("lone surrogate escapes (\\ud800) in a JSON line",
                                    "every row out, or exit 2 naming the file and line", r, 6, ["in.jsonl", "line 4"]))
        return out

    def groups(self) -> list[dict[str, Any]]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        out = []
        rng = random.Random(3)
        rows = [{"id": i, "sf_label": "synthetic" if rng.random() < 0.4 else "human",
                 "domain": [None, "news", "chat"][i % 3]} for i in range(300)]
        src = write_jsonl(self.base / "null-groups" / "in.jsonl", rows)
        res = self.quota("null group values (quota --by)",
                         "exit 0; null groups form one group; rows out + drops = rows in",
                         src, rows, ["--by", "domain", "--id-column", "id"])
        res["held"] = res["held"] and "<null>" in res["detail"].get("groups", {})
        out.append(res)
        vals = [float("nan"), None, 1.0, 2.0]
        table = pa.table({"id": list(range(300)), "sf_label": [r["sf_label"] for r in rows],
                          "domain": pa.array([vals[i % 4] for i in range(300)], pa.float64())})
        src = self.base / "nan-groups" / "in.parquet"
        src.parent.mkdir(parents=True)
        pq.write_table(table, src)
        res = self.quota("NaN and null group values in Parquet (quota --by)",
                         "exit 0; NaN and null are one group; rows out + drops = rows in",
                         src, [{"id": i} for i in range(300)], ["--by", "domain", "--id-column", "id"])
        res["held"] = res["held"] and res["detail"].get("groups", {}).get("<null>") == 150
        out.append(res)
        return out

    def label_columns(self) -> list[dict[str, Any]]:
        out = []
        rng = random.Random(4)
        flags = [rng.random() < 0.4 for _ in range(400)]
        ints = [{"id": i, "text": f"row {i}", "is_ai": int(f)} for i, f in enumerate(flags)]
        src = write_jsonl(self.base / "int-labels" / "in.jsonl", ints)
        out.append(self.quota("integer label column (0/1)", "exit 0; 1 = synthetic; rows out + drops = rows in",
                              src, ints, ["--label-column", "is_ai"]))
        bools = [{"id": i, "text": f"row {i}", "is_ai": f} for i, f in enumerate(flags)]
        src = write_jsonl(self.base / "bool-labels" / "in.jsonl", bools)
        out.append(self.quota("boolean label column", "exit 0; true = synthetic; rows out + drops = rows in",
                              src, bools, ["--label-column", "is_ai"]))
        bad = [{"id": i, "text": f"row {i}", "is_ai": [0, 1, 7][i % 3]} for i in range(30)]
        src = write_jsonl(self.base / "bad-labels" / "in.jsonl", bad)
        r = self.run("bad-labels", ["quota", src, self.base / "bad-labels" / "out.jsonl", "--max-synthetic", "0.1",
                                    "--label-column", "is_ai"])
        out.append(self.refused("integer label column holding 7", "exit 2 naming the column and the value", r, 30,
                                ["'is_ai'", "7"]))
        return out

    def provenance(self) -> list[dict[str, Any]]:
        out = []
        rng = random.Random(5)
        rows = [{"id": i, "text": f"row {i}", "is_synth": None if i < 50 else rng.random() < 0.4} for i in range(400)]
        src = write_jsonl(self.base / "prov-short" / "in.jsonl", rows)
        out.append(self.quota("provenance column null in the first 50 rows", "exit 0; null rows unknown (counted "
                              "human); rows out + drops = rows in", src, rows, ["--synthetic-column", "is_synth"]))
        # longer than one 10 MB block of the JSON reader: the first block holds only nulls
        filler = " ".join(["padding"] * 150)
        n_null, n_set = 11_000, 2_000
        rows = [{"id": i, "text": f"row {i} {filler}", "is_synth": None if i < n_null else rng.random() < 0.4}
                for i in range(n_null + n_set)]
        src = write_jsonl(self.base / "prov-long" / "in.jsonl", rows)
        res = self.quota(f"provenance column null in the first {n_null} rows ({src.stat().st_size / 1e6:.0f} MB file)",
                         "exit 0; null rows unknown (counted human); rows out + drops = rows in", src, rows,
                         ["--synthetic-column", "is_synth"])
        out.append(res)
        return out

    def big_ids(self) -> dict[str, Any]:
        rng = random.Random(6)
        ids = [2**63 + 5, 2**64 - 1, 2**63] + [2**63 + rng.randrange(2**62) for _ in range(197)]
        rows = [{"id": k, "text": f"row {k}", "is_ai": int(rng.random() < 0.4)} for k in ids]
        src = write_jsonl(self.base / "big-ids" / "in.jsonl", rows)
        res = self.quota("64-bit ids >= 2**63 with --id-column", "exit 0; ids read and written exactly (no float "
                         "rounding); rows out + drops = rows in", src, rows, ["--label-column", "is_ai",
                                                                              "--id-column", "id"])
        out = self.base / slug(res["name"]) / "out.jsonl"
        if out.exists():
            raw_ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
            exact = all(isinstance(v, int) for v in raw_ids) and set(raw_ids) <= set(ids)
            res["detail"]["ids_exact"] = exact
            res["detail"]["first_ids_out"] = [str(v) for v in raw_ids[:3]]
            res["held"] = res["held"] and exact
        return res

    def impossible_resample(self) -> list[dict[str, Any]]:
        out = []
        rows = [{"id": i, "text": t} for i, t in enumerate(self.texts(100, "human") + self.texts(100, "ai"))]
        src = write_jsonl(self.base / "resample" / "in.jsonl", rows)
        dest = self.base / "resample" / "out"
        r = self.run("resample", ["clean", src, dest, "--max-synthetic", "0.1", "--basis", "labels", "--resample", "150",
                                  "--embedder", "hashing", "--detector", self.s.detector])
        steps = sorted(p.name for p in (dest / "steps").iterdir()) if (dest / "steps").exists() else []
        res = self.refused("clean --resample more than the quota leaves",
                           "exit 2 naming --resample and --max-synthetic, before embedding", r, 200,
                           ["--resample 150", "--max-synthetic"], untouched=not any(s == step_folder("embed") for s in steps))
        res["detail"]["step_folders"] = steps
        out.append(res)
        dest = self.base / "resample2" / "out"
        r = self.run("resample2", ["clean", src, dest, "--max-synthetic", "0.1", "--basis", "labels", "--resample", "500",
                                   "--embedder", "hashing", "--detector", self.s.detector])
        out.append(self.refused("clean --resample more than the input's rows", "exit 2 naming --resample, before "
                                "any work (no output folder)", r, 200, ["--resample 500", "200 rows"],
                                untouched=not dest.exists()))
        return out

    def relative_paths(self) -> dict[str, Any]:
        folder = self.base / "relative"
        rows = [{"id": i, "text": t} for i, t in enumerate(self.texts(150) + self.texts(50, "ai"))]
        write_jsonl(folder / "in.jsonl", rows)
        r = cli(["clean", "in.jsonl", "out", "--max-synthetic", "0.1", "--basis", "labels", "--resample", "60", "--embedder", "hashing",
                 "--detector", self.s.detector], self.base / "cache-relative", cwd=folder)
        if r["rc"] != 0:
            return self.result("clean with relative paths (run from the input's folder)", "exit 0; rows in = out + "
                               "reported drops", False, len(rows), 0, 0, 0, exit=r["rc"],
                               message=error_line(r["stderr"]))
        acc = account_clean(json.loads((folder / "out" / "report.json").read_text()), len(rows))
        return self.result("clean with relative paths (run from the input's folder)", "exit 0; rows in = out + "
                           "reported drops", acc["rows_lost"] == 0, len(rows), acc["rows_out"], acc["rows_explained"],
                           acc["rows_lost"], exit=0, unexplained=acc["unexplained_by_step"])

    def empty_input(self) -> dict[str, Any]:
        src = self.base / "empty" / "in.jsonl"
        src.parent.mkdir(parents=True)
        src.write_text("\n  \n")
        r = self.run("empty", ["tag", src, self.base / "empty" / "out.jsonl"])
        return self.refused("input with no rows (white space only)", "exit 2 naming the file ('holds no rows')",
                            r, 0, ["in.jsonl", "no rows"])

    PROBES = ("formats_nested", "unreadable", "schemas", "output_paths", "hostile_texts", "groups", "label_columns",
              "provenance", "big_ids", "impossible_resample", "relative_paths", "empty_input")

