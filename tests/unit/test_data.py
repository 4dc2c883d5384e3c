"""The real on-disk formats (MNIST IDX, CIFAR-10 python batches) through the registry and loaders,
the cache root, the read-only shared folder, and the quick-tier stand-ins."""
from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import pickle
import tarfile
import zipfile

import numpy as np
import pytest
import torch

import dlbook
from dlbook import data
from dlbook.download import DataError, Resource
from tests.unit.httpserver import FileServer


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes())


def cifar_archive(n_per_batch: int = 5) -> tuple[bytes, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    all_x, all_y = [], []
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            x = rng.integers(0, 256, (n_per_batch, 3072), dtype=np.uint8)
            y = rng.integers(0, 10, n_per_batch).tolist()
            blob = pickle.dumps({b"data": x, b"labels": y, b"batch_label": name.encode()})
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
            all_x.append(x)
            all_y.append(y)
    return buf.getvalue(), np.concatenate(all_x), np.concatenate(all_y)


def local_entry(name: str, files: dict[str, bytes], url: str) -> data.DatasetInfo:
    res = tuple(Resource(f, (url + f,), hashlib.sha256(b).hexdigest(), len(b)) for f, b in files.items())
    return dataclasses.replace(data.REGISTRY[name], files=res)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DLBOOK_DATA", str(tmp_path / "cache"))
    monkeypatch.delenv("DLBOOK_SHARED_DATA", raising=False)
    monkeypatch.setenv("DLBOOK_PROGRESS", "0")
    return tmp_path / "cache"


def mnist_files():
    rng = np.random.default_rng(1)
    tr_x, te_x = rng.integers(0, 256, (7, 28, 28)), rng.integers(0, 256, (3, 28, 28))
    tr_y, te_y = rng.integers(0, 10, 7), rng.integers(0, 10, 3)
    files = {"train-images-idx3-ubyte.gz": idx_bytes(tr_x), "train-labels-idx1-ubyte.gz": idx_bytes(tr_y),
             "t10k-images-idx3-ubyte.gz": idx_bytes(te_x), "t10k-labels-idx1-ubyte.gz": idx_bytes(te_y)}
    return files, tr_x, tr_y


def test_mnist_full_tier_downloads_and_reads_idx(cache, monkeypatch):
    files, tr_x, tr_y = mnist_files()
    with FileServer(files) as srv:
        monkeypatch.setitem(data.REGISTRY, "mnist", local_entry("mnist", files, srv.url))
        X, y = dlbook.load_mnist(train=True, quick=False)
    assert X.shape == (7, 1, 28, 28) and X.dtype == torch.float32
    assert torch.equal((X[:, 0] * 255).round().to(torch.uint8), torch.from_numpy(tr_x.astype(np.uint8)))
    assert y.tolist() == tr_y.tolist() and y.dtype == torch.int64
    assert sorted(p.name for p in (cache / "mnist").glob("*.gz")) == sorted(files)
    assert set(data.status("mnist").values()) == {"cached"}


def test_cifar10_full_tier_reads_python_batches(cache, monkeypatch):
    blob, xs, ys = cifar_archive()
    with FileServer({"cifar-10-python.tar.gz": blob}) as srv:
        monkeypatch.setitem(data.REGISTRY, "cifar10",
                            local_entry("cifar10", {"cifar-10-python.tar.gz": blob}, srv.url))
        X, y = dlbook.load_cifar10(train=True, quick=False)
        X_te, y_te = dlbook.load_cifar10(train=False, quick=False)
    assert X.shape == (25, 3, 32, 32) and X_te.shape == (5, 3, 32, 32)
    assert torch.equal((X * 255).round().to(torch.uint8).reshape(25, -1), torch.from_numpy(xs[:25]))
    assert y.tolist() == ys[:25].tolist() and y_te.tolist() == ys[25:].tolist()


def test_read_only_shared_folder_is_used_without_download(cache, tmp_path, monkeypatch):
    files, _, _ = mnist_files()
    shared = tmp_path / "lab-share"
    (shared / "mnist").mkdir(parents=True)
    for name, blob in files.items():
        (shared / "mnist" / name).write_bytes(blob)
        (shared / "mnist" / name).chmod(0o444)
    (shared / "mnist").chmod(0o555)
    monkeypatch.setenv("DLBOOK_SHARED_DATA", str(shared))
    dead = "http://127.0.0.1:9/"  # nothing listens there: a download would fail
    monkeypatch.setitem(data.REGISTRY, "mnist", local_entry("mnist", files, dead))
    paths = data.fetch("mnist")
    assert all(p.parent == shared / "mnist" for p in paths.values())
    assert not (cache / "mnist").exists()
    assert set(data.status("mnist").values()) == {"shared"}
    (shared / "mnist").chmod(0o755)


def test_truncated_idx_gives_a_clear_error(tmp_path):
    path = tmp_path / "bad-idx3-ubyte.gz"
    path.write_bytes(idx_bytes(np.zeros((2, 28, 28)))[:-0 or None])
    raw = gzip.decompress(path.read_bytes())[:-5]
    path.write_bytes(gzip.compress(raw))
    with pytest.raises(DataError, match="truncated"):
        data.read_idx(path)
    path.write_bytes(gzip.compress(b"\x01\x02\x03\x04"))
    with pytest.raises(DataError, match="magic"):
        data.read_idx(path)


def test_unknown_dataset_names_the_known_ones():
    with pytest.raises(KeyError, match="mnist"):
        data.fetch("imagenet")


def test_cache_root_prefers_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("DLBOOK_DATA", str(tmp_path))
    assert data.cache_root() == tmp_path
    monkeypatch.delenv("DLBOOK_DATA")
    assert data.cache_root().name == "data"  # the checkout's data/ folder


def test_registry_entries_are_complete():
    for name in ("mnist", "cifar10"):
        info = data.REGISTRY[name]
        assert info.licence and info.citation and info.homepage and info.stand_in
        assert all(r.size and r.urls for r in info.files)


def test_quick_mnist_is_the_shipped_real_sample():
    X, y = dlbook.load_mnist(train=True, quick=True)
    X_te, y_te = dlbook.load_mnist(train=False, quick=True)
    assert X.shape == (4000, 1, 28, 28) and X_te.shape == (1000, 1, 28, 28)
    assert X.dtype == torch.float32 and 0 <= X.min() and X.max() == 1
    # the first 5,000 official test digits, in their published class counts
    counts = torch.bincount(torch.cat([y, y_te]), minlength=10).tolist()
    assert counts == [460, 571, 530, 500, 500, 456, 462, 512, 489, 520]
    # real MNIST statistics (the old 8x8 stand-in had 49 % always-zero pixels, 2.8x less energy)
    dead = (torch.cat([X, X_te]).flatten(1).amax(0) == 0).float().mean().item()
    assert dead < 0.25 and 0.11 < X.mean().item() < 0.15
    # the split is fixed and disjoint
    again, _ = dlbook.load_mnist(train=True, quick=True)
    assert torch.equal(X, again)
    flat = {bytes(img.to(torch.uint8).numpy()) for img in (X * 255).round()}
    assert not any(bytes(img.to(torch.uint8).numpy()) in flat for img in (X_te * 255).round())


def test_sample_env_gives_the_full_tier_the_sample(monkeypatch):
    monkeypatch.setenv("DLBOOK_SAMPLE", "1")
    monkeypatch.setenv("DLBOOK_DATA", "/nonexistent/never-downloaded")
    X, _ = dlbook.load_mnist(train=False, quick=False)
    assert len(X) == 1000


def test_damaged_sample_names_the_fix(monkeypatch, tmp_path):
    for name in data.MNIST_SAMPLE:
        (tmp_path / name).write_bytes(b"not the file")
    monkeypatch.setattr(data, "SAMPLE_DIR", tmp_path)
    data._sample_file.cache_clear()
    try:
        with pytest.raises(data.DataError, match="reinstall"):
            data.load_mnist_sample()
    finally:
        data._sample_file.cache_clear()


def test_cifar_standin_shapes_and_names():
    C, c = dlbook.load_cifar10(train=True, quick=True)
    C_te, c_te = dlbook.load_cifar10(train=False, quick=True)
    assert C.shape == (2500, 3, 32, 32) and C_te.shape == (500, 3, 32, 32)
    assert torch.bincount(c).tolist() == [250] * 10 and torch.bincount(c_te).tolist() == [50] * 10
    assert 0 <= C.min() and C.max() <= 1
    assert len(dlbook.class_names("cifar10", quick=True)) == 10


def test_cifar_standin_needs_more_than_colour():
    """Colour statistics alone must not solve the stand-in: a network has to add something."""
    from dlbook import baselines

    X, y = dlbook.load_cifar10(train=True, quick=True)
    X_te, y_te = dlbook.load_cifar10(train=False, quick=True)
    mean_colour = baselines.nearest_neighbour(X.mean((2, 3)), y, X_te.mean((2, 3)), y_te)
    histogram = baselines.nearest_colour(X, y, X_te, y_te)
    assert mean_colour < 0.45 and histogram < 0.65, (mean_colour, histogram)
    assert histogram > 0.2  # but the classes are not noise either


def test_cifar_standin_splits_come_from_disjoint_regions(monkeypatch):
    """Train crops from the first 70 % of each photo's long side, test crops from the rest."""
    from dlbook import standins

    from torchvision import ops

    boxes = {}
    real_roi = ops.roi_align

    def roi_spy(img, bx, **kwargs):
        boxes.setdefault(len(boxes), (tuple(img.shape[-2:]), bx.clone()))
        return real_roi(img, bx, **kwargs)

    monkeypatch.setattr(ops, "roi_align", roi_spy)
    standins._photo_patches.cache_clear()
    try:
        for train in (True, False):
            boxes.clear()
            standins._photo_patches(train, 20, 10)
            assert len(boxes) == 10, "one call of roi_align per photo"
            for (H, W), bx in boxes.values():
                long_side, lo, hi = (W, bx[:, 1], bx[:, 3]) if W >= H else (H, bx[:, 2], bx[:, 4])
                cut = int(long_side * (1 - standins.TEST_REGION))
                if train:
                    assert hi.max() <= cut
                else:
                    assert lo.min() >= cut
    finally:
        standins._photo_patches.cache_clear()


def test_mnist_sample_is_learnable_by_a_linear_model():
    """A linear (ridge) classifier on the real sample: far above chance, below the networks."""
    X, y = dlbook.load_mnist(train=True, quick=True)
    X_te, y_te = dlbook.load_mnist(train=False, quick=True)
    A = torch.cat([X.flatten(1), torch.ones(len(X), 1)], 1).double()
    A_te = torch.cat([X_te.flatten(1), torch.ones(len(X_te), 1)], 1).double()
    targets = torch.nn.functional.one_hot(y, 10).double()
    W = torch.linalg.solve(A.T @ A + 10 * torch.eye(A.shape[1], dtype=A.dtype), A.T @ targets)
    acc = ((A_te @ W).argmax(1) == y_te).double().mean().item()
    assert 0.75 < acc < 0.95, f"a linear classifier reaches {acc:.2f} on the MNIST sample"


def test_standins_are_deterministic():
    a, _ = dlbook.load_cifar10(train=False, quick=True)
    b, _ = dlbook.load_cifar10(train=False, quick=True)
    assert torch.equal(a, b)


def test_baselines():
    from dlbook import baselines

    y_tr, y_te = torch.tensor([0, 1, 1, 2]), torch.tensor([1, 1, 0, 2])
    assert baselines.majority_class(y_tr, y_te) == 0.5
    F_tr = torch.tensor([[0.0], [1.0], [2.0], [3.0]])
    assert baselines.nearest_neighbour(F_tr, y_tr, torch.tensor([[0.1], [2.9]]),
                                       torch.tensor([0, 2])) == 1.0
    red = torch.zeros(1, 3, 4, 4)
    red[:, 0] = 1.0
    h = baselines.colour_histogram(red, bins=4)
    assert h.shape == (1, 12) and h[0].tolist() == [0, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0]
    with pytest.raises(ValueError, match="rows"):
        baselines.nearest_neighbour(F_tr, y_tr[:3], F_tr, y_tr)
    with pytest.raises(ValueError, match="N, C, H, W"):
        baselines.colour_histogram(red[0])


def test_tatoeba_pairs_download_with_their_sha1_and_read(cache, monkeypatch):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("fra-eng/_about.txt", "attribution")
        zf.writestr("fra-eng/fra.txt", "Go.\tVa !\nI am cold.\tJ'ai froid.\tCC-BY 2.0 (France)\n")
    blob = buf.getvalue()
    with FileServer({"fra-eng.zip": blob}) as srv:
        res = Resource("fra-eng.zip", (srv.url + "fra-eng.zip",), "",
                       sha1=hashlib.sha1(blob).hexdigest())
        monkeypatch.setitem(data.REGISTRY, "tatoeba-eng-fra",
                            dataclasses.replace(data.REGISTRY["tatoeba-eng-fra"], files=(res,)))
        assert data.load_tatoeba() == [("Go.", "Va !"), ("I am cold.", "J'ai froid.")]
    assert data.status("tatoeba-eng-fra") == {"fra-eng.zip": "cached"}
    (cache / "tatoeba-eng-fra" / "fra-eng.zip").write_bytes(blob[:-1])  # damaged in the cache
    assert data.status("tatoeba-eng-fra") == {"fra-eng.zip": "corrupt"}


def test_tatoeba_offline_error_names_the_file_and_its_sha1(cache, monkeypatch):
    entry = data.REGISTRY["tatoeba-eng-fra"]
    dead = dataclasses.replace(entry.files[0], urls=("http://127.0.0.1:9/fra-eng.zip",))
    monkeypatch.setitem(data.REGISTRY, "tatoeba-eng-fra", dataclasses.replace(entry, files=(dead,)))
    with pytest.raises(DataError) as err:
        data.fetch("tatoeba-eng-fra", retries=1, backoff=0)
    msg = str(err.value)
    assert "sha1 94646ad1522d915e7b0f9296181140edcf86a4f5" in msg
    assert str(cache / "tatoeba-eng-fra" / "fra-eng.zip") in msg


def test_a_pairs_file_without_tabs_gets_a_clear_error(tmp_path):
    path = tmp_path / "bad.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("fra.txt", "Go. Va !\n")
    with pytest.raises(DataError, match="line 1 is not tab-separated"):
        data.read_sentence_pairs(path)
