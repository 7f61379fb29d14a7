"""Training and validation data: fresh synthetic damage every epoch, a fixed validation set.

Training clips are the *clean* clips of the damaged dataset's train split, cut into random
crops of ``clip_frames`` x ``crop_size`` and damaged anew each epoch by the damage generator,
so the model never sees the same hole twice. Validation uses the dataset's own val split
(damage fixed on disk), centre-cropped, so its loss is comparable between epochs and runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from seedvr.data import apply_damage, read_manifest
from seedvr.errors import SeedVRError
from seedvr.io import read_mask, read_video
from seedvr.train.samples import prepare_sample


def random_crop(video: np.ndarray, frames: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """A random ``frames`` x ``size`` x ``size`` window (smaller clips give what they have)."""
    count, height, width = video.shape[:3]
    frames, crop_h, crop_w = min(frames, count), min(size, height), min(size, width)
    t0 = int(rng.integers(0, count - frames + 1))
    y0 = int(rng.integers(0, height - crop_h + 1))
    x0 = int(rng.integers(0, width - crop_w + 1))
    crop = video[t0 : t0 + frames, y0 : y0 + crop_h, x0 : x0 + crop_w]
    if rng.random() < 0.5:
        crop = crop[:, :, ::-1]
    if rng.random() < 0.5:
        crop = crop[::-1]  # time reversal: motion statistics stay natural, data doubles
    return np.ascontiguousarray(crop)


def centre_crop(video: np.ndarray, frames: int, size: int) -> np.ndarray:
    """The centred ``frames`` x ``size`` x ``size`` window of a clip (or array)."""
    count, height, width = video.shape[:3]
    frames, crop_h, crop_w = min(frames, count), min(size, height), min(size, width)
    t0, y0, x0 = (count - frames) // 2, (height - crop_h) // 2, (width - crop_w) // 2
    return np.ascontiguousarray(video[t0 : t0 + frames, y0 : y0 + crop_h, x0 : x0 + crop_w])


class RandomDamageClips(Dataset):
    """Random crops of clean clips with fresh damage; the same (seed, epoch, index) gives the same sample."""

    def __init__(
        self,
        clean_clips: Sequence[np.ndarray],
        clip_frames: int,
        crop_size: int,
        samples_per_epoch: int,
        kinds: Sequence[str],
        mask_ratio: tuple[float, float],
        seed: int = 0,
        epoch: int = 0,
    ):
        if not clean_clips:
            raise SeedVRError("no training clips: the train split is empty")
        self.clean_clips = list(clean_clips)
        self.clip_frames, self.crop_size = clip_frames, crop_size
        self.samples_per_epoch = samples_per_epoch
        self.kinds, self.mask_ratio = tuple(kinds), mask_ratio
        self.seed, self.epoch = seed, epoch

    def __len__(self) -> int:
        return self.samples_per_epoch

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        rng = np.random.default_rng([self.seed, self.epoch, index])
        clip = self.clean_clips[int(rng.integers(len(self.clean_clips)))]
        clean = random_crop(clip, self.clip_frames, self.crop_size, rng)
        kind = self.kinds[int(rng.integers(len(self.kinds)))]
        damaged, mask, _ = apply_damage(clean, [kind], rng, self.mask_ratio)
        return prepare_sample(clean, damaged, mask)


class PreparedClips(Dataset):
    """Samples prepared once (flows and propagation included) and kept in memory."""

    def __init__(self, samples: list[dict[str, torch.Tensor]]):
        self.samples = samples

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return self.samples[index]


def load_split(manifest_path: Path, split: str) -> list[dict]:
    """The manifest rows of one split, with absolute paths."""
    manifest = read_manifest(manifest_path)
    rows = manifest[manifest["split"] == split]
    root = manifest_path.parent
    return [
        {
            **row,
            "clean_path": root / row["clean_path"],
            "damaged_path": root / row["damaged_path"],
            "mask_path": root / row["mask_path"],
        }
        for row in rows.to_dict("records")
    ]


class SeedVRDataModule(L.LightningDataModule):
    """Train split with fresh damage each epoch; val split fixed on disk."""

    def __init__(
        self,
        dataset_dir: str | Path,
        kinds: Sequence[str],
        mask_ratio: tuple[float, float],
        clip_frames: int = 8,
        crop_size: int = 64,
        batch_size: int = 2,
        samples_per_epoch: int = 32,
        val_clips: int = 4,
        num_workers: int = 0,
        seed: int = 0,
    ):
        super().__init__()
        self.manifest_path = Path(dataset_dir) / "manifest.csv"
        if not self.manifest_path.is_file():
            raise SeedVRError(f"no manifest.csv in {dataset_dir}: run `seedvr damage` first")
        self.kinds, self.mask_ratio = tuple(kinds), tuple(mask_ratio)
        self.clip_frames, self.crop_size = clip_frames, crop_size
        self.batch_size, self.samples_per_epoch = batch_size, samples_per_epoch
        self.val_clips, self.num_workers, self.seed = val_clips, num_workers, seed
        self.train_clips: list[np.ndarray] = []
        self.val_set: PreparedClips | None = None

    def setup(self, stage: str | None = None) -> None:
        if not self.train_clips:
            rows = load_split(self.manifest_path, "train")
            unique_clean = {str(row["clean_path"]): row for row in rows}
            self.train_clips = [read_video(path) for path in sorted(unique_clean)]
        if self.val_set is None:
            rows = load_split(self.manifest_path, "val")[: self.val_clips]
            if not rows:
                raise SeedVRError("the val split is empty: add clips or raise damage.val_fraction")
            self.val_set = PreparedClips([self._prepare_fixed(row) for row in rows])

    def _prepare_fixed(self, row: dict) -> dict[str, torch.Tensor]:
        clean = read_video(row["clean_path"])
        damaged = read_video(row["damaged_path"])
        mask = read_mask(row["mask_path"])
        crop = lambda video: centre_crop(video, self.clip_frames, self.crop_size)  # noqa: E731
        return prepare_sample(crop(clean), crop(damaged), crop(mask))

    def train_dataloader(self) -> DataLoader:
        # Rebuilt every epoch (the trainer reloads it), so each epoch draws fresh damage.
        epoch = self.trainer.current_epoch if self.trainer is not None else 0
        dataset = RandomDamageClips(
            self.train_clips,
            self.clip_frames,
            self.crop_size,
            self.samples_per_epoch,
            self.kinds,
            self.mask_ratio,
            seed=self.seed,
            epoch=epoch,
        )
        generator = torch.Generator().manual_seed(self.seed * 7919 + epoch)
        return DataLoader(
            dataset,
            batch_size=self.batch_size,
            shuffle=True,
            generator=generator,
            num_workers=self.num_workers,
            drop_last=len(dataset) >= self.batch_size,
            persistent_workers=False,
        )

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.val_set, batch_size=self.batch_size, shuffle=False, num_workers=0)
