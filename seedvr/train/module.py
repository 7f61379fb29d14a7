"""The LightningModule that fine-tunes the whole repair model.

One training step, on a batch of damaged clips with their propagation guess:

* diffusion loss: the denoiser's x0 estimate from a noised clean clip, at the full
  resolution (the fine pass) and at one randomly chosen coarser pass of the schedule, mean
  squared error weighted up inside the mask (``prediction_type`` chooses whether the error is
  measured on x0, on the noise or on v);
* SeedVR loss: the fine pass's one-step estimate, run through the detail and texture
  networks and composited, against the clean clip (content, perceptual, style, temporal,
  edge, optionally adversarial with a 3D PatchGAN).

Validation uses a fixed generator, so its loss is comparable from epoch to epoch, and also
runs the full sampling schedule on the first clips to report PSNR inside the mask of the
model and of propagation alone.
"""

from __future__ import annotations

import math

import lightning as L
import torch

from seedvr.config import PREDICTION_TYPES, LossParams, TrainParams
from seedvr.errors import SeedVRError
from seedvr.losses import SeedVRLoss
from seedvr.losses.adversarial import discriminator_loss
from seedvr.pipeline.conditions import RepairConditions
from seedvr.pipeline.pipeline import SeedVRPipeline
from seedvr.pipeline.scheduler import HierarchicalRepairScheduler
from seedvr.pipeline.video_tensors import resize_video

COMPONENTS = ("denoiser", "temporal_encoder", "detail_net", "texture_net")
# The constructor's defaults are params.yaml's train section (the schema's defaults equal it).
TRAIN_DEFAULTS = TrainParams()


def psnr_in_mask(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """PSNR in dB over the hole pixels of ``[-1, 1]`` images (peak-to-peak range 2)."""
    area = (mask.sum() * pred.shape[2]).clamp_min(1.0)
    mse = ((pred - target) ** 2 * mask).sum() / area
    return 10.0 * torch.log10(4.0 / mse.clamp_min(1e-10))


class SeedVRLightningModule(L.LightningModule):
    """Trains the denoiser, temporal encoder and detail/texture networks together."""

    def __init__(
        self,
        pipeline: SeedVRPipeline,
        loss: SeedVRLoss,
        lr: float = TRAIN_DEFAULTS.lr,
        weight_decay: float = TRAIN_DEFAULTS.weight_decay,
        diffusion_weight: float = TRAIN_DEFAULTS.diffusion_weight,
        diffusion_mask_weight: float = TRAIN_DEFAULTS.diffusion_mask_weight,
        prediction_type: str = TRAIN_DEFAULTS.prediction_type,
        discriminator: torch.nn.Module | None = None,
        val_steps: int = TRAIN_DEFAULTS.val_steps,
        seed: int = TRAIN_DEFAULTS.seed,
        guess_start_probability: float = TRAIN_DEFAULTS.guess_start_probability,
        gradient_clip: float = TRAIN_DEFAULTS.gradient_clip,
    ):
        super().__init__()
        if prediction_type not in PREDICTION_TYPES:
            raise SeedVRError(f"prediction_type {prediction_type!r}: choose one of {', '.join(PREDICTION_TYPES)}")
        self.denoiser = pipeline.denoiser
        self.temporal_encoder = pipeline.temporal_encoder
        self.detail_net = pipeline.detail_net
        self.texture_net = pipeline.texture_net
        self.scheduler: HierarchicalRepairScheduler = pipeline.scheduler
        # A plain attribute (not a submodule): it shares the networks registered above.
        self.pipeline = pipeline
        self.loss = loss
        self.discriminator = discriminator
        self.lr = lr
        self.weight_decay = weight_decay
        self.diffusion_weight = diffusion_weight
        self.diffusion_mask_weight = diffusion_mask_weight
        self.prediction_type = prediction_type
        self.val_steps = val_steps
        self.guess_start_probability = guess_start_probability
        self.seed = seed
        # Gradient norm clip of the generator's step under manual optimisation (adversarial
        # training); with automatic optimisation the Trainer clips (build_trainer).
        self.gradient_clip = gradient_clip
        # Adversarial training alternates two optimisers, which Lightning leaves to us.
        self.automatic_optimization = discriminator is None
        self.save_hyperparameters(ignore=["pipeline", "loss", "discriminator"])

    @classmethod
    def from_params(
        cls,
        pipeline: SeedVRPipeline,
        train: TrainParams,
        loss: LossParams,
        discriminator: torch.nn.Module | None = None,
        lr: float | None = None,
        seed: int | None = None,
    ) -> SeedVRLightningModule:
        """The module with every training setting from the ``train`` and ``loss`` sections."""
        return cls(
            pipeline,
            SeedVRLoss.from_params(loss),
            lr=train.lr if lr is None else lr,
            weight_decay=train.weight_decay,
            diffusion_weight=train.diffusion_weight,
            diffusion_mask_weight=train.diffusion_mask_weight,
            prediction_type=train.prediction_type,
            discriminator=discriminator,
            val_steps=train.val_steps,
            seed=train.seed if seed is None else seed,
            guess_start_probability=train.guess_start_probability,
            gradient_clip=train.gradient_clip,
        )

    # -- losses -----------------------------------------------------------------------------

    @staticmethod
    def conditions(batch: dict[str, torch.Tensor]) -> RepairConditions:
        return RepairConditions(
            frames=batch["frames"],
            mask=batch["mask"],
            guess=batch["guess"],
            validity=batch["validity"],
            spatial=batch["spatial"],
            flow=batch["flow"],
        )

    def max_training_timestep(self) -> int:
        """Training covers the noise levels sampling visits: up to the largest strength."""
        config = self.scheduler.config
        strongest = 1.0 if config.coarse_from_noise else max(config.strengths)
        return max(1, int(math.ceil(strongest * config.num_train_timesteps)))

    def diffusion_error(
        self, x0: torch.Tensor, clean: torch.Tensor, noisy: torch.Tensor, t: torch.Tensor, mask: torch.Tensor
    ) -> torch.Tensor:
        """Mask-weighted squared error of the prediction in the chosen parameterisation."""
        if self.prediction_type == "sample":
            error = x0 - clean
        else:
            alpha_bar = self.scheduler.alphas_cumprod(t).view(-1, 1, 1, 1, 1).to(x0)
            sigma = (1.0 - alpha_bar).sqrt().clamp_min(1e-4)
            # eps = (x_t - sqrt(a) x0) / sigma, so eps errors are x0 errors scaled by sqrt(a)/sigma;
            # v = sqrt(a) eps - sigma x0, so v errors are x0 errors scaled by 1/sigma.
            scale = alpha_bar.sqrt() / sigma if self.prediction_type == "epsilon" else 1.0 / sigma
            error = (x0 - clean) * scale
        weight = 1.0 + (self.diffusion_mask_weight - 1.0) * mask
        return (error**2 * weight).sum() / (weight.sum() * x0.shape[2])

    def denoise_once(self, conditions: RepairConditions, clean: torch.Tensor, features: torch.Tensor, generator=None):
        """The x0 estimate from a noised clip at a random timestep (known pixels kept).

        Sampling starts each pass from the noised *guess*, not from the truth, so most
        training samples are noised guesses too: a model that only ever saw the noised truth
        learns to read the answer out of ``x_t`` and has nothing to add to a guess at
        inference. The rest are noised truths, the usual diffusion objective.
        """
        batch = clean.shape[0]
        t = torch.randint(0, self.max_training_timestep(), (batch,), generator=generator).to(clean.device)
        noise = torch.randn(clean.shape, generator=generator).to(clean)
        from_guess = (torch.rand(batch, generator=generator) < self.guess_start_probability).to(clean.device)
        start = torch.where(from_guess.view(-1, 1, 1, 1, 1), conditions.guess, clean)
        noisy = self.scheduler.add_noise(start, noise, t)
        x0 = self.denoiser(
            noisy,
            t,
            conditions.masked_frames,
            conditions.mask,
            conditions.guess,
            conditions.validity,
            conditions.spatial,
            features,
        )
        x0 = x0 * conditions.mask + conditions.guess * (1.0 - conditions.mask)
        return x0, noisy, t

    def compute_losses(
        self, batch: dict[str, torch.Tensor], generator: torch.Generator | None = None
    ) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """Every loss term for a batch, and the fine one-step estimate in [-1, 1]."""
        conditions = self.conditions(batch)
        clean = batch["clean"]
        height, width = clean.shape[-2:]
        stages = self.scheduler.plan(height, width)
        features = self.pipeline.temporal_features(conditions, stages[0])

        fine_x0, noisy, t = self.denoise_once(conditions, clean, features, generator)
        diffusion = self.diffusion_error(fine_x0, clean, noisy, t, conditions.mask)
        coarser = [stage for stage in stages if stage.scale < 1.0]
        if coarser:
            pick = int(torch.randint(len(coarser), (1,), generator=generator))
            stage = coarser[pick]
            scaled = conditions.at(stage.height, stage.width)
            scaled_clean = resize_video(clean, stage.height, stage.width)
            x0, noisy_s, t_s = self.denoise_once(scaled, scaled_clean, features, generator)
            diffusion = 0.5 * (diffusion + self.diffusion_error(x0, scaled_clean, noisy_s, t_s, scaled.mask))

        refined = self.pipeline.refine_details(fine_x0, conditions).clamp(-1.0, 1.0)
        terms = self.loss(
            (refined + 1.0) / 2.0,
            (clean + 1.0) / 2.0,
            conditions.mask,
            target_flow=batch["target_flow"],
            discriminator=self.discriminator,
        )
        terms = dict(terms)
        terms["diffusion"] = diffusion
        terms["seedvr"] = terms["total"]
        terms["total"] = self.diffusion_weight * diffusion + terms["seedvr"]
        return terms, refined

    # -- Lightning hooks --------------------------------------------------------------------

    def training_step(self, batch, batch_index):
        terms, refined = self.compute_losses(batch)
        if self.discriminator is not None:
            self._adversarial_updates(terms, refined, batch)
        self.log_dict(
            {f"train/{name}": value.detach() for name, value in terms.items()}, prog_bar=False, batch_size=batch["clean"].shape[0]
        )
        self.log("train_loss", terms["total"].detach(), prog_bar=True, batch_size=batch["clean"].shape[0])
        return terms["total"]

    def _adversarial_updates(self, terms, refined, batch) -> None:
        generator_optimizer, discriminator_optimizer = self.optimizers()
        generator_optimizer.zero_grad()
        self.manual_backward(terms["total"])
        self.clip_gradients(generator_optimizer, gradient_clip_val=self.gradient_clip, gradient_clip_algorithm="norm")
        generator_optimizer.step()
        discriminator_optimizer.zero_grad()
        real = (batch["clean"] + 1.0) / 2.0
        fake = ((refined.detach() + 1.0) / 2.0) * batch["mask"] + real * (1.0 - batch["mask"])
        d_loss = discriminator_loss(self.discriminator, real, fake)
        self.manual_backward(d_loss)
        discriminator_optimizer.step()
        terms["discriminator"] = d_loss.detach()

    def validation_step(self, batch, batch_index):
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + batch_index)
        terms, _ = self.compute_losses(batch, generator=generator)
        size = batch["clean"].shape[0]
        self.log_dict({f"val/{name}": value for name, value in terms.items()}, batch_size=size, sync_dist=True)
        self.log("val_loss", terms["total"], prog_bar=True, batch_size=size, sync_dist=True)
        repaired = self.pipeline.repair_tensors(self.conditions(batch), self.val_steps, generator)
        self.log("val/psnr_mask", psnr_in_mask(repaired, batch["clean"], batch["mask"]), batch_size=size, sync_dist=True)
        self.log(
            "val/psnr_mask_propagation",
            psnr_in_mask(batch["guess"], batch["clean"], batch["mask"]),
            batch_size=size,
            sync_dist=True,
        )

    def configure_optimizers(self):
        parameters = [p for name in COMPONENTS for p in getattr(self, name).parameters()]
        optimizer = torch.optim.AdamW(parameters, lr=self.lr, weight_decay=self.weight_decay)
        if self.discriminator is None:
            return optimizer
        d_optimizer = torch.optim.AdamW(self.discriminator.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        return [optimizer, d_optimizer]
