"""Fault injection for batch repair: kill -9 a run at random points, rerun it, count what went wrong.

Each trial starts the batch core (:func:`seedvr.batch.run_batch`, method ``telea``) on an
inbox of tiny videos in a subprocess and kills it with SIGKILL at a random point, drawn from
a fixed seed: after a random number of videos has been committed to the ledger, a random
part of one video's repair time later. (Points in progress, not seconds from the start: on a
loaded machine a plain delay lands after the run as often as in it.) It then looks at the
outbox, reruns the batch to completion and looks again. Figures:

- ``lost_inputs``: inputs missing or changed in the inbox, or with no output or no ledger
  entry after the rerun;
- ``partial_outputs``: files under a final (not hidden) name in the outbox that are not a
  complete valid output (a video that does not decode to the clean run's frames, a report
  or ledger that is not whole JSON), counted after each kill and after each rerun;
- ``double_repairs``: videos with more than one ledger entry after the rerun;
- ``torn_ledger_lines``: ledger lines that are not whole JSON after the rerun (the ledger
  ignores them, but a kill should not be able to tear one: a line is a single write);
- ``wrongly_quarantined``: error reports for these good videos, after the rerun;
- ``kills_mid_run``: kills that landed before the run had committed every video;
- ``kills_mid_write``: kills that left a temporary behind, i.e. landed while a file was being
  written (the next run's sweep deletes them: their writer is dead).
- ``temporaries_after_rerun``: hidden temporaries still in the outbox after the rerun (0: swept).

Nothing here asserts: ``tests/batch/test_fault_injection.py`` runs a few trials and does.
Run from the project root (about 4 s a trial on two busy cores)::

    PYTHONPATH=. .venv/bin/python benchmarks/fault_injection.py --trials 20 --out benchmarks/results/fault_injection.json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import cv2
import numpy as np

from seedvr.batch import Ledger, RepairSettings, default_quarantine, run_batch
from seedvr.batch.ledger import LEDGER_NAME
from seedvr.batch.outbox import REPORT_SUFFIX
from seedvr.errors import SeedVRError
from seedvr.io import atomic_output, read_video, write_video
from seedvr.io.atomic import TEMP_MARKER

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = PROJECT_ROOT / "benchmarks" / "results" / "fault_injection.json"
SETTINGS = RepairSettings(method="telea")
OUTPUT_SUFFIX = SETTINGS.output_extension
FRAMES, SIZE = 8, 32
READY, DONE = "ready", "done"


def build_inbox(inbox: Path, videos: int) -> list[str]:
    """``clipNN.mkv`` (random frames, lossless) each with ``clipNN.mask.png``; returns the names."""
    inbox.mkdir(parents=True)
    hole = np.zeros((SIZE, SIZE), dtype=np.uint8)
    hole[8:20, 6:22] = 255
    names = [f"clip{index:02d}" for index in range(videos)]
    for index, name in enumerate(names):
        frames = np.random.default_rng(index).integers(0, 256, (FRAMES, SIZE, SIZE, 3), dtype=np.uint8)
        write_video(inbox / f"{name}.mkv", frames, fps=24)
        cv2.imwrite(str(inbox / f"{name}.mask.png"), hole)
    return names


def fingerprint(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in folder.iterdir() if path.is_file()}


def start_worker(inbox: Path, outbox: Path) -> tuple[subprocess.Popen, float]:
    """A subprocess running the batch, and the time it started the run (after its imports)."""
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))}
    worker = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--worker", str(inbox), str(outbox)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )
    if worker.stdout.readline().strip() != READY:
        worker.kill()
        raise RuntimeError(f"the batch worker did not start: {worker.communicate()[1].strip()}")
    return worker, time.perf_counter()


def clean_run(inbox: Path, outbox: Path) -> float:
    """Run the batch to completion in a worker; returns the seconds the run itself took
    (not the interpreter's exit, which a kill would only cut short)."""
    worker, started = start_worker(inbox, outbox)
    finished = worker.stdout.readline().strip() == DONE
    seconds = time.perf_counter() - started
    _, errors = worker.communicate()
    if not finished or worker.returncode != 0:
        raise RuntimeError(f"the clean batch run failed: {errors.strip()}")
    return seconds


def partial_outputs(outbox: Path, reference: dict[str, np.ndarray]) -> list[str]:
    """Files under a final name that are not a complete, valid output of this batch."""
    # Hidden names (temporaries, the ledger) are never taken for outputs; the quarantine
    # folder is counted by wrongly_quarantined.
    visible = [path for path in sorted(outbox.iterdir()) if not path.name.startswith(".") and not path.is_dir()]
    return [path.name for path in visible if not _is_complete(path, reference)]


def _is_complete(path: Path, reference: dict[str, np.ndarray]) -> bool:
    name = path.name
    if name.endswith(REPORT_SUFFIX):
        return name.removesuffix(REPORT_SUFFIX) in reference and _is_json(path.read_text(encoding="utf-8"))
    if name.endswith(OUTPUT_SUFFIX) and name.removesuffix(OUTPUT_SUFFIX) in reference:
        try:
            return np.array_equal(read_video(path), reference[name.removesuffix(OUTPUT_SUFFIX)])
        except SeedVRError:
            return False
    return False


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except json.JSONDecodeError:
        return False
    return True


def lost_inputs(inbox: Path, before: dict[str, bytes], outbox: Path, names: list[str]) -> list[str]:
    """Inputs gone or changed, and videos without an output or a ledger entry after the rerun."""
    now = fingerprint(inbox)
    changed = [name for name, data in before.items() if now.get(name) != data]
    recorded = {entry["name"] for entry in Ledger(outbox).entries()}
    unrepaired = [name for name in names if name not in recorded or not (outbox / f"{name}{OUTPUT_SUFFIX}").is_file()]
    return changed + unrepaired


def torn_ledger_lines(outbox: Path) -> int:
    ledger = outbox / LEDGER_NAME
    lines = ledger.read_text(encoding="utf-8", errors="replace").splitlines() if ledger.is_file() else []
    return sum(not _is_json(line) for line in lines if line.strip())


def double_repairs(outbox: Path) -> list[str]:
    counts = Counter(entry["name"] for entry in Ledger(outbox).entries())
    return sorted(name for name, count in counts.items() if count > 1)


def wait_for_commits(worker: subprocess.Popen, outbox: Path, commits: int) -> None:
    """Until the ledger holds ``commits`` entries (or the worker has ended)."""
    while worker.poll() is None and len(Ledger(outbox).entries()) < commits:
        time.sleep(0.002)


def temporaries_in(outbox: Path) -> list[str]:
    return sorted(path.name for path in outbox.iterdir() if TEMP_MARKER in path.name)


def run_trial(
    inbox: Path, outbox: Path, names: list[str], reference: dict[str, np.ndarray], after_commits: int, delay: float
) -> dict:
    """Kill a run ``delay`` seconds after its ``after_commits``-th commit, check, rerun to completion
    in this process, check again."""
    before = fingerprint(inbox)
    worker, _ = start_worker(inbox, outbox)
    wait_for_commits(worker, outbox, after_commits)
    time.sleep(delay)
    if worker.poll() is None:
        os.kill(worker.pid, signal.SIGKILL)
    worker.communicate()
    committed = len(Ledger(outbox).entries())
    temporaries = temporaries_in(outbox)
    after_kill = partial_outputs(outbox, reference)
    rerun = run_batch(inbox, outbox, SETTINGS)
    quarantine = default_quarantine(outbox)
    return {
        "after_commits": after_commits,
        "delay_s": round(delay, 4),
        "mid_run": committed < len(names),
        "committed_before_kill": committed,
        "temporaries_after_kill": temporaries,
        "temporaries_after_rerun": temporaries_in(outbox),
        "repaired_by_rerun": sum(result.status == "repaired" for result in rerun),
        "partial_outputs": after_kill + partial_outputs(outbox, reference),
        "lost_inputs": lost_inputs(inbox, before, outbox, names),
        "double_repairs": double_repairs(outbox),
        "torn_ledger_lines": torn_ledger_lines(outbox),
        "wrongly_quarantined": sorted(path.name for path in quarantine.iterdir()) if quarantine.is_dir() else [],
    }


def run_trials(work: Path, trials: int = 20, videos: int = 10, seed: int = 0) -> dict:
    """The whole experiment in ``work``: a clean run for reference and timing, then ``trials`` killed runs."""
    start = time.perf_counter()
    inbox = work / "inbox"
    names = build_inbox(inbox, videos)
    clean = work / "clean"
    clean_seconds = clean_run(inbox, clean)
    reference = {name: read_video(clean / f"{name}{OUTPUT_SUFFIX}") for name in names}
    rng = random.Random(seed)
    outcomes = []
    for trial in range(trials):
        outbox = work / f"outbox-{trial:02d}"
        after_commits, delay = rng.randrange(videos), rng.uniform(0.0, clean_seconds / videos)
        outcomes.append(run_trial(inbox, outbox, names, reference, after_commits, delay))
        shutil.rmtree(outbox)
    return {
        "trials": trials,
        "videos": videos,
        "seed": seed,
        "clean_run_seconds": round(clean_seconds, 3),
        "kills_mid_run": sum(outcome["mid_run"] for outcome in outcomes),
        "kills_mid_write": sum(bool(outcome["temporaries_after_kill"]) for outcome in outcomes),
        "temporaries_after_rerun": sum(len(outcome["temporaries_after_rerun"]) for outcome in outcomes),
        "lost_inputs": sum(len(outcome["lost_inputs"]) for outcome in outcomes),
        "partial_outputs": sum(len(outcome["partial_outputs"]) for outcome in outcomes),
        "double_repairs": sum(len(outcome["double_repairs"]) for outcome in outcomes),
        "torn_ledger_lines": sum(outcome["torn_ledger_lines"] for outcome in outcomes),
        "wrongly_quarantined": sum(len(outcome["wrongly_quarantined"]) for outcome in outcomes),
        "seconds": round(time.perf_counter() - start, 1),
        "per_trial": outcomes,
    }


def worker_main(inbox: str, outbox: str) -> None:
    print(READY, flush=True)
    run_batch(inbox, outbox, SETTINGS)
    print(DONE, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--videos", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0, help="seed of the kill points")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--worker", nargs=2, metavar=("INBOX", "OUTBOX"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker_main(*args.worker)
        return
    with tempfile.TemporaryDirectory(prefix="seedvr-fault-injection-") as work:
        figures = run_trials(Path(work), args.trials, args.videos, args.seed)
    with atomic_output(args.out, make_parents=True) as staging:
        staging.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    summary = {key: value for key, value in figures.items() if key != "per_trial"}
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
