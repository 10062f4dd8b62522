"""New sweep, engines and concurrency: ``IterableDataset``, Ray, concurrent runs, killed Ray runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from typing import Any

from .base import Probes
from .common import REPO, env_for, error_line, group_pids, hidden_leftovers, read_jsonl, reap_group, write_jsonl

ITERABLE = textwrap.dedent("""
    import json, sys
    import datasets
    import synthfilter as sf
    from synthfilter.io import read_dataset
    ds = read_dataset(sys.argv[1])
    plain = ds.map(sf.tag, batched=True)
    streamed = list(ds.to_iterable_dataset(num_shards=3).map(sf.tag, batched=True, batch_size=7))
    same_tags = [r["sf_label"] for r in streamed] == plain["sf_label"] and \\
        [r["sf_reason"] for r in streamed] == plain["sf_reason"]
    groups = read_dataset(sys.argv[2])
    kept = list(sf.enforce_quota(groups.to_iterable_dataset(), 0.1, by="g", label_column="sf_label"))
    share = {}
    for key in ("<null>", None):
        mine = [r for r in kept if r["g"] == key]
        share[str(key)] = [len(mine), sum(r["sf_label"] == "synthetic" for r in mine)]
    print(json.dumps({"same_tags": same_tags, "rows": [len(streamed), plain.num_rows], "share": share}))
""")

RAY = textwrap.dedent("""
    import json, sys
    import ray
    import synthfilter as sf
    import synthfilter.integrations.ray as sfr
    from synthfilter.io import read_dataset
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    ds = read_dataset(sys.argv[1])
    local = ds.with_format("arrow").map(sf.Tagger(), batched=True).with_format(None)
    remote = sfr.tag(ray.data.from_arrow(ds.data.table), concurrency=1).to_pandas()
    same_tags = list(remote["sf_reason"]) == local["sf_reason"] and list(remote["sf_label"]) == local["sf_label"]
    groups = read_dataset(sys.argv[2])
    kept_local = sorted(sf.enforce_quota(groups, 0.1, by="g", id_column="id")["id"])
    kept_ray = sorted(sfr.enforce_quota(ray.data.from_arrow(groups.data.table), 0.1, by="g", id_column="id")
                      .to_pandas()["id"].tolist())
    print(json.dumps({"same_tags": same_tags, "same_kept": kept_local == kept_ray, "kept": [len(kept_local),
                      len(kept_ray)]}))
""")


def _ray_processes() -> list[int]:
    """Live processes whose command line says Ray (raylet, gcs_server, workers)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmd = open(f"/proc/{entry}/cmdline", "rb").read().replace(b"\0", b" ")
            except OSError:
                continue
            if b"raylet" in cmd or b"gcs_server" in cmd or b"ray::" in cmd or b"default_worker.py" in cmd:
                found.append(int(entry))
    return found


class SweepEngines(Probes):
    kind = "sweep"
    PROBES = ("iterable_dataset", "ray_integration", "ray_clean", "ray_killed", "concurrent_clean_folders",
              "concurrent_clean_same_folder", "concurrent_tag_same_file")

    def _mixed(self, name: str) -> tuple[Any, Any]:
        d = self.folder(name)
        texts = self.texts(30) + self.texts(10, "ai")
        rows = [{"id": i, "text": t} for i, t in enumerate(texts)] + \
               [{"id": 100 + i, "text": v} for i, v in enumerate(["null", "42", 7, None, '"hi"'])]
        groups = [{"id": i, "sf_label": "synthetic" if i % 10 < 3 else "human", "g": "<null>" if i % 2 else None}
                  for i in range(400)]
        return write_jsonl(d / "texts.jsonl", rows), write_jsonl(d / "groups.jsonl", groups)

    def iterable_dataset(self) -> dict[str, Any]:
        name = "IterableDataset: tag and a streaming quota with null and '<null>' groups"
        texts, groups = self._mixed(name)
        r = self._py_args(name, ITERABLE, texts, groups)
        share = r.get("share", {})
        held = r["rc"] == 0 and r.get("same_tags") and all(n and s / n <= 0.1 + 1e-9 for n, s in share.values()) \
            and len(share) == 2
        return self.verdict(name, "streamed tags equal the Dataset's; two groups, each at most 10% synthetic", held,
                            445, 445 if held else 0, **r)

    def _py_args(self, name: str, code: str, *args: Any) -> dict[str, Any]:
        proc = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True,
                              timeout=900, env=env_for(self.base / "cache-py"), cwd=REPO)
        lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
        try:
            return {"rc": proc.returncode, **json.loads(lines[-1])}
        except (IndexError, ValueError):
            return {"rc": proc.returncode, "error": (proc.stderr or proc.stdout)[-1500:]}

    def ray_integration(self) -> dict[str, Any]:
        name = "Ray: tag a Json text column and a quota with null and '<null>' groups"
        texts, groups = self._mixed(name)
        r = self._py_args(name, RAY, texts, groups)
        held = r["rc"] == 0 and r.get("same_tags") and r.get("same_kept")
        return self.verdict(name, "the same tags and kept rows as the datasets path", held, 445, 445 if held else 0,
                            **r)

    def ray_clean(self) -> dict[str, Any]:
        name = "clean --engine ray against local, input with a Json text column and '<null>' groups"
        d = self.folder(name)
        rows = self.rows(300, 100)
        for i, row in enumerate(rows):
            row["domain"] = ["<null>", None, "a"][i % 3]
        rows += [{"id": 1000 + i, "text": v, "domain": "a"} for i, v in enumerate([7, "null", None])]
        src = write_jsonl(d / "in.jsonl", rows)
        local = self.run(name, ["clean", src, d / "local", *self.clean_args(80), "--by", "domain"])
        ray = self.run(name + " ray", ["clean", src, d / "ray", *self.clean_args(80), "--by", "domain",
                                       "--engine", "ray"])
        same = local["rc"] == ray["rc"] == 0 and \
            (d / "local" / "output.jsonl").read_bytes() == (d / "ray" / "output.jsonl").read_bytes()
        return self.verdict(name, "both exit 0 with byte-identical output.jsonl", same, len(rows), 80 if same else 0,
                            exits=[local["rc"], ray["rc"]], message=error_line(ray["stderr"]) if ray["rc"] else "")

    def ray_killed(self) -> dict[str, Any]:
        name = "SIGKILL of clean --engine ray while it tags"
        d = self.folder(name)
        src = write_jsonl(d / "in.jsonl", self.rows(6000, 2000))
        before = set(_ray_processes())
        cmd = [sys.executable, "-m", "synthfilter", "clean", str(src), str(d / "out"), *map(str, self.clean_args(100)),
               "--engine", "ray"]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env_for(d / "cache"),
                                cwd=REPO, start_new_session=True)
        deadline = time.monotonic() + 300
        while proc.poll() is None and time.monotonic() < deadline:
            if (d / "out" / "steps").is_dir() and set(_ray_processes()) - before:
                break
            time.sleep(0.2)
        time.sleep(3)
        started = sorted(set(_ray_processes()) - before)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (set(_ray_processes()) - before or group_pids(proc.pid)):
            time.sleep(0.5)
        left = sorted(set(_ray_processes()) - before) + group_pids(proc.pid)
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        reap_group(proc.pid, grace=0)
        rerun = self.run(name, ["clean", src, d / "out", *self.clean_args(100), "--engine", "ray"])
        held = bool(started) and not left and rerun["rc"] == 0
        return self.verdict(name, "no Ray or run process left 30 s after the kill; the rerun exits 0", held, 8000,
                            100 if rerun["rc"] == 0 else 0, ray_processes_started=len(started),
                            left_after_30_s=len(left), rerun_exit=rerun["rc"])

    def _popen(self, args: list[Any], cache_name: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "synthfilter", *map(str, args)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env_for(self.base / cache_name), cwd=REPO)

    def concurrent_clean_folders(self) -> dict[str, Any]:
        name = "two cleans at once from one input into two folders"
        d = self.folder(name)
        src = write_jsonl(d / "in.jsonl", self.rows(400, 100))
        procs = [self._popen(["clean", src, d / f"out{k}", *self.clean_args(100)], f"cache-cc{k}") for k in (0, 1)]
        codes = [p.wait() for p in procs]
        same = codes == [0, 0] and (d / "out0" / "output.jsonl").read_bytes() == (d / "out1" / "output.jsonl"
                                                                                 ).read_bytes()
        return self.verdict(name, "both exit 0 with byte-identical outputs", same, 500, 100 if same else 0,
                            exits=codes)

    def concurrent_clean_same_folder(self) -> dict[str, Any]:
        name = "two cleans at once into the same folder"
        d = self.folder(name)
        src = write_jsonl(d / "in.jsonl", self.rows(400, 100))
        ref = self.run(name + " ref", ["clean", src, d / "ref", *self.clean_args(100)])
        procs = [self._popen(["clean", src, d / "out", *self.clean_args(100)], f"cache-cs{k}") for k in (0, 1)]
        results = [(p.wait(), p.stderr.read()) for p in procs]
        codes = sorted(c for c, _ in results)
        refused = [error_line(e) for c, e in results if c == 2]
        ok_codes = codes == [0, 0] or (codes == [0, 2] and "another synthfilter run" in refused[0])
        same = ref["rc"] == 0 and (d / "out" / "output.jsonl").exists() and \
            (d / "out" / "output.jsonl").read_bytes() == (d / "ref" / "output.jsonl").read_bytes()
        held = ok_codes and same and not (d / "out" / ".synthfilter.lock").exists() and not hidden_leftovers(d / "out")
        return self.verdict(name, "one runs, the other is refused ('another synthfilter run') or runs after it; the "
                            "output equals a lone run's; no lock or temporary file left", held, 500,
                            100 if held else 0, exits=[c for c, _ in results], refused=refused)

    def concurrent_tag_same_file(self) -> dict[str, Any]:
        name = "two tags at once into the same output file"
        d = self.folder(name)
        rows = self.rows(3000)
        src = write_jsonl(d / "in.jsonl", rows)
        procs = [self._popen(["tag", src, d / "out.jsonl"], f"cache-ct{k}") for k in (0, 1)]
        codes = [p.wait() for p in procs]
        got = read_jsonl(d / "out.jsonl") if (d / "out.jsonl").exists() else []
        left = [n for n in os.listdir(d) if n.startswith(".out.jsonl")]
        held = codes == [0, 0] and [r["id"] for r in got] == [r["id"] for r in rows] and not left
        return self.verdict(name, "both exit 0; the file is one complete output (written by rename); no temporary "
                            "file left", held, 3000, len(got), exits=codes, left=left)
