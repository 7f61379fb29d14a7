"""The damaged dataset: every source clip damaged once per kind, split by source, with a manifest.

Layout of the output folder::

    manifest.csv
    clips/<clip_id>/clean.mkv     the source frames (FFV1, lossless)
    clips/<clip_id>/damaged.mkv   the same frames with synthetic damage painted in
    clips/<clip_id>/mask.mkv      255 where damaged

``clip_id`` is ``<source stem>_<kind>``. Each source clip gets one damaged variant per kind,
and splits are drawn over *source* clips, so no scene appears in two splits and every split
that holds a source holds every kind. The folder is built under a hidden temporary name and
renamed into place at the end: on any error nothing is left behind, and an earlier dataset
at the same path stays as it was. Each source clip is decoded whole (damage is sized over
the whole clip), which suits the short clips a training set is made of.
"""

from __future__ import annotations

import shutil
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from seedvr.config import DAMAGE_KINDS
from seedvr.data.damage import apply_damage, check_kinds, check_mask_ratio
from seedvr.data.manifest import (
    MANIFEST_FILE,
    ManifestRow,
    format_fps,
    join_kinds,
    variant_clip_id,
    write_manifest,
)
from seedvr.errors import SeedVRError
from seedvr.io.paths import make_missing_parents

CLIPS_FOLDER = "clips"
CLEAN_FILE, DAMAGED_FILE, MASK_FILE = "clean.mkv", "damaged.mkv", "mask.mkv"


def find_source_clips(source_dir: str | Path) -> list[Path]:
    """The video files directly inside ``source_dir``, sorted by name."""
    from seedvr.io import VIDEO_EXTENSIONS

    source_dir = Path(source_dir)
    if not source_dir.exists():
        raise SeedVRError(f"source folder {source_dir} does not exist")
    if not source_dir.is_dir():
        raise SeedVRError(f"source {source_dir} is not a folder")
    clips = sorted(
        path
        for path in source_dir.iterdir()
        if path.is_file() and not path.name.startswith(".") and path.suffix.lower() in VIDEO_EXTENSIONS
    )
    if not clips:
        raise SeedVRError(f"source folder {source_dir} holds no video clips (run `seedvr synth` to make some)")
    return clips


def assign_splits(sources: Sequence[str], seed: int, val_fraction: float, test_fraction: float) -> dict[str, str]:
    """Map each source name to ``train``/``val``/``test``, shuffled by ``seed``.

    Split sizes are the rounded fractions, except that with three sources or more a
    non-zero fraction always gets at least one source, and train always keeps one.
    """
    count = len(sources)
    sizes = {}
    for split, fraction in (("val", val_fraction), ("test", test_fraction)):
        size = int(round(count * fraction))
        sizes[split] = max(size, 1) if fraction > 0 and count >= 3 else size
    while sizes["val"] + sizes["test"] > count - 1 and (sizes["val"] or sizes["test"]):
        larger = "val" if sizes["val"] >= sizes["test"] else "test"
        sizes[larger] -= 1
    order = np.random.default_rng([seed, zlib.crc32(b"splits")]).permutation(count)
    shuffled = [sorted(sources)[index] for index in order]
    val = set(shuffled[: sizes["val"]])
    test = set(shuffled[sizes["val"] : sizes["val"] + sizes["test"]])
    return {name: "val" if name in val else "test" if name in test else "train" for name in sources}


def variant_seed(seed: int, source: str, kinds: Sequence[str]) -> int:
    """Seed of one damaged variant: fixed by the dataset seed, the source name and the kinds,
    so adding clips or kinds leaves the other variants unchanged."""
    kind_ids = [DAMAGE_KINDS.index(kind) for kind in kinds]
    entropy = [seed, zlib.crc32(source.encode("utf-8")), *kind_ids]
    return int(np.random.SeedSequence(entropy).generate_state(1, dtype=np.uint32)[0])


def _check_fractions(val_fraction: float, test_fraction: float) -> None:
    for name, value in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0.0 <= value < 1.0:
            raise SeedVRError(f"{name} must be in [0, 1), got {value}")
    if val_fraction + test_fraction >= 1.0:
        raise SeedVRError("val_fraction + test_fraction must leave clips for training")


def build_damaged_dataset(
    source_dir: str | Path,
    out_dir: str | Path,
    seed: int,
    kinds: Sequence[str] = DAMAGE_KINDS,
    mask_ratio: tuple[float, float] = (0.01, 0.25),
    val_fraction: float = 0.2,
    test_fraction: float = 0.2,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Damage every clip of ``source_dir`` once per kind into ``out_dir``; returns the manifest path.

    Deterministic: the same sources and arguments give byte-identical files. An existing
    ``out_dir`` is replaced only if it is an earlier dataset (it holds ``manifest.csv``) or
    is empty, so a mistyped path never wipes unrelated files.
    """
    from seedvr.io import probe, read_video, write_mask, write_video
    from seedvr.io.atomic import PendingOutput, remove_path

    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise SeedVRError(f"seed must be a non-negative integer, got {seed!r}")
    kinds = check_kinds(kinds)
    mask_ratio = check_mask_ratio(mask_ratio)
    _check_fractions(val_fraction, test_fraction)
    sources = find_source_clips(source_dir)
    out_dir = Path(out_dir)
    _check_replaceable(out_dir)
    stems = [path.stem for path in sources]
    if len(set(stems)) != len(stems):
        raise SeedVRError(f"two source clips in {source_dir} share a name ({sorted(stems)}); rename one")
    splits = assign_splits(stems, seed, val_fraction, test_fraction)
    infos = [probe(path) for path in sources]  # every source is checked before any work

    created = make_missing_parents(out_dir)
    pending = PendingOutput(out_dir)
    staging = pending.temp
    try:
        staging.mkdir()
        rows = []
        for source, info in zip(sources, infos):
            frames = read_video(source)
            fps = format_fps(info.fps)
            clean_written: Path | None = None
            for kind in kinds:
                clip_id = variant_clip_id(source.stem, [kind])
                folder = staging / CLIPS_FOLDER / clip_id
                folder.mkdir(parents=True)
                # The clean clip is encoded once per source and copied for its other variants.
                if clean_written is None:
                    clean_written = write_video(folder / CLEAN_FILE, frames, info.fps)
                else:
                    shutil.copyfile(clean_written, folder / CLEAN_FILE)
                clip_seed = variant_seed(seed, source.stem, [kind])
                damaged, mask, damage = apply_damage(frames, [kind], np.random.default_rng(clip_seed), mask_ratio)
                write_video(folder / DAMAGED_FILE, damaged, info.fps)
                write_mask(folder / MASK_FILE, mask, info.fps)
                rows.append(
                    ManifestRow(
                        clip_id=clip_id,
                        split=splits[source.stem],
                        frames=int(frames.shape[0]),
                        height=int(frames.shape[1]),
                        width=int(frames.shape[2]),
                        fps=fps,
                        mask_ratio=damage.mask_ratio,
                        damage_kinds=join_kinds(damage.kinds),
                        seed=clip_seed,
                        clean_path=f"{CLIPS_FOLDER}/{clip_id}/{CLEAN_FILE}",
                        damaged_path=f"{CLIPS_FOLDER}/{clip_id}/{DAMAGED_FILE}",
                        mask_path=f"{CLIPS_FOLDER}/{clip_id}/{MASK_FILE}",
                    )
                )
                if progress is not None:
                    progress(clip_id)
        write_manifest(staging / MANIFEST_FILE, rows)
        pending.commit()
    except BaseException:
        pending.discard()
        if created is not None:
            remove_path(created)
        raise
    return out_dir / MANIFEST_FILE


def _check_replaceable(out_dir: Path) -> None:
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise SeedVRError(f"output {out_dir} is a file, not a folder")
    if any(out_dir.iterdir()) and not (out_dir / MANIFEST_FILE).is_file():
        raise SeedVRError(f"output folder {out_dir} holds files but no {MANIFEST_FILE}; choose a new or empty folder")
