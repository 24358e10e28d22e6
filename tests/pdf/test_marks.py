"""The marks each kind of Chinese periodical must print: an internal publication's (the sample)
and a formal periodical's (tests/roots/press-periodical), with its 期刊条码 read by zbar."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pdfplumber
import pytest
from pypdf import PdfReader

from publisher.pdf.barcode import (
    addon_modules,
    ean13_check_digit,
    ean13_modules,
    periodical_barcode,
)
from publisher.source.model import issn_check_digit
from tests.conftest import ROOTS, SAMPLE


def compact(text: str | None) -> str:
    return re.sub(r"\s+", "", text or "")


def labelled_text(path: Path) -> dict[str, str]:
    """Each page's text by its page label (封面, 1, 2 …, 封三, 封底)."""
    labels = PdfReader(path).page_labels
    with pdfplumber.open(path) as pdf:
        return {label: compact(page.extract_text()) for label, page in zip(labels, pdf.pages,
                                                                            strict=True)}


def test_ean13_and_issn_check_digits():
    assert issn_check_digit("0317847") == "1"  # ISSN 0317-8471, ISO 3297's example
    assert issn_check_digit("1050124") == "X"  # a check of 10 is written X
    assert ean13_check_digit("400638133393") == "1"  # EAN 4006381333931
    barcode = periodical_barcode("1004-0951", 10)
    assert (barcode.ean, barcode.addon) == ("9771004095002", "10")
    assert len(ean13_modules(barcode.ean)) == 95 and len(addon_modules("10")) == 20
    assert ean13_modules(barcode.ean).startswith("101") and addon_modules("10")[:4] == "1011"


def zbar(png: Path) -> list[str]:
    if shutil.which("zbarimg") is None:
        pytest.fail("zbarimg is missing: install Debian's zbar-tools (make setup does)")
    run = subprocess.run(["zbarimg", "-q", "-Sean2.enable=1", str(png)], capture_output=True,
                         text=True)
    return sorted(run.stdout.split())


def test_the_periodicals_back_cover_barcode_reads_as_its_issn_and_issue(periodical_press_pdf,
                                                                        tmp_path):
    pages = len(PdfReader(periodical_press_pdf).pages)
    subprocess.run(["pdftoppm", "-r", "300", "-gray", "-png", "-f", str(pages), "-l",
                    str(pages), "-singlefile", str(periodical_press_pdf),
                    str(tmp_path / "back")], check=True)
    assert zbar(tmp_path / "back.png") == ["EAN-13:9771004095002", "EAN-2:10"]


def test_the_periodicals_imprint_and_back_cover_carry_its_marks(periodical_press_pdf):
    text = labelled_text(periodical_press_pdf)
    imprint = text["封三"]  # `place: inside-back-cover`
    for mark in ("测试月刊", "2015年第10期（总第321期）", "主管单位测试省委宣传部",
                 "主办单位测试杂志社", "出版单位测试月刊编辑部", "总编辑李四",
                 "印刷单位测试印刷有限公司", "发行单位测试市邮政局", "发行范围公开发行",
                 "出版日期2015年10月10日", "国内统一连续出版物号CN64-1234/D",
                 "国际标准连续出版物号ISSN1004-0951", "广告经营许可证号6400004000123",
                 "定价8.00元"):
        assert mark in imprint, mark
    assert "内部资料" not in "".join(text.values())
    back = text["封底"]
    assert "CN64-1234/D" in back and "ISSN1004-0951" in back and "定价：8.00元" in back


def test_the_sample_carries_an_internal_publications_marks(sample_pdf):
    text = labelled_text(sample_pdf)
    cover = text["封面"]
    assert "内部资料，免费交流" in cover and "准印证号：宁新出管字【2015】第0219号" in cover
    imprint = text["2"]  # `place: toc`, under the 目录's second page
    for mark in ("编印单位", "发送对象", "印刷单位", "印刷日期", "印数30000册",
                 "准印证号宁新出管字【2015】第0219号", "2015年第10期", "内部资料，免费交流"):
        assert mark in imprint, mark
    everything = "".join(text.values())
    assert "定价" not in everything and "ISSN" not in everything
    assert "准印证号：宁新出管字【2015】第0219号" in text["封底"]


def issue_with(tmp_path: Path, manifest_tail: str) -> Path:
    issue = tmp_path / "issue"
    shutil.copytree(ROOTS / "good-minimal", issue)
    manifest = issue / "issue.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8") + manifest_tail, encoding="utf-8")
    return issue


@pytest.mark.parametrize("tail, warnings", [
    ("", []),  # an issue that does not say its kind is checked for no marks
    ("publication: periodical\nimprint: {sponsor: 某杂志社, price: 8.00元}\n",
     ["a periodical must print `supervisor` (主管单位), `publisher` (出版单位), "
      "`editor_in_chief` (总编辑), `address` (地址), `printer` (印刷单位), "
      "`distributor` (发行单位), `distribution` (发行范围), `published` (出版日期), "
      "`cn` (国内统一连续出版物号): add to `imprint:`",
      "a periodical sold at retail prints the 期刊条码, made from its ISSN: add "
      "`imprint.issn`, or `imprint.retail: false`"]),
    ("publication: internal\nimprint: {compiler: 某单位, recipients: 党员, printer: 某厂, "
     "printed: 2015年10月, copies: 100, price: 5元}\n",
     ["an internal publication must print `permit` (准印证号): add to `imprint:` (the 准印证 "
      "is `permit:`)",
      "an internal publication prints no price and carries no barcode: remove them from "
      "`imprint:`"]),
])
def test_validate_warns_of_each_mark_the_kind_requires(tmp_path, caplog, tail, warnings):
    from publisher.source.load import load_issue

    issue = issue_with(tmp_path, tail)
    load_issue(issue)
    assert caplog.messages == [f"{issue / 'issue.yaml'}: {w}" for w in warnings]


def test_the_sample_has_every_mark_of_its_kind(caplog):
    from publisher.source.load import load_issue

    load_issue(SAMPLE)
    assert caplog.messages == []


def test_an_issn_with_a_wrong_check_digit_is_an_error_at_its_line(tmp_path):
    from publisher.errors import IssueErrors
    from publisher.source.load import load_issue

    issue = issue_with(tmp_path, "publication: periodical\nimprint:\n  issn: 1004-0952\n")
    with pytest.raises(IssueErrors) as error:
        load_issue(issue)
    line = (issue / "issue.yaml").read_text(encoding="utf-8").splitlines().index(
        "  issn: 1004-0952") + 1
    assert str(error.value) == (f"{issue / 'issue.yaml'}:{line}: `imprint.issn`: an ISSN is "
                                "NNNN-NNNC with C its check digit (0-9 or X), e.g. 1004-0951")
