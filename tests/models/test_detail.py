"""Detail and texture networks: identity at init, where their corrections may act, learning, persistence."""

from __future__ import annotations

import pytest
import torch

from seedvr.errors import SeedVRError
from seedvr.models.detail import (
    DetailRestorationNetwork,
    TexturePreservationNetwork,
    high_pass,
    mask_border_band,
    shift_in_time,
)
from seedvr.models.presets import PRESETS

DETAIL = PRESETS["tiny"].detail_net
TEXTURE = PRESETS["tiny"].texture_net


def randomize(model: torch.nn.Module, seed: int = 1, std: float = 0.1) -> torch.nn.Module:
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * std)
    return model


def make_clip(b=1, t=4, h=37, w=29, seed=0):
    generator = torch.Generator().manual_seed(seed)
    frames = torch.rand(b, t, 3, h, w, generator=generator) * 2 - 1
    mask = torch.zeros(b, t, 1, h, w)
    mask[..., h // 3 : h // 3 + 8, w // 3 : w // 3 + 7] = 1
    estimate = frames + 0.2 * mask * torch.randn(b, t, 3, h, w, generator=generator)
    return dict(estimate=estimate, masked_frames=frames * (1 - mask), mask=mask, propagated=frames, validity=1 - mask), frames


def make_detail(seed=0):
    torch.manual_seed(seed)
    return DetailRestorationNetwork(**DETAIL)


def make_texture(seed=0):
    torch.manual_seed(seed)
    return TexturePreservationNetwork(**TEXTURE)


def test_untrained_networks_return_their_estimate_exactly():
    inputs, _ = make_clip(t=5, h=37, w=29)
    assert torch.equal(make_detail()(**inputs), inputs["estimate"])
    texture_inputs = {key: inputs[key] for key in ("estimate", "masked_frames", "mask")}
    assert torch.equal(make_texture()(**texture_inputs), inputs["estimate"])


def test_mask_border_band_is_dilation_minus_erosion():
    mask = torch.zeros(1, 1, 30, 30)
    mask[..., 10:20, 10:20] = 1
    band = mask_border_band(mask, radius=2)
    assert set(band.unique().tolist()) == {0.0, 1.0}
    assert band.sum() == 14 * 14 - 6 * 6  # square grown by 2 minus square shrunk by 2
    # A hole touching the image edge has no band along the edge itself.
    edge = torch.zeros(1, 1, 30, 30)
    edge[..., :, :5] = 1
    assert mask_border_band(edge, radius=2)[..., :, 0].sum() == 0


def test_high_pass_removes_flat_colour_and_shift_in_time_repeats_ends():
    flat = torch.full((1, 3, 12, 12), 0.7)
    assert high_pass(flat, 5).abs().max() < 1e-6
    video = torch.arange(4.0).view(1, 4, 1, 1, 1)
    assert shift_in_time(video, -1).flatten().tolist() == [0.0, 0.0, 1.0, 2.0]
    assert shift_in_time(video, +1).flatten().tolist() == [1.0, 2.0, 3.0, 3.0]


def test_texture_correction_stays_in_the_hole_and_its_border_band():
    inputs, _ = make_clip()
    network = randomize(make_texture())
    output = network(inputs["estimate"], inputs["masked_frames"], inputs["mask"])
    hole = inputs["mask"].flatten(0, 1)
    reach = torch.clamp(hole + mask_border_band(hole, TEXTURE.get("edge_band_radius", 2)), max=1).view_as(inputs["mask"])
    changed = (output - inputs["estimate"]).abs().amax(dim=2, keepdim=True) > 0
    assert changed.any()
    assert not (changed & (reach == 0)).any()


def test_detail_net_reads_neighbour_frames_but_not_distant_ones():
    inputs, _ = make_clip(t=6, h=16, w=16)
    network = randomize(make_detail())
    base = network(**inputs)
    for frame, should_change in ((3, True), (5, False)):
        changed = {key: value.clone() for key, value in inputs.items()}
        changed["estimate"][:, frame] += torch.randn_like(changed["estimate"][:, frame])
        delta = (network(**changed) - base)[:, 2].abs().max()
        assert (delta > 1e-5) == should_change, frame


@pytest.mark.parametrize("which", ["detail", "texture"])
def test_every_parameter_learns(which):
    inputs, target = make_clip(t=3, h=24, w=24)
    network = make_detail() if which == "detail" else make_texture()
    if which == "texture":
        inputs = {key: inputs[key] for key in ("estimate", "masked_frames", "mask")}
    optimizer = torch.optim.Adam(network.parameters(), lr=1e-3)
    before = network(**inputs).detach()
    for _ in range(2):  # the zero head moves on step 1, everything behind it gets signal on step 2
        optimizer.zero_grad()
        (network(**inputs) - target).abs().mean().backward()
        assert [name for name, p in network.named_parameters() if p.grad is None] == []
        optimizer.step()
    assert [name for name, p in network.named_parameters() if p.grad.abs().sum() == 0] == []
    assert not torch.equal(network(**inputs), before)


def test_save_and_load_round_trip(tmp_path):
    inputs, _ = make_clip()
    detail = randomize(make_detail())
    texture = randomize(make_texture())
    detail.save_pretrained(tmp_path / "detail")
    texture.save_pretrained(tmp_path / "texture")
    loaded_detail = DetailRestorationNetwork.from_pretrained(tmp_path / "detail")
    loaded_texture = TexturePreservationNetwork.from_pretrained(tmp_path / "texture")
    assert list(loaded_texture.config.dilations) == list(TEXTURE["dilations"])
    with torch.no_grad():
        assert torch.equal(detail(**inputs), loaded_detail(**inputs))
        args = (inputs["estimate"], inputs["masked_frames"], inputs["mask"])
        assert torch.equal(texture(*args), loaded_texture(*args))


def test_bad_inputs_are_clear_errors():
    inputs, _ = make_clip()
    with pytest.raises(SeedVRError, match="propagated"):
        make_detail()(**{**inputs, "propagated": inputs["propagated"][:, :2]})
    with pytest.raises(SeedVRError, match="mask"):
        make_texture()(inputs["estimate"], inputs["masked_frames"], inputs["estimate"])
    with pytest.raises(SeedVRError, match="highpass_kernel"):
        DetailRestorationNetwork(highpass_kernel=4)
