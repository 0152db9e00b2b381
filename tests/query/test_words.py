from __future__ import annotations

import pytest
import tantivy
from hypothesis import given, settings
from hypothesis import strategies as st

from shoal.query.words import MAX_WORD_BYTES, split_words

CASES: list[tuple[str, list[str]]] = [
    ("", []),
    ("Hello, World!", ["hello", "world"]),
    ("university of london", ["university", "of", "london"]),
    ("foo_bar-baz.qux", ["foo", "bar", "baz", "qux"]),
    ("SSH-2.0-OpenSSH_8.9p1", ["ssh", "2", "0", "openssh", "8", "9p1"]),
    ("ÉCOLE Straße", ["école", "straße"]),
    ("ΣΑΣ", ["σασ"]),  # lowercased character by character: no final sigma
    ("東京タワー", ["東京タワー"]),
    ("x²", ["x²"]),
    ("--", []),
    ("a\x00b\ud800c", ["a", "b", "c"]),
    ("a" * (MAX_WORD_BYTES - 1), ["a" * (MAX_WORD_BYTES - 1)]),
    ("a" * MAX_WORD_BYTES + " b", ["b"]),
    ("é" * 19, ["é" * 19]),  # 38 bytes
    ("é" * 20, []),  # 40 bytes
    ("İ" * 19, ["i̇" * 19]),  # measured before lowercasing, which makes it longer
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_split_words(text: str, expected: list[str]) -> None:
    assert split_words(text) == expected


TANTIVY_DEFAULT = (
    tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
    .filter(tantivy.Filter.remove_long(MAX_WORD_BYTES))
    .filter(tantivy.Filter.lowercase())
    .build()
)

ANY_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=120)
MARKED_TEXT = st.text(st.sampled_from("क्षत्रियⓐⒶ\u0345a "), max_size=40)  # Other_Alphabetic marks and letters


@settings(max_examples=500, deadline=None)
@given(st.one_of(ANY_TEXT, MARKED_TEXT))
def test_matches_tantivys_default_analyzer(text: str) -> None:
    assert split_words(text) == TANTIVY_DEFAULT.analyze(text)


def test_combining_marks_stay_in_their_word() -> None:
    """Vowel signs and circled letters are Other_Alphabetic (word characters for Rust, not for str.isalnum);
    the virama is not, for either."""
    text = "किताब क्ष ⓐⓑ"
    assert split_words(text) == TANTIVY_DEFAULT.analyze(text) == ["किताब", "क", "ष", "ⓐⓑ"]
