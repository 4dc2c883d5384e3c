"""dlbook.pretrained: the offline EfficientNet-Lite0 knows a cat and an espresso; the full tier's
networks fail offline with a message that names the file, the folder and the hash."""
from __future__ import annotations

import urllib.error

import pytest
import torch

from dlbook import pretrained


@pytest.fixture(scope="module")
def lite0():
    torch.set_num_threads(1)
    return pretrained.efficientnet_lite0()


def test_lite0_loads_offline_and_classifies_known_photos(lite0):
    x = torch.stack([pretrained.load_image(n, (224, 224)) for n in ("chelsea", "coffee")])
    top = pretrained.classify(lite0, x, top=1)
    assert top[0][0][0] == "Egyptian cat" and top[0][0][1] > 0.5
    assert top[1][0][0] == "espresso" and top[1][0][1] > 0.5
    assert not lite0.training


def test_lite0_with_the_wrong_normalisation_is_less_sure(lite0):
    x = pretrained.load_image("chelsea", (224, 224))[None]
    with torch.no_grad():
        right = lite0(x).softmax(1).max().item()
        raw = lite0[1](x).softmax(1).max().item()  # skipping Normalize: pixels in [0, 1]
    assert right > raw


def test_categories_and_image_loading():
    names = pretrained.imagenet_categories()
    assert len(names) == 1000 and names[285] == "Egyptian cat"
    x = pretrained.load_image("coffee", 100)
    assert x.shape[1] == 100 and 0 <= x.min() and x.max() <= 1
    with pytest.raises(ValueError, match="scikit-image"):
        pretrained.load_image("no_such_photo")
    with pytest.raises(ValueError, match="RGB uint8"):
        pretrained.load_image(torch.zeros(4, 4).numpy())


def test_full_tier_weights_offline_error_names_file_folder_and_hash(monkeypatch, tmp_path):
    monkeypatch.setattr(pretrained, "weights_folder", lambda: tmp_path / "weights")

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")
    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", offline)
    with pytest.raises(pretrained.PretrainedWeightsError) as err:
        pretrained.torchvision_net("vgg16")
    message = str(err.value)
    assert "vgg16-397923af.pth" in message and str(tmp_path / "weights") in message
    assert "397923af" in message and "quick tier" in message
    with pytest.raises(ValueError, match="resnet18"):
        pretrained.torchvision_net("alexnet")
