"""The editorial desk: copy-editing checks, counts and fees, proof rounds, offprints."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
# The magazine's own terms (三严三实, 联合党委 …), so that jieba keeps them whole everywhere.
USER_DICTIONARY = DATA / "userdict.txt"
# Commonly confused characters and words: `wrong<TAB>right<TAB>note`, one per line.
CONFUSABLES = DATA / "confusables.tsv"
# The copy-editing checks of `publisher lint` (desk.lint), here so that the command line can
# list them without importing what they need.
LINT_RULES = {
    "pairs": "paired marks (“” ‘’ （） 《》 【】 「」) unpaired, mismatched or the wrong way round",
    "halfwidth": "half-width punctuation and straight quotes in Chinese text",
    "fullwidth": "full-width digits and Latin letters",
    "mixed-forms": "two forms of one sign in one issue (＋ and +, ％ and %)",
    "sequence": "marks GB/T 15834 does not allow together (。。 ，。 。”。)",
    "dash": "dashes and ellipses typed wrong (-- ― 一一 ... 。。。)",
    "space": "a space between Chinese characters",
    "doubled": "a word or character typed twice",
    "de": "的/地/得 that the words around it say is the wrong one",
    "confusable": "a commonly confused character or word (别字)",
    "review": "the importer's review note is still in the front matter",
}
