"""Text processing: tokenizer, sentence splitter, vocabulary and review documents.

The tokenizer reproduces the normalisation of the PETER/PEPLER benchmark data (which
follows Kim's CNN-sentence preprocessing): HTML entities unescaped (Amazon texts hold ``&quot;``); lower-case; characters other than letters,
digits and ``( ) , ! ? ' `` ` `` become spaces; the clitics ``'s 've n't 're 'd 'll`` and the
marks ``, ! ( ) ?`` are split off as tokens. So ``"It isn't bad, really!"`` becomes
``it is n't bad , really !``.
"""

from __future__ import annotations

import html
import json
import re
import string
import unicodedata
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

from whyrec.errors import DataError

if TYPE_CHECKING:  # the corpus needs pandas, which loading a saved model does not import
    from whyrec.data.corpus import Corpus

_NOT_KEPT = re.compile(r"[^a-z0-9(),!?'`]")
_CLITICS = re.compile(r"(n't|'s|'ve|'re|'d|'ll)\b")
_MARKS = re.compile(r"([,!()?])")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[.!?])(?=[A-Z])|\n+")

BOS, EOS, PAD, UNK = "<bos>", "<eos>", "<pad>", "<unk>"
SPECIALS = (BOS, EOS, PAD, UNK)


def normalize(text: str) -> str:
    """The benchmark normalisation as one space-separated string (see module docstring)."""
    text = _NOT_KEPT.sub(" ", html.unescape(text).lower())
    text = _CLITICS.sub(r" \1", text)
    text = _MARKS.sub(r" \1 ", text)
    return " ".join(text.split())


def tokenize(text: str) -> list[str]:
    """Tokens of ``text`` after :func:`normalize`; quotes left alone are dropped."""
    return [tok for tok in normalize(text).split() if tok.strip("'`")]


_CLITIC_TOKENS = frozenset(("n't", "'s", "'ve", "'re", "'d", "'ll"))
# the words n't contracts with ("ca n't" is can't, "wo n't" won't): after another ("you n't", which an
# undertrained decoder writes) it stays apart rather than make a word no one writes
_NOT_STEMS = frozenset("do does did is are was were have has had would could should ca wo must need might ai sha "
                       "dare ought".split())
_PRONOUN_I = re.compile(r"\bi\b")


def readable(text: str) -> str:
    """Tokens as :func:`normalize` writes them, joined back for a person to read: a clitic onto the
    word before it (``do n't`` → ``don't``; not onto another clitic, so a decoder's ``n't n't``
    stays apart, and ``n't`` only onto a word it contracts with), ``, ! ? )`` onto the token
    before, ``(`` onto the token after, the pronoun *i* and the first letter in capitals. Only the
    spacing and those letters change: lower-cased again and re-tokenized, it gives the same tokens."""
    pieces: list[str] = []
    glue_next = False  # after "(": the next token joins it
    previous = None
    for token in text.split():
        joins_word = token in _CLITIC_TOKENS and previous is not None and previous not in _CLITIC_TOKENS \
            and previous[-1:].isalnum() and (token != "n't" or previous in _NOT_STEMS)
        if pieces and (glue_next or joins_word or token in (",", "!", "?", ")")):
            pieces[-1] += token
        else:
            pieces.append(token)
        glue_next, previous = token == "(", token
    joined = _PRONOUN_I.sub("I", " ".join(pieces))
    return joined[:1].upper() + joined[1:]


# typographic marks and letters that have an ASCII form but no Unicode decomposition to it
_ASCII_FORMS = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
    "\u2026": "...", "\u00a0": " ", "\u200b": "", "\u200c": "", "\u200d": "", "\u00ad": "", "\ufeff": "",
    "\u00df": "ss", "\u00e6": "ae", "\u00c6": "AE", "\u0153": "oe", "\u0152": "OE", "\u00f8": "o", "\u00d8": "O",
    "\u0142": "l", "\u0141": "L", "\u0111": "d", "\u0110": "D", "\u00f0": "d", "\u00fe": "th",
})


def fold_to_ascii(text: str) -> str:
    """``text`` with what has an ASCII form written in it, before the benchmark normalisation
    (which turns every other character into a space): typographic quotes, dashes and ellipses
    become ``' " - ...`` (``isn’t`` → ``isn't``), accented letters lose their accents by Unicode
    decomposition (NFKD: ``café`` → ``cafe``, the ligature ``ﬁ`` → ``fi``), and a few letters
    without one are spelt out (``ß`` → ``ss``, ``ø`` → ``o``). HTML entities are unescaped first
    (``&rsquo;``). Opt-in
    (``load_corpus(..., fold_unicode=True)``, ``--fold-unicode``): the benchmarks' tokens are
    made without it.

    Letters of other scripts are transliterated by the ``anyascii`` package (Cyrillic ``звук`` →
    ``zvuk``, Greek ``ήχος`` → ``ichos``), each CJK character as a word of its own (``音楽`` →
    ``yin le``: these scripts leave words unspaced, so a character is the unit a tokenizer can
    find); other characters (emoji, symbols) are left to the tokenizer, which drops them."""
    text = (html.unescape(text) if "&" in text else text).translate(_ASCII_FORMS)
    if text.isascii():
        return text
    return "".join(ch if ch.isascii() else _in_ascii(ch) for ch in text)


def _in_ascii(ch: str) -> str:
    """One character outside ASCII: its decomposition without accents when that is ASCII (é → e,
    ﬁ → fi, a lone combining accent → nothing); else a letter transliterated whole (й → y, not
    the и its decomposition leaves; が → ga, not か), a wide one (CJK) spaced as a word; else
    (emoji, symbols) the decomposition, which the tokenizer drops."""
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    if base.isascii() or not ch.isalpha():
        return base
    from anyascii import anyascii

    spelt = anyascii(ch)
    if not spelt:
        return base
    return f" {spelt} " if unicodedata.east_asian_width(ch) in ("W", "F") else spelt


_OUTSIDE_ASCII = re.compile(r"[^\x00-\x7f\s]")  # a no-break space is a space anyway


def characters_dropped(texts: Iterable[str]) -> tuple[int, Counter]:
    """(texts holding any, count by character) of the characters outside ASCII, spaces aside, in
    ``texts`` read after HTML unescaping, as :func:`normalize` reads them. The benchmark
    normalisation turns each into a space: a curly apostrophe makes ``isn’t`` the tokens
    ``isn t``, and ``café`` is ``caf``. ``whyrec data stats`` reports them, so that data from
    outside the benchmarks is not cut up unseen."""
    holding, counts = 0, Counter()
    for text in texts:
        found = _OUTSIDE_ASCII.findall(html.unescape(text) if "&" in text else text)
        if found:
            holding += 1
            counts.update(found)
    return holding, counts


_ASCII_LETTERS = string.ascii_letters.encode()


def letters_lost(texts: Sequence[str], dropped: Counter | None = None) -> float:
    """The share of the letters in ``texts`` that the tokenizer drops: those outside ASCII, of all
    letters. A few percent for English or French reviews (accents), near 1 for reviews in
    another script (Cyrillic, Greek, CJK), which whyrec's text systems would then hardly see
    unless :func:`fold_to_ascii` writes them in ASCII first. ``dropped``:
    :func:`characters_dropped`'s counts of the same texts, when at hand."""
    if dropped is None:
        dropped = characters_dropped(texts)[1]
    lost = sum(n for ch, n in dropped.items() if ch.isalpha())
    kept = 0
    for text in texts:  # deleting them from the bytes counts them fast (a regex took 30 times as long)
        raw = text.encode("utf-8", errors="replace")
        kept += len(raw) - len(raw.translate(None, _ASCII_LETTERS))
    return lost / (lost + kept) if lost + kept else 0.0


# the share of letters lost to the tokenizer from which `data stats` and `train` (mt, peter) warn
LETTERS_LOST_WARNING = 0.2


def letters_lost_text(lost: float) -> str:
    """What a warning says about a share ``lost`` of :func:`letters_lost`."""
    return (f"{lost:.0%} of the letters are outside ASCII, which the tokenizer drops (it keeps what the English "
            "benchmarks' does): whyrec's text systems (mt, peter) would see little of these reviews; "
            "--fold-unicode writes them in ASCII first (звук → zvuk)")


def split_sentences(text: str) -> list[str]:
    """Sentences of raw review text: cut after . ! ? (also when the next sentence starts
    without a space, as Amazon texts often do: ``"well.It's"``) and at line breaks."""
    parts = (p.strip() for p in _SENTENCE_END.split(text))
    return [p for p in parts if p]


class Vocabulary:
    """Word ↔ id map: the specials ``<bos> <eos> <pad> <unk>`` first, then words by frequency."""

    def __init__(self, words: Sequence[str]) -> None:
        self.words = list(SPECIALS) + [w for w in words if w not in SPECIALS]
        self._ids = {w: i for i, w in enumerate(self.words)}
        self.bos, self.eos, self.pad, self.unk = (self._ids[s] for s in SPECIALS)

    @classmethod
    def build(cls, texts: Iterable[Sequence[str]], max_size: int = 20000, min_count: int = 1) -> "Vocabulary":
        """Keep the ``max_size`` most frequent tokens (ties broken alphabetically, so the
        result does not depend on input order) that occur at least ``min_count`` times."""
        counts = Counter(tok for tokens in texts for tok in tokens)
        ranked = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
        return cls(ranked[: max(0, max_size - len(SPECIALS))])

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self._ids

    def id(self, word: str) -> int:
        return self._ids.get(word, self.unk)

    def encode(self, tokens: Sequence[str], max_len: int | None = None, add_bos: bool = False,
               add_eos: bool = False) -> list[int]:
        ids = [self.id(t) for t in tokens]
        if max_len is not None:
            ids = ids[:max_len]
        return ([self.bos] if add_bos else []) + ids + ([self.eos] if add_eos else [])

    def decode(self, ids: Iterable[int], stop_at_eos: bool = True) -> list[str]:
        out = []
        for i in ids:
            if stop_at_eos and i == self.eos:
                break
            if i in (self.bos, self.pad):
                continue
            out.append(self.words[i] if 0 <= i < len(self.words) else UNK)
        return out

    def sentence(self, ids: Iterable[int], max_words: int) -> str:
        """The explanation ``ids`` decode to, as the systems write it: its words up to ``<eos>``, at
        most ``max_words`` of them. Decoding runs ``max_words + 1`` steps so that ``<eos>`` fits
        after ``max_words`` words; a row still going then is cut there, as the training targets are."""
        return " ".join(self.decode(ids)[:max_words])

    def to_dict(self) -> dict:
        return {"format": "whyrec-vocabulary", "version": 1, "words": self.words}

    @classmethod
    def from_dict(cls, data: dict) -> "Vocabulary":
        if data.get("format") != "whyrec-vocabulary" or not isinstance(data.get("words"), list):
            raise DataError("not a whyrec vocabulary")
        return cls(data["words"])

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> "Vocabulary":
        try:
            return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError) as exc:
            raise DataError(f"cannot read vocabulary: {exc}", path=path) from None


def review_documents(corpus: Corpus, by: str = "user", max_reviews: int | None = None) -> dict[str, list[list[str]]]:
    """The review document of each user (``by="user"``) or item: its reviews, tokenized.

    Built from the corpus given (pass the *train* part, so that test reviews never leak
    into a model's input). With ``max_reviews`` the latest reviews are kept.
    """
    if by not in ("user", "item"):
        raise ValueError("by must be 'user' or 'item'")
    frame = corpus.reviews.sort_values(["time", "position"], na_position="first", kind="mergesort")
    docs: dict[str, list[list[str]]] = {}
    for key, text in zip(frame[by].tolist(), frame["text"].tolist()):
        docs.setdefault(key, []).append(tokenize(text))
    if max_reviews is not None:
        docs = {k: v[-max_reviews:] for k, v in docs.items()}
    return docs


_TAG = re.compile(r"<[a-zA-Z/!][^<>]*(?:>|$)")  # whole tags, and a tag cut off at the end of the string


def clean_html(text: object) -> str:
    """Strip tags and unescape entities (meta titles and descriptions contain HTML)."""
    if isinstance(text, list):
        text = " ".join(str(t) for t in text)
    if not isinstance(text, str):
        return ""
    return re.sub(r"\s+", " ", html.unescape(_TAG.sub(" ", text))).strip()
