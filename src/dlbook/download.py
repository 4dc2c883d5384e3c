"""Safe downloads into the data cache: stream to a temporary file, verify its hash, rename atomically."""
from __future__ import annotations

import hashlib
import os
import socket
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from .env import progress_enabled

CHUNK = 1 << 20


class DataError(RuntimeError):
    """Base class of the data errors; the message always says what to do."""


class ChecksumError(DataError):
    """A downloaded or cached file does not have the hash the registry expects."""


class DownloadError(DataError):
    """A file could not be downloaded from any of its URLs."""


HASH_LENGTHS = {"sha256": 64, "sha1": 40}


@dataclass(frozen=True)
class Resource:
    """One file of a data set: its name in the cache, where to get it, its hash and its size.

    The hash is a sha256; `sha1` replaces it only where the file's publisher gives nothing
    stronger (e.g. the d2l mirror of the Tatoeba pairs): pass sha256="" and sha1=..."""

    filename: str
    urls: tuple[str, ...]
    sha256: str
    size: int | None = None
    mirrors_note: str = field(default="", compare=False)
    sha1: str = ""

    def __post_init__(self):
        if not self.urls:
            raise ValueError(f"{self.filename}: a resource needs at least one URL.")
        if bool(self.sha256) == bool(self.sha1):
            raise ValueError(f"{self.filename}: give exactly one hash, sha256 (preferred) or sha1.")
        algorithm, value = self.digest
        if len(value) != HASH_LENGTHS[algorithm] or any(c not in "0123456789abcdef" for c in value):
            raise ValueError(f"{self.filename}: {algorithm} must be {HASH_LENGTHS[algorithm]} "
                             "lowercase hex digits.")

    @property
    def digest(self) -> tuple[str, str]:
        """(algorithm, expected hex digest)."""
        return ("sha256", self.sha256) if self.sha256 else ("sha1", self.sha1)


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    """Return the hex digest of a file ('sha256' or 'sha1')."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    """Return the sha256 hex digest of a file."""
    return file_digest(path, "sha256")


def is_valid(path: Path, res: Resource) -> bool:
    """True when `path` exists with the resource's size and hash."""
    if not path.is_file():
        return False
    if res.size is not None and path.stat().st_size != res.size:
        return False
    algorithm, expected = res.digest
    return file_digest(path, algorithm) == expected


@contextmanager
def _lock(path: Path):
    """Hold an advisory lock (POSIX) so two processes do not download the same file twice."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        try:
            import fcntl
        except ImportError:  # Windows: the atomic rename alone keeps the cache correct
            yield
            return
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _stream(url: str, res: Resource, dest_dir: Path, timeout: float, progress: bool) -> Path:
    """Download `url` into a temporary file in `dest_dir`, check it, and return the temporary path."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{res.filename}.", suffix=".part", dir=dest_dir)
    tmp = Path(tmp_name)
    try:
        req = urllib.request.Request(url, headers={"User-Agent": "dlbook"})
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(req, timeout=timeout) as resp:
            total = resp.headers.get("Content-Length")
            total = int(total) if total else res.size
            algorithm, expected = res.digest
            digest = hashlib.new(algorithm)
            got = 0
            with tqdm(total=total, unit="B", unit_scale=True, desc=res.filename,
                      disable=not progress, leave=False) as bar:
                for chunk in iter(lambda: resp.read(CHUNK), b""):
                    out.write(chunk)
                    digest.update(chunk)
                    got += len(chunk)
                    bar.update(len(chunk))
            out.flush()
            os.fsync(out.fileno())
        if total is not None and got != total:
            raise DownloadError(f"connection closed after {got} of {total} bytes")
        if digest.hexdigest() != expected:
            raise ChecksumError(f"{algorithm} {digest.hexdigest()} != expected {expected}")
        return tmp
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def fetch_file(res: Resource, dest_dir: Path, *, retries: int = 3, backoff: float = 1.0,
               timeout: float = 30.0, progress: bool | None = None, dataset: str = "") -> Path:
    """Return the verified path of `res` in `dest_dir`, downloading it (with retries) if needed."""
    dest_dir = Path(dest_dir)
    progress = progress_enabled(progress)
    dest_dir.mkdir(parents=True, exist_ok=True)
    final = dest_dir / res.filename
    with _lock(dest_dir / f".{res.filename}.lock"):
        if final.exists():
            if is_valid(final, res):
                return final
            final.unlink()  # corrupted or truncated: fetch it again
        errors: list[str] = []
        for attempt in range(retries):
            for url in res.urls:
                try:
                    tmp = _stream(url, res, dest_dir, timeout, progress)
                except (urllib.error.URLError, socket.timeout, ConnectionError, OSError,
                        DataError) as exc:
                    errors.append(f"{url}: {getattr(exc, 'reason', None) or exc}")
                    continue
                os.replace(tmp, final)  # atomic: readers see the old state or the whole file
                return final
            if attempt + 1 < retries:
                time.sleep(backoff * 2 ** attempt)
    raise DownloadError(_offline_message(res, final, dataset, errors))


def _offline_message(res: Resource, final: Path, dataset: str, errors: list[str]) -> str:
    """The error a student sees when a file cannot be had: what, where to put it, and the way out."""
    tried = "\n".join(f"    - {e}" for e in errors[-6:]) or "    (nothing tried)"
    name = f" of data set '{dataset}'" if dataset else ""
    return (
        f"Could not download {res.filename}{name}.\n"
        f"  Tried:\n{tried}\n"
        f"  To work offline, download the file on another machine and put it here:\n"
        f"    {final}\n"
        f"  It must have {res.digest[0]} {res.digest[1]}"
        + (f" and {res.size} bytes" if res.size else "") + ".\n"
        "  Or point DLBOOK_DATA (or DLBOOK_SHARED_DATA) at a folder that already has it,\n"
        "  or run the notebook in the quick tier (DLBOOK_QUICK=1), which uses a built-in stand-in."
    )
