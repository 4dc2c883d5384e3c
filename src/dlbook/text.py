"""Text in plain Python: a tokeniser, a vocabulary, padding for batches, and a real corpus that is on
every machine (the Python standard library's own docstrings and source code).

Chapter 5 (embeddings, language models, tagging, character RNNs) and chapter 7 (translation) share
these; nothing here downloads anything.
"""
from __future__ import annotations

import ast
import re
import sysconfig
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import torch
from torch.nn.utils.rnn import pad_sequence

PAD, UNK, SOS, EOS = "<pad>", "<unk>", "<sos>", "<eos>"
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?|[0-9]+|[^\sa-z0-9]")


def tokenize(text: str, lower: bool = True) -> list[str]:
    """Split text into words, numbers and single punctuation marks: "Don't panic!" -> don't, panic, !"""
    if not isinstance(text, str):
        raise TypeError(f"tokenize takes a str, got {type(text).__name__}; join a list of lines first.")
    return _WORD.findall(text.lower() if lower else text)


class Vocab:
    """A token <-> index table. Specials come first (`<pad>` is index 0), then the tokens seen at least
    `min_freq` times, most frequent first and alphabetically among equals, so the order never depends
    on the order of the input.

    >>> v = Vocab(["b", "a", "b"]); v["b"], v["zzz"] == v.unk, v.decode(v.encode(["a", "b"]))
    (4, True, ['a', 'b'])
    """

    def __init__(self, tokens: Iterable[str] | Counter, min_freq: int = 1,
                 specials: Sequence[str] = (PAD, UNK, SOS, EOS), max_size: int | None = None):
        if min_freq < 1:
            raise ValueError(f"min_freq must be at least 1, got {min_freq}.")
        if len(set(specials)) != len(specials):
            raise ValueError(f"specials must be distinct, got {list(specials)}.")
        counts = tokens if isinstance(tokens, Counter) else Counter(tokens)
        bad = [t for t in counts if not isinstance(t, str)]
        if bad:
            raise TypeError(f"a Vocab holds str tokens, got {bad[:3]!r}; tokenise the text first "
                            "(dlbook.text.tokenize or list(text) for characters).")
        kept = sorted((t for t, c in counts.items() if c >= min_freq and t not in specials),
                      key=lambda t: (-counts[t], t))
        if max_size is not None:
            kept = kept[:max(0, max_size - len(specials))]
        if not kept:
            raise ValueError(f"no token occurs {min_freq} time(s) or more: the vocabulary would hold "
                             "only its specials. Pass more text or a lower min_freq.")
        self.itos: list[str] = list(specials) + kept
        self.stoi: dict[str, int] = {t: i for i, t in enumerate(self.itos)}
        self.counts = counts
        self.pad = self.stoi.get(PAD)
        self.unk = self.stoi.get(UNK)
        self.sos = self.stoi.get(SOS)
        self.eos = self.stoi.get(EOS)

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: str) -> bool:
        return token in self.stoi

    def __getitem__(self, token: str) -> int:
        index = self.stoi.get(token, self.unk)
        if index is None:
            raise KeyError(f"{token!r} is not in the vocabulary and it has no {UNK!r} token; build it "
                           f"with {UNK!r} among the specials to map unknown tokens.")
        return index

    def encode(self, tokens: Iterable[str], add_sos: bool = False, add_eos: bool = False) -> list[int]:
        """Indices of the tokens (unknown ones -> `<unk>`), optionally framed by `<sos>` ... `<eos>`."""
        ids = [self[t] for t in tokens]
        for flag, index, name in ((add_sos, self.sos, SOS), (add_eos, self.eos, EOS)):
            if flag and index is None:
                raise ValueError(f"this vocabulary has no {name!r} token.")
        return ([self.sos] if add_sos else []) + ids + ([self.eos] if add_eos else [])

    def decode(self, ids: Iterable[int], strip_specials: bool = True) -> list[str]:
        """Tokens of the indices; by default drops `<pad>`, `<sos>` and stops at `<eos>`."""
        out = []
        for i in (ids.tolist() if isinstance(ids, torch.Tensor) else ids):
            if not 0 <= int(i) < len(self.itos):
                raise IndexError(f"index {i} is outside the vocabulary (size {len(self)}).")
            token = self.itos[int(i)]
            if strip_specials and token == EOS:
                break
            if strip_specials and token in (PAD, SOS):
                continue
            out.append(token)
        return out

    def __repr__(self) -> str:
        return f"Vocab({len(self)} tokens: {self.itos[:8]}{' ...' if len(self) > 8 else ''})"


def pad_batch(sequences: Sequence, padding_value: int = 0, batch_first: bool = True):
    """Pad variable-length sequences (lists or 1-D tensors) into one tensor; returns (padded, lengths).

    lengths is a CPU int64 tensor, as `pack_padded_sequence` wants."""
    if len(sequences) == 0:
        raise ValueError("pad_batch got no sequences.")
    tensors = [s if isinstance(s, torch.Tensor) else torch.as_tensor(s, dtype=torch.long)
               for s in sequences]
    empty = [i for i, t in enumerate(tensors) if len(t) == 0]
    if empty:
        raise ValueError(f"sequences {empty[:5]} are empty; drop them before batching "
                         "(an RNN cannot be packed with a length of 0).")
    lengths = torch.tensor([len(t) for t in tensors], dtype=torch.long)
    return pad_sequence(tensors, batch_first=batch_first, padding_value=padding_value), lengths


class PadCollate:
    """A DataLoader `collate_fn` for items that are sequences or tuples of them.

    Each field that is a sequence is padded with `padding_value` and followed by its lengths;
    scalar fields (a class label) are stacked. Items `(tokens, label)` give `(padded, lengths,
    labels)`; items `(source, target)` give `(src, src_lengths, tgt, tgt_lengths)`."""

    def __init__(self, padding_value: int = 0, batch_first: bool = True):
        self.padding_value, self.batch_first = padding_value, batch_first

    def __call__(self, batch: Sequence):
        if len(batch) == 0:
            raise ValueError("PadCollate got an empty batch.")
        if not isinstance(batch[0], tuple):
            return pad_batch(batch, self.padding_value, self.batch_first)
        out = []
        for field in zip(*batch):
            if _is_scalar(field[0]):
                out.append(torch.as_tensor(field))
            else:
                out.extend(pad_batch(field, self.padding_value, self.batch_first))
        return tuple(out)


def _is_scalar(x) -> bool:
    return isinstance(x, (int, float)) or (isinstance(x, torch.Tensor) and x.ndim == 0)


# Modules of the standard library whose source is pure Python and changes little between versions.
STDLIB_MODULES = (
    "argparse", "ast", "base64", "bisect", "calendar", "cmd", "codecs", "collections", "colorsys",
    "configparser", "contextlib", "copy", "csv", "dataclasses", "datetime", "decimal", "difflib",
    "enum", "fileinput", "fnmatch", "fractions", "ftplib", "functools", "getopt", "gettext", "glob",
    "gzip", "heapq", "hmac", "imaplib", "inspect", "ipaddress", "json", "locale", "logging",
    "mailbox", "mimetypes", "netrc", "numbers", "operator", "optparse", "pathlib", "pickle",
    "pprint", "pydoc", "queue", "quopri", "random", "sched", "secrets", "selectors", "shlex",
    "shutil", "smtplib", "socket", "socketserver", "statistics", "string", "subprocess", "tarfile",
    "tempfile", "textwrap", "threading", "timeit", "tokenize", "traceback", "turtle", "typing",
    "unittest", "uuid", "warnings", "wave", "weakref", "webbrowser", "zipfile",
)


def _module_files(name: str) -> list[Path]:
    root = Path(sysconfig.get_paths()["stdlib"])  # frozen modules (codecs, os) have no spec.origin
    if (root / name / "__init__.py").is_file():  # a package: its .py files, tests left out
        return sorted(p for p in (root / name).rglob("*.py") if "test" not in p.parts)
    return [root / f"{name}.py"] if (root / f"{name}.py").is_file() else []


def stdlib_corpus(kind: str = "docstrings", modules: Sequence[str] = STDLIB_MODULES,
                  max_chars: int | None = None) -> str:
    """A real English (or Python) corpus from the standard library of the running Python.

    kind="docstrings": the docstrings of the modules, classes and functions, one paragraph each,
    in a fixed order (about 660 KB of English technical prose); kind="source": the source files
    themselves. The text varies a little between Python versions, never between runs."""
    if kind not in ("docstrings", "source"):
        raise ValueError(f"kind must be 'docstrings' or 'source', not {kind!r}.")
    parts, size = [], 0
    for name in modules:
        files = _module_files(name)
        if not files:
            raise ValueError(f"{name!r} is not a pure-Python module of this standard library.")
        for path in files:
            text = path.read_text(encoding="utf-8", errors="replace")
            if kind == "docstrings":
                text = "\n\n".join(_docstrings(text))
            if text:
                parts.append(text)
                size += len(text)
            if max_chars is not None and size >= max_chars:
                return "\n\n".join(parts)[:max_chars]
    return "\n\n".join(parts)


def _docstrings(source: str) -> list[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    nodes = [tree] + [n for n in ast.walk(tree)
                      if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    return [d.strip() for n in nodes if (d := ast.get_docstring(n))]
