"""The download path against a loopback server: verified, atomic, retried, clear when offline."""
from __future__ import annotations

import hashlib
import multiprocessing as mp
import socket
from pathlib import Path

import pytest

from dlbook.download import DownloadError, Resource, fetch_file, sha256_of
from tests.unit.httpserver import FileServer

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()


def resource(url: str, digest: str = DIGEST, size: int | None = len(PAYLOAD)) -> Resource:
    return Resource("blob.bin", (url + "blob.bin",), digest, size)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.endswith(".lock"))


def test_good_file_is_cached_and_verified(tmp_path):
    with FileServer({"blob.bin": PAYLOAD}) as srv:
        path = fetch_file(resource(srv.url), tmp_path, progress=False)
        assert sha256_of(path) == DIGEST
        again = fetch_file(resource(srv.url), tmp_path, progress=False)
        assert again == path and srv.hits["blob.bin"] == 1, "a valid cached file is not fetched again"
    assert leftovers(tmp_path) == ["blob.bin"]


def test_wrong_hash_is_rejected_and_leaves_nothing(tmp_path):
    with FileServer({"blob.bin": PAYLOAD}) as srv:
        with pytest.raises(DownloadError, match="sha256"):
            fetch_file(resource(srv.url, digest="0" * 64), tmp_path, retries=2, backoff=0,
                       progress=False)
    assert leftovers(tmp_path) == []


def test_connection_cut_halfway_is_retried_without_partial_files(tmp_path):
    with FileServer({"blob.bin": PAYLOAD}) as srv:
        srv.cut["blob.bin"] = 2
        path = fetch_file(resource(srv.url), tmp_path, retries=3, backoff=0, progress=False)
        assert srv.hits["blob.bin"] == 3
        assert sha256_of(path) == DIGEST
    assert leftovers(tmp_path) == ["blob.bin"]


def test_cut_on_every_try_fails_cleanly(tmp_path):
    with FileServer({"blob.bin": PAYLOAD}) as srv:
        srv.cut["blob.bin"] = 99
        with pytest.raises(DownloadError):
            fetch_file(resource(srv.url), tmp_path, retries=2, backoff=0, progress=False)
    assert leftovers(tmp_path) == []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_url_gives_a_clear_error(tmp_path):
    url = f"http://127.0.0.1:{_free_port()}/"
    with pytest.raises(DownloadError) as err:
        fetch_file(resource(url), tmp_path, retries=2, backoff=0, timeout=2, progress=False,
                   dataset="demo")
    msg = str(err.value)
    assert "blob.bin" in msg and "demo" in msg
    assert str(tmp_path / "blob.bin") in msg, "says where to put the file"
    assert DIGEST in msg, "says which sha256 the file must have"
    assert "DLBOOK_QUICK=1" in msg, "offers the quick tier as the way out"
    assert "Traceback" not in msg
    assert leftovers(tmp_path) == []


def test_corrupted_cache_entry_is_fetched_again(tmp_path):
    (tmp_path / "blob.bin").write_bytes(PAYLOAD[:-10] + b"corrupted!")
    with FileServer({"blob.bin": PAYLOAD}) as srv:
        path = fetch_file(resource(srv.url), tmp_path, progress=False)
        assert srv.hits["blob.bin"] == 1
    assert sha256_of(path) == DIGEST


def test_truncated_cache_entry_is_fetched_again(tmp_path):
    (tmp_path / "blob.bin").write_bytes(PAYLOAD[:100])
    with FileServer({"blob.bin": PAYLOAD}) as srv:
        fetch_file(resource(srv.url), tmp_path, progress=False)
    assert sha256_of(tmp_path / "blob.bin") == DIGEST


def _fetch_in_child(url: str, folder: str, queue) -> None:
    try:
        path = fetch_file(resource(url), Path(folder), progress=False)
        queue.put(sha256_of(path))
    except Exception as exc:  # pragma: no cover - reported to the parent
        queue.put(repr(exc))


def test_two_processes_fetching_at_once_do_not_corrupt_the_cache(tmp_path):
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    with FileServer({"blob.bin": PAYLOAD}) as srv:
        procs = [ctx.Process(target=_fetch_in_child, args=(srv.url, str(tmp_path), queue))
                 for _ in range(2)]
        for p in procs:
            p.start()
        results = [queue.get(timeout=60) for _ in procs]
        for p in procs:
            p.join(timeout=60)
    assert results == [DIGEST, DIGEST]
    assert leftovers(tmp_path) == ["blob.bin"]
    assert sha256_of(tmp_path / "blob.bin") == DIGEST


def test_mirror_is_used_when_the_first_url_fails(tmp_path):
    with FileServer({"blob.bin": PAYLOAD}) as srv:
        dead = f"http://127.0.0.1:{_free_port()}/blob.bin"
        res = Resource("blob.bin", (dead, srv.url + "blob.bin"), DIGEST, len(PAYLOAD))
        path = fetch_file(res, tmp_path, retries=1, timeout=2, progress=False)
    assert sha256_of(path) == DIGEST


def test_bad_registry_entries_are_refused():
    with pytest.raises(ValueError, match="sha256"):
        Resource("x", ("http://127.0.0.1/x",), "not-a-hash")
    with pytest.raises(ValueError, match="URL"):
        Resource("x", (), DIGEST)


def test_sha1_resources_verify_and_a_resource_needs_exactly_one_hash(tmp_path):
    sha1 = hashlib.sha1(PAYLOAD).hexdigest()
    with FileServer({"blob.bin": PAYLOAD}) as srv:
        good = Resource("blob.bin", (srv.url + "blob.bin",), "", sha1=sha1)
        assert fetch_file(good, tmp_path).read_bytes() == PAYLOAD
        bad = Resource("other.bin", (srv.url + "blob.bin",), "", sha1="0" * 40)
        with pytest.raises(DownloadError, match="sha1"):
            fetch_file(bad, tmp_path, retries=1, backoff=0)
    assert not (tmp_path / "other.bin").exists() and not list(tmp_path.glob("*.part"))
    with pytest.raises(ValueError, match="exactly one hash"):
        Resource("x", ("http://127.0.0.1/x",), DIGEST, sha1=sha1)
    with pytest.raises(ValueError, match="exactly one hash"):
        Resource("x", ("http://127.0.0.1/x",), "")
    with pytest.raises(ValueError, match="sha1 must be 40"):
        Resource("x", ("http://127.0.0.1/x",), "", sha1="abc")
