"""Batch augmentation on in-memory tensors (taught in notebooks/ch04_cnn/04_data_augmentation)."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def random_crop_flip(xb: torch.Tensor, pad: int = 4,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """Per-image random crop (after `pad` pixels of reflection padding) and horizontal flip.

    Works on a batch (B, C, H, W) on any device and draws its random numbers on that device, so a
    GPU batch never waits for the host. Pass it as `TensorBatches(transform=...)`; a `generator`,
    if given, must live on the batch's device: `torch.Generator(device=xb.device)`.
    """
    if xb.ndim != 4:
        raise ValueError(f"random_crop_flip takes a batch (B, C, H, W), got shape {tuple(xb.shape)}.")
    if pad < 0 or pad >= min(xb.shape[-2:]):
        raise ValueError(f"pad must be between 0 and the image size, not {pad}.")
    dev = xb.device
    if generator is not None and generator.device.type != dev.type:
        raise ValueError(f"the generator is on {generator.device} but the batch is on {dev}: "
                         f"make it with torch.Generator(device={str(dev)!r}).manual_seed(...).")
    B, C, H, W = xb.shape
    padded = F.pad(xb, (pad, pad, pad, pad), mode="reflect")                # (B, C, H+2p, W+2p)
    dy, dx = torch.randint(0, 2 * pad + 1, (2, B, 1), generator=generator, device=dev)
    rows = (dy + torch.arange(H, device=dev))[:, None, :, None]            # (B, 1, H, 1)
    cols = (dx + torch.arange(W, device=dev))[:, None, None, :]            # (B, 1, 1, W)
    b = torch.arange(B, device=dev)[:, None, None, None]
    c = torch.arange(C, device=dev)[None, :, None, None]
    out = padded[b, c, rows, cols]                                          # (B, C, H, W)
    flip = torch.rand(B, generator=generator, device=dev) < 0.5
    return torch.where(flip[:, None, None, None], out.flip(-1), out)
