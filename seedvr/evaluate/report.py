"""``report.md``: the evaluation as a human reads it (tables, gains, links to the images)."""

from __future__ import annotations

from pathlib import Path

from seedvr.evaluate.metrics_file import DetectionFigures, EvaluationMetrics, Gains, KindFigures, KindGains
from seedvr.metrics import HIGHER_IS_BETTER, METRIC_KEYS

_METRIC_LABELS = {
    "psnr_mask": "PSNR mask (dB)",
    "ssim_mask": "SSIM mask",
    "psnr": "PSNR (dB)",
    "ssim": "SSIM",
    "ms_ssim": "MS-SSIM",
    "vif": "VIF",
    "ewarp": "E_warp (×1e-3)",
    "ewarp_mask": "E_warp mask (×1e-3)",
    "tof": "tOF (px)",
    "flicker": "flicker",
    "lpips": "LPIPS",
}


def _number(value: float | int | None, digits: int = 3) -> str:
    if value is None:
        return "n/c"
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}f}"


def _signed(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:+.{digits}f}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _arrow(key: str) -> str:
    return "↑" if HIGHER_IS_BETTER.get(key, False) else "↓"


def method_table(metrics: EvaluationMetrics) -> list[str]:
    keys = list(METRIC_KEYS) + ["lpips"]
    header = ["method"] + [f"{_METRIC_LABELS[key]} {_arrow(key)}" for key in keys]
    rows = [[name] + [_number(figures.figures()[key]) for key in keys] for name, figures in metrics.methods.items()]
    return _table(header, rows)


def kind_table(metrics: EvaluationMetrics, key: str) -> list[str]:
    methods = list(metrics.methods)
    first = metrics.methods[methods[0]].per_kind
    header = ["damage kind", "clips"] + methods
    rows = [
        [kind, str(first[kind].clips if kind in first else 0)]
        + [_number(_kind_figure(metrics.methods[name].per_kind.get(kind), key)) for name in methods]
        for kind in metrics.damage_kinds()
    ]
    return _table(header, rows)


def _kind_figure(figures: KindFigures | None, key: str) -> float | None:
    return None if figures is None else figures.figures()[key]


def gains_section(metrics: EvaluationMetrics) -> list[str]:
    gains = metrics.gains
    if gains is None:
        return ["No gains: seedvr and at least one classical baseline must be evaluated together."]
    lines = [
        f"Baseline: **{gains.baseline}** (best classical method by PSNR in the mask). Positive numbers mean seedvr is better.",
        "",
    ]

    def row(label: str, figures: Gains | KindGains) -> list[str]:
        return [
            label,
            _signed(figures.psnr_mask_db),
            _signed(figures.ssim_mask, 4),
            _signed(figures.ewarp),
            _signed(figures.ewarp_mask),
        ]

    rows = [row("all", gains)] + [row(kind, kind_gain) for kind, kind_gain in gains.per_kind.items()]
    header = ["clips", "PSNR mask gain (dB)", "SSIM mask gain", "E_warp gain (×1e-3)", "E_warp mask gain (×1e-3)"]
    return lines + _table(header, rows)


def detection_section(detection: DetectionFigures) -> list[str]:
    """The detector's scores per film kind and on the clean clips, and how it decided."""
    lines = [
        f"Detector `{detection.detector}`, threshold {detection.threshold:g}, dilation {detection.dilate} px, "
        f"scales {', '.join(f'{scale:g}' for scale in detection.scales)}; "
        f"precision and recall with {detection.tolerance} px of slack, IoU strict.",
        "",
    ]
    rows = [
        [kind, str(figures.clips), _number(figures.precision), _number(figures.recall), _number(figures.iou)]
        for kind, figures in detection.per_kind.items()
    ]
    lines += _table(["film kind", "clips", "precision ↑", "recall ↑", "IoU ↑"], rows)
    clean = detection.clean
    if clean is not None and clean.flagged_fraction is not None:
        lines += ["", f"Clean clips ({clean.clips}): {100 * clean.flagged_fraction:.4f} % of pixels flagged (false alarms)."]
    return lines


def render_report(metrics: EvaluationMetrics, plots: dict[str, str], strips: list[str], details: dict[str, dict]) -> str:
    """Markdown text; ``plots`` and ``strips`` are paths relative to the report's folder."""
    lines = [
        f"# Evaluation on the {metrics.split} split",
        "",
        f"{metrics.clips} clips, {metrics.frames} frames, methods: {', '.join(metrics.methods)}.",
        "",
        "## Gains of seedvr",
        "",
        *gains_section(metrics),
        "",
        "## Methods",
        "",
        *method_table(metrics),
        "",
        "↑ higher is better, ↓ lower is better; n/c = not computed (LPIPS needs local VGG16 weights; "
        "VIF needs frames of at least 41 px).",
        "",
        "## PSNR in the mask by damage kind (dB)",
        "",
        *kind_table(metrics, "psnr_mask"),
        "",
        "## Warping error in the mask by damage kind (×1e-3)",
        "",
        *kind_table(metrics, "ewarp_mask"),
        "",
    ]
    if metrics.detection is not None:
        lines += ["## Damage detection (blind mode)", "", *detection_section(metrics.detection), ""]
    lines += ["## Plots", ""]
    lines += [f"![{name}]({path})" for name, path in plots.items()]
    lines += ["", "## Sample strips", "", "Columns: damaged | mask | each method | truth.", ""]
    lines += [f"![{Path(path).stem}]({path})" for path in strips] or ["(none requested)"]
    model_details = details.get("seedvr")
    lines += [
        "",
        "## How the numbers are made",
        "",
        "- Every figure is the mean over clips weighted by frame count; PSNR figures are the mean "
        "of per-clip PSNR in dB (not the PSNR of the pooled error).",
        "- A damage kind's figures use the clips containing that kind.",
        "- E_warp: warping error of Lai et al. 2018 along ground-truth flow, ×1e-3, over the whole "
        "frame. E_warp mask: the same error restricted to the repaired region (damaged pixels and "
        "pixels whose match in the next frame is damaged, non-occluded); the per-frame series is "
        "its value for each pair of frames t, t+1.",
        "- Repair times are in `timings.json` (they differ on every run, so this report does not show them).",
    ]
    if model_details:
        lines.append("- seedvr: " + ", ".join(f"{key} {value}" for key, value in model_details.items()) + ".")
        if model_details.get("steps") != model_details.get("model_steps"):
            lines.append(
                f"- **seedvr ran {model_details.get('steps')} sampling steps, not the model's own "
                f"{model_details.get('model_steps')}**: these numbers are not what batch repair ships, "
                "and the promotion gates refuse them."
            )
    lines += ["", "Files: `metrics.json`, `per_clip.csv`, `per_frame.csv`."]
    return "\n".join(lines) + "\n"
