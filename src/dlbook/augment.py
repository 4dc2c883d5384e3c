"""Batch augmentation on in-memory tensors (taught in notebooks/ch04_cnn/04_data_augmentation)."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def random_crop_flip(xb: torch.Tensor, pad: int = 4,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """Per-image random crop (after `pad` pixels of reflection padding) and horizontal flip.

    Works on a batch (B, C, H, W) on any device; pass it as `TensorBatches(transform=...)`.
    """
    if xb.ndim != 4:
        raise ValueError(f"random_crop_flip takes a batch (B, C, H, W), got shape {tuple(xb.shape)}.")
    if pad < 0 or pad >= min(xb.shape[-2:]):
        raise ValueError(f"pad must be between 0 and the image size, not {pad}.")
    B, C, H, W = xb.shape
    padded = F.pad(xb, (pad, pad, pad, pad), mode="reflect")             # (B, C, H+2p, W+2p)
    dy, dx = torch.randint(0, 2 * pad + 1, (2, B, 1), generator=generator).to(xb.device)
    rows = (dy + torch.arange(H, device=xb.device))[:, None, :, None]     # (B, 1, H, 1)
    cols = (dx + torch.arange(W, device=xb.device))[:, None, None, :]     # (B, 1, 1, W)
    b = torch.arange(B, device=xb.device)[:, None, None, None]
    c = torch.arange(C, device=xb.device)[None, :, None, None]
    out = padded[b, c, rows, cols]                                        # (B, C, H, W)
    flip = torch.rand(B, generator=generator).to(xb.device) < 0.5
    return torch.where(flip[:, None, None, None], out.flip(-1), out)
