"""Which files are videos, images or frame folders, and how each output extension is encoded.

Output formats (chosen by the output path):

======================  =================================================================
``.mkv``                FFV1 lossless, RGB stored as ``bgr0`` (bit-exact round trip), or
                        ``gbrp16le`` to keep a high-precision source's pixels;
                        masks as ``gray``. Any audio codec is copied as is.
``.avi``                FFV1 lossless as for ``.mkv``; constant frame rate only.
``.mp4`` / ``.mov``     H.264 (libx264) ``yuv420p``, quality set by ``crf`` (default: params.yaml ``repair.crf``).
                        Odd width or height: see :data:`ODD_SIZE_POLICIES`.
``.webm``               VP9 (libvpx-vp9) ``yuv420p`` in constant-quality mode (``crf``).
no suffix or a folder   numbered PNG frames ``frame_000000.png`` + ``fps.txt`` (lossless; 16-bit
                        for a high-precision source); constant frame rate only.
======================  =================================================================
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from seedvr.errors import SeedVRError

VIDEO_EXTENSIONS: frozenset[str] = frozenset(
    {
        ".mp4",
        ".m4v",
        ".mkv",
        ".mov",
        ".avi",
        ".webm",
        ".mpg",
        ".mpeg",
        ".ts",
        ".m2ts",
        ".mts",
        ".flv",
        ".wmv",
        ".ogv",
        ".3gp",
        ".mxf",
        ".y4m",
        ".gif",
    }
)
"""Extensions read as video files (through PyAV / FFmpeg)."""

IMAGE_EXTENSIONS: frozenset[str] = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"})
"""Extensions read as still images (frames in a folder, or a one-image mask)."""

FPS_SIDECAR = "fps.txt"
"""File inside a frame folder holding its frame rate, e.g. ``30000/1001`` or ``25``."""

FRAME_NAME_PATTERN = "frame_{index:06d}.png"
"""Name of each frame written to a PNG folder."""

_WRITTEN_FRAME = re.compile(r"frame_\d+\.png")

ODD_SIZE_POLICIES = ("yuv444p", "pad", "error")
"""What H.264 outputs do with an odd width or height, which 4:2:0 chroma cannot represent:

- ``"yuv444p"`` (default): encode at the exact size with full-resolution chroma (H.264 High
  4:4:4 profile). Size and frame count are kept; some hardware players and browsers refuse it.
- ``"pad"``: pad to even with edge replication and encode ``yuv420p``; plays everywhere, but
  the file is one row/column larger than the input.
- ``"error"``: refuse with a :class:`SeedVRError`.
"""


@dataclass(frozen=True)
class OutputFormat:
    """How one output extension is encoded.

    Attributes:
        extension: the output suffix (``""`` for a PNG frame folder).
        video_codec: encoder name (``None`` for a PNG frame folder).
        pixel_format: pixel format for RGB video.
        mask_pixel_format: pixel format for masks; ``None`` when the format is lossy and
            therefore refused for masks.
        lossless: frames come back bit-exact.
        chroma_halved: 4:2:0 chroma, which needs even sizes in H.264.
        audio_reencode_codec: encoder used when a source audio codec cannot be copied.
        audio_copy_codecs: audio codecs the container takes as they are (``None``: ask FFmpeg).
        crf_range: allowed ``crf`` values (``None``: ``crf`` is ignored, the codec is lossless).
        container_options: muxer options.
        deep_pixel_format: pixel format for 16-bit RGB, used to keep a high-precision source's
            pixels (see :mod:`seedvr.io.precision`); ``None`` when the format is 8-bit only.
        keeps_timestamps: each frame's own timestamp can be stored (variable frame rates);
            AVI counts time in frames and a folder of PNGs has only ``fps.txt``.
    """

    extension: str
    video_codec: str | None
    pixel_format: str
    mask_pixel_format: str | None
    lossless: bool
    chroma_halved: bool = False
    audio_reencode_codec: str | None = None
    audio_copy_codecs: frozenset[str] | None = None
    crf_range: tuple[int, int] | None = None
    container_options: dict[str, str] = field(default_factory=dict)
    deep_pixel_format: str | None = None
    keeps_timestamps: bool = True

    @property
    def is_frame_folder(self) -> bool:
        return self.video_codec is None

    def codec_options(self, crf: int) -> dict[str, str]:
        """Encoder options for this format at quality ``crf``."""
        if self.video_codec == "ffv1":
            # Level 3 adds per-slice checksums (corruption is detected on read) and lets FFmpeg
            # use several threads; a key frame every frame keeps any frame independently seekable.
            return {"level": "3", "slicecrc": "1", "g": "1"}
        if self.video_codec == "libx264":
            return {"crf": str(crf), "preset": "medium"}
        if self.video_codec == "libvpx-vp9":
            # b=0 turns crf into constant quality; row-mt and cpu-used keep VP9 usable on a CPU.
            return {"crf": str(crf), "b": "0", "row-mt": "1", "deadline": "good", "cpu-used": "4"}
        return {}

    def check_crf(self, crf: int) -> None:
        if self.crf_range is None:
            return
        low, high = self.crf_range
        if isinstance(crf, bool) or not isinstance(crf, int) or not low <= crf <= high:
            raise SeedVRError(f"crf must be an integer from {low} to {high} for {self.extension}, got {crf!r}")


_FFV1 = dict(video_codec="ffv1", pixel_format="bgr0", mask_pixel_format="gray", lossless=True, deep_pixel_format="gbrp16le")
_H264 = dict(
    video_codec="libx264",
    pixel_format="yuv420p",
    mask_pixel_format=None,
    lossless=False,
    chroma_halved=True,
    audio_reencode_codec="aac",
    crf_range=(0, 51),
)

OUTPUT_FORMATS: dict[str, OutputFormat] = {
    ".mkv": OutputFormat(".mkv", audio_reencode_codec="flac", **_FFV1),
    ".avi": OutputFormat(".avi", audio_reencode_codec="pcm_s16le", keeps_timestamps=False, **_FFV1),
    # faststart moves the index to the front so a browser can play while downloading.
    ".mp4": OutputFormat(".mp4", container_options={"movflags": "+faststart"}, **_H264),
    ".mov": OutputFormat(".mov", container_options={"movflags": "+faststart"}, **_H264),
    ".webm": OutputFormat(
        ".webm",
        video_codec="libvpx-vp9",
        pixel_format="yuv420p",
        mask_pixel_format=None,
        lossless=False,
        audio_reencode_codec="libopus",
        audio_copy_codecs=frozenset({"opus", "vorbis"}),
        crf_range=(0, 63),
    ),
}

PNG_FOLDER = OutputFormat(
    "",
    video_codec=None,
    pixel_format="rgb24",
    mask_pixel_format="gray",
    lossless=True,
    deep_pixel_format="rgb48",
    keeps_timestamps=False,
)


def output_format_for(path: Path) -> OutputFormat:
    """Pick the output format from ``path``: its extension, or a PNG folder.

    Raises:
        SeedVRError: unsupported extension, or an existing file where a folder would go.
    """
    if path.is_dir():
        return PNG_FOLDER
    suffix = path.suffix.lower()
    if suffix in OUTPUT_FORMATS:
        return OUTPUT_FORMATS[suffix]
    if suffix:
        choices = ", ".join(sorted(OUTPUT_FORMATS))
        raise SeedVRError(f"unsupported output extension {suffix!r} for {path}; use {choices} or a folder")
    if os.path.lexists(path):
        raise SeedVRError(f"{path} is an existing file, not a folder; give the output an extension such as .mkv")
    return PNG_FOLDER


def check_replaceable_frame_folder(path: Path) -> None:
    """Refuse to replace a folder that holds anything but frames and ``fps.txt`` we wrote.

    Writing frames to an existing folder replaces it as a whole (atomically); this keeps a
    mistyped output path (a home folder, a data folder) from being wiped.
    """
    if not path.is_dir():
        return
    foreign = [entry.name for entry in path.iterdir() if entry.name != FPS_SIDECAR and not _WRITTEN_FRAME.fullmatch(entry.name)]
    if foreign:
        raise SeedVRError(
            f"output folder {path} already holds other files (e.g. {sorted(foreign)[0]!r}); choose a new or empty folder"
        )


def input_kind(path: Path) -> str:
    """``"folder"``, ``"image"`` or ``"video"`` for an existing input path.

    Raises:
        SeedVRError: the path does not exist or its extension is not a known video or image.
    """
    if not os.path.lexists(path):
        raise SeedVRError(f"{path} does not exist")
    if path.is_dir():
        return "folder"
    suffix = path.suffix.lower()
    if suffix in IMAGE_EXTENSIONS:
        return "image"
    if suffix in VIDEO_EXTENSIONS:
        return "video"
    raise SeedVRError(
        f"unsupported input extension {suffix or '(none)'!r} for {path}; "
        "give a video file (.mp4, .mkv, .mov, .avi, .webm...), an image or a folder of frames"
    )
