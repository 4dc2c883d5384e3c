"""Root pytest hook: nbval re-runs only the executed notebooks that mark reproducible cells."""
from pathlib import Path


def pytest_ignore_collect(collection_path: Path, config):
    if collection_path.suffix == ".ipynb":
        return "nbval-check-output" not in collection_path.read_text(encoding="utf-8")
    return None
