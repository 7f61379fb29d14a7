"""The SeedVR multi-term repair loss and its building blocks."""

from seedvr.losses.adversarial import discriminator_loss, generator_adversarial_loss
from seedvr.losses.perceptual import StructuralBackend, VGG16Backend, build_perceptual_backend
from seedvr.losses.seedvr_loss import LOSS_TERMS, SeedVRLoss, composite
from seedvr.losses.vgg import VGG16_LAYER_INDEX, VGG16Features, load_vgg16_features

__all__ = [
    "LOSS_TERMS",
    "SeedVRLoss",
    "StructuralBackend",
    "VGG16Backend",
    "VGG16Features",
    "VGG16_LAYER_INDEX",
    "build_perceptual_backend",
    "composite",
    "discriminator_loss",
    "generator_adversarial_loss",
    "load_vgg16_features",
]
