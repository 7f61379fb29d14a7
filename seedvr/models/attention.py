"""Attention building blocks: shifted 3D windows for the denoiser, temporal attention for the encoder.

Windowed attention keeps the cost linear in frames x pixels: tokens attend only inside a
``(wt, wh, ww)`` window of the token grid. Alternate blocks shift the windows by half a window
(as Swin and SeedVR do) so information crosses window borders over two blocks. Tokens that
wrap around the grid edge after the shift, and padding tokens, are masked out so a clip's
result does not depend on how much padding it needed.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from seedvr.models.embeddings import apply_rotary, rotary_cos_sin

Grid3 = tuple[int, int, int]


@dataclass(frozen=True)
class WindowLayout:
    """How a token grid is cut into attention windows.

    ``valid``: tokens that hold real content; ``grid``: the grid after padding to a multiple of
    ``window``; ``window``: the window actually used (clamped to small grids); ``shift``: the
    offset of shifted blocks (zero along axes that fit in one window).
    """

    valid: Grid3
    grid: Grid3
    window: Grid3
    shift: Grid3

    @property
    def num_windows(self) -> int:
        return (self.grid[0] // self.window[0]) * (self.grid[1] // self.window[1]) * (self.grid[2] // self.window[2])

    @property
    def tokens_per_window(self) -> int:
        return self.window[0] * self.window[1] * self.window[2]

    @property
    def padded(self) -> bool:
        return self.grid != self.valid


def plan_windows(valid: Grid3, window: Grid3) -> WindowLayout:
    """Choose the window layout for a token grid of size ``valid``."""
    effective = tuple(min(w, v) for w, v in zip(window, valid))
    grid = tuple(-(-v // w) * w for v, w in zip(valid, effective))
    # Shifting is pointless (and would only wrap tokens onto themselves) along an axis that a
    # single window covers entirely.
    shift = tuple(w // 2 if g > w else 0 for g, w in zip(grid, effective))
    return WindowLayout(valid=tuple(valid), grid=grid, window=effective, shift=shift)  # type: ignore[arg-type]


def window_partition(x: torch.Tensor, window: Grid3) -> torch.Tensor:
    """``[B, gt, gh, gw, *rest]`` -> ``[B, num_windows, tokens_per_window, *rest]``."""
    b, gt, gh, gw = x.shape[:4]
    rest = x.shape[4:]
    wt, wh, ww = window
    x = x.reshape(b, gt // wt, wt, gh // wh, wh, gw // ww, ww, *rest)
    extra = tuple(range(7, 7 + len(rest)))
    x = x.permute(0, 1, 3, 5, 2, 4, 6, *extra)
    return x.reshape(b, -1, wt * wh * ww, *rest)


def window_reverse(windows: torch.Tensor, window: Grid3, grid: Grid3) -> torch.Tensor:
    """Inverse of :func:`window_partition`: ``[B, nW, N, *rest]`` -> ``[B, gt, gh, gw, *rest]``."""
    b = windows.shape[0]
    rest = windows.shape[3:]
    wt, wh, ww = window
    gt, gh, gw = grid
    x = windows.reshape(b, gt // wt, gh // wh, gw // ww, wt, wh, ww, *rest)
    extra = tuple(range(7, 7 + len(rest)))
    x = x.permute(0, 1, 4, 2, 5, 3, 6, *extra)
    return x.reshape(b, gt, gh, gw, *rest)


def roll_grid(x: torch.Tensor, shifts: Grid3, first_dim: int) -> torch.Tensor:
    """``torch.roll(x, shifts, dims=(first_dim, first_dim + 1, first_dim + 2))`` in one pass.

    ``torch.roll`` over three dimensions copies the tensor three times (once per dimension,
    each a concatenation); here each of the at most eight blocks a 3D roll moves is copied
    once into the result. The values are the same, moved not computed.
    """
    out = torch.empty_like(x)
    lead = (slice(None),) * first_dim
    moves = []
    for length, shift in zip(x.shape[first_dim : first_dim + 3], shifts):
        shift %= length
        # Source -> destination ranges along one axis: the tail moves to the front.
        head = (slice(0, length - shift), slice(shift, length))
        moves.append([head, (slice(length - shift, length), slice(0, shift))] if shift else [head])
    for src_t, dst_t in moves[0]:
        for src_h, dst_h in moves[1]:
            for src_w, dst_w in moves[2]:
                out[lead + (dst_t, dst_h, dst_w)] = x[lead + (src_t, src_h, src_w)]
    return out


def _shift_segments(length: int, window: int, shift: int, device) -> torch.Tensor:
    """Segment id of every position of a rolled axis: positions that wrapped around differ."""
    segment = torch.zeros(length, dtype=torch.long, device=device)
    if shift:
        segment[length - window : length - shift] = 1
        segment[length - shift :] = 2
    return segment


def window_attention_mask(layout: WindowLayout, shifted: bool, device=None) -> torch.Tensor | None:
    """Boolean mask ``[num_windows, 1, N, N]`` (True = may attend), or None when nothing is masked.

    A query may attend a key in its window when both come from the same region of the unrolled
    grid and the key holds real content. Every token may attend itself, so a window made only of
    padding still has a well-defined (and discarded) output instead of NaNs.
    """
    use_shift = shifted and any(layout.shift)
    if not use_shift and not layout.padded:
        return None
    gt, gh, gw = layout.grid
    valid = torch.zeros(layout.grid, dtype=torch.bool, device=device)
    valid[: layout.valid[0], : layout.valid[1], : layout.valid[2]] = True
    region = torch.zeros(layout.grid, dtype=torch.long, device=device)
    if use_shift:
        seg_t, seg_h, seg_w = (
            _shift_segments(length, window, shift, device)
            for length, window, shift in zip(layout.grid, layout.window, layout.shift)
        )
        region = seg_t[:, None, None] * 9 + seg_h[None, :, None] * 3 + seg_w[None, None, :]
        valid = torch.roll(valid, shifts=tuple(-s for s in layout.shift), dims=(0, 1, 2))
    region_windows = window_partition(region[None], layout.window)[0]
    valid_windows = window_partition(valid[None], layout.window)[0]
    same_region = region_windows[:, :, None] == region_windows[:, None, :]
    itself = torch.eye(layout.tokens_per_window, dtype=torch.bool, device=device)
    allowed = same_region & (valid_windows[:, None, :] | itself)
    return allowed[:, None]


class WindowAttention3D(nn.Module):
    """Multi-head self-attention inside (optionally shifted) 3D windows, with 3D RoPE and QK-norm."""

    def __init__(self, hidden_size: int, num_heads: int, qk_norm: bool = True):
        super().__init__()
        if hidden_size % num_heads:
            raise ValueError(f"hidden size {hidden_size} is not divisible by {num_heads} heads")
        self.num_heads = num_heads
        self.head_dim = hidden_size // num_heads
        self.qkv = nn.Linear(hidden_size, 3 * hidden_size)
        # Normalising queries and keys keeps attention logits bounded in wide models (SD3, SeedVR).
        self.q_norm = nn.RMSNorm(self.head_dim, eps=1e-6) if qk_norm else nn.Identity()
        self.k_norm = nn.RMSNorm(self.head_dim, eps=1e-6) if qk_norm else nn.Identity()
        self.proj = nn.Linear(hidden_size, hidden_size)

    def forward(
        self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, layout: WindowLayout, mask: torch.Tensor | None
    ) -> torch.Tensor:
        """Attention inside the windows of a slab ``x [B, wt, gh, gw, D]`` of ``layout.window[0]``
        token frames, already rolled for a shifted block (see :class:`WindowTransformerBlock`);
        ``cos``/``sin`` are the RoPE tables of the tokens' true positions, rolled with them,
        ``mask`` the slab's windows of :func:`window_attention_mask`."""
        b, frames, gh, gw, hidden = x.shape
        qkv = self.qkv(x).view(b, frames, gh, gw, 3, self.num_heads, self.head_dim)
        q, k, v = qkv.unbind(dim=4)
        cos, sin = cos[:, :, :, None, :], sin[:, :, :, None, :]
        q = apply_rotary(self.q_norm(q), cos, sin)
        k = apply_rotary(self.k_norm(k), cos, sin)
        grid = (frames, gh, gw)
        windows = window_partition(torch.stack((q, k, v.to(q.dtype)), dim=4), layout.window)  # [B, nW, N, 3, heads, hd]
        num_windows, tokens = windows.shape[1], windows.shape[2]
        windows = windows.permute(3, 0, 1, 4, 2, 5).reshape(3, b * num_windows, self.num_heads, tokens, self.head_dim)
        attn_mask = None
        if mask is not None:
            # expand() keeps the mask shared across the batch; reshape only copies when B > 1.
            attn_mask = mask.unsqueeze(0).expand(b, -1, -1, -1, -1).reshape(b * num_windows, 1, tokens, tokens)
        out = F.scaled_dot_product_attention(windows[0], windows[1], windows[2], attn_mask=attn_mask)
        out = out.view(b, num_windows, self.num_heads, tokens, self.head_dim).permute(0, 1, 3, 2, 4)
        return self.proj(window_reverse(out.reshape(b, num_windows, tokens, hidden), layout.window, grid))


def modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """adaLN: ``x * (1 + scale) + shift`` with per-sample ``[B, D]`` parameters on ``[B, ..., D]`` tokens."""
    view = (x.shape[0],) + (1,) * (x.dim() - 2) + (x.shape[-1],)
    # One fused pass over the tokens instead of a multiply and an add (equal to float rounding).
    return torch.addcmul(shift.view(view), x, 1 + scale.view(view))


#: Most token features (tokens x hidden size) a transformer block handles in one call: about
#: 16 MB of float32 activations, 64 MB in the 4x-wide MLP.
SLAB_GROUP_ELEMENTS = 1 << 22


def slabs_per_group(layout: WindowLayout, features_per_token: int) -> int:
    """How many slabs of ``layout.window[0]`` token frames a block processes in one call."""
    gt, gh, gw = layout.grid
    slab_elements = layout.window[0] * gh * gw * features_per_token
    return max(1, min(gt // layout.window[0], SLAB_GROUP_ELEMENTS // slab_elements))


def rope_tables_for(rope_cos: torch.Tensor, rope_sin: torch.Tensor, layout: WindowLayout, shifted: bool):
    """The RoPE tables ``[gt, gh, gw, hd]`` as a block (shifted or not) sees its rolled tokens.

    A shifted block rolls its tokens back by ``layout.shift``; its tables are rolled with them,
    so every token keeps the rotation of its true grid position and relative offsets inside a
    shifted window stay correct. All shifted blocks share one roll of the tables.
    """
    if not (shifted and any(layout.shift)):
        return rope_cos, rope_sin
    back = tuple(-s for s in layout.shift)
    return roll_grid(rope_cos, back, first_dim=0), roll_grid(rope_sin, back, first_dim=0)


class WindowTransformerBlock(nn.Module):
    """Pre-norm transformer block with windowed attention and adaLN-Zero conditioning.

    The modulation layer starts at zero, so every gate is zero and the block starts as the
    identity: a freshly built denoiser changes nothing, and training grows each block's share.
    """

    def __init__(self, hidden_size: int, num_heads: int, mlp_ratio: float = 4.0, shifted: bool = False, qk_norm: bool = True):
        super().__init__()
        self.shifted = shifted
        self.norm1 = nn.LayerNorm(hidden_size, elementwise_affine=False, eps=1e-6)
        self.attn = WindowAttention3D(hidden_size, num_heads, qk_norm=qk_norm)
        self.norm2 = nn.LayerNorm(hidden_size, elementwise_affine=False, eps=1e-6)
        mlp_hidden = int(hidden_size * mlp_ratio)
        self.mlp = nn.Sequential(
            nn.Linear(hidden_size, mlp_hidden),
            nn.GELU(approximate="tanh"),
            nn.Linear(mlp_hidden, hidden_size),
        )
        self.modulation = nn.Sequential(nn.SiLU(), nn.Linear(hidden_size, 6 * hidden_size))
        nn.init.zeros_(self.modulation[1].weight)
        nn.init.zeros_(self.modulation[1].bias)

    def forward(
        self,
        x: torch.Tensor,
        cond: torch.Tensor,
        rope_cos: torch.Tensor,
        rope_sin: torch.Tensor,
        layout: WindowLayout,
        mask: torch.Tensor | None,
    ) -> torch.Tensor:
        """``rope_cos``/``rope_sin`` come rolled as this block rolls its tokens (:func:`rope_tables_for`)."""
        shift = layout.shift if self.shifted else (0, 0, 0)
        if any(shift):
            x = roll_grid(x, tuple(-s for s in shift), first_dim=1)
        modulation = self.modulation(cond).chunk(6, dim=-1)
        # Once rolled, no window crosses a slab of ``window[0]`` token frames, and everything
        # else is per token: the block runs a few slabs at a time. Its transient tensors (q, k,
        # v, windows, logits, the 4x-wide MLP) for a whole clip at full resolution would
        # otherwise be the model's peak memory; slabs are grouped up to SLAB_GROUP_ELEMENTS so
        # that small grids (crops, narrow models) do not pay per-call overhead slab by slab.
        slab = layout.window[0]
        slabs = layout.grid[0] // slab
        group = slabs_per_group(layout, x.shape[0] * x.shape[-1])
        windows_per_slab = layout.num_windows // slabs
        out = torch.empty_like(x)
        for first in range(0, slabs, group):
            last = min(first + group, slabs)
            frames = slice(first * slab, last * slab)
            windows = slice(first * windows_per_slab, last * windows_per_slab)
            out[:, frames] = self._slab(
                x[:, frames], modulation, rope_cos[frames], rope_sin[frames], layout, None if mask is None else mask[windows]
            )
        return roll_grid(out, shift, first_dim=1) if any(shift) else out

    def _slab(self, x, modulation, rope_cos, rope_sin, layout: WindowLayout, mask: torch.Tensor | None) -> torch.Tensor:
        shift_a, scale_a, gate_a, shift_m, scale_m, gate_m = modulation
        gate_view = (x.shape[0], 1, 1, 1, x.shape[-1])
        attended = self.attn(modulate(self.norm1(x), shift_a, scale_a), rope_cos, rope_sin, layout, mask)
        x = torch.addcmul(x, gate_a.view(gate_view), attended)
        return torch.addcmul(x, gate_m.view(gate_view), self.mlp(modulate(self.norm2(x), shift_m, scale_m)))


class TemporalSelfAttention(nn.Module):
    """Self-attention along time at every spatial position of a ``[B, C, T, H, W]`` feature map.

    Each pixel's feature looks at the same pixel in every other frame, which is where temporal
    consistency lives. RoPE over the frame index tells the attention how far apart frames are.
    """

    def __init__(self, channels: int, num_heads: int):
        super().__init__()
        if channels % num_heads:
            raise ValueError(f"{channels} channels are not divisible by {num_heads} heads")
        self.num_heads = num_heads
        self.head_dim = channels // num_heads
        self.norm = nn.LayerNorm(channels, eps=1e-6)
        self.qkv = nn.Linear(channels, 3 * channels)
        self.proj = nn.Linear(channels, channels)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        b, c, t, h, w = features.shape
        tokens = features.permute(0, 3, 4, 2, 1).reshape(b * h * w, t, c)
        qkv = self.qkv(self.norm(tokens)).view(b * h * w, t, 3, self.num_heads, self.head_dim)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # each [BHW, heads, T, hd]
        cos, sin = rotary_cos_sin((t,), self.head_dim, device=features.device, dtype=q.dtype)
        q, k = apply_rotary(q, cos, sin), apply_rotary(k, cos, sin)
        out = F.scaled_dot_product_attention(q, k, v)
        out = self.proj(out.transpose(1, 2).reshape(b * h * w, t, c))
        out = out.view(b, h, w, t, c).permute(0, 4, 3, 1, 2)
        return features + out
