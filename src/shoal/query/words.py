"""The engine's word tokenizer in pure Python.

It mirrors tantivy's ``default`` text analyzer — SimpleTokenizer (maximal runs of alphanumeric
characters), RemoveLongFilter(40) (drops tokens of 40 UTF-8 bytes or more, measured before
lowercasing), LowerCaser (per character, so a final capital sigma becomes σ, not ς).

Known divergence: Rust's ``char::is_alphanumeric`` also counts the Unicode ``Other_Alphabetic``
marks (e.g. Devanagari vowel signs, circled letters) and characters newer than Python's Unicode
database as alphanumeric; Python's ``[^\\W_]`` does not, so such text splits into more words here.
"""

from __future__ import annotations

import re

MAX_WORD_BYTES = 40  # tokens this long or longer are dropped

_WORD = re.compile(r"[^\W_]+")


def split_words(text: str) -> list[str]:
    """The lowercased words the engine indexes for ``text``, in order."""
    return [_lowercase(word) for word in _WORD.findall(text) if len(word.encode()) < MAX_WORD_BYTES]


def _lowercase(word: str) -> str:
    if word.isascii():
        return word.lower()
    return "".join(char.lower() for char in word)
