"""Data: procedural source clips, synthetic damage, the damaged dataset and its manifest.

Names load lazily (PEP 562) so importing one submodule, e.g. the manifest reader or the
validation suites, does not pull in video I/O or OpenCV drawing code it does not need.
"""

from __future__ import annotations

from seedvr._lazy import lazy_getattr

_LAZY_EXPORTS = {
    # synthetic damage
    "DAMAGE_KINDS": "seedvr.data.damage",
    "KINDS_ALLOWING_EMPTY_FRAMES": "seedvr.data.damage",
    "MAX_MASK_RATIO": "seedvr.data.damage",
    "DamageInfo": "seedvr.data.damage",
    "DamageResult": "seedvr.data.damage",
    "apply_damage": "seedvr.data.damage",
    "check_kinds": "seedvr.data.damage",
    "check_mask_ratio": "seedvr.data.damage",
    # procedural source clips
    "PHOTO_NAMES": "seedvr.data.photos",
    "load_photo": "seedvr.data.photos",
    "ClipSpec": "seedvr.data.synth",
    "make_clip_spec": "seedvr.data.synth",
    "render_clip": "seedvr.data.synth",
    "plan_source_clips": "seedvr.data.synth",
    "SOURCES_FILE": "seedvr.data.synth",
    "generate_source_clips": "seedvr.data.synth",
    # damaged dataset and manifest
    "MANIFEST_COLUMNS": "seedvr.data.manifest",
    "PATH_COLUMNS": "seedvr.data.manifest",
    "SPLITS": "seedvr.data.manifest",
    "ManifestRow": "seedvr.data.manifest",
    "read_manifest": "seedvr.data.manifest",
    "write_manifest": "seedvr.data.manifest",
    "format_fps": "seedvr.data.manifest",
    "source_clip_id": "seedvr.data.manifest",
    "variant_clip_id": "seedvr.data.manifest",
    "MANIFEST_FILE": "seedvr.data.manifest",
    "parse_fps": "seedvr.data.manifest",
    "assign_splits": "seedvr.data.build",
    "build_damaged_dataset": "seedvr.data.build",
    "find_source_clips": "seedvr.data.build",
    # datasets for training
    "ManifestClipDataset": "seedvr.data.dataset",
    "load_damaged_clip": "seedvr.data.dataset",
}

__all__ = sorted(_LAZY_EXPORTS)


__getattr__ = lazy_getattr("seedvr.data", _LAZY_EXPORTS, globals())
