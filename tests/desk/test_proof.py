"""`publisher proof`: the round's PDF kept under proofs/, and a contact sheet of every page."""

from __future__ import annotations

from PIL import Image
from pypdf import PdfReader

from publisher.cli import main
from publisher.desk.proof import LABEL_HEIGHT, SPREAD_GAP, SPREADS_PER_ROW
from tests.conftest import SAMPLE


def test_proof_keeps_the_round(sample_pdf, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["proof", str(SAMPLE), "--round", "一校", "--pdf", str(sample_pdf), "-o", str(out)]
    assert main(args) == 0
    kept = out / "proofs" / "2015-10-一校.pdf"
    assert kept.read_bytes() == sample_pdf.read_bytes()
    sheet = Image.open(out / "proofs" / "2015-10-一校-contact.png")
    pages = len(PdfReader(sample_pdf).pages)
    rows = -(-(pages + 1) // (2 * SPREADS_PER_ROW))  # the cover stands alone on the right
    thumb_height = (sheet.height - SPREAD_GAP) // rows - LABEL_HEIGHT - SPREAD_GAP
    assert 200 < thumb_height < 300  # a page at 24 dpi: 285 mm is 269 px
    # The first slot, left of the cover, is empty: background only.
    assert sheet.getpixel((SPREAD_GAP + 20, SPREAD_GAP + 20)) == (208, 208, 208)
    capsys.readouterr()
    # A kept round is the record of what the desk saw: not replaced without --force.
    assert main(args) == 1
    assert "already kept" in capsys.readouterr().err
    assert main([*args, "--force"]) == 0


def test_round_must_be_a_name(sample_pdf, tmp_path, capsys):
    assert main(["proof", str(SAMPLE), "--round", "../x", "--pdf", str(sample_pdf),
                 "-o", str(tmp_path)]) == 1
    assert "cannot name a proof round" in capsys.readouterr().err
    assert not (tmp_path / "proofs").exists()


def test_a_missing_or_unreadable_pdf_is_one_line(tmp_path, capsys):
    damaged = tmp_path / "damaged.pdf"
    damaged.write_text("not a PDF", encoding="utf-8")
    for pdf, message in ((tmp_path / "none.pdf", "no such PDF"),
                         (damaged, "not a readable PDF")):
        assert main(["proof", str(SAMPLE), "--round", "一校", "--pdf", str(pdf),
                     "-o", str(tmp_path / "out")]) == 1
        err = capsys.readouterr().err
        assert err.startswith(f"{pdf}: {message}") and err.count("\n") == 1


def test_a_wrong_or_kept_round_is_refused_before_the_build(tmp_path, capsys, monkeypatch):
    """The issue's PDF was built first (a minute and more), and the round refused after."""
    import publisher.build

    def build(*args, **kwargs):
        raise AssertionError("built before the round was checked")

    monkeypatch.setattr(publisher.build, "build", build)
    out = tmp_path / "out"
    assert main(["proof", str(SAMPLE), "--round", "一 校", "-o", str(out)]) == 1
    assert "cannot name a proof round" in capsys.readouterr().err
    kept = out / "proofs" / "2015-10-一校.pdf"
    kept.parent.mkdir(parents=True)
    kept.write_bytes(b"%PDF-1.7 the desk's record")
    assert main(["proof", str(SAMPLE), "--round", "一校", "-o", str(out)]) == 1
    assert "already kept" in capsys.readouterr().err
    assert kept.read_bytes() == b"%PDF-1.7 the desk's record"
