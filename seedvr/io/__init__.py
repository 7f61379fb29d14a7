"""Video and mask input/output: probing, reading (whole or streamed), atomic writing.

Contracts: a video in memory is ``uint8 [T, H, W, 3]`` RGB, a mask ``bool [T, H, W]`` with
True = damaged. Every user mistake raises :class:`seedvr.errors.SeedVRError` with one line.

Reading (``probe``, ``read_video``, ``read_clip``, ``iter_video_chunks``, ``read_mask``, ``iter_mask_chunks``):
any container FFmpeg reads (mp4, mkv, mov, avi, webm...), a folder of numbered PNG/JPG frames
(numeric order; frame rate from ``fps.txt`` in the folder, else 24) or one image (one frame;
as a mask, applied to every frame). Frame counts are exact and frame rates exact fractions.
A file holding less video than its container declares (cut short) raises
``IncompleteVideoError``; a variable frame rate is described by ``VideoInfo.frame_times``;
sources finer than 8-bit RGB (10-bit, 4:4:4) are read rounded to 8 bits (``seedvr.io.precision``).
Masks: grey >= 128 is damaged, colour uses its brightest channel, transparent is intact; an
image's size is checked from its header before its pixels are decoded.

Writing (``VideoWriter``, ``write_video``, ``MaskWriter``, ``write_mask``), by extension:
``.mkv``/``.avi`` FFV1 lossless (bit-exact), ``.mp4``/``.mov`` H.264 yuv420p at ``crf`` (odd
sizes: 4:4:4 by default, or ``odd_size="pad"``/``"error"``), ``.webm`` VP9, no suffix or a
folder: PNG frames + ``fps.txt``. Audio from ``audio_from`` is copied unchanged when the
container takes its codec, else re-encoded (see :mod:`seedvr.io.audio`). ``timestamps`` keeps
each frame's time (not in AVI or PNG folders, which refuse it); ``precision_from`` keeps a
high-precision source's 16-bit pixels outside the repaired ones in lossless outputs, and
warns of the loss in 8-bit ones. Outputs appear only
when complete (:func:`atomic_output`, also for any other file or folder the project writes).
"""

from seedvr.io.atomic import PendingOutput, atomic_output
from seedvr.io.formats import (
    FPS_SIDECAR,
    IMAGE_EXTENSIONS,
    ODD_SIZE_POLICIES,
    OUTPUT_FORMATS,
    VIDEO_EXTENSIONS,
)
from seedvr.io.info import DEFAULT_FOLDER_FPS, FrameTimes, VideoInfo, parse_fps
from seedvr.io.masks import iter_mask_chunks, read_mask
from seedvr.io.probe import probe
from seedvr.io.reader import clip_start, iter_video_chunks, read_clip, read_video
from seedvr.io.threshold import MASK_THRESHOLD
from seedvr.io.timeline import IncompleteVideoError
from seedvr.io.writer import MaskWriter, VideoWriter, write_mask, write_video

__all__ = [
    "clip_start",
    "DEFAULT_FOLDER_FPS",
    "FPS_SIDECAR",
    "FrameTimes",
    "IMAGE_EXTENSIONS",
    "IncompleteVideoError",
    "MASK_THRESHOLD",
    "MaskWriter",
    "ODD_SIZE_POLICIES",
    "OUTPUT_FORMATS",
    "PendingOutput",
    "VIDEO_EXTENSIONS",
    "VideoInfo",
    "VideoWriter",
    "atomic_output",
    "iter_mask_chunks",
    "iter_video_chunks",
    "parse_fps",
    "probe",
    "read_clip",
    "read_mask",
    "read_video",
    "write_mask",
    "write_video",
]
