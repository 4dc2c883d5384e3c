"""dlbook.tagging: English morphology, the grammar's agreement, and the held-out split."""
from __future__ import annotations

import doctest
from collections import defaultdict

import pytest

from dlbook import tagging
from dlbook.tagging import (NOUN_VERBS, TAGS, adverb, article, closed_words, ing, lexicon, past,
                            plural, split_lexicon, tagged_corpus, third_person)


def test_doctests():
    assert doctest.testmod(tagging).failed == 0


@pytest.mark.parametrize("noun, expected", [
    ("dog", "dogs"), ("box", "boxes"), ("church", "churches"), ("city", "cities"),
    ("day", "days"), ("knife", "knives"), ("child", "children"), ("witness", "witnesses")])
def test_plural(noun, expected):
    assert plural(noun) == expected


@pytest.mark.parametrize("fn, verb, double, expected", [
    (past, "open", False, "opened"), (past, "dance", False, "danced"), (past, "carry", False, "carried"),
    (past, "play", False, "played"), (past, "stop", True, "stopped"), (past, "agree", False, "agreed"),
    (ing, "open", False, "opening"), (ing, "dance", False, "dancing"), (ing, "agree", False, "agreeing"),
    (ing, "run", True, "running"), (ing, "lie", False, "lying"), (ing, "carry", False, "carrying")])
def test_past_and_ing(fn, verb, double, expected):
    assert fn(verb, double) == expected


@pytest.mark.parametrize("verb, expected", [("walk", "walks"), ("wash", "washes"),
                                            ("carry", "carries"), ("obey", "obeys")])
def test_third_person(verb, expected):
    assert third_person(verb) == expected


@pytest.mark.parametrize("adj, expected", [
    ("quiet", "quietly"), ("gentle", "gently"), ("happy", "happily"), ("careful", "carefully"),
    ("dramatic", "dramatically"), ("terrible", "terribly"), ("polite", "politely")])
def test_adverb(adj, expected):
    assert adverb(adj) == expected


def test_article():
    assert [article(w) for w in ("apple", "useful", "university", "honest", "dog", "eagle")] == \
        ["an", "a", "a", "an", "a", "an"]


def test_irregular_and_doubled_verbs_come_from_the_lists():
    forms = {lex.lemma: lex.forms for lex in lexicon() if lex.kind in ("transitive", "intransitive")}
    assert forms["eat"] == {"VB": "eat", "VBZ": "eats", "VBD": "ate", "VBG": "eating"}
    assert forms["plan"]["VBD"] == "planned" and forms["run"]["VBG"] == "running"
    assert forms["travel"]["VBD"] == "travelled"
    assert forms["win"] == {"VB": "win", "VBZ": "wins", "VBD": "won", "VBG": "winning"}


def test_only_the_noun_verbs_share_a_spelling_across_tags():
    tags_of = defaultdict(set)
    for lex in lexicon():
        for tag, word in lex.forms.items():
            tags_of[word].add(tag)
    for word, tag in closed_words().items():
        tags_of[word].add(tag)
    shared = {w for w, t in tags_of.items() if len(t) > 1}
    allowed = set(NOUN_VERBS) | {plural(w) for w in NOUN_VERBS}
    assert shared and shared <= allowed
    assert all(w.isalpha() or w in ".," for w in tags_of)


def test_corpus_is_deterministic_and_well_formed():
    train, test = tagged_corpus(300, 100, seed=3)
    assert (train, test) == tagged_corpus(300, 100, seed=3)
    assert train != tagged_corpus(300, 100, seed=4)[0]
    for words, tags in train + test:
        assert len(words) == len(tags) >= 3 and words[-1] == "." and tags[-1] == "PUNCT"
        assert set(tags) <= set(TAGS)
        for a, b in zip(words, words[1:]):
            assert not (a == "a" and article(b) == "an") and not (a == "an" and article(b) == "a")
        if words[0] in ("he", "she", "it"):
            assert tags[1] != "VB"  # agreement: he opens / he opened / he will open
        if words[0] in ("we", "they"):
            assert tags[1] != "VBZ"
    closed = closed_words()
    for words, tags in train:
        for w, t in zip(words, tags):
            assert closed.get(w, t) == t


def test_held_out_lexemes_never_occur_in_training_and_do_occur_in_test():
    train, test = tagged_corpus(1000, 300, seed=0, held_out=0.5)
    train_lex, test_lex = split_lexicon(0.5, seed=0)
    assert not {lex.lemma for lex in train_lex} & {lex.lemma for lex in test_lex} - set(NOUN_VERBS)
    train_forms = {w for lex in train_lex for w in lex.forms.values()}
    unseen = {w for lex in test_lex for w in lex.forms.values()} - train_forms
    train_words = {w for words, _ in train for w in words}
    assert not train_words & unseen
    test_tokens = [w for words, _ in test for w in words]
    oov = sum(w not in train_words for w in test_tokens) / len(test_tokens)
    assert 0.15 < oov < 0.35
    kinds = {lex.kind for lex in test_lex}
    assert kinds == {"agent", "thing", "transitive", "intransitive", "adjective"}


def test_bad_arguments():
    with pytest.raises(ValueError, match="held_out"):
        split_lexicon(1.0, seed=0)
    with pytest.raises(ValueError, match="n_train"):
        tagged_corpus(0, 10)
