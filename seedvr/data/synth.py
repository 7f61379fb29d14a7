"""Procedural source clips: a camera moving over a real photo, sprites crossing it, light drifting.

Each clip is described by a :class:`ClipSpec` (plain numbers, saved in ``sources.json``)
and rendered from it alone, so the same spec always gives the same pixels:

- camera: pan, zoom and a small roll over a background photo, each a sum of slow sinusoids
  (smooth trajectories, no jerks), rendered with one ``cv2.warpAffine`` per frame;
- sprites: patches cut from *other* photos with soft alpha (an irregular blob or a real
  silhouette) gliding along smooth paths, so they occlude and uncover the background -
  the motion that propagation-based repair has to handle;
- lighting: a slow global gain and colour drift, as with auto-exposure or clouds;
- sway (a share of clips, off by default): the background displaced by travelling waves of a
  few pixels inside a soft region, the non-rigid motion of foliage, water or cloth that no
  camera or sprite motion gives and that real footage is full of.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from seedvr.data.damage.drawing import irregular_polygons
from seedvr.data.photos import PHOTO_NAMES, SILHOUETTE_NAMES, load_photo, load_silhouette
from seedvr.errors import SeedVRError
from seedvr.io.paths import make_missing_parents

SOURCES_FILE = "sources.json"
CLIP_ID_PATTERN = "clip_{index:04d}"
MAX_CLIP_SIDE = 8192
MIN_CLIP_SIDE = 8


@dataclass(frozen=True)
class Wave:
    """A smooth signal of time ``t`` in seconds: ``offset + sum_k a_k sin(2 pi f_k t + p_k)``."""

    offset: float
    amplitudes: tuple[float, ...]
    frequencies: tuple[float, ...]
    phases: tuple[float, ...]

    def at(self, seconds: np.ndarray) -> np.ndarray:
        t = np.asarray(seconds, dtype=np.float64)[:, None]
        waves = np.asarray(self.amplitudes) * np.sin(2.0 * np.pi * np.asarray(self.frequencies) * t + np.asarray(self.phases))
        return self.offset + waves.sum(axis=1)


def random_wave(rng: np.random.Generator, amplitude: float, max_hz: float, offset: float = 0.0, terms: int = 3) -> Wave:
    """Sum of ``terms`` sinusoids below ``max_hz`` whose peak never exceeds ``amplitude``."""
    weights = rng.dirichlet(np.ones(terms))
    return Wave(
        offset=_short(offset),
        amplitudes=tuple(_short(w * amplitude) for w in weights),
        frequencies=tuple(_short(f) for f in rng.uniform(0.02, max_hz, terms)),
        phases=tuple(_short(p) for p in rng.uniform(0.0, 2.0 * np.pi, terms)),
    )


def _short(value: float) -> float:
    """Specs keep 5 decimals: ``sources.json`` stays small and still renders the same clip."""
    return round(float(value), 5)


@dataclass(frozen=True)
class CameraSpec:
    """The view into the background photo, in pixels of the photo resized by ``photo_scale``."""

    photo: str
    photo_scale: float
    center_x: Wave
    center_y: Wave
    log_zoom: Wave  # > 0 sees more of the photo (zoom out)
    roll_degrees: Wave


@dataclass(frozen=True)
class SpriteSpec:
    """A patch of another photo with a soft outline, moving over the scene."""

    photo: str
    shape: str  # "blob" or a silhouette name
    crop: tuple[int, int, int]  # (row, col, side) of the square cut from the photo
    size: int  # side of the sprite in output pixels
    outline_seed: int  # draws the blob's outline
    x: Wave
    y: Wave
    angle_degrees: Wave
    log_scale: Wave


@dataclass(frozen=True)
class LightingSpec:
    """Slow exposure and white-balance drift (log gains; green follows the global gain)."""

    log_gain: Wave
    log_red: Wave
    log_blue: Wave


@dataclass(frozen=True)
class TravellingWave:
    """``amplitude * sin(2 pi ((x, y) . direction / wavelength - hz t) + phase)`` over the photo."""

    amplitude: float
    wavelength: float  # pixels of the scaled photo
    direction_degrees: float
    hz: float
    phase: float

    def at(self, x: np.ndarray, y: np.ndarray, seconds: float) -> np.ndarray:
        angle = math.radians(self.direction_degrees)
        along = (x * math.cos(angle) + y * math.sin(angle)) / self.wavelength
        return self.amplitude * np.sin(2.0 * np.pi * (along - self.hz * seconds) + self.phase)


@dataclass(frozen=True)
class SwaySpec:
    """Non-rigid background motion: photo point ``p`` is seen at ``p + envelope(p) * d(p, t)``.

    ``d`` sums short travelling waves per axis (leaves in wind, ripples); the envelope, a
    still, slow field clipped to [0, 1], confines them to part of the scene so rigid and
    swaying picture meet inside one clip, as a tree against a wall does.
    """

    dx: tuple[TravellingWave, ...]
    dy: tuple[TravellingWave, ...]
    envelope: tuple[TravellingWave, ...]  # hz 0: the region does not move over the photo
    envelope_offset: float

    def displacement(self, x: np.ndarray, y: np.ndarray, seconds: float) -> tuple[np.ndarray, np.ndarray]:
        weight = np.clip(self.envelope_offset + sum(wave.at(x, y, 0.0) for wave in self.envelope), 0.0, 1.0)
        return weight * sum(wave.at(x, y, seconds) for wave in self.dx), weight * sum(wave.at(x, y, seconds) for wave in self.dy)


@dataclass(frozen=True)
class ClipSpec:
    """Everything needed to render one clip, JSON-friendly (see :func:`render_clip`)."""

    clip_id: str
    frames: int
    width: int
    height: int
    fps: str
    camera: CameraSpec
    sprites: tuple[SpriteSpec, ...]
    lighting: LightingSpec
    sway: SwaySpec | None = None

    def to_dict(self) -> dict:
        spec = asdict(self)
        if self.sway is None:
            del spec["sway"]  # clips without sway describe themselves as before it existed
        return spec


def make_clip_spec(
    rng: np.random.Generator,
    clip_id: str,
    background: str,
    frames: int,
    width: int,
    height: int,
    fps: Fraction,
    photos: Sequence[str] = PHOTO_NAMES,
    sway_share: float = 0.0,
) -> ClipSpec:
    """Draw the motion, sprites and lighting of a clip over ``background``; sprites come from
    ``photos``; a ``sway_share`` of clips also sway (drawn last, so the rest does not change)."""
    photo_h, photo_w = load_photo(background).shape[:2]
    # The view covers 45-70 % of the photo, so there is room to pan and zoom inside it.
    coverage = rng.uniform(0.45, 0.7)
    photo_scale = max(width / (coverage * photo_w), height / (coverage * photo_h))
    scaled_w, scaled_h = photo_w * photo_scale, photo_h * photo_scale
    zoom = math.log(rng.uniform(1.03, 1.12))
    view_w, view_h = width * math.exp(zoom), height * math.exp(zoom)
    room_x = max(scaled_w - view_w, 0.0) / 2.0
    room_y = max(scaled_h - view_h, 0.0) / 2.0
    camera = CameraSpec(
        photo=background,
        photo_scale=_short(photo_scale),
        center_x=random_wave(rng, 0.8 * room_x, 0.25, offset=scaled_w / 2.0),
        center_y=random_wave(rng, 0.8 * room_y, 0.25, offset=scaled_h / 2.0),
        log_zoom=random_wave(rng, zoom, 0.2),
        roll_degrees=random_wave(rng, rng.uniform(0.5, 4.0), 0.2),
    )
    others = [name for name in photos if name != background]
    sprites = tuple(_make_sprite_spec(rng, str(rng.choice(others)), width, height) for _ in range(int(rng.integers(1, 4))))
    lighting = LightingSpec(
        log_gain=random_wave(rng, math.log(rng.uniform(1.03, 1.15)), 0.15),
        log_red=random_wave(rng, math.log(rng.uniform(1.0, 1.05)), 0.1),
        log_blue=random_wave(rng, math.log(rng.uniform(1.0, 1.05)), 0.1),
    )
    sway = _make_sway_spec(rng) if sway_share > 0.0 and rng.random() < sway_share else None
    return ClipSpec(clip_id, frames, width, height, _fps_text(fps), camera, sprites, lighting, sway)


def _make_sway_spec(rng: np.random.Generator) -> SwaySpec:
    """Waves of 6-32 px at 0.3-2 Hz, 1-4 px in all: at 24 fps a point moves up to about two
    pixels between frames and neighbours a few pixels apart move differently, as leaves do."""
    amplitude = rng.uniform(1.0, 4.0)

    def waves(total: float, count: int, moving: bool) -> tuple[TravellingWave, ...]:
        shares = rng.dirichlet(np.ones(count))
        return tuple(
            TravellingWave(
                amplitude=_short(share * total),
                wavelength=_short(rng.uniform(6.0, 32.0) if moving else rng.uniform(60.0, 200.0)),
                direction_degrees=_short(rng.uniform(0.0, 360.0)),
                hz=_short(rng.uniform(0.3, 2.0)) if moving else 0.0,
                phase=_short(rng.uniform(0.0, 2.0 * np.pi)),
            )
            for share in shares
        )

    return SwaySpec(
        dx=waves(amplitude, 3, moving=True),
        dy=waves(amplitude, 3, moving=True),
        envelope=waves(1.5, 2, moving=False),
        envelope_offset=_short(rng.uniform(0.0, 1.0)),
    )


def _make_sprite_spec(rng: np.random.Generator, photo: str, width: int, height: int) -> SpriteSpec:
    photo_h, photo_w = load_photo(photo).shape[:2]
    side = int(rng.uniform(0.25, 0.5) * min(photo_h, photo_w))
    crop = (int(rng.integers(0, photo_h - side + 1)), int(rng.integers(0, photo_w - side + 1)), side)
    size = max(4, int(round(rng.uniform(0.25, 0.45) * min(width, height))))
    shape = "blob" if rng.random() < 0.7 else str(rng.choice(SILHOUETTE_NAMES))
    # Wide, slow sweeps: the sprite crosses a good part of the frame within a few seconds.
    return SpriteSpec(
        photo=photo,
        shape=shape,
        crop=crop,
        size=size,
        outline_seed=int(rng.integers(0, 2**31)),
        x=random_wave(rng, rng.uniform(0.2, 0.45) * width, 0.2, offset=rng.uniform(0.25, 0.75) * width),
        y=random_wave(rng, rng.uniform(0.1, 0.3) * height, 0.2, offset=rng.uniform(0.3, 0.7) * height),
        angle_degrees=random_wave(rng, rng.uniform(2.0, 15.0), 0.2, offset=rng.uniform(-20.0, 20.0)),
        log_scale=random_wave(rng, math.log(1.1), 0.2),
    )


def _fps_text(fps: Fraction) -> str:
    return f"{fps.numerator}/{fps.denominator}"


def _sprite_rgba(spec: SpriteSpec) -> np.ndarray:
    """``float32 [S, S, 4]``: colour premultiplied by a soft alpha, alpha last."""
    row, col, side = spec.crop
    size = spec.size
    texture = cv2.resize(load_photo(spec.photo)[row : row + side, col : col + side], (size, size), interpolation=cv2.INTER_AREA)
    if spec.shape == "blob":
        # Drawn 4x larger and averaged down: an anti-aliased, slightly soft outline.
        big = np.zeros((4 * size, 4 * size), np.uint8)
        outline = irregular_polygons(np.random.default_rng(spec.outline_seed), [1.6 * size], vertices=18)[0]
        cv2.fillPoly(big, [np.rint(outline + 2 * size).astype(np.int32)], 255, cv2.LINE_AA)
        alpha = cv2.resize(big, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    else:
        silhouette = load_silhouette(spec.shape)
        fit = size / max(silhouette.shape)
        shape_w, shape_h = max(1, round(silhouette.shape[1] * fit)), max(1, round(silhouette.shape[0] * fit))
        alpha = np.zeros((size, size), np.float32)
        top, left = (size - shape_h) // 2, (size - shape_w) // 2
        alpha[top : top + shape_h, left : left + shape_w] = cv2.resize(
            silhouette, (shape_w, shape_h), interpolation=cv2.INTER_AREA
        )
    alpha = cv2.GaussianBlur(alpha, (0, 0), 0.6 + size / 60.0)
    rgba = np.empty((size, size, 4), np.float32)
    rgba[..., :3] = texture.astype(np.float32) * alpha[..., None]
    rgba[..., 3] = alpha
    return rgba


def _composite_sprite(
    frame: np.ndarray, rgba: np.ndarray, center: tuple[float, float], scale: float, angle_degrees: float
) -> None:
    """Blend a premultiplied sprite into ``frame`` (``float32 [H, W, 3]``), warping only its box."""
    height, width = frame.shape[:2]
    size = rgba.shape[0]
    angle = math.radians(angle_degrees)
    cos_a, sin_a = scale * math.cos(angle), scale * math.sin(angle)
    # Sprite pixel q maps to center + R(angle) * scale * (q - size / 2).
    matrix = np.array(
        [
            [cos_a, -sin_a, center[0] - cos_a * size / 2 + sin_a * size / 2],
            [sin_a, cos_a, center[1] - sin_a * size / 2 - cos_a * size / 2],
        ]
    )
    corners = matrix @ np.array([[0, size, 0, size], [0, 0, size, size], [1, 1, 1, 1]], dtype=np.float64)
    left, top = max(int(math.floor(corners[0].min())), 0), max(int(math.floor(corners[1].min())), 0)
    right, bottom = min(int(math.ceil(corners[0].max())) + 1, width), min(int(math.ceil(corners[1].max())) + 1, height)
    if left >= right or top >= bottom:
        return  # the sprite is outside the frame right now
    matrix[:, 2] -= (left, top)
    warped = cv2.warpAffine(rgba, matrix, (right - left, bottom - top), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    region = frame[top:bottom, left:right]
    region *= 1.0 - warped[..., 3:]
    region += warped[..., :3]


def render_clip(spec: ClipSpec) -> np.ndarray:
    """Render a clip from its spec: ``uint8 [T, H, W, 3]`` RGB."""
    return np.stack(list(iter_clip_frames(spec)))


def iter_clip_frames(spec: ClipSpec) -> Iterator[np.ndarray]:
    """Render a clip frame by frame (``uint8 [H, W, 3]``), so long clips stream to disk."""
    frames, width, height = spec.frames, spec.width, spec.height
    seconds = np.arange(frames) / float(Fraction(spec.fps))
    camera = spec.camera
    photo = load_photo(camera.photo)
    scaled_size = (max(1, round(photo.shape[1] * camera.photo_scale)), max(1, round(photo.shape[0] * camera.photo_scale)))
    interpolation = cv2.INTER_AREA if camera.photo_scale < 1.0 else cv2.INTER_CUBIC
    background = cv2.resize(photo, scaled_size, interpolation=interpolation)

    center_x, center_y = camera.center_x.at(seconds), camera.center_y.at(seconds)
    zoom = np.exp(camera.log_zoom.at(seconds))
    roll = np.radians(camera.roll_degrees.at(seconds))
    sprites = [
        (_sprite_rgba(s), s.x.at(seconds), s.y.at(seconds), np.exp(s.log_scale.at(seconds)), s.angle_degrees.at(seconds))
        for s in spec.sprites
    ]
    gain = spec.lighting.log_gain.at(seconds)
    gains = np.exp(np.stack([gain + spec.lighting.log_red.at(seconds), gain, gain + spec.lighting.log_blue.at(seconds)], axis=1))

    for t in range(frames):
        # Output pixel u maps to photo point centre + zoom * R(roll) * (u - frame centre).
        cos_r, sin_r = zoom[t] * math.cos(roll[t]), zoom[t] * math.sin(roll[t])
        to_photo = np.array(
            [
                [cos_r, -sin_r, center_x[t] - cos_r * width / 2 + sin_r * height / 2],
                [sin_r, cos_r, center_y[t] - sin_r * width / 2 - cos_r * height / 2],
            ]
        )
        frame = _view(background, to_photo, width, height, spec.sway, seconds[t]).astype(np.float32)
        for rgba, xs, ys, scales, angles in sprites:
            _composite_sprite(frame, rgba, (xs[t], ys[t]), scales[t], angles[t])
        frame *= gains[t].astype(np.float32)
        np.clip(frame, 0.0, 255.0, out=frame)
        frame += np.float32(0.5)
        yield frame.astype(np.uint8)


def _view(
    background: np.ndarray, to_photo: np.ndarray, width: int, height: int, sway: SwaySpec | None, seconds: float
) -> np.ndarray:
    """The camera's view of the background; with sway, every photo point displaced first."""
    if sway is None:
        flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
        return cv2.warpAffine(background, to_photo, (width, height), flags=flags, borderMode=cv2.BORDER_REFLECT_101)
    columns, rows = np.meshgrid(np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64))
    photo_x = to_photo[0, 0] * columns + to_photo[0, 1] * rows + to_photo[0, 2]
    photo_y = to_photo[1, 0] * columns + to_photo[1, 1] * rows + to_photo[1, 2]
    shift_x, shift_y = sway.displacement(photo_x, photo_y, seconds)
    return cv2.remap(
        background,
        (photo_x + shift_x).astype(np.float32),
        (photo_y + shift_y).astype(np.float32),
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REFLECT_101,
    )


def check_synth_arguments(clips: int, frames: int, width: int, height: int, seed: int, fps: Fraction) -> None:
    """Refuse absurd requests before anything is rendered or written."""
    for name, value, low, high in (
        ("clips", clips, 1, 100_000),
        ("frames", frames, 1, 1_000_000),
        ("width", width, MIN_CLIP_SIDE, MAX_CLIP_SIDE),
        ("height", height, MIN_CLIP_SIDE, MAX_CLIP_SIDE),
    ):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
            raise SeedVRError(f"{name} must be an integer from {low} to {high}, got {value!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise SeedVRError(f"seed must be a non-negative integer, got {seed!r}")
    if not isinstance(fps, Fraction) or fps <= 0:
        raise SeedVRError(f"fps must be a positive fraction, got {fps!r}")


def plan_source_clips(
    clips: int,
    frames: int,
    width: int,
    height: int,
    seed: int,
    fps: Fraction,
    photos: Sequence[str] = PHOTO_NAMES,
    sway_share: float = 0.0,
) -> list[ClipSpec]:
    """The specs of ``clips`` clips; clip ``i`` depends only on ``(seed, i)``, not on ``clips``.

    Backgrounds go through ``photos`` (names of bundled photos or image paths) in an order
    shuffled by the seed, so consecutive clips show different photos and every photo is
    used before one repeats.
    """
    fps = Fraction(fps)
    check_synth_arguments(clips, frames, width, height, seed, fps)
    if not 0.0 <= sway_share <= 1.0:
        raise SeedVRError(f"sway_share must be from 0 to 1, got {sway_share!r}")
    if len(photos) < 2:
        raise SeedVRError("at least two photos are needed: one for the background, others for the sprites")
    order = np.random.default_rng([seed, zlib.crc32(b"backgrounds")]).permutation(len(photos))
    specs = []
    for index in range(clips):
        rng = np.random.default_rng([seed, index])
        background = photos[order[index % len(order)]]
        clip_id = CLIP_ID_PATTERN.format(index=index)
        specs.append(make_clip_spec(rng, clip_id, background, frames, width, height, fps, photos, sway_share))
    return specs


def generate_source_clips(
    out_dir: str | Path,
    clips: int,
    frames: int,
    width: int,
    height: int,
    seed: int,
    fps: Fraction = Fraction(24),
    progress: Callable[[str], None] | None = None,
    photos: Sequence[str] = PHOTO_NAMES,
    sway_share: float = 0.0,
) -> list[Path]:
    """Render ``clips`` clips into ``out_dir/clip_XXXX.mkv`` (FFV1) plus ``out_dir/sources.json``.

    Deterministic: the same arguments give byte-identical files. Everything is rendered
    into a hidden temporary folder first; only when all clips are written are they moved
    into ``out_dir``, replacing the clips and ``sources.json`` of an earlier run (other
    files in ``out_dir`` are left alone). On any error ``out_dir`` is unchanged.
    """
    from seedvr.io import VideoWriter
    from seedvr.io.atomic import remove_path, temporary_sibling

    fps = _as_fraction(fps)
    specs = plan_source_clips(clips, frames, width, height, seed, fps, photos, sway_share)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise SeedVRError(f"output {out_dir} is a file, not a folder")
    created = make_missing_parents(out_dir)
    staging = temporary_sibling(out_dir)
    succeeded = False
    try:
        staging.mkdir()
        for spec in specs:
            with VideoWriter(staging / f"{spec.clip_id}.mkv", fps, width, height) as writer:
                for frame in iter_clip_frames(spec):
                    writer.write(frame)
            if progress is not None:
                progress(spec.clip_id)
        (staging / SOURCES_FILE).write_text(_sources_json(specs, seed))
        written = _move_into(staging, out_dir)
        succeeded = True
        return written
    finally:
        remove_path(staging)
        if not succeeded and created is not None:
            remove_path(created)


def _sources_json(specs: list[ClipSpec], seed: int) -> str:
    """``sources.json``: the run's arguments, then one clip spec per line (small, diffable)."""
    first = specs[0]
    header = {
        "generator": "seedvr synth",
        "seed": seed,
        "clips": len(specs),
        "frames": first.frames,
        "width": first.width,
        "height": first.height,
        "fps": first.fps,
    }
    lines = ",\n".join("  " + json.dumps(spec.to_dict(), separators=(",", ":")) for spec in specs)
    return json.dumps(header, indent=1)[:-2] + ',\n "clip_specs": [\n' + lines + "\n ]\n}\n"


def _move_into(staging: Path, out_dir: Path) -> list[Path]:
    """Put the staged clips in ``out_dir``: a fresh folder is one rename, else file by file."""
    if not out_dir.exists():
        staging.rename(out_dir)
    else:
        for stale in sorted(out_dir.glob("clip_[0-9][0-9][0-9][0-9].mkv")):
            if not (staging / stale.name).exists():
                stale.unlink()
        for item in sorted(staging.iterdir()):
            item.replace(out_dir / item.name)
    return sorted(out_dir.glob("clip_[0-9][0-9][0-9][0-9].mkv"))


def _as_fraction(fps: Fraction | int | float | str) -> Fraction:
    from seedvr.io import parse_fps

    return parse_fps(fps)
