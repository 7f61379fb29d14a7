"""``evaluate_dataset`` behaviour: determinism under a seed, clear errors, safe output folder."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from evaluate_helpers import run_evaluation

from seedvr.data import build_damaged_dataset, generate_source_clips
from seedvr.errors import SeedVRError
from seedvr.evaluate import evaluate_dataset
from seedvr.evaluate.metrics_file import SamplerSettings


def test_same_seed_gives_identical_results_and_another_seed_does_not(noisy_pipeline_dir, tiny_dataset_dir, tmp_path):
    options = {"methods": ("seedvr", "telea"), "max_clips": 1, "strips": 1}
    first = run_evaluation(noisy_pipeline_dir, tiny_dataset_dir, tmp_path / "a", seed=0, **options)
    again = run_evaluation(noisy_pipeline_dir, tiny_dataset_dir, tmp_path / "b", seed=0, **options)
    other = run_evaluation(noisy_pipeline_dir, tiny_dataset_dir, tmp_path / "c", seed=1, **options)

    pd.testing.assert_frame_equal(first.per_clip, again.per_clip)
    assert first.metrics == again.metrics
    # Every file but timings.json is a DVC output of the evaluate stage: the same bytes, so
    # dvc.lock does not change when nothing did.
    written = sorted(path.relative_to(first.out_dir).as_posix() for path in first.out_dir.rglob("*") if path.is_file())
    assert "timings.json" in written and "metrics.json" in written and "report.md" in written
    for name in written:
        if name != "timings.json":
            assert (first.out_dir / name).read_bytes() == (again.out_dir / name).read_bytes(), name
    # The seed really reaches the diffusion noise: a perturbed model's repair depends on it.
    assert first.metrics.methods["seedvr"].psnr_mask != other.metrics.methods["seedvr"].psnr_mask
    assert first.metrics.methods["telea"] == other.metrics.methods["telea"]


def test_by_default_seedvr_runs_the_models_own_steps_as_batch_repair_does(tiny_pipeline_dir, tiny_dataset_dir, tmp_path):
    from seedvr.evaluate.runner import model_sampling_steps

    options = {"steps": None, "methods": ("seedvr",), "max_clips": 1, "strips": 0}
    result = run_evaluation(tiny_pipeline_dir, tiny_dataset_dir, tmp_path / "eval", **options)
    shipped = model_sampling_steps(tiny_pipeline_dir)
    assert result.metrics.sampler == SamplerSettings(steps=shipped, model_steps=shipped, seed=0)
    report = (tmp_path / "eval" / "report.md").read_text()
    assert f"steps {shipped}, seed 0" in report and "not the model's own" not in report


def test_without_seedvr_there_are_no_gains(tiny_dataset_dir, tmp_path):
    result = evaluate_dataset(None, tiny_dataset_dir, methods="telea,ns", out_dir=tmp_path / "eval", max_clips=1, strips=0)
    assert result.metrics.gains is None and result.metrics.sampler is None
    assert list(result.metrics.methods) == ["telea", "ns"]
    # Sections that do not apply are left out of the file, not written as null.
    assert set(json.loads((tmp_path / "eval" / "metrics.json").read_text())) == {"split", "clips", "frames", "methods"}
    assert not any((tmp_path / "eval" / "strips").iterdir())
    assert "No gains" in (tmp_path / "eval" / "report.md").read_text()


def test_an_earlier_evaluation_is_replaced_as_a_whole(tiny_dataset_dir, tmp_path):
    out = tmp_path / "eval"
    out.mkdir()
    (out / "metrics.json").write_text("{}")
    (out / "stale.txt").write_text("from an older run")
    evaluate_dataset(None, tiny_dataset_dir, methods=["telea"], out_dir=out, max_clips=1, strips=0)
    assert not (out / "stale.txt").exists()
    assert json.loads((out / "metrics.json").read_text())["clips"] == 1
    assert not [path for path in tmp_path.iterdir() if path.name.startswith(".")], "no temporary left behind"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"methods": ["telea", "magic"]}, "unknown method 'magic'; valid methods are seedvr, propagate, telea, ns"),
        ({"methods": ["seedvr"]}, "method seedvr needs a model"),
        ({"split": "holdout"}, "unknown split 'holdout'"),
        ({"max_clips": 0}, "max_clips must be at least 1"),
        ({"strips": -1}, "strips must be 0 or more"),
    ],
)
def test_bad_arguments_are_one_line_errors(tiny_dataset_dir, tmp_path, options, message):
    settings = {"methods": ["telea"], "out_dir": tmp_path / "eval", **options}
    with pytest.raises(SeedVRError, match=message.replace("(", r"\(")) as error:
        evaluate_dataset(None, tiny_dataset_dir, **settings)
    assert "\n" not in str(error.value)
    assert not (tmp_path / "eval").exists(), "nothing is written on failure"


def test_missing_dataset_and_empty_split_are_errors(tmp_path):
    with pytest.raises(SeedVRError, match="data folder not found"):
        evaluate_dataset(None, tmp_path / "nowhere", methods=["telea"], out_dir=tmp_path / "eval")
    sources = tmp_path / "sources"
    generate_source_clips(sources, clips=3, frames=2, width=16, height=16, seed=0)
    dataset = tmp_path / "no-test-split"
    build_damaged_dataset(sources, dataset, seed=1, kinds=["dust"], test_fraction=0.0)
    with pytest.raises(SeedVRError, match="split 'test' of .* has no clips"):
        evaluate_dataset(None, dataset, methods=["telea"], out_dir=tmp_path / "eval")


def test_a_folder_of_other_files_is_never_replaced(tiny_dataset_dir, tmp_path):
    precious = tmp_path / "notes"
    precious.mkdir()
    (precious / "thesis.tex").write_text("do not delete")
    with pytest.raises(SeedVRError, match="holds 'thesis.tex', which no evaluation writes, and no metrics.json"):
        evaluate_dataset(None, tiny_dataset_dir, methods=["telea"], out_dir=precious)
    assert (precious / "thesis.tex").read_text() == "do not delete"


def test_an_evaluation_stripped_of_its_declared_outputs_is_replaced(tiny_dataset_dir, tmp_path):
    # What `dvc repro` leaves before re-running the evaluate stage: it deletes metrics.json and
    # the other declared outputs, and the undeclared timings.json stays.
    out = tmp_path / "eval"
    evaluate_dataset(None, tiny_dataset_dir, methods=["telea"], out_dir=out, strips=0)
    for entry in out.iterdir():
        if entry.name != "timings.json":
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    evaluate_dataset(None, tiny_dataset_dir, methods=["telea"], out_dir=out, strips=0)
    assert (out / "metrics.json").is_file()
