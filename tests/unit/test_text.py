"""dlbook.text: tokeniser, vocabulary, padding collate and the standard-library corpus."""
from __future__ import annotations

import doctest

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence
from torch.utils.data import DataLoader

from dlbook import text
from dlbook.text import PadCollate, Vocab, pad_batch, stdlib_corpus, tokenize


def test_doctests():
    assert doctest.testmod(text).failed == 0


def test_tokenize_words_numbers_punctuation():
    assert tokenize("Don't panic: 42 towels!") == ["don't", "panic", ":", "42", "towels", "!"]
    with pytest.raises(TypeError, match="join"):
        tokenize(["a", "b"])


def test_vocab_order_is_frequency_then_alphabet_and_independent_of_input_order():
    words = "the cat the dog a cat the".split()
    v, w = Vocab(words), Vocab(reversed(words))
    assert v.itos == w.itos == ["<pad>", "<unk>", "<sos>", "<eos>", "the", "cat", "a", "dog"]
    assert (v.pad, v.unk, v.sos, v.eos) == (0, 1, 2, 3)
    assert v["zebra"] == v.unk and "zebra" not in v and "cat" in v


def test_vocab_encode_decode_round_trip_and_specials():
    v = Vocab("abcab")
    ids = v.encode("cab", add_sos=True, add_eos=True)
    assert ids[0] == v.sos and ids[-1] == v.eos
    assert v.decode(ids + [v.pad, v["a"]]) == list("cab")          # stops at <eos>
    assert v.decode(torch.tensor(ids), strip_specials=False)[0] == "<sos>"


def test_vocab_min_freq_and_max_size():
    v = Vocab("aaabbc", min_freq=2)
    assert v.itos[4:] == ["a", "b"] and v["c"] == v.unk
    assert Vocab("aaabbc", max_size=5).itos[4:] == ["a"]


def test_vocab_bad_input_says_what_to_do():
    with pytest.raises(TypeError, match="tokenise"):
        Vocab([1, 2])
    with pytest.raises(ValueError, match="min_freq"):
        Vocab("abc", min_freq=2)
    with pytest.raises(KeyError, match="<unk>"):
        Vocab("abc", specials=("<pad>",))["z"]
    with pytest.raises(ValueError, match="<eos>"):
        Vocab("abc", specials=("<pad>", "<unk>")).encode("a", add_eos=True)
    with pytest.raises(IndexError, match="outside"):
        Vocab("abc").decode([99])


def test_pad_batch_pads_and_reports_lengths_for_packing():
    padded, lengths = pad_batch([[5, 6, 7], [8]], padding_value=0)
    assert padded.tolist() == [[5, 6, 7], [8, 0, 0]] and lengths.tolist() == [3, 1]
    packed = pack_padded_sequence(padded.unsqueeze(-1).float(), lengths, batch_first=True)
    assert packed.data.shape[0] == 4
    with pytest.raises(ValueError, match="empty"):
        pad_batch([[1], []])


def test_pad_collate_in_a_dataloader_with_labels_and_pairs():
    items = [(torch.tensor([1, 2, 3]), 0), (torch.tensor([4]), 1)]
    x, lengths, y = next(iter(DataLoader(items, batch_size=2, collate_fn=PadCollate(9))))
    assert x.tolist() == [[1, 2, 3], [4, 9, 9]] and lengths.tolist() == [3, 1] and y.tolist() == [0, 1]
    pairs = [([1, 2], [3]), ([4], [5, 6, 7])]
    src, src_len, tgt, tgt_len = PadCollate(0)(pairs)
    assert src.shape == (2, 2) and tgt.shape == (2, 3) and tgt_len.tolist() == [1, 3]


def test_stdlib_corpus_is_real_deterministic_text():
    doc = stdlib_corpus("docstrings", modules=("textwrap", "json"))
    assert doc == stdlib_corpus("docstrings", modules=("textwrap", "json"))
    assert "JSON" in doc and len(tokenize(doc)) > 1000
    src = stdlib_corpus("source", modules=("textwrap",), max_chars=5000)
    assert len(src) == 5000 and "def " in src
    with pytest.raises(ValueError, match="pure-Python"):
        stdlib_corpus(modules=("math",))
    with pytest.raises(ValueError, match="kind"):
        stdlib_corpus("comments")


def test_default_corpus_is_large_enough_for_chapter_5():
    doc = stdlib_corpus("docstrings")
    assert len(doc) > 500_000
