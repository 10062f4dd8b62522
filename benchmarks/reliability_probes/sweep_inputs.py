"""New sweep, inputs: other formats and encodings, odd texts, huge rows, odd folders (mostly through ``tag``)."""

from __future__ import annotations

import gzip
import json
from typing import Any

from .base import Probes
from .common import read_jsonl, write_jsonl

ENGLISH = ("The committee reviewed the proposal in detail and concluded that the new approach would improve "
           "reliability, reduce maintenance costs and make the service easier to operate.")


def _reason(want: str):
    return lambda a, b: None if b["sf_reason"] == want else f"expected {want}, got {b['sf_label']}/{b['sf_reason']}"


def _scored(a: dict[str, Any], b: dict[str, Any]) -> str | None:
    return None if b["sf_label"] in ("human", "synthetic") else f"expected scored, got {b['sf_reason']}"


class SweepInputs(Probes):
    kind = "sweep"
    PROBES = ("utf8_bom", "utf16", "latin1_csv", "crlf", "json_array", "blank_lines", "csv_quoted_newlines",
              "parquet_kinds", "arrow_file", "object_and_list_texts", "truncated_gzip", "gzip_by_magic",
              "empty_parquet_beside", "huge_row", "long_json_line", "odd_characters", "all_null_texts",
              "many_files", "symlink_loop", "unicode_path", "text_column_name", "missing_text_column")

    def _tag_file(self, name: str, expected: str, filename: str, data: bytes, rows: list[dict[str, Any]],
                  check=None, extra: list[str] | None = None) -> dict[str, Any]:
        path = self.folder(name) / filename
        path.write_bytes(data)
        return self.tagged(name, expected, path, rows, check, extra)

    def _lines(self, rows: list[dict[str, Any]], sep: str = "\n") -> bytes:
        return "".join(json.dumps(r, ensure_ascii=False) + sep for r in rows).encode()

    def utf8_bom(self) -> dict[str, Any]:
        rows = self.rows(5)
        return self._tag_file("UTF-8 byte-order mark at the start of a JSONL file", "exit 0; every row, the first "
                              "column named 'id' (not '\\ufeffid')", "in.jsonl", b"\xef\xbb\xbf" + self._lines(rows),
                              rows)

    def utf16(self) -> dict[str, Any]:
        name = "UTF-16 JSONL"
        src = self.folder(name) / "in.jsonl"
        src.write_bytes(self._lines(self.rows(5)).decode().encode("utf-16"))
        r = self.run(name, ["tag", src, src.parent / "out.jsonl"])
        return self.refused(name, "exit 2 naming the file and UTF-16", r, 5, ["in.jsonl", "UTF-16"])

    def latin1_csv(self) -> dict[str, Any]:
        name = "Latin-1 CSV"
        src = self.folder(name) / "in.csv"
        src.write_bytes("id,text\n1,plain row\n2,café crème\n".encode("latin-1"))
        r = self.run(name, ["tag", src, src.parent / "out.jsonl"])
        return self.refused(name, "exit 2 naming the file, line 3 and UTF-8", r, 2, ["in.csv", "line 3", "UTF-8"])

    def crlf(self) -> dict[str, Any]:
        rows = self.rows(6)
        return self._tag_file("CRLF line endings in JSONL", "exit 0; every row, texts exact", "in.jsonl",
                              self._lines(rows, "\r\n"), rows,
                              lambda a, b: None if a["text"] == b["text"] else "text changed")

    def json_array(self) -> dict[str, Any]:
        rows = self.rows(7)
        return self._tag_file("one JSON array of objects (.json)", "exit 0; every row", "in.json",
                              json.dumps(rows, indent=1).encode(), rows)

    def blank_lines(self) -> dict[str, Any]:
        rows = self.rows(4)
        data = b"\n\n" + self._lines(rows[:2]).replace(b"\n", b"\n   \n") + self._lines(rows[2:]).rstrip(b"\n")
        return self._tag_file("blank lines between JSON lines, none at the end", "exit 0; every row", "in.jsonl",
                              data, rows)

    def csv_quoted_newlines(self) -> dict[str, Any]:
        import csv
        import io

        rows = [{"id": i, "text": f'{ENGLISH}\nSecond line, with "quotes" and, commas {i}.'} for i in range(4)]
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=["id", "text"])
        writer.writeheader()
        writer.writerows(rows)
        return self._tag_file("CSV with quoted newlines, commas and quotes", "exit 0; every row, texts exact",
                              "in.csv", buf.getvalue().encode(), rows,
                              lambda a, b: None if a["text"] == b["text"] else f"text {b['text']!r}")

    def parquet_kinds(self) -> list[dict[str, Any]]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        out = []
        rows = self.rows(6)
        for kind, array in (("large_string", pa.array([r["text"] for r in rows], pa.large_string())),
                            ("dictionary-encoded", pa.array([r["text"] for r in rows]).dictionary_encode())):
            name = f"Parquet text column stored as {kind}"
            path = self.folder(name) / "in.parquet"
            pq.write_table(pa.table({"id": [r["id"] for r in rows], "text": array}), path)
            out.append(self.tagged(name, "exit 0; every row scored", path, rows, _scored))
        return out

    def arrow_file(self) -> dict[str, Any]:
        import pyarrow as pa

        name = "Arrow IPC file format (.arrow)"
        rows = self.rows(5)
        path = self.folder(name) / "in.arrow"
        table = pa.table({"id": [r["id"] for r in rows], "text": [r["text"] for r in rows]})
        with pa.ipc.new_file(path, table.schema) as writer:
            writer.write_table(table)
        return self.tagged(name, "exit 0; every row scored", path, rows, _scored)

    def object_and_list_texts(self) -> dict[str, Any]:
        rows = [{"id": 0, "text": {"body": ENGLISH}}, {"id": 1, "text": [ENGLISH]}, {"id": 2, "text": ENGLISH}]
        return self._tag_file("text values that are JSON objects and lists", "exit 0; objects and lists "
                              "not_text, the string scored", "in.jsonl", self._lines(rows), rows,
                              lambda a, b: (None if (b["sf_reason"] == "not_text") != isinstance(a["text"], str)
                                            else f"got {b['sf_reason']}"))

    def truncated_gzip(self) -> dict[str, Any]:
        name = "a truncated .jsonl.gz"
        src = self.folder(name) / "in.jsonl.gz"
        data = gzip.compress(self._lines(self.rows(200)))
        src.write_bytes(data[: len(data) // 2])
        r = self.run(name, ["tag", src, src.parent / "out.jsonl"])
        return self.refused(name, "exit 2 naming the file", r, 200, ["in.jsonl.gz"])

    def gzip_by_magic(self) -> dict[str, Any]:
        name = "plain JSONL named .jsonl.gz"
        src = self.folder(name) / "in.jsonl.gz"
        src.write_bytes(self._lines(self.rows(5)))
        r = self.run(name, ["tag", src, src.parent / "out.jsonl"])
        return self.refused(name, "exit 2 naming the file: its name says gzip, its bytes are not", r, 5,
                            ["in.jsonl.gz", "not gzip-compressed"])

    def empty_parquet_beside(self) -> dict[str, Any]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        name = "a Parquet file of 0 rows beside a JSONL file"
        folder = self.folder(name) / "in"
        folder.mkdir()
        rows = self.rows(5)
        write_jsonl(folder / "a.jsonl", rows)
        pq.write_table(pa.table({"id": pa.array([], pa.int64()), "text": pa.array([], pa.string())}),
                       folder / "b.parquet")
        return self.tagged(name, "exit 0; the 5 rows of the JSONL file", folder, rows)

    def huge_row(self) -> dict[str, Any]:
        rows = [{"id": 0, "text": " ".join([ENGLISH] * 120_000)}, *self.rows(3)]  # ~20 MB of text in one row
        rows[1]["id"] = 1
        return self._tag_file("a 20 MB row", "exit 0; scored (the detector reads the first 200 words)", "in.jsonl",
                              self._lines(rows), rows, _scored)

    def long_json_line(self) -> dict[str, Any]:
        filler = ENGLISH * 110_000  # one 15 MB line: longer than the JSON reader's 10 MB block
        rows = [{"id": i, "text": t} for i, t in enumerate([ENGLISH, filler, ENGLISH + " Again."])]
        return self._tag_file("a 15 MB JSON line between short ones", "exit 0; every row", "in.jsonl",
                              self._lines(rows), rows)

    def odd_characters(self) -> dict[str, Any]:
        rtl = ENGLISH.replace(" ", " \u202e", 3)
        rows = [{"id": 0, "text": "\U0001f600" * 100_000}, {"id": 1, "text": ENGLISH[:60] + "\x00\x00" + ENGLISH[60:]},
                {"id": 2, "text": rtl}, {"id": 3, "text": "\u200b\u200c\u200d" * 50}, {"id": 4, "text": ENGLISH}]
        want = {0: "empty", 1: "", 2: "", 3: "empty", 4: ""}
        scores: dict[int, float] = {}

        def check(a: dict[str, Any], b: dict[str, Any]) -> str | None:
            scores[a["id"]] = b["sf_score"]
            if b["sf_reason"] != want[a["id"]]:
                return f"expected {want[a['id']] or 'scored'}, got {b['sf_reason']}"
            return None

        res = self._tag_file("emoji-only, NUL bytes, right-to-left overrides, zero-width-only texts",
                             "exit 0; emoji-only and zero-width-only empty; NUL and RTL-override English scored like "
                             "the clean text (within 0.05)", "in.jsonl", self._lines(rows), rows, check)
        if res["held"]:
            res["held"] = abs(scores[2] - scores[4]) <= 0.05 and abs(scores[1] - scores[4]) <= 0.05
            res["detail"]["scores"] = scores
        return res

    def all_null_texts(self) -> dict[str, Any]:
        rows = [{"id": i, "text": None} for i in range(5)]
        return self._tag_file("a text column that is null in every row", "exit 0; every row not_text", "in.jsonl",
                              self._lines(rows), rows, _reason("not_text"))

    def many_files(self) -> dict[str, Any]:
        name = "300 small files in nested folders"
        folder = self.folder(name) / "in"
        rows = []
        for k in range(300):
            part = [{"id": k * 10 + j, "text": f"row {k} {j}"} for j in range(2)]
            write_jsonl(folder / f"d{k % 7}" / f"f{k:03d}.jsonl", part)
            rows += part
        res = self.tagged(name, "exit 0; every row, files in sorted path order", folder, rows)
        out = self.folder(name) / "out.jsonl"
        if res["held"]:
            order = sorted(rows, key=lambda r: (f"d{(r['id'] // 10) % 7}", f"f{r['id'] // 10:03d}", r["id"]))
            res["held"] = [r["id"] for r in read_jsonl(out)] == [r["id"] for r in order]
        return res

    def symlink_loop(self) -> dict[str, Any]:
        name = "a folder holding a symlink to itself"
        folder = self.folder(name) / "in"
        rows = self.rows(4)
        write_jsonl(folder / "a.jsonl", rows)
        (folder / "loop").symlink_to(".")
        return self.tagged(name, "exit 0; the 4 rows once", folder, rows)

    def unicode_path(self) -> dict[str, Any]:
        name = "input and output paths with spaces and non-ASCII letters"
        folder = self.folder(name) / "dossier données é"
        rows = self.rows(4)
        src = write_jsonl(folder / "entrée 1.jsonl", rows)
        return self.tagged(name, "exit 0; every row", src, rows)

    def text_column_name(self) -> dict[str, Any]:
        rows = [{"id": r["id"], "Text body": r["text"]} for r in self.rows(4)]
        return self._tag_file("a text column named 'Text body'", "exit 0 with --text-column 'Text body'",
                              "in.jsonl", self._lines(rows), rows, _scored, extra=["--text-column", "Text body"])

    def missing_text_column(self) -> dict[str, Any]:
        name = "no column named text"
        src = write_jsonl(self.folder(name) / "in.jsonl", [{"id": 1, "body": ENGLISH}])
        r = self.run(name, ["tag", src, src.parent / "out.jsonl"])
        return self.refused(name, "exit 2 naming the column and the columns present", r, 1, ["'text'", "body"],
                            untouched=not (src.parent / "out.jsonl").exists())

