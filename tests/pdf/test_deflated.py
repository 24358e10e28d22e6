"""Each stream of a PDF deflated once (`publisher.pdf.weasyprint.deflated`, issue #11): the
bytes pydyf writes, made once for each content and dictionary."""

from __future__ import annotations

import uuid

import pydyf
import pytest
import weasyprint

from publisher.pdf.weasyprint import deflated, patched
from tests.pdf.test_grid import paragraph
from tests.pdf.test_resume import items_html


@pytest.fixture(autouse=True)
def _forgotten():
    deflated._made.clear()
    yield
    deflated._made.clear()


def deflations(monkeypatch) -> list[pydyf.Stream]:
    """The streams pydyf deflates from now on."""
    streams: list[pydyf.Stream] = []
    deflate = deflated._original_data.fget

    def counted(stream):
        if stream.compress:
            streams.append(stream)
        return deflate(stream)

    monkeypatch.setattr(deflated, "_original_data", property(counted))
    return streams


def test_a_stream_is_deflated_once_and_written_as_pydyf_writes_it(monkeypatch):
    """Asked twice, and asked again for a like stream: one deflation, pydyf's own bytes."""
    made = deflations(monkeypatch)
    restore = deflated.install()
    try:
        first = pydyf.Stream([b"BT", b"/F1 12 Tf", b"(\xe4\xb8\xad) Tj", b"ET"], compress=True)
        again = first.data, first.data
        like = pydyf.Stream([b"BT", b"/F1 12 Tf", b"(\xe4\xb8\xad) Tj", b"ET"], compress=True)
        like_data = like.data
    finally:
        restore()
    assert made == [first]
    assert again == (first.data, first.data) and like_data == first.data


def test_streams_differing_in_their_dictionary_or_content_each_have_their_own_bytes(monkeypatch):
    """The same content under another dictionary, or one line moved: three deflations."""
    made = deflations(monkeypatch)
    streams = [pydyf.Stream([b"q", b"0 0 1 1 re f", b"Q"], {"Subtype": "/Form"}, compress=True),
               pydyf.Stream([b"q", b"0 0 1 1 re f", b"Q"], {"Subtype": "/Image"}, compress=True),
               pydyf.Stream([b"q", b"Q", b"0 0 1 1 re f"], {"Subtype": "/Form"}, compress=True)]
    restore = deflated.install()
    try:
        kept = [stream.data for stream in streams]
    finally:
        restore()
    assert made == streams
    assert kept == [stream.data for stream in streams]


def test_the_table_keeps_at_most_its_bound():
    restore = deflated.install()
    try:
        written = [pydyf.Stream([str(number).encode()], compress=True).data
                   for number in range(deflated._MOST + 20)]
    finally:
        restore()
    assert len(set(written)) == deflated._MOST + 20 and len(deflated._made) == deflated._MOST


def write(html: str) -> bytes:
    with patched(uuid.UUID(int=0)):
        return weasyprint.HTML(string=html).render().write_pdf()


def test_a_document_is_the_pdf_deflating_each_asking_makes(monkeypatch):
    """Five pages of briefs: the same PDF with each stream deflated once as deflated each time
    pydyf is asked, and writing it again deflates nothing."""
    html = items_html([paragraph(6 + n % 5) for n in range(12)])
    made = deflations(monkeypatch)
    once = write(html)
    deflated_once = len(made)
    again = write(html)
    assert 0 < deflated_once == len(made) and again == once
    monkeypatch.setattr(deflated, "install", lambda: lambda: None)
    assert write(html) == once
