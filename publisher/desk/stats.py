"""`publisher stats`: counts per item and for the issue, for planning and for authors' fees.

Text counts come from the sources: what an item prints (kicker, title, subtitle, byline,
dateline, 编者按, body, end note). Layout counts come from the laid-out PDF. 版面字数 follows the
2014 《使用文字作品支付报酬办法》: characters per printed line × the printed lines, a title line and
a short last line each counting as a full line; a line holds 21 characters in a column and 45
across the page.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
from dataclasses import asdict, dataclass
from pathlib import Path

from publisher import words
from publisher.cjk import is_han
from publisher.desk.layout import LaidOutIssue
from publisher.epub.nav import nav_label
from publisher.errors import PublisherError
from publisher.output import atomic_output, output_stem
from publisher.source.markup import plain_paragraphs
from publisher.source.model import Article, Issue

logger = logging.getLogger(__name__)
UNSIGNED = "（未署名）"


@dataclass(frozen=True)
class ItemStats:
    file: str
    title: str
    authors: list[str]
    han: int
    chars: int
    paragraphs: int
    words: int
    folios: str
    lines: int
    layout_chars: int
    fee: float | None


def printed_text(article: Article) -> list[str]:
    """Every piece of text the item prints, from its sources, with the marks it prints with
    (a subtitle's ——, a dateline's （）, as an end note's （：）); not the layout's labels and
    ornaments (【编者按】, a byline's ●)."""
    subtitle = f"——{article.subtitle}" if article.subtitle else ""
    texts = [article.kicker or "", *article.title, subtitle]
    for person in article.byline:
        texts += [person.position or "", person.name or person.organisation or ""]
    texts += [f"（{article.dateline}）" if article.dateline else "", article.editor_note or ""]
    texts += plain_paragraphs(article.body)
    if article.end_note:
        texts.append(article.end_note.printed)
    return [t for t in texts if t]


def authors(article: Article) -> list[str]:
    return [p.name or p.organisation for p in article.byline] or [UNSIGNED]


def count_words(texts: list[str]) -> int:
    """Words jieba finds that hold a letter, digit or Han character (not marks or spaces)."""
    jieba = words.jieba()
    return sum(1 for text in texts for word in jieba.cut(text) if any(c.isalnum() for c in word))


def fee(layout_chars: int, per_thousand: float | None) -> float | None:
    """An item's fee: whole thousands of its 版面字数, a part thousand counted as one (办法
    art. 5, which art. 7 applies to a periodical's one-off payment), at the rate."""
    if per_thousand is None:
        return None
    return round(math.ceil(layout_chars / 1000) * per_thousand, 2)


def item_stats(issue: Issue, laid_out: LaidOutIssue) -> list[ItemStats]:
    per_thousand = issue.fees.per_thousand if issue.fees else None
    out = []
    for article in issue.articles:
        texts = printed_text(article)
        joined = "".join(texts)
        lines = laid_out.item_lines[article.anchor]
        first, last = laid_out.pages_of(article.anchor)
        folios = laid_out.labels[first - 1]
        if last != first:
            folios += f"–{laid_out.labels[last - 1]}"
        layout_chars = sum(laid_out.capacity(line) for line in lines)
        out.append(ItemStats(
            file=str(article.path.relative_to(issue.root)),
            title=nav_label(article, issue),
            authors=authors(article),
            han=sum(map(is_han, joined)),
            chars=sum(not c.isspace() for c in joined),
            paragraphs=len(plain_paragraphs(article.body)),
            words=count_words(texts),
            folios=folios,
            lines=len(lines),
            layout_chars=layout_chars,
            fee=fee(layout_chars, per_thousand),
        ))
    return out


def totals(items: list[ItemStats], issue: Issue) -> dict:
    keys = ("han", "chars", "paragraphs", "words", "lines", "layout_chars")
    total = {key: sum(getattr(item, key) for item in items) for key in keys}
    total["items"] = len(items)
    total["fee"] = round(sum(item.fee for item in items), 2) if issue.fees else None
    return total


def _shares(whole: int, parts: int) -> list[int]:
    """`whole` in `parts` as equal as whole units allow, the first ones a unit more, so that
    the shares add up to it: 100.00 元 by three authors is 33.34 + 33.33 + 33.33, not 99.99."""
    base, extra = divmod(whole, parts)
    return [base + (k < extra) for k in range(parts)]


def fee_sheet(items: list[ItemStats]) -> list[dict]:
    """稿费单: per author, the items and their fees; an item by several authors is shared
    equally among them, to the character and the fen, and the shares add up to the item's."""
    sheet: dict[str, dict] = {}
    fen: dict[str, int] = {}
    for item in items:
        parts = len(item.authors)
        chars = _shares(item.layout_chars, parts)
        fees = _shares(round((item.fee or 0) * 100), parts)
        for author, chars_share, fee_share in zip(item.authors, chars, fees, strict=True):
            row = sheet.setdefault(author, {"author": author, "items": [], "layout_chars": 0})
            row["items"].append(item.title)
            row["layout_chars"] += chars_share
            fen[author] = fen.get(author, 0) + fee_share
    for author, row in sheet.items():
        row["fee"] = fen[author] / 100
    return list(sheet.values())


def pdf_for(issue: Issue, out_dir: Path) -> Path:
    """The issue's PDF in `out_dir`, built first when missing, older than any source, or made
    from other articles: a deleted article, or a corrected one unpacked with its old time,
    leaves every file older than the PDF."""
    from publisher.build import an_output, build, texts_digest
    from publisher.desk.layout import pdf_metadata, recorded_texts
    from publisher.templates import hidden

    pdf = out_dir / f"{output_stem(issue)}.pdf"
    # Sources as the build takes them: output kept inside the issue folder (-o 2015-10/out)
    # is none, so the fee sheet, proofs and offprints written after the PDF do not have it
    # rebuilt every time; nor is a hidden file, which no build reads (an editor's swap file).
    root, outputs = issue.root.resolve(), out_dir.resolve()
    newest = max(p.stat().st_mtime for p in issue.root.rglob("*")
                 if p.is_file() and not hidden(p, issue.root)
                 and not an_output(p.resolve(), root, outputs))
    if (not pdf.is_file() or pdf.stat().st_mtime < newest
            or recorded_texts(pdf_metadata(pdf)) != texts_digest(issue)):
        logger.info("building %s: it is missing, older than the sources or of other articles", pdf)
        build(issue.root, out_dir, pdf=True, epub=False)
    return pdf


def stats(issue: Issue, pdf: Path) -> tuple[list[ItemStats], dict]:
    laid_out = LaidOutIssue(pdf)
    missing = [a.anchor for a in issue.articles if a.anchor not in laid_out.anchors]
    if missing:
        raise PublisherError(f"this PDF is not of these sources: no {', '.join(missing[:3])}"
                             f"{' …' if len(missing) > 3 else ''}", laid_out.pdf)
    items = item_stats(issue, laid_out)
    return items, totals(items, issue)


JSON_KEYS = ("file", "title", "authors", "han", "chars", "paragraphs", "words", "folios",
             "lines", "layout_chars", "fee")


def as_json(items: list[ItemStats], total: dict) -> str:
    return json.dumps({"items": [asdict(i) for i in items], "total": total},
                      ensure_ascii=False, indent=1)


def _money(fee: float | None) -> str:
    """A fee as the fee sheet writes it, to the fen (112.50), or nothing."""
    return "" if fee is None else f"{fee:.2f}"


# A spreadsheet runs a cell that begins with one of these as a formula, so a byline written
# `=HYPERLINK("http://…?"&A2)` would send the sheet away when opened (OWASP, "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _text_cell(text: str) -> str:
    """A cell of text from the sources: after a ', a spreadsheet takes it for text."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def as_csv(items: list[ItemStats], total: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(JSON_KEYS)
    for item in items:
        row = asdict(item)
        row["authors"] = "、".join(item.authors)
        row.update({key: _text_cell(row[key]) for key in ("file", "title", "authors", "folios")})
        row["fee"] = _money(item.fee)
        writer.writerow([row[k] for k in JSON_KEYS])
    writer.writerow(["total", "", "", *(total[k] for k in JSON_KEYS[3:7]), "",
                     total["lines"], total["layout_chars"], _money(total["fee"])])
    return out.getvalue().removesuffix("\n")  # print() ends the last line


def as_table(items: list[ItemStats], total: dict) -> str:
    rows = [{**asdict(i), "fee": i.fee} for i in items]
    rows.append({**total, "file": f"total ({total['items']} items)", "folios": ""})
    width = max(len(row["file"]) for row in rows)
    out = [f"{'file':<{width}} {'han':>6} {'chars':>6} {'paras':>5} {'words':>6} {'folios':>7} "
           f"{'lines':>5} {'版面字数':>6} {'fee':>8}"]
    for row in rows:
        out.append(f"{row['file']:<{width}} {row['han']:>6} {row['chars']:>6} "
                   f"{row['paragraphs']:>5} {row['words']:>6} {row['folios']:>7} "
                   f"{row['lines']:>5} {row['layout_chars']:>10} {_money(row['fee']):>8}".rstrip())
    return "\n".join(out)


def write_fee_sheet(items: list[ItemStats], path: Path) -> Path:
    with atomic_output(path) as tmp, tmp.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["author", "items", "layout_chars", "fee"])
        for row in fee_sheet(items):
            writer.writerow([_text_cell(row["author"]), _text_cell("；".join(row["items"])),
                             row["layout_chars"], _money(row["fee"])])
    return path
