"""The editorial desk: copy-editing checks, counts and fees, proof rounds, offprints."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
# The magazine's own terms (三严三实, 联合党委 …), so that jieba keeps them whole everywhere.
USER_DICTIONARY = DATA / "userdict.txt"
# Commonly confused characters and words: `wrong<TAB>right<TAB>note`, one per line.
CONFUSABLES = DATA / "confusables.tsv"
