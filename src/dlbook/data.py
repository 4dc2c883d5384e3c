"""The data registry, the cache, the real loaders and the quick-tier stand-ins."""
from __future__ import annotations

import gzip
import os
import pickle
import tarfile
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from .download import DataError, Resource, fetch_file, is_valid, sha256_of
from .env import is_quick

MNIST_URLS = ("https://ossci-datasets.s3.amazonaws.com/mnist/",
              "https://storage.googleapis.com/cvdf-datasets/mnist/")
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck")


@dataclass(frozen=True)
class DatasetInfo:
    """A registry entry: the files of a data set with its licence and citation."""

    name: str
    description: str
    files: tuple[Resource, ...]
    licence: str
    citation: str
    homepage: str
    stand_in: str  # what the quick tier uses instead


def _mnist(filename: str, sha256: str, size: int) -> Resource:
    return Resource(filename, tuple(u + filename for u in MNIST_URLS), sha256, size)


REGISTRY: dict[str, DatasetInfo] = {
    "mnist": DatasetInfo(
        name="mnist",
        description="MNIST handwritten digits: 60,000 training and 10,000 test images, 28x28 grey.",
        files=(
            _mnist("train-images-idx3-ubyte.gz",
                   "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", 9912422),
            _mnist("train-labels-idx1-ubyte.gz",
                   "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 28881),
            _mnist("t10k-images-idx3-ubyte.gz",
                   "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", 1648877),
            _mnist("t10k-labels-idx1-ubyte.gz",
                   "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 4542),
        ),
        licence="CC BY-SA 3.0 (Y. LeCun and C. Cortes)",
        citation="LeCun, Bottou, Bengio, Haffner (1998). Gradient-based learning applied to "
                 "document recognition. Proc. IEEE 86(11).",
        homepage="http://yann.lecun.com/exdb/mnist/",
        stand_in="5,000 real MNIST digits shipped inside dlbook (the first half of the official "
                 "test set), split 4,000 / 1,000",
    ),
    "cifar10": DatasetInfo(
        name="cifar10",
        description="CIFAR-10: 50,000 training and 10,000 test colour images, 32x32, 10 classes.",
        files=(Resource(
            "cifar-10-python.tar.gz",
            ("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",),
            "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce", 170498071),),
        licence="no explicit licence; free for research and teaching (A. Krizhevsky)",
        citation="Krizhevsky (2009). Learning multiple layers of features from tiny images. "
                 "Tech. report, University of Toronto.",
        homepage="https://www.cs.toronto.edu/~kriz/cifar.html",
        stand_in="10 classes of 32x32 crops of 10 photographs that scikit-image and matplotlib "
                 "ship: disjoint regions per split, random hue, brightness and grey, so that "
                 "colour alone cannot name the class",
    ),
    "tatoeba-eng-fra": DatasetInfo(
        name="tatoeba-eng-fra",
        description="English-French sentence pairs from the Tatoeba project, as "
                    "packaged by manythings.org/anki and mirrored by d2l.ai: fra-eng/fra.txt, one "
                    "tab-separated pair a line.",
        files=(Resource(
            "fra-eng.zip",
            ("http://d2l-data.s3-accelerate.amazonaws.com/fra-eng.zip",),
            "", sha1="94646ad1522d915e7b0f9296181140edcf86a4f5",
            mirrors_note="d2l.ai's mirror, with the sha1 that d2l publishes; manythings.org's own "
                         "fra-eng.zip changes with every Tatoeba export, so it has no fixed hash"),),
        licence="CC BY 2.0 FR (the Tatoeba project, tatoeba.org); packaging by manythings.org",
        citation="Tatoeba: a collection of sentences and translations, https://tatoeba.org; "
                 "pairs by manythings.org/anki.",
        homepage="https://www.manythings.org/anki/",
        stand_in="English numbers and dates with their French forms, generated offline with "
                 "num2words and babel (ch07/04_seq2seq_translation)",
    ),
}


def register(info: DatasetInfo) -> None:
    """Add (or replace) a registry entry, e.g. for a class's own data set."""
    if not info.files:
        raise ValueError(f"data set {info.name!r} has no files.")
    REGISTRY[info.name] = info


def _checkout_data_dir() -> Path | None:
    """The `data/` folder of the checkout dlbook is installed from (editable install), if any."""
    root = Path(__file__).resolve().parents[2]
    if (root / "pyproject.toml").is_file() and (root / "data").is_dir():
        return root / "data"
    return None


def cache_root() -> Path:
    """The writable cache: DLBOOK_DATA, else the checkout's data/, else ~/.cache/dlbook."""
    env = os.environ.get("DLBOOK_DATA")
    if env:
        return Path(env).expanduser()
    checkout = _checkout_data_dir()
    if checkout is not None:
        return checkout
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "dlbook"


def shared_roots() -> list[Path]:
    """Read-only folders (DLBOOK_SHARED_DATA, separated by os.pathsep) searched before the cache."""
    raw = os.environ.get("DLBOOK_SHARED_DATA", "")
    return [Path(p).expanduser() for p in raw.split(os.pathsep) if p.strip()]


def _info(name: str) -> DatasetInfo:
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise KeyError(f"no data set called {name!r}; the registry has: {known}.") from None


def status(name: str) -> dict[str, str]:
    """For each file of a data set: 'cached', 'shared', 'corrupt' or 'missing' (hashes every file)."""
    info = _info(name)
    out = {}
    for res in info.files:
        state = "missing"
        if any(is_valid(root / name / res.filename, res) for root in shared_roots()):
            state = "shared"
        path = cache_root() / name / res.filename
        if path.exists():
            state = "cached" if is_valid(path, res) else "corrupt"
        out[res.filename] = state
    return out


def fetch(name: str, **kwargs) -> dict[str, Path]:
    """Make every file of a data set available (shared folder, cache or download); return their paths."""
    info = _info(name)
    paths = {}
    for res in info.files:
        shared = [root / name / res.filename for root in shared_roots()]
        hit = next((p for p in shared if is_valid(p, res)), None)
        paths[res.filename] = hit or fetch_file(res, cache_root() / name, dataset=name, **kwargs)
    return paths


# --- real on-disk formats -----------------------------------------------------------------

def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (MNIST's format), gzipped or not, into a uint8 array."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as fh:
        data = fh.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise DataError(f"{path} is not an unsigned-byte IDX file (bad magic number); "
                        "delete it and fetch it again.")
    ndim = data[3]
    dims = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise DataError(f"{path} is truncated: expected {int(np.prod(dims))} values, "
                        f"found {body.size}; delete it and fetch it again.")
    return body.reshape(dims).copy()  # a writable array that owns its memory


def read_cifar10(archive: Path, train: bool) -> tuple[np.ndarray, np.ndarray]:
    """Read CIFAR-10's python batches from the .tar.gz without extracting it: (N,3,32,32) uint8, labels."""
    names = [f"data_batch_{i}" for i in range(1, 6)] if train else ["test_batch"]
    images, labels = [], []
    with tarfile.open(archive, "r:gz") as tar:
        members = {Path(m.name).name: m for m in tar.getmembers() if m.isfile()}
        for batch in names:
            if batch not in members:
                raise DataError(f"{archive} has no member {batch}; it is not the CIFAR-10 "
                                "python archive.")
            # the archive's sha256 was verified, so unpickling its batches is safe
            entry = pickle.load(tar.extractfile(members[batch]), encoding="bytes")
            images.append(np.asarray(entry[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
            labels.append(np.asarray(entry[b"labels"], dtype=np.int64))
    return np.concatenate(images), np.concatenate(labels)


# --- loaders: (X, y) tensors, real in the full tier, stand-ins in the quick tier -----------

def _to_tensors(images: np.ndarray, labels: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    X = torch.from_numpy(np.ascontiguousarray(images)).float().div_(255)
    return X, torch.from_numpy(np.asarray(labels, dtype=np.int64))


SAMPLE_DIR = Path(__file__).with_name("sample_data")
MNIST_SAMPLE = {  # shipped with the package: the first 5,000 digits of the official test set
    "mnist-sample-images-idx3-ubyte.gz":
        "c85552917b3ffa3e214fef4a63e10bc01d4a644b9a36df785578194fb81cb45c",
    "mnist-sample-labels-idx1-ubyte.gz":
        "f03a8036e422be8e885363da42b342cc92bd78f67b1eb46e609b5ad6d9cd3024",
}
MNIST_SAMPLE_TRAIN = 4000  # the sample's fixed split: 4,000 training digits, 1,000 test digits
SAMPLE_ENV = "DLBOOK_SAMPLE"


def use_sample(quick: bool | None = None) -> bool:
    """Whether MNIST comes from the shipped sample: in the quick tier, or when DLBOOK_SAMPLE=1.

    DLBOOK_SAMPLE=1 with the full tier runs the full tier's recipe on the real sample (how the
    recipes are checked without a download)."""
    from .env import _env_flag

    return is_quick(quick) or bool(_env_flag(SAMPLE_ENV))


def load_mnist_sample(train: bool = True):
    """The shipped 5,000 real MNIST digits as (X, y), split 4,000 train / 1,000 test (fixed)."""
    images, labels = (_sample_file(name) for name in MNIST_SAMPLE)
    order = np.random.default_rng(5000).permutation(len(labels))
    idx = order[:MNIST_SAMPLE_TRAIN] if train else order[MNIST_SAMPLE_TRAIN:]
    return _to_tensors(images[idx][:, None], labels[idx])


@lru_cache(maxsize=2)
def _sample_file(name: str) -> np.ndarray:
    path = SAMPLE_DIR / name
    if not path.is_file() or sha256_of(path) != MNIST_SAMPLE[name]:
        raise DataError(f"the MNIST sample file {path} is missing or damaged (its sha256 should "
                        f"be {MNIST_SAMPLE[name]}); reinstall dlbook: "
                        "pip install --force-reinstall dlbook (or `pip install -e .` in a checkout).")
    data = read_idx(path)
    data.setflags(write=False)  # cached: callers get copies through _to_tensors
    return data


def load_mnist(train: bool = True, quick: bool | None = None):
    """MNIST as (X, y): X float32 (N, 1, 28, 28) in [0, 1], y int64.

    The full tier reads the official 60,000 / 10,000 files (downloaded once); the quick tier, or
    DLBOOK_SAMPLE=1, the shipped sample of 5,000 real digits split 4,000 / 1,000."""
    if use_sample(quick):
        return load_mnist_sample(train)
    paths = fetch("mnist")
    prefix = "train" if train else "t10k"
    images = read_idx(paths[f"{prefix}-images-idx3-ubyte.gz"])[:, None]
    labels = read_idx(paths[f"{prefix}-labels-idx1-ubyte.gz"])
    return _to_tensors(images, labels)


def read_sentence_pairs(archive: Path) -> list[tuple[str, str]]:
    """The (first, second) columns of the tab-separated pairs file inside a manythings-style zip."""
    with zipfile.ZipFile(archive) as zf:
        names = [n for n in zf.namelist() if n.endswith(".txt") and "_about" not in n]
        if not names:
            raise DataError(f"{archive} holds no pairs file (.txt); delete it and fetch it again.")
        text = zf.read(names[0]).decode("utf-8")
    pairs = []
    for number, line in enumerate(text.splitlines(), 1):
        cols = line.replace("\u202f", " ").replace("\xa0", " ").split("\t")
        if len(cols) < 2:
            raise DataError(f"{archive}:{names[0]} line {number} is not tab-separated: {line[:60]!r}")
        pairs.append((cols[0].strip(), cols[1].strip()))
    return pairs


def load_tatoeba() -> list[tuple[str, str]]:
    """The Tatoeba English-French pairs as (english, french) strings, in the file's order (by
    length). Full tier only: the quick tier generates its pairs (see the registry's stand_in)."""
    return read_sentence_pairs(fetch("tatoeba-eng-fra")["fra-eng.zip"])


def load_cifar10(train: bool = True, quick: bool | None = None):
    """CIFAR-10 as (X, y): X float32 (N, 3, 32, 32) in [0, 1], y int64; the photo stand-in when quick."""
    if is_quick(quick):
        from .standins import photo_patches

        return photo_patches(train)
    paths = fetch("cifar10")
    return _to_tensors(*read_cifar10(paths["cifar-10-python.tar.gz"], train))


def class_names(name: str, quick: bool | None = None) -> tuple[str, ...]:
    """The class names of 'mnist' or 'cifar10' (of the stand-in in the quick tier)."""
    if name == "mnist":
        return tuple(str(d) for d in range(10))
    if name == "cifar10":
        if is_quick(quick):
            from .standins import PHOTO_CLASSES

            return PHOTO_CLASSES
        return CIFAR10_CLASSES
    raise KeyError(f"class names are known for 'mnist' and 'cifar10', not {name!r}.")
