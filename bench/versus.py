"""``python -m bench versus``: question latency of this working tree against a git ref.

Both sides answer the same Reuters headlines in process (``Archive.ask``, onnx-int8, one FAISS
thread) over the whole Reuters corpus, each ingested once by its own code. The ref is checked
out into a temporary git worktree with ``../shared`` beside it. Runs alternate (ref, tree, ref,
tree, ...) so that the VM's fast and slow spells fall on both sides; the table shows each run's
p50 and the JSON line the medians and their ratio. ``DATELINE_VERSUS_REF`` names the ref
(default ``HEAD``: the working tree's uncommitted changes against the last commit).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.report import emit, table
from bench.reuters import CACHE

__all__ = ["main"]

REPO = Path(__file__).resolve().parents[1]
RUNS = 3
WARM_UP, QUESTIONS = 30, 400

# Run by each side's interpreter with that side's checkout first on the path: only APIs that
# every version since the Reuters benchmark has (ingested_archive, questions, Archive.ask).
_SIDE = """
import json, statistics, sys, time
import faiss
from bench import reuters
from qa.archive import Archive
from qa.settings import Settings
faiss.omp_set_num_threads(1)
data = reuters.ingested_archive("onnx-int8")
if sys.argv[1] == "ingest":
    sys.exit()
archive = Archive.open(Settings(data_dir=data, backend="onnx-int8"))
questions = [q for q, _ in reuters.questions()]
for question in questions[:{warm_up}]:
    archive.ask(question)
samples = []
for question in questions[1000 : 1000 + {count}]:
    started = time.perf_counter()
    archive.ask(question)
    samples.append((time.perf_counter() - started) * 1000)
print(json.dumps({{"p50": statistics.median(samples)}}))
"""


def _run(checkout: Path, cache: Path, mode: str) -> dict[str, float]:
    environment = {**os.environ, "DATELINE_BENCH_CACHE": str(cache), "PYTHONPATH": str(checkout)}
    code = _SIDE.format(warm_up=WARM_UP, count=QUESTIONS)
    done = subprocess.run(
        [sys.executable, "-c", code, mode],
        cwd=checkout,
        env=environment,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1]) if mode == "time" else {}


def main() -> None:
    ref = os.environ.get("DATELINE_VERSUS_REF", "HEAD")
    commit = subprocess.run(
        ["git", "rev-parse", "--short", ref], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="dateline-versus-") as root:
        baseline = Path(root) / "repo"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(baseline), commit],
            cwd=REPO,
            check=True,
            capture_output=True,
        )
        (Path(root) / "shared").symlink_to(REPO.parent / "shared")
        try:
            sides = {
                f"ref {commit}": (baseline, CACHE / "versus" / commit),
                "working tree": (REPO, CACHE / "versus" / "tree"),
            }
            for checkout, cache in sides.values():
                _run(checkout, cache, "ingest")
            p50s: dict[str, list[float]] = {name: [] for name in sides}
            for _ in range(RUNS):
                for name, (checkout, cache) in sides.items():
                    p50s[name].append(round(_run(checkout, cache, "time")["p50"], 2))
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(baseline)], cwd=REPO, check=False
            )
    medians = {name: statistics.median(values) for name, values in p50s.items()}
    table(
        f"Archive.ask on Reuters (onnx-int8, in process, {QUESTIONS} new questions a run): "
        "p50 ms of each run, alternating",
        ("side", *(f"run {i + 1}" for i in range(RUNS)), "median"),
        [(name, *values, medians[name]) for name, values in p50s.items()],
    )
    ref_p50, tree_p50 = medians[f"ref {commit}"], medians["working tree"]
    emit(
        {
            "benchmark": "versus",
            "ref": commit,
            "ref_p50_ms": ref_p50,
            "tree_p50_ms": tree_p50,
            "ratio": round(tree_p50 / ref_p50, 3),
        }
    )
