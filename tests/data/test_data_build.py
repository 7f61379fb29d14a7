"""The damaged dataset: layout, manifest, splits by source, determinism, all-or-nothing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from data_helpers import CLIPS, DAMAGE_SEED, FRAMES, HEIGHT, WIDTH, folder_bytes

from seedvr.config import DAMAGE_KINDS
from seedvr.data import build as build_module
from seedvr.data.build import assign_splits, build_damaged_dataset
from seedvr.data.dataset import ManifestClipDataset
from seedvr.data.manifest import MANIFEST_COLUMNS, SPLITS, read_manifest, source_clip_id
from seedvr.errors import SeedVRError
from seedvr.io import read_mask, read_video


def test_manifest_has_exactly_the_columns(dataset_dir):
    header = (dataset_dir / "manifest.csv").read_text().splitlines()[0]
    assert tuple(header.split(",")) == MANIFEST_COLUMNS
    table = read_manifest(dataset_dir / "manifest.csv")
    assert len(table) == CLIPS * len(DAMAGE_KINDS)
    assert (table["frames"] == FRAMES).all() and (table["height"] == HEIGHT).all() and (table["width"] == WIDTH).all()
    assert (table["fps"] == "24/1").all()
    assert table["mask_ratio"].between(0.01, 0.25).all()


def test_splits_are_disjoint_by_source_and_hold_every_kind(dataset_dir):
    table = read_manifest(dataset_dir / "manifest.csv")
    table["source"] = table["clip_id"].map(source_clip_id)
    assert table["source"].nunique() == CLIPS
    assert (table.groupby("source")["split"].nunique() == 1).all()
    for split in SPLITS:
        kinds = set(table.loc[table["split"] == split, "damage_kinds"])
        assert kinds == set(DAMAGE_KINDS), split


def test_files_agree_with_the_manifest(dataset_dir, source_dir):
    table = read_manifest(dataset_dir / "manifest.csv")
    for row in table.iloc[:: len(DAMAGE_KINDS) + 1].to_dict("records"):  # one clip per source, varied kinds
        clean = read_video(dataset_dir / row["clean_path"])
        damaged = read_video(dataset_dir / row["damaged_path"])
        mask = read_mask(dataset_dir / row["mask_path"])
        assert np.array_equal(clean, read_video(source_dir / f"{source_clip_id(row['clip_id'])}.mkv"))
        assert np.array_equal(damaged[~mask], clean[~mask])
        assert mask.mean() == pytest.approx(row["mask_ratio"], abs=1e-8)


def test_dataset_reads_one_split(dataset_dir):
    val = ManifestClipDataset(dataset_dir, split="val")
    assert len(val) == len(DAMAGE_KINDS) * 1 * (CLIPS // 5)  # round(6 * 0.2) = 1 source
    clip = val[0]
    assert clip["split"] == "val" and clip["mask"].shape == clip["clean"].shape[:3]


def test_same_seed_same_bytes_other_seed_differs(tmp_path, source_dir, dataset_dir):
    kinds = ("blotch", "logo")
    first = folder_bytes(build_damaged_dataset(source_dir, tmp_path / "a", seed=DAMAGE_SEED, kinds=kinds).parent)
    again = folder_bytes(build_damaged_dataset(source_dir, tmp_path / "b", seed=DAMAGE_SEED, kinds=kinds).parent)
    other = folder_bytes(build_damaged_dataset(source_dir, tmp_path / "c", seed=DAMAGE_SEED + 1, kinds=kinds).parent)
    assert first == again
    # The same seed damages a (source, kind) the same way whatever other kinds are built.
    full = folder_bytes(dataset_dir)
    assert all(full[name] == data for name, data in first.items() if name != "manifest.csv")
    damaged = [name for name in first if name.endswith(("damaged.mkv", "mask.mkv"))]
    assert all(other[name] != first[name] for name in damaged)


def test_assign_splits_sizes():
    names = [f"clip_{index}" for index in range(10)]
    splits = assign_splits(names, seed=0, val_fraction=0.2, test_fraction=0.1)
    counts = pd.Series(splits).value_counts().to_dict()
    assert counts == {"train": 7, "val": 2, "test": 1}
    assert assign_splits(names, 0, 0.2, 0.1) == splits and assign_splits(names, 1, 0.2, 0.1) != splits
    assert set(assign_splits(["a", "b"], 0, 0.2, 0.2).values()) == {"train"}


def test_an_error_midway_leaves_nothing(tmp_path, source_dir, monkeypatch):
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk on fire")
        return real(*args, **kwargs)

    real = build_module.apply_damage
    monkeypatch.setattr(build_module, "apply_damage", failing)
    with pytest.raises(RuntimeError, match="disk on fire"):
        build_damaged_dataset(source_dir, tmp_path / "new" / "dataset", seed=1, kinds=("dust", "logo"))
    assert list(tmp_path.iterdir()) == []


def test_rebuild_replaces_an_earlier_dataset_but_not_other_folders(tmp_path, source_dir):
    out = tmp_path / "dataset"
    build_damaged_dataset(source_dir, out, seed=1, kinds=("dust",))
    build_damaged_dataset(source_dir, out, seed=1, kinds=("logo",))
    assert set(read_manifest(out)["damage_kinds"]) == {"logo"}
    assert sorted(path.name for path in tmp_path.iterdir()) == ["dataset"]
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.txt").write_text("do not delete")
    with pytest.raises(SeedVRError, match="holds files but no manifest.csv"):
        build_damaged_dataset(source_dir, precious, seed=1, kinds=("dust",))
    assert (precious / "thesis.txt").read_text() == "do not delete"


def test_read_manifest_rejects_bad_files(tmp_path, dataset_dir):
    table = pd.read_csv(dataset_dir / "manifest.csv", dtype=str)
    bad = tmp_path / "manifest.csv"
    table.drop(columns=["seed"]).to_csv(bad, index=False)
    with pytest.raises(SeedVRError, match="columns must be"):
        read_manifest(bad)
    table.assign(split="holdout").to_csv(bad, index=False)
    with pytest.raises(SeedVRError, match="unknown split"):
        read_manifest(bad, check_files=False)
    table.assign(fps="fast").to_csv(bad, index=False)
    with pytest.raises(SeedVRError, match="frame rate"):
        read_manifest(bad, check_files=False)
    table.to_csv(bad, index=False)  # paths relative to a folder that lacks the clips
    with pytest.raises(SeedVRError, match="does not exist"):
        read_manifest(bad)
    with pytest.raises(SeedVRError, match="not found"):
        read_manifest(tmp_path / "missing.csv")
