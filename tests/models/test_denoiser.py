"""SeedVRDenoiser: zero-init identity, learning, odd sizes, window locality, persistence."""

from __future__ import annotations

import pytest
import torch

from seedvr.errors import SeedVRError
from seedvr.models import attention
from seedvr.models.attention import WindowTransformerBlock, plan_windows, roll_grid, window_attention_mask
from seedvr.models.denoiser import SeedVRDenoiser
from seedvr.models.embeddings import rotary_cos_sin
from seedvr.models.presets import PRESETS

# The tiny preset's architecture with 2x2 patches: the window tests below reason about a
# 16x16-pixel clip as an 8x8 token grid.
TINY = {**PRESETS["tiny"].denoiser, "patch_size": (1, 2, 2)}


def make_denoiser(seed: int = 0, **overrides) -> SeedVRDenoiser:
    torch.manual_seed(seed)
    return SeedVRDenoiser(**{**TINY, **overrides})


def randomize(model: torch.nn.Module, seed: int = 1, std: float = 0.05) -> torch.nn.Module:
    """Overwrite every weight (zero-initialised ones included) so the model is not an identity."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * std)
    return model


def make_inputs(b=1, t=4, h=16, w=16, seed=0, features=True):
    generator = torch.Generator().manual_seed(seed)
    frames = torch.rand(b, t, 3, h, w, generator=generator) * 2 - 1
    mask = (torch.rand(b, t, 1, h, w, generator=generator) > 0.7).float()
    propagated = torch.rand(b, t, 3, h, w, generator=generator) * 2 - 1
    inputs = dict(
        sample=torch.randn(b, t, 3, h, w, generator=generator),
        timestep=torch.full((b,), 500),
        masked_frames=frames * (1 - mask),
        mask=mask,
        propagated=propagated,
        validity=1 - mask,
        spatial=torch.rand(b, t, 3, h, w, generator=generator) * 2 - 1,
        temporal_features=torch.randn(b, t, TINY["temporal_feature_channels"], (h + 1) // 2, (w + 1) // 2, generator=generator)
        if features
        else None,
    )
    return inputs, frames


def test_untrained_denoiser_returns_propagated_exactly():
    inputs, _ = make_inputs(t=5, h=37, w=29)
    output = make_denoiser()(**inputs)
    assert torch.equal(output, inputs["propagated"])
    assert make_denoiser().config.prediction_type == "sample"


@pytest.mark.parametrize("size", [(5, 37, 29), (1, 8, 8), (3, 64, 24)])
def test_output_shape_matches_odd_input_sizes(size):
    t, h, w = size
    inputs, _ = make_inputs(t=t, h=h, w=w)
    output = randomize(make_denoiser())(**inputs)
    assert output.shape == inputs["propagated"].shape
    assert torch.isfinite(output).all()
    assert not torch.allclose(output, inputs["propagated"])


def test_training_steps_reach_every_parameter():
    model = make_denoiser()
    inputs, target = make_inputs(t=2)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    before = model(**inputs).detach()
    # adaLN-Zero opens in stages: step 1 moves the zero head, step 2 the gates, step 3 everything.
    for _ in range(3):
        optimizer.zero_grad()
        loss = (model(**inputs) - target).abs().mean()
        loss.backward()
        assert [name for name, p in model.named_parameters() if p.grad is None] == []
        optimizer.step()
    silent = [name for name, p in model.named_parameters() if p.grad.abs().sum() == 0]
    assert silent == []
    after = model(**inputs).detach()
    assert not torch.equal(before, after)
    assert (after - target).abs().mean() < (before - target).abs().mean()


def test_scalar_and_batched_timesteps_agree_and_bad_shapes_fail():
    model = randomize(make_denoiser())
    inputs, _ = make_inputs(b=2)
    batched = model(**inputs)
    inputs["timestep"] = 500
    assert torch.allclose(model(**inputs), batched)
    inputs["timestep"] = torch.tensor([1, 2, 3])
    with pytest.raises(SeedVRError, match="timestep"):
        model(**inputs)
    inputs["timestep"] = 10
    inputs["mask"] = inputs["mask"][:, :, :, :8]
    with pytest.raises(SeedVRError, match="mask"):
        model(**inputs)


def test_timestep_changes_the_estimate():
    model = randomize(make_denoiser())
    inputs, _ = make_inputs()
    early = model(**{**inputs, "timestep": 10})
    late = model(**{**inputs, "timestep": 900})
    assert not torch.allclose(early, late)


def _perturbed_output_change(model, token, h=16, w=16, t=4):
    """Per-pixel |change| of the output when the input patch of ``token`` (t, y, x) changes."""
    inputs, _ = make_inputs(t=t, h=h, w=w, features=False)
    base = model(**inputs)
    ti, yi, xi = token
    ph, pw = TINY["patch_size"][1:]
    changed = {key: value.clone() if torch.is_tensor(value) else value for key, value in inputs.items()}
    changed["sample"][:, ti, :, yi * ph : (yi + 1) * ph, xi * pw : (xi + 1) * pw] += 1.0
    return (model(**changed) - base).abs().amax(dim=(0, 2))  # [T, H, W]


def test_one_block_stays_inside_its_window():
    # Token grid 4x8x8 with (2, 4, 4) windows; token (0, 0, 0) lives in window t<2, y<4, x<4.
    model = randomize(make_denoiser(depth=1))
    change = _perturbed_output_change(model, (0, 0, 0))
    inside = change[:2, :8, :8]
    outside = change.clone()
    outside[:2, :8, :8] = 0
    assert inside.max() > 1e-4
    assert outside.max() == 0


def test_shifted_windows_carry_information_across_windows():
    # Token (1, 3, 3) and token (2, 4, 4) sit in different regular windows but share the
    # shifted window of block 2 (shift (1, 2, 2)).
    one_block = _perturbed_output_change(randomize(make_denoiser(depth=1)), (1, 3, 3))
    two_blocks = _perturbed_output_change(randomize(make_denoiser(depth=2)), (1, 3, 3))
    target = (2, slice(8, 10), slice(8, 10))
    assert one_block[target].max() == 0
    assert two_blocks[target].max() > 1e-4


def test_shifted_windows_do_not_wrap_around_the_grid():
    # After the roll, token (0, 0, 0) shares the last shifted window with (3, 7, 7), but they
    # come from opposite corners of the clip: the mask must keep them apart.
    change = _perturbed_output_change(randomize(make_denoiser(depth=2)), (0, 0, 0))
    assert change[3, 14:16, 14:16].max() == 0


@pytest.mark.parametrize(
    ("shape", "shifts", "first_dim"),
    [
        ((1, 4, 6, 8, 3), (-1, -2, -3), 1),  # a shifted block rolling its tokens back
        ((2, 3, 5, 7, 2), (3, -1, 0), 1),  # shifts beyond a side, an axis left alone
        ((4, 6, 8, 5), (1, 0, 9), 0),  # RoPE tables [gt, gh, gw, hd]
        ((1, 2, 2, 2, 1), (0, 0, 0), 1),
    ],
)
def test_roll_grid_is_torch_roll_over_three_axes(shape, shifts, first_dim):
    x = torch.randn(shape, requires_grad=True)
    rolled = roll_grid(x, shifts, first_dim)
    assert torch.equal(rolled, torch.roll(x, shifts, dims=(first_dim, first_dim + 1, first_dim + 2)))
    # Gradients flow back through the copy (training rolls too).
    rolled.mul(torch.arange(rolled.numel()).view(shape)).sum().backward()
    dims = (first_dim, first_dim + 1, first_dim + 2)
    expected = torch.roll(torch.arange(x.numel(), dtype=x.dtype).view(shape), [-s for s in shifts], dims)
    assert torch.equal(x.grad, expected)


@pytest.mark.parametrize("group_elements", [1, 2 * (2 * 8 * 8 * 96)])
def test_grouping_slabs_does_not_change_the_result(monkeypatch, group_elements):
    # Six token frames (three slabs of two) of a 5x7 grid padded to 8x8, and shifted blocks
    # (the last slab's windows are masked differently): one slab per call, or two then one,
    # give the result of one call for all.
    model = randomize(make_denoiser(depth=2))
    inputs, _ = make_inputs(t=6, h=10, w=14)
    with torch.no_grad():
        together = model(**inputs)
        monkeypatch.setattr(attention, "SLAB_GROUP_ELEMENTS", group_elements)
        grouped = model(**inputs)
    torch.testing.assert_close(grouped, together, atol=1e-6, rtol=0)


def test_block_locality_with_padding_mask():
    # A single unshifted block on a padded grid: padding tokens never leak into real ones.
    torch.manual_seed(0)
    block = randomize(WindowTransformerBlock(32, 4, shifted=False))
    layout = plan_windows((3, 6, 7), (2, 4, 4))
    assert layout.grid == (4, 8, 8)
    mask = window_attention_mask(layout, shifted=False)
    cos, sin = rotary_cos_sin(layout.grid, 8)
    tokens = torch.randn(1, *layout.grid, 32)
    cond = torch.randn(1, 32)
    base = block(tokens, cond, cos, sin, layout, mask)
    changed_padding = tokens.clone()
    changed_padding[:, 3, :, :] += 5.0  # frame 3 is padding
    changed_padding[:, :, 6:, :] += 5.0  # rows 6, 7 are padding
    out = block(changed_padding, cond, cos, sin, layout, mask)
    assert torch.allclose(out[:, :3, :6, :7], base[:, :3, :6, :7], atol=1e-6)


def test_gradient_checkpointing_gives_the_same_gradients():
    inputs, target = make_inputs()
    grads = []
    for checkpointing in (False, True):
        model = randomize(make_denoiser())
        if checkpointing:
            model.enable_gradient_checkpointing()
            assert model.is_gradient_checkpointing
        (model(**inputs) - target).square().mean().backward()
        grads.append(torch.cat([p.grad.flatten() for p in model.parameters()]))
    assert torch.allclose(grads[0], grads[1], atol=1e-6)


def test_save_and_load_round_trip(tmp_path):
    model = randomize(make_denoiser(depth=2)).eval()
    inputs, _ = make_inputs(t=3, h=20, w=12)
    model.save_pretrained(tmp_path / "denoiser")
    assert (tmp_path / "denoiser" / "diffusion_pytorch_model.safetensors").exists()
    loaded = SeedVRDenoiser.from_pretrained(tmp_path / "denoiser").eval()
    assert loaded.config.depth == 2
    assert loaded.patch_size == tuple(TINY["patch_size"])
    with torch.no_grad():
        assert torch.equal(model(**inputs), loaded(**inputs))


def test_same_seed_same_initial_weights():
    first, second, other = make_denoiser(seed=3), make_denoiser(seed=3), make_denoiser(seed=4)
    for (name, a), b in zip(first.state_dict().items(), second.state_dict().values()):
        assert torch.equal(a, b), name
    assert any(not torch.equal(a, c) for a, c in zip(first.state_dict().values(), other.state_dict().values()))


def test_bad_configuration_is_a_clear_error():
    with pytest.raises(SeedVRError, match="heads"):
        SeedVRDenoiser(hidden_size=30, num_heads=4)
    with pytest.raises(SeedVRError, match="prediction_type"):
        SeedVRDenoiser(prediction_type="epsilon")
