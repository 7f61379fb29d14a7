"""The project's main job, end to end: ``make run`` (README's first command).

1. the training pipeline (``flows.training``): data versioning, validation, damage,
   fine-tuning, evaluation, registration with promotion gates;
2. a demo inbox made from damaged test clips, repaired by the batch flow
   (``flows.repair``) with the promoted model ``models:/seedvr-repair@champion``, or with the
   shipped base model while no version has passed the gates (the gates decide, not the demo);
3. where to look: the MLflow run and model version, the Prefect runs, the repaired videos.

Everything runs embedded (Prefect's ephemeral API, MLflow on SQLite under ``mlflow/``).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from seedvr.config import load_params
from seedvr.data import read_manifest

DEMO_INBOX = "work/demo/inbox"
DEMO_OUTBOX = "work/demo/outbox"
DEMO_VIDEOS = 3


def make_demo_inbox(dataset_dir: Path, inbox: Path, count: int = DEMO_VIDEOS) -> list[Path]:
    """Copy the first damaged test clips and their masks into ``inbox`` (``NAME.mkv`` + ``NAME.mask.mkv``).

    Copies, never moves: the dataset stays as DVC recorded it.
    """
    manifest = read_manifest(dataset_dir / "manifest.csv", absolute_paths=True)
    rows = manifest[manifest["split"] == "test"].head(count)
    inbox.mkdir(parents=True, exist_ok=True)
    videos = []
    for row in rows.itertuples(index=False):
        video = inbox / f"{row.clip_id}.mkv"
        if not video.exists():
            shutil.copyfile(row.damaged_path, video)
            shutil.copyfile(row.mask_path, inbox / f"{row.clip_id}.mask.mkv")
        videos.append(video)
    return videos


def demo_repair_model(model_name: str) -> str:
    """The champion when there is one, else the shipped base model (the product's default)."""
    from seedvr.modelstore.location import ensure_tracking_configured
    from seedvr.modelstore.registered import current_champion
    from seedvr.pipeline.shipped import shipped_base_model

    ensure_tracking_configured()
    if current_champion(model_name) is not None:
        return f"models:/{model_name}@champion"
    return str(shipped_base_model())


def main(root: str = ".") -> None:
    from flows.repair import batch_repair
    from flows.training import training_pipeline

    root_path = Path(root).resolve()
    settings = load_params(root_path / "params.yaml")
    summary = training_pipeline(params=str(root_path / "params.yaml"), root=str(root_path))
    registration = summary.get("registration") or {}

    inbox, outbox = root_path / DEMO_INBOX, root_path / DEMO_OUTBOX
    make_demo_inbox(root_path / settings.damage.out, inbox)
    demo_model = demo_repair_model(settings.register_.model_name)
    repair = settings.repair
    batch = batch_repair(inbox=str(inbox), outbox=str(outbox), model=demo_model, chunk=repair.chunk, overlap=repair.overlap)

    metrics = summary.get("metrics")
    gains = metrics.gains if metrics is not None else None
    print("\n== SeedVR Repair: done ==")
    print(f"data version      {summary['data_version']}")
    print(f"stages run        {', '.join(summary['ran']) or 'none (all up to date)'}")
    if gains is not None and gains.psnr_mask_db is not None:
        print(f"seedvr vs {gains.baseline}: {gains.psnr_mask_db:+.2f} dB psnr in the mask")
    print(f"MLflow run        {registration.get('run_url', 'n/a')}  (mlflow ui --backend-store-uri sqlite:///mlflow/mlflow.db)")
    print(
        f"model             {registration.get('model_name')} v{registration.get('version')} "
        f"aliases {registration.get('aliases')} promoted={registration.get('promoted')}"
    )
    print("Prefect runs      prefect server start, then http://127.0.0.1:4200 (the embedded API kept them in ~/.prefect)")
    print(f"demo repaired by  {demo_model}")
    print(
        f"repaired videos   {outbox}  ({batch['repaired']} repaired, {batch['skipped']} skipped, "
        f"{batch['quarantined']} quarantined)"
    )
    print(f"evaluation        {root_path / settings.evaluate.out / 'report.md'}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
