"""Title links: the second hop of a multi-part question, without a model.

A question like "Who directed the film shot in Leland, North Carolina in 1986?" finds the Leland
passage, but the answer sits in the source about the film, which the question never names. That
passage names it, though, and the film has a source of its own whose title is its name. So the
best few hits are scanned for other sources' titles, and the passages of the sources they
name are ranked by cosine to the question and placed below those hits.

A title counts as named only where the text writes it as a name: starting with a capital letter
or a digit, and not followed by another capitalised word ("United" in "United States" does not
name the album "United"). Matched as plain words, "united" put that album in the top 4 of 23% of
HotpotQA's questions. Corpora whose titles are headlines rarely see a title quoted, and are then
unchanged. Figures: docs/retrieval.md, "Retrieval options".
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_WORD = re.compile(r"\w+")
_QUALIFIER = re.compile(r"\s*\([^()]*\)\s*$")  # "Welcome to the Show (TV series)"
MIN_CHARS = 4
MAX_WORDS = 12


def mention_form(title: str) -> str:
    """How a title appears in running text: lowercased words, a trailing qualifier dropped."""
    return " ".join(_WORD.findall(_QUALIFIER.sub("", title).lower()))


def _names(text: str, words: list[re.Match[str]], i: int, j: int) -> bool:
    """Whether words[i:j] are written as a whole name: a capital or digit first, and no
    capitalised word right after (only spaces between) that would make it part of a longer one."""
    first = words[i].group()[0]
    if not (first.isupper() or first.isdigit()):
        return False
    if j < len(words):
        after = words[j]
        if after.group()[0].isupper() and not text[words[j - 1].end() : after.start()].strip():
            return False
    return True


class TitleLinks:
    """Titles of an index version, looked up by the word spans of a text."""

    def __init__(self, rows: Iterable[tuple[int, str, str]]) -> None:
        """`rows`: (vec_id, source_id, title) of every passage."""
        self._vec_ids: dict[str, list[int]] = {}
        self._source_of: dict[int, str] = {}
        for vec_id, source_id, title in rows:
            form = mention_form(title)
            if len(form) >= MIN_CHARS and len(form.split()) <= MAX_WORDS:
                self._vec_ids.setdefault(form, []).append(vec_id)
            self._source_of[vec_id] = source_id
        # A span can only match if it starts with some title's first word: skips most positions.
        self._firsts = {form.split()[0] for form in self._vec_ids}
        self._longest = max((len(f.split()) for f in self._vec_ids), default=0)

    def __len__(self) -> int:
        return len(self._vec_ids)

    def mentioned(self, text: str) -> list[int]:
        """Passages of the sources whose titles `text` names, longest match first at each
        position, in order of mention.

        >>> links = TitleLinks([(1, "a", "United (album)"), (2, "b", "Paris")])
        >>> links.mentioned("Born in Paris, she toured the United States")
        [2]
        >>> links.mentioned("United was her first album")
        [1]
        """
        found_words = list(_WORD.finditer(text))
        words = [m.group().lower() for m in found_words]
        out: dict[int, None] = {}
        i = 0
        while i < len(words):
            step = 1
            if words[i] in self._firsts:
                for j in range(min(len(words), i + self._longest), i, -1):
                    found = self._vec_ids.get(" ".join(words[i:j]))
                    if found:
                        if _names(text, found_words, i, j):
                            out.update(dict.fromkeys(found))
                        step = j - i
                        break
            i += step
        return list(out)

    def linked(self, hits: list[tuple[int, str, str]]) -> list[int]:
        """Passages of other sources that these (vec_id, title, text) hits mention; a hit's own
        source, and sources sharing its title, are not links."""
        own_sources = {self._source_of.get(vec_id) for vec_id, _, _ in hits}
        own_titles = {mention_form(title) for _, title, _ in hits}
        skip = {v for form in own_titles for v in self._vec_ids.get(form, [])}
        out: dict[int, None] = {}
        for _, _, text in hits:
            for vec_id in self.mentioned(text):
                if vec_id not in skip and self._source_of.get(vec_id) not in own_sources:
                    out[vec_id] = None
        return list(out)
