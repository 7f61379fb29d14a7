"""The source suite checks data/ against params.data."""

from __future__ import annotations

import json
import shutil

from seedvr.config import SourceDataParams
from seedvr.data.validation import validate_sources


def test_generated_sources_pass(tiny_sources, tiny_source_params):
    report = validate_sources(tiny_sources, SourceDataParams(**tiny_source_params))
    assert report.success, report.failures
    assert report.statistics["clips"] == tiny_source_params["clips"]


def test_wrong_size_and_unlisted_clip_are_named(tiny_sources, tiny_source_params, tmp_path):
    data = shutil.copytree(tiny_sources, tmp_path / "data")
    report = validate_sources(data, SourceDataParams(**{**tiny_source_params, "width": 64}))
    assert not report.success
    assert len(report.failures) == tiny_source_params["clips"]
    assert all("48x32 (WxH); expected 64x32" in failure for failure in report.failures)

    sources = json.loads((data / "sources.json").read_text())
    sources["clip_specs"] = sources["clip_specs"][1:]
    (data / "sources.json").write_text(json.dumps(sources))
    report = validate_sources(data, SourceDataParams(**tiny_source_params))
    assert report.failures == ["sources: clip_0000: clip_0000.mkv is in the folder but not listed in sources.json"]
