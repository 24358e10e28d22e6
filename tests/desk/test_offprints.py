"""Offprints: one per article and editorial, starting at the folio the 目录 prints for it."""

from __future__ import annotations

import pdfplumber
from pypdf import PdfReader

from publisher.desk.offprints import OFFPRINT_KINDS
from publisher.epub.nav import nav_label


def toc_folios(pdf) -> dict[str, str]:
    """The page number the 目录 prints for each item: the text inside its link."""
    reader = PdfReader(pdf)
    folios = {}
    with pdfplumber.open(pdf) as plumber:
        for index, label in enumerate(reader.page_labels):
            if not folios and label != "1":
                continue
            annotations = reader.pages[index].get("/Annots") or []
            links = [a.get_object() for a in annotations]
            links = [a for a in links if str(a.get("/Dest", "")).startswith("item-")]
            if not links:
                if folios:
                    break
                continue
            page = plumber.pages[index]
            for link in links:
                x0, y0, x1, y1 = (float(v) for v in link["/Rect"])
                # A point of margin: the link's box is the number's own, to the last decimal.
                box = (min(x0, x1) - 1, page.height - max(y0, y1) - 1, max(x0, x1) + 1,
                       page.height - min(y0, y1) + 1)
                text = page.within_bbox(box).extract_text().strip()
                if text:  # an entry's link may have an empty box beside the one with the number
                    folios.setdefault(str(link["/Dest"]), text)
    return folios


def test_offprints_start_where_the_toc_says(sample_pdf, sample_issue, sample_offprints):
    folios = toc_folios(sample_pdf)
    items = [a for a in sample_issue.articles if a.kind in OFFPRINT_KINDS]
    assert [p.name for p in sample_offprints] == [f"{a.path.stem}.pdf" for a in items]
    assert len(items) > 20
    issue = PdfReader(sample_pdf)
    issue_labels = issue.page_labels
    # Items without a printed title are not in the 目录: they start on their anchor's page.
    untitled = {a.anchor for a in items if not a.title}
    assert set(folios) >= {a.anchor for a in items} - untitled
    for anchor in untitled:
        page = issue.get_destination_page_number(issue.named_destinations[anchor])
        folios[anchor] = issue_labels[page]
    for article, path in zip(items, sample_offprints, strict=True):
        reader = PdfReader(path)
        labels = list(reader.page_labels)
        assert labels[0] == folios[article.anchor], article.path.name
        # Consecutive printed folios, a run of the issue's pages.
        start = issue_labels.index(labels[0])
        assert labels == issue_labels[start:start + len(labels)]


def test_offprint_pages_metadata_and_bookmarks(sample_pdf, sample_issue, sample_offprints):
    issue = PdfReader(sample_pdf)
    by_name = {p.name: p for p in sample_offprints}
    speech = next(a for a in sample_issue.articles if a.path.stem == "180-fu-xingguo")
    reader = PdfReader(by_name["180-fu-xingguo.pdf"])
    meta = reader.metadata
    # The title on one line as the 目录, the bookmarks and the EPUB name it (its toc_title).
    assert meta["/Title"] == nav_label(speech, sample_issue) == (
        "在全区深化社区“联合党委”运行暨“三建四关心”党内关怀机制现场推进会上的讲话")
    assert meta["/Author"] == "傅兴国"
    # 410 is signed by no one: it names no author, not the fee sheet's （未署名）
    assert PdfReader(by_name["410-zonghe-bixuan.pdf"]).metadata["/Author"] == ""
    assert "联合党委" in meta["/Keywords"]
    (bookmark,) = reader.outline
    assert bookmark.title == meta["/Title"]
    assert reader.get_destination_page_number(bookmark) == 0
    # The pages are the issue's own: same text.
    first = issue.page_labels.index(reader.page_labels[0])
    for offset, page in enumerate(reader.pages):
        assert page.extract_text() == issue.pages[first + offset].extract_text()


def test_an_offprint_of_an_item_no_longer_in_the_issue_is_removed(sample_issue, sample_laid_out,
                                                                     tmp_path):
    from publisher.desk.offprints import offprints

    folder = tmp_path / "offprints"
    folder.mkdir()
    gone, kept = folder / "470-moved-away.pdf", folder / "notes.pdf"
    gone.write_bytes(b"%PDF- an earlier run's")
    kept.write_bytes(b"%PDF- the editor's own")
    written = offprints(sample_issue, sample_laid_out, tmp_path)
    assert sorted(folder.iterdir()) == sorted([*written, kept])
