"""Issue 30's failures of processes and disks: a long token, orphan workers, killed writes, a full disk, and
datatrove documents without metadata. Mixed into :class:`.issue30.Issue30`."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from typing import Any

from synthfilter.pipeline import step_folder

from .common import REPO, env_for, group_pids, hidden_leftovers, reap_group, write_jsonl

TIMING = textwrap.dedent("""
    import base64, json, os, random, time
    from synthfilter import Tagger
    tagger = Tagger()
    english = ("The committee reviewed the proposal in detail and concluded that the new approach would improve "
               "reliability, reduce maintenance costs and make the service easier to operate. ")
    tagger.score([english])
    rng = random.Random(0)

    def best(text, repeats=5):
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            tagger.score([text])
            times.append(time.perf_counter() - t0)
        return min(times)

    out = {}
    for n in (96_000, 200_000):
        ordinary = (english * (n // len(english) + 1))[:n]
        tokens = {"letters and digits (a minified script)":
                  "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n)),
                  "base64 (an image)": base64.b64encode(os.urandom(n))[:n].decode(),
                  "a URL": ("https://example.com/" + "a/b-c_d?e=f&" * n)[:n],
                  "letters with Cyrillic look-alikes": "".join(rng.choice("abcdef\\u0430\\u0435\\u043e\\u0441") for _ in range(n))}
        base = best(ordinary)
        out[n] = {"ordinary_s": round(base, 4),
                  **{kind: {"s": round(best("see " + t + " here"), 4)} for kind, t in tokens.items()}}
        for kind in tokens:
            out[n][kind]["ratio"] = round(out[n][kind]["s"] / base, 2)
    print(json.dumps({"timings": out, "loadavg": list(os.getloadavg())}))
""")

DISK = textwrap.dedent("""
    import json, os, shutil, subprocess, sys
    disk, src, det, cache, repo = sys.argv[1:6]
    env = {**os.environ, "HF_DATASETS_CACHE": cache, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "TQDM_DISABLE": "1", "PYTHONPATH": repo}
    args = ["--max-synthetic", "0.1", "--basis", "labels", "--resample", "50", "--embedder", "hashing", "--detector", det]

    def clean(out):
        p = subprocess.run([sys.executable, "-m", "synthfilter", "clean", src, out, *args], capture_output=True,
                           text=True, env=env, cwd=repo)
        lines = [ln for ln in p.stderr.splitlines() if ln.startswith("synthfilter ")]
        return p.returncode, (lines or [p.stderr.strip()[-300:]])[-1]

    res = {}
    filler = os.path.join(disk, "filler")
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:  # fill the disk to the last byte
        while True:
            os.write(fd, b"x" * 4096)
    except OSError:
        pass
    os.close(fd)
    out = os.path.join(disk, "full")
    res["full_exit"], res["full_message"] = clean(out)
    res["full_lock_left"] = os.path.exists(os.path.join(out, ".synthfilter.lock"))
    os.remove(filler)
    res["full_rerun_exit"], _ = clean(out)
    res["full_rerun_rows"] = sum(1 for _ in open(os.path.join(out, "output.jsonl"))) if res["full_rerun_exit"] == 0 else 0
    shutil.rmtree(out)
    subprocess.run(["mount", "-o", "remount,size=160k", disk], check=True)  # room for a few steps only
    out = os.path.join(disk, "mid")
    res["mid_exit"], res["mid_message"] = clean(out)
    res["mid_lock_left"] = os.path.exists(os.path.join(out, ".synthfilter.lock"))
    res["mid_temporaries"] = sorted(n for n in os.listdir(os.path.join(out, "steps")) if n.startswith(".")) \\
        if os.path.isdir(os.path.join(out, "steps")) else []
    subprocess.run(["mount", "-o", "remount,size=64m", disk], check=True)
    res["mid_rerun_exit"], _ = clean(out)
    res["mid_rerun_rows"] = sum(1 for _ in open(os.path.join(out, "output.jsonl"))) if res["mid_rerun_exit"] == 0 else 0
    print(json.dumps(res))
""")

DATATROVE = textwrap.dedent("""
    import json
    from datatrove.data import Document
    from synthfilter.integrations.datatrove import SynthfilterFilter, SynthfilterTagger
    english = ("The committee reviewed the proposal in detail and concluded that the new approach would improve "
               "reliability, reduce maintenance costs and make the service easier to operate.")
    docs = [Document(text=english, id="ok"), Document(text=english, id="no-metadata", metadata=None),
            Document(text=123, id="number"), Document(text=None, id="null")]
    tagged = list(SynthfilterTagger().run(iter(docs)))
    kept = list(SynthfilterFilter(drop_unknown=True).run(iter(tagged)))
    try:
        list(SynthfilterFilter().run(iter([Document(text=english, id="untagged", metadata=None)])))
        untagged = "no error"
    except Exception as exc:
        untagged = f"{type(exc).__name__}: {exc}"
    print(json.dumps({"tags": {d.id: [d.metadata["sf_label"], d.metadata["sf_reason"]] for d in tagged},
                      "kept": [d.id for d in kept], "untagged": untagged}))
""")


class Faults:
    """Probes of issue 30 items 10 and 11 (and datatrove, item 12); a mixin of :class:`.issue30.Issue30`."""

    def long_token(self) -> dict[str, Any]:
        name = "10. a 96,000-character token (and 200,000) against ordinary text of the same length"
        r = self.py(name, TIMING)
        if "timings" not in r:
            return self.verdict(name, "(timing ran)", False, 1, error=r.get("error"))
        ratio = max(x["ratio"] for kind, x in r["timings"]["96000"].items() if kind != "ordinary_s")
        return self.verdict(name, "tagging the long token costs at most 5x ordinary text of the same length "
                            "(best of 5, in one process)", ratio <= 5, 1, 1, ratio=ratio, **r)

    def orphan_workers(self) -> dict[str, Any]:
        name = "11. SIGKILL of clean while its 2 tagging workers run"
        d = self.folder(name)
        texts = self.texts(2000) + self.texts(1000, "ai")
        src = write_jsonl(d / "in.jsonl", [{"id": i, "text": f"{texts[i % 3000]} {i}"} for i in range(30_000)])
        cmd = [sys.executable, "-m", "synthfilter", "clean", str(src), str(d / "out"), *map(str, self.clean_args(100)),
               "--workers", "2"]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env_for(d / "cache"),
                                cwd=REPO, start_new_session=True)
        deadline, seen = time.monotonic() + 300, 0
        while proc.poll() is None and time.monotonic() < deadline:
            seen = len(group_pids(proc.pid))
            if seen >= 3:  # the main process and its workers
                break
            time.sleep(0.2)
        time.sleep(1.0)
        before = len(group_pids(proc.pid))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        time.sleep(10)
        left = group_pids(proc.pid)
        killed = reap_group(proc.pid, grace=0)
        return self.verdict(name, "no process of the run left 10 s after the kill (the issue saw workers run >= 90 s)",
                            before >= 3 and not left, 30_000, 0, processes_before_kill=before,
                            processes_left_after_10_s=len(left), reaped=killed)

    def killed_final_write(self) -> dict[str, Any]:
        name = "11. SIGKILL while clean writes output.jsonl, then a rerun"
        d = self.folder(name)
        src = write_jsonl(d / "in.jsonl", self.rows(3000, 1000))
        out = d / "out"
        reference = self.run(name, ["clean", src, d / "ref", *self.clean_args(2500)])
        cmd = [sys.executable, "-m", "synthfilter", "clean", str(src), str(out), *map(str, self.clean_args(2500))]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env_for(d / "cache"),
                                cwd=REPO, start_new_session=True)
        temporary = re.compile(r"\.output\.jsonl\.tmp-\d+-[0-9a-f]+")
        caught = False
        while proc.poll() is None:
            if out.is_dir() and any(temporary.fullmatch(n) for n in os.listdir(out)):
                os.kill(proc.pid, signal.SIGKILL)
                caught = True
                break
            time.sleep(0.002)
        proc.wait()
        reap_group(proc.pid)
        left_by_kill = hidden_leftovers(out)
        planted = not caught or not left_by_kill
        if planted:  # the kill missed the window: leave what such a kill leaves
            (out / f".output.jsonl.tmp-{proc.pid}-a1b2c3").write_text('{"half": "a row"')
            (out / "steps" / f".tmp-{step_folder('resample')}").mkdir(parents=True, exist_ok=True)
        r = self.run(name, ["clean", src, out, *self.clean_args(2500)])
        same = r["rc"] == 0 and reference["rc"] == 0 and \
            (out / "output.jsonl").read_bytes() == (d / "ref" / "output.jsonl").read_bytes()
        left = hidden_leftovers(out)
        return self.verdict(name, "the rerun exits 0 with the reference output and no hidden temporary file left",
                            same and not left, 4000, 2500 if same else 0, killed_during_write=caught,
                            left_by_kill=left_by_kill, planted=planted, left_after_rerun=left, exit=r["rc"])

    def full_disk(self) -> list[dict[str, Any]]:
        name = "11-12. a full disk (tmpfs in a private mount namespace)"
        d = self.folder(name)
        src = write_jsonl(d / "in.jsonl", self.rows(300, 100))
        (d / "disk").mkdir()
        (d / "driver.py").write_text(DISK)
        if not shutil.which("unshare"):
            return [self.verdict(name, "(needs unshare and mount rights)", False, 400)]
        shell = (f"mount -t tmpfs -o size=64m tmpfs {d / 'disk'} && exec {sys.executable} {d / 'driver.py'} "
                 f"{d / 'disk'} {src} {self.s.detector} {d / 'cache'} {REPO}")
        proc = subprocess.run(["unshare", "-m", "sh", "-c", shell], capture_output=True, text=True, timeout=900,
                              env=env_for(d / "cache"))
        try:
            r = json.loads(proc.stdout.strip().splitlines()[-1])
        except (IndexError, ValueError):
            return [self.verdict(name, "(the probe ran)", False, 400, error=(proc.stderr or proc.stdout)[-1500:])]
        full = self.verdict("11-12. disk full before clean starts: the run lock cannot be written",
                            "exit 2 naming the lock and 'No space left'; no 0-byte lock left; after freeing space the "
                            "rerun exits 0", r["full_exit"] == 2 and "No space left" in r["full_message"]
                            and ".synthfilter.lock" in r["full_message"] and not r["full_lock_left"]
                            and r["full_rerun_exit"] == 0 and r["full_rerun_rows"] == 50, 400,
                            r["full_rerun_rows"], **{k: v for k, v in r.items() if k.startswith("full")})
        mid = self.verdict("11-12. disk full in the middle of clean",
                           "exit 2 naming the step folder and 'No space left'; no lock or temporary folder left; "
                           "after freeing space the rerun exits 0", r["mid_exit"] == 2
                           and "No space left" in r["mid_message"] and "/steps/" in r["mid_message"]
                           and not r["mid_lock_left"] and not r["mid_temporaries"] and r["mid_rerun_exit"] == 0
                           and r["mid_rerun_rows"] == 50, 400, r["mid_rerun_rows"],
                           **{k: v for k, v in r.items() if k.startswith("mid")})
        return [full, mid]

    def datatrove_documents(self) -> dict[str, Any]:
        name = "12. datatrove documents with metadata=None, a number or None as text"
        r = self.py(name, DATATROVE)
        tags = r.get("tags", {})
        held = (r["rc"] == 0 and tags.get("number") == ["unknown", "not_text"] == tags.get("null")
                and tags.get("no-metadata", [None])[0] == tags.get("ok", [""])[0] != "unknown"
                and r.get("kept") == ["ok", "no-metadata"] and "document 'untagged'" in r.get("untagged", ""))
        return self.verdict(name, "tagged (not_text for the number and None), filtered; an untagged document is named",
                            held, 4, len(r.get("kept", [])), **r)

