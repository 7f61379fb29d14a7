"""Test media: random frames, small videos with an audio stream, a panning clip with a hole.

Source videos are made with PyAV directly (not with ``seedvr.io``) so that the writer under
test is never also the thing that produced its own reference input.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

SAMPLE_RATE = 48_000
AUDIO_SECONDS = 1.0


def noise_video(frames: int, height: int, width: int, seed: int = 0) -> np.ndarray:
    """Uniform random uint8 RGB frames: any lossy step or off-by-one shows up at once."""
    return np.random.default_rng(seed).integers(0, 256, (frames, height, width, 3), dtype=np.uint8)


def smooth_video(frames: int, height: int, width: int) -> np.ndarray:
    """Moving gradients: content a lossy codec keeps close, so its errors stay small."""
    y, x = np.mgrid[0:height, 0:width]
    planes = [np.stack([x * 2 + t * 3, y * 3 + t, (x + y) // 2 + t * 5], axis=-1) for t in range(frames)]
    return (np.stack(planes) % 256).astype(np.uint8)


def make_video_with_audio(path: Path, audio_codec: str, fps: Fraction, frames: int) -> None:
    """A small H.264 video with a 440 Hz stereo sine of ``AUDIO_SECONDS`` in ``audio_codec``."""
    with av.open(str(path), mode="w") as container:
        video = container.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        audio = container.add_stream(audio_codec, rate=SAMPLE_RATE)
        audio.layout = "stereo"
        for index, frame in enumerate(smooth_video(frames, 48, 64)):
            video_frame = av.VideoFrame.from_ndarray(frame, format="rgb24")
            video_frame.pts = index
            container.mux(video.encode(video_frame))
        time = np.arange(int(SAMPLE_RATE * AUDIO_SECONDS)) / SAMPLE_RATE
        sine = (0.3 * np.sin(2 * np.pi * 440 * time)).astype(np.float32)
        for start in range(0, sine.size, 1024):
            block = sine[start : start + 1024]
            audio_frame = av.AudioFrame.from_ndarray(np.stack([block, block]), format="fltp", layout="stereo")
            audio_frame.sample_rate = SAMPLE_RATE
            audio_frame.pts = start
            audio_frame.time_base = Fraction(1, SAMPLE_RATE)
            container.mux(audio.encode(audio_frame))
        container.mux(audio.encode(None))
        container.mux(video.encode(None))


def make_panning_clip(frames: int = 8, size: int = 64, step: int = 3, hole: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """A camera pan over a real photograph with a static square hole in the middle."""
    import cv2
    from skimage import data

    photo = data.astronaut()
    crop = 256
    clip = np.stack(
        [
            cv2.resize(
                photo[60 : 60 + crop, 40 + step * 4 * t : 40 + step * 4 * t + crop], (size, size), interpolation=cv2.INTER_AREA
            )
            for t in range(frames)
        ]
    )
    masks = np.zeros(clip.shape[:3], dtype=bool)
    start = (size - hole) // 2
    masks[:, start : start + hole, start : start + hole] = True
    return clip, masks


def make_vfr_video(path: Path, pts_ms: list[int], size: int = 32) -> np.ndarray:
    """An FFV1 video whose frames are shown at ``pts_ms`` (milliseconds): a variable frame rate.

    Returns the frames written (noise, so any reordering shows).
    """
    frames = noise_video(len(pts_ms), size, size, seed=3)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("ffv1", rate=25)
        stream.width, stream.height, stream.pix_fmt = size, size, "bgr0"
        stream.time_base = stream.codec_context.time_base = Fraction(1, 1000)
        for frame, pts in zip(frames, pts_ms):
            video_frame = av.VideoFrame.from_ndarray(frame, format="rgb24")
            video_frame.pts, video_frame.time_base = pts, Fraction(1, 1000)
            container.mux(stream.encode(video_frame))
        container.mux(stream.encode(None))
    return frames


def make_high_depth_video(path: Path, pixel_format: str = "yuv420p10le", frames: int = 4, size: int = 32) -> None:
    """A lossless FFV1 video in a pixel format finer than 8-bit RGB (10-bit, 4:4:4...), from 16-bit noise."""
    deep = np.random.default_rng(4).integers(0, 65536, (frames, size, size, 3), dtype=np.uint16)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("ffv1", rate=25)
        stream.width, stream.height, stream.pix_fmt = size, size, pixel_format
        for index, frame in enumerate(deep):
            video_frame = av.VideoFrame.from_ndarray(frame, format="rgb48le")
            video_frame.pts = index
            container.mux(stream.encode(video_frame))
        container.mux(stream.encode(None))


def decoded_timestamps_and_rgb48(path: Path) -> tuple[list[float], list[np.ndarray]]:
    """Each frame's time in seconds and its pixels as 16-bit RGB, straight from PyAV."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(stream))
        return [float(frame.pts * frame.time_base) for frame in frames], [frame.to_ndarray(format="rgb48le") for frame in frames]


def make_film_clip(frames: int = 8, size: int = 64, seed: int = 5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(clean, damaged, mask)``: a procedural clip (camera over a photograph, sprites) with
    film damage (scratches, blotches, dust) from the project's own generators."""
    from seedvr.data.damage import apply_damage
    from seedvr.data.photos import PHOTO_NAMES
    from seedvr.data.synth import make_clip_spec, render_clip

    rng = np.random.default_rng(seed)
    spec = make_clip_spec(rng, "film", "coffee", frames, size, size, Fraction(24), PHOTO_NAMES)
    clean = render_clip(spec)
    damaged, mask, _ = apply_damage(clean, ("scratch", "blotch", "dust"), rng, (0.01, 0.04))
    return clean, damaged, mask
