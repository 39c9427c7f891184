"""PDF output of the breach documents: the draft notice (art. 33(3)) and the letters (art. 34).

Rendered with ``fpdf2`` in DejaVu Sans, embedded (subset) in each file, so
that French (é, è, ç, œ, «», €...) and any other Unicode text shows as
written on any reader. The font is the one of the Debian package
``fonts-dejavu-core`` (``scripts/setup.sh`` installs it), found at its usual
paths, or the TTF file named by ``SCELLE_PDF_FONT`` (its bold face beside it,
``...-Bold.ttf``, when there is one). Pure: no server code, usable on the
sending organisation's machine. The PDF metadata holds a generic title only,
never a person's name.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from scelle.errors import InvalidInput

__all__ = ["FONT_PATHS", "find_font", "letter_pdf", "notice_pdf"]

FONT_PATHS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",  # Debian, Ubuntu
    "/usr/share/fonts/TTF/DejaVuSans.ttf",  # Arch
    "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",  # Fedora
    "/usr/local/share/fonts/DejaVuSans.ttf",
    "/Library/Fonts/DejaVuSans.ttf",
)
_FAMILY = "DejaVu"
_BOLD = re.compile(r"\*\*(.+?)\*\*")


def find_font() -> tuple[Path, Path | None]:
    """The regular TTF to embed and its bold face (None: bold drawn from the regular).

    Raises InvalidInput when no font is found (with what to install or set).
    """
    named = os.environ.get("SCELLE_PDF_FONT")
    candidates = [named] if named else list(FONT_PATHS)
    for candidate in candidates:
        path = Path(candidate).expanduser()
        if path.is_file():
            bold = path.with_name(f"{path.stem}-Bold{path.suffix}")
            return path, bold if bold.is_file() else None
    if named:
        raise InvalidInput("SCELLE_PDF_FONT does not name a readable TTF file")
    raise InvalidInput(
        "no Unicode font for the PDF: install fonts-dejavu-core (DejaVu Sans) "
        "or set SCELLE_PDF_FONT to a TTF file"
    )


def _document(title: str) -> FPDF:
    regular, bold = find_font()
    pdf = FPDF(format="A4")
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_font(_FAMILY, "", str(regular))
    pdf.add_font(_FAMILY, "B", str(bold or regular))
    pdf.set_title(title)
    pdf.set_creator("Scellé")
    pdf.set_font(_FAMILY, size=11)
    pdf.add_page()
    return pdf


def _paragraph(
    pdf: FPDF, text: str, *, size: float = 11, bold: bool = False, marks: bool = False
) -> None:
    """``marks``: read ``**...**`` as bold (the notice's own marks; never for names)."""
    pdf.set_font(_FAMILY, "B" if bold else "", size)
    pdf.multi_cell(0, size * 0.55, text, markdown=marks, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _table(pdf: FPDF, rows: list[list[str]]) -> None:
    pdf.set_font(_FAMILY, size=8)
    with pdf.table(text_align="LEFT", line_height=4.5) as table:
        for cells in rows:
            row = table.row()
            for cell in cells:
                row.cell(cell)
    pdf.ln(2)


def notice_pdf(markdown: str) -> bytes:
    """The draft notice (the Markdown of :func:`scelle.breach.notice.render_markdown`) as PDF.

    Headings, bullets, bold and the transfers table are laid out; the text
    is the Markdown's, word for word (code marks dropped).
    """
    pdf = _document("Violation de données personnelles : projet de notification")
    table: list[list[str]] = []
    for raw in markdown.replace("`", "").splitlines():
        line = raw.rstrip()
        if line.startswith("|"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            if not all(set(cell) <= {"-"} for cell in cells):
                table.append(cells)
            continue
        if table:
            _table(pdf, table)
            table = []
        if not line:
            pdf.ln(2)
        elif line.startswith("# "):
            _paragraph(pdf, line[2:], size=15, bold=True)
            pdf.ln(2)
        elif line.startswith("## "):
            pdf.ln(2)
            _paragraph(pdf, line[3:], size=13, bold=True)
        elif line.startswith("### "):
            _paragraph(pdf, line[4:], size=11.5, bold=True)
        elif line.startswith("- "):
            _paragraph(pdf, "•  " + line[2:], marks=_BOLD.search(line) is not None)
        else:
            _paragraph(pdf, line, marks=_BOLD.search(line) is not None)
    if table:
        _table(pdf, table)
    return bytes(pdf.output())


def letter_pdf(letter: str) -> bytes:
    """One letter (the text of :mod:`scelle.breach.letters`) as a one-person PDF.

    The address block (the text before the first empty line) sits at the top
    right, where a window envelope shows it; the rest follows as written.
    """
    address, _, body = letter.partition("\n\n")
    pdf = _document("Information sur un incident de sécurité")
    pdf.set_xy(110, 30)
    pdf.multi_cell(80, 5.5, address, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(max(pdf.get_y(), 70))
    for paragraph in _paragraphs(body):
        if paragraph.startswith(("Objet :", "Subject:")):
            _paragraph(pdf, paragraph, bold=True)
        else:
            _paragraph(pdf, paragraph)
        pdf.ln(3)
    return bytes(pdf.output())


def _paragraphs(text: str) -> Iterable[str]:
    for block in text.strip().split("\n\n"):
        joined = " ".join(line.strip() for line in block.splitlines()).strip()
        if joined:
            yield joined
