"""The engine's word tokenizer in pure Python.

It mirrors tantivy's ``default`` text analyzer — SimpleTokenizer (maximal runs of alphanumeric
characters), RemoveLongFilter(40) (drops tokens of 40 UTF-8 bytes or more, measured before
lowercasing), LowerCaser (per character, so a final capital sigma becomes σ, not ς).

Rust's ``char::is_alphanumeric`` also counts the Unicode ``Other_Alphabetic`` marks (e.g. Devanagari
vowel signs, circled letters) and characters newer than Python's Unicode database as alphanumeric; those
are added to Python's ``[^\\W_]`` from the table ``word_characters`` (generated from tantivy), so both
split text into the same words. This is the one analyzer of the query side of every engine, and of the
ClickHouse engine's index (``store/plan.py``, ``store/clickhouse/schema.py``).
"""

from __future__ import annotations

import re

from shoal.query.word_characters import EXTRA_WORD_RANGES

MAX_WORD_BYTES = 40  # tokens this long or longer are dropped

_WORD = re.compile(
    r"(?:[^\W_]|[" + "".join(f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in EXTRA_WORD_RANGES) + "])+"
)


def split_words(text: str) -> list[str]:
    """The lowercased words the engine indexes for ``text``, in order."""
    return [_lowercase(word) for word in _WORD.findall(text) if len(word.encode()) < MAX_WORD_BYTES]


def _lowercase(word: str) -> str:
    if word.isascii():
        return word.lower()
    return "".join(char.lower() for char in word)
