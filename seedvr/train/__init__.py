"""Fine-tuning the full repair model with PyTorch Lightning."""
