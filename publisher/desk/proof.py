"""`publisher proof`: keep the PDF of a proof round (一校, 二校, 三校 …) under `proofs/`, with a
contact sheet of all its pages in spreads, as the issue will be seen when opened."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from publisher.errors import BuildError, PublisherError
from publisher.output import atomic_output

THUMB_DPI = 24  # a 大16开 page is about 200 px wide: 64 pages fit one screen-sized sheet
SPREADS_PER_ROW = 4
GAP = 6  # px between the two pages of a spread
SPREAD_GAP = 24  # px between spreads and rows
LABEL_HEIGHT = 18


def proof_paths(out_dir: Path, stem: str, round_name: str) -> tuple[Path, Path]:
    if not round_name or re.search(r"[\\/:\s]", round_name) or round_name.startswith("."):
        raise PublisherError(f"`{round_name}` cannot name a proof round: use a word such as 一校")
    folder = out_dir / "proofs"
    return folder / f"{stem}-{round_name}.pdf", folder / f"{stem}-{round_name}-contact.png"


def refuse_kept_round(target: Path, force: bool) -> None:
    if target.exists() and not force:
        raise PublisherError("this round's proof is already kept (use --force to replace it)",
                             target)


def keep_proof(pdf: Path, labels: list[str], target: Path, sheet: Path,
               force: bool = False) -> tuple[Path, Path]:
    """Copy `pdf` to `target` and draw its contact sheet; a round once kept is not replaced
    unless `force`, since it is the record of what the desk saw."""
    refuse_kept_round(target, force)
    with atomic_output(target) as tmp:
        shutil.copyfile(pdf, tmp)
    contact_sheet(pdf, labels, sheet)
    return target, sheet


def contact_sheet(pdf: Path, labels: list[str], target: Path) -> Path:
    """All pages as thumbnails (poppler's pdftoppm) in spreads, each labelled with its folio.
    The cover stands alone on the right, as it does when the issue lies closed."""
    from PIL import Image, ImageDraw

    if shutil.which("pdftoppm") is None:
        raise BuildError("pdftoppm not found: install poppler-utils")
    with tempfile.TemporaryDirectory() as tmp:
        try:
            subprocess.run(["pdftoppm", "-r", str(THUMB_DPI), "-png", str(pdf),
                            str(Path(tmp) / "p")], check=True, capture_output=True)
        except subprocess.CalledProcessError as exc:
            raise BuildError(f"pdftoppm failed: {exc.stderr.decode(errors='replace').strip()}",
                             pdf) from None
        thumbs = [Image.open(p).convert("RGB") for p in sorted(Path(tmp).glob("p-*.png"))]
    width = max(t.width for t in thumbs)
    height = max(t.height for t in thumbs)
    slots = len(thumbs) + 1  # slot 0 is the empty left of the cover's spread
    rows = -(-slots // (2 * SPREADS_PER_ROW))
    spread = 2 * width + GAP
    sheet = Image.new("RGB", (SPREAD_GAP + SPREADS_PER_ROW * (spread + SPREAD_GAP),
                              SPREAD_GAP + rows * (height + LABEL_HEIGHT + SPREAD_GAP)), "#d0d0d0")
    draw = ImageDraw.Draw(sheet)
    font = _label_font()
    for index, thumb in enumerate(thumbs):
        slot = index + 1
        row, column = divmod(slot, 2 * SPREADS_PER_ROW)
        x = SPREAD_GAP + (column // 2) * (spread + SPREAD_GAP) + (column % 2) * (width + GAP)
        y = SPREAD_GAP + row * (height + LABEL_HEIGHT + SPREAD_GAP)
        sheet.paste(thumb, (x, y))
        label = labels[index] if index < len(labels) else str(index + 1)
        draw.text((x + width // 2, y + height + 3), label, fill="black", font=font, anchor="mt")
    with atomic_output(target) as tmp:
        sheet.save(tmp, format="PNG", optimize=True)
    return target


def _label_font():
    """A CJK font for labels such as 封面, from fontconfig; Pillow's own font lacks Han."""
    from PIL import ImageFont

    try:
        found = subprocess.run(["fc-match", "-f", "%{file}\n%{index}", "sans-serif:lang=zh-cn"],
                               capture_output=True, text=True, check=True).stdout.split("\n")
        return ImageFont.truetype(found[0], 13, index=int(found[1] or 0))
    except (OSError, ValueError, IndexError, subprocess.CalledProcessError):
        return ImageFont.load_default()
