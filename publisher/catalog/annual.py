"""The annual index (全年总目录): every listed item of a magazine's year, by column, with its
authors, issue and folio; a page of the site and a PDF set in the magazine's own layouts."""

from __future__ import annotations

import uuid
from pathlib import Path

from publisher.errors import BuildError, PublisherError

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


def publish_annual(root: str, issues: list[dict]) -> bytes:
    """The annual index PDF of `issues` (one magazine's year, in order), in the layouts and fonts
    of the issue at `root` (the year's last), in screen colours and tagged, like the screen
    PDFs beside it."""
    from markupsafe import Markup
    from weasyprint import CSS, HTML

    from publisher import fonts, templates
    from publisher.context import resolve
    from publisher.pdf import fetcher, refuse_fetched, refuse_outside_links
    from publisher.pdf import weasyprint as engine
    from publisher.pdf.grid import Grid
    from publisher.pdf.html import STYLESHEETS
    from publisher.pdf.typeset import typeset
    from publisher.source.load import load_issue

    try:
        context = resolve(load_issue(Path(root)))
    except PublisherError as exc:  # IssueErrors do not survive the trip back from a worker
        raise BuildError(str(exc)) from None
    issue, folders = context.issue, context.layout_folders
    last = issues[-1]
    html = templates.render(
        templates.environment(folders), TEMPLATE,
        magazine=last["magazine"], year=last["year"], language=last["language"],
        labels=[record["label"] for record in issues], columns=annual_columns(issues),
        created=last["updated"],
        page_css=Markup(Grid(issue.trim).css() + fonts.font_css(context.roles)),
        stylesheets=[templates.stylesheet(folders, name).as_uri() for name in STYLESHEETS])
    document_id = uuid.uuid5(issue.uuid, f"annual-index:{last['year']}")
    with engine.patched(document_id):
        page = HTML(string=html, base_url=issue.root.resolve().as_uri() + "/",
                    url_fetcher=fetcher(context.readable))
        typeset(page.etree_element)
        document = page.render(
            stylesheets=[CSS(filename=templates.stylesheet(folders, "screen.css"))])
        # The issue's own layouts set it: held to what they may do in the issue's PDFs.
        refuse_outside_links(document, folders)
        data = document.write_pdf(pdf_identifier=True, pdf_tags=True)
    refuse_fetched(document.url_fetcher, folders)
    return data
