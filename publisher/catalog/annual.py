"""The annual index (全年总目录): every listed item of a magazine's year, by column, with its
authors, issue and folio; a page of the site and a PDF set in the library's layouts."""

from __future__ import annotations

import uuid
from pathlib import Path

PDF = "annual-index.pdf"
TEMPLATE = "annual-index.html.j2"


def annual_columns(issues: list[dict]) -> list[dict]:
    """The year's items by column, items in issue order; each item carries its issue's month and
    stem (its folder). Columns go in the order of the year's last issue; one it does not have
    goes after the column before it in the last issue that has it. (Each issue's place numbers
    do not mix: a 封底 seventh of seven would go before an earlier issue's ninth column.)"""
    columns: dict[str, list[dict]] = {}
    for record in issues:
        for column in record["contents"]:
            columns.setdefault(column["column"], []).extend(
                {**item, "month": record["month"], "stem": record["stem"]}
                for item in column["items"])
    order: list[str] = []
    for record in reversed(issues):
        names = [column["column"] for column in record["contents"]]  # in the issue's order
        for index, name in enumerate(names):
            if name not in order:
                order.insert(order.index(names[index - 1]) + 1 if index else 0, name)
    return [{"column": name, "items": columns[name]} for name in order]


def publish_annual(library: str, issues: list[dict]) -> bytes:
    """The annual index PDF of `issues` (one magazine's year, in order), in screen colours and
    tagged, like the screen PDFs beside it. It is set in the library's own layouts before the
    project's, in the project's fonts and trim: never in an issue's own. Any issue may claim a
    masthead in its issue.yaml, and the index sets what it says of every issue of the year."""
    from markupsafe import Markup
    from weasyprint import CSS, HTML

    from publisher import fonts, templates
    from publisher.pdf import fetcher, refuse_fetched, refuse_outside_links
    from publisher.pdf import weasyprint as engine
    from publisher.pdf.grid import Grid
    from publisher.pdf.html import STYLESHEETS
    from publisher.pdf.typeset import typeset
    from publisher.source.model import Manifest

    root = Path(library)
    folders = templates.search_path(root)
    roles = fonts.load_roles()
    font_files = [file for role in roles.values() for _, file in role.files]
    readable = tuple(p.resolve() for p in (*folders, templates.shipped("fonts"), *font_files))
    last = issues[-1]
    html = templates.render(
        templates.environment(folders), TEMPLATE,
        magazine=last["magazine"], year=last["year"], language=last["language"],
        labels=[record["label"] for record in issues], columns=annual_columns(issues),
        created=last["updated"],
        page_css=Markup(Grid(Manifest.model_fields["trim"].default).css() + fonts.font_css(roles)),
        stylesheets=[templates.stylesheet(folders, name).as_uri() for name in STYLESHEETS])
    document_id = uuid.uuid5(uuid.UUID(last["id"]), f"annual-index:{last['year']}")
    with engine.patched(document_id):
        page = HTML(string=html, base_url=root.resolve().as_uri() + "/",
                    url_fetcher=fetcher(readable))
        typeset(page.etree_element)
        document = page.render(
            stylesheets=[CSS(filename=templates.stylesheet(folders, "screen.css"))])
        # The library's layouts are held to what an issue's may do in its PDFs.
        refuse_outside_links(document, folders)
        data = document.write_pdf(pdf_identifier=True, pdf_tags=True)
    refuse_fetched(document.url_fetcher, folders)
    return data
