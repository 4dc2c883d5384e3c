"""The real on-disk formats (MNIST IDX, CIFAR-10 python batches) through the registry and loaders,
the cache root, the read-only shared folder, and the quick-tier stand-ins."""
from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import pickle
import tarfile

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


def test_quick_standins_have_the_real_shapes():
    X, y = dlbook.load_mnist(train=True, quick=True)
    X_te, _ = dlbook.load_mnist(train=False, quick=True)
    assert X.shape[1:] == (1, 28, 28) and len(X) + len(X_te) == 1797
    assert 0 <= X.min() and X.max() <= 1 and set(y.tolist()) == set(range(10))
    C, c = dlbook.load_cifar10(train=True, quick=True)
    C_te, _ = dlbook.load_cifar10(train=False, quick=True)
    assert C.shape[1:] == (3, 32, 32) and len(C) == 2500 and len(C_te) == 500
    assert set(c.tolist()) == set(range(10))
    assert len(dlbook.class_names("cifar10", quick=True)) == 10


@pytest.mark.parametrize("loader", [dlbook.load_mnist, dlbook.load_cifar10])
def test_quick_standins_are_learnable(loader):
    """A linear (ridge) classifier must beat chance by far, so quick-tier numbers mean something."""
    X, y = loader(train=True, quick=True)
    X_te, y_te = loader(train=False, quick=True)
    A = torch.cat([X.flatten(1), torch.ones(len(X), 1)], 1).double()
    A_te = torch.cat([X_te.flatten(1), torch.ones(len(X_te), 1)], 1).double()
    targets = torch.nn.functional.one_hot(y, 10).double()
    W = torch.linalg.solve(A.T @ A + 10 * torch.eye(A.shape[1], dtype=A.dtype), A.T @ targets)
    acc = ((A_te @ W).argmax(1) == y_te).double().mean().item()
    assert acc > 0.5, f"a linear classifier reaches only {acc:.2f} on the stand-in"


def test_standins_are_deterministic():
    a, _ = dlbook.load_cifar10(train=False, quick=True)
    b, _ = dlbook.load_cifar10(train=False, quick=True)
    assert torch.equal(a, b)
