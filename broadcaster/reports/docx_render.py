"""Lay a document outline out as DOCX (python-docx), in the Decree 30/2020/NĐ-CP form: A4, Times New Roman 13,
margins 20/20/30/15 mm, issuing body and national motto side by side, signature block at the end."""

from __future__ import annotations

import io
from pathlib import Path

from docx import Document as WordDocument
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt, RGBColor

from broadcaster.reports.outline import Chart, Document, Header, Para, Signature, Table, Title

FONT = "Times New Roman"  # Decree 30 prescribes it; office software substitutes a metric twin if missing
RED = RGBColor(0xC0, 0x00, 0x00)


def render_docx(doc: Document, out: str | Path) -> None:
    word = WordDocument()
    normal = word.styles["Normal"]
    normal.font.name, normal.font.size = FONT, Pt(13)
    normal.paragraph_format.space_after = Pt(4)
    section = word.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    if doc.landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Cm(29.7), Cm(21)
    section.top_margin = section.bottom_margin = Cm(2)
    section.left_margin, section.right_margin = Cm(3), Cm(1.5)
    width_cm = (29.7 if doc.landscape else 21) - 4.5
    for block in doc.blocks:
        if isinstance(block, Header):
            _header(word, block)
        elif isinstance(block, Title):
            _line(word, block.kind, bold=True, size=14, align=WD_ALIGN_PARAGRAPH.CENTER, before=12)
            _line(word, block.subject, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
        elif isinstance(block, Para):
            _para(word, block)
        elif isinstance(block, Table):
            _table(word, block, width_cm)
        elif isinstance(block, Chart):
            word.add_picture(io.BytesIO(block.png), width=Cm(min(16, width_cm)))
            word.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
            _line(word, block.caption, italic=True, size=11, align=WD_ALIGN_PARAGRAPH.CENTER)
        elif isinstance(block, Signature):
            _signature(word, block)
    word.save(str(out))


def _line(word, text: str, *, bold: bool = False, italic: bool = False, size: float | None = None,
          align=None, color=None, before: float | None = None, cell=None):
    paragraph = cell.add_paragraph() if cell is not None else word.add_paragraph()
    run = paragraph.add_run(text)
    run.bold, run.italic = bold, italic
    if size:
        run.font.size = Pt(size)
    if color is not None:
        run.font.color.rgb = color
    if align is not None:
        paragraph.alignment = align
    if before is not None:
        paragraph.paragraph_format.space_before = Pt(before)
    return paragraph


def _borderless(word, widths_cm: list[float]):
    table = word.add_table(rows=1, cols=len(widths_cm))
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    cells = table.rows[0].cells
    for column, cell, width in zip(table.columns, cells, widths_cm):
        column.width = cell.width = Cm(width)  # Word reads the cells, LibreOffice the grid
    return cells


def _header(word, header: Header) -> None:
    left, right = _borderless(word, [6.2, 10.3])  # the motto's first line must fit on one line
    center = WD_ALIGN_PARAGRAPH.CENTER
    left.paragraphs[0].add_run(header.parent_body).font.size = Pt(12)
    left.paragraphs[0].alignment = center
    _line(word, header.body, bold=True, size=12, align=center, cell=left)
    _line(word, header.number, size=12, align=center, cell=left, before=4)
    run = right.paragraphs[0].add_run(header.motto[0])
    run.bold, run.font.size = True, Pt(12)
    right.paragraphs[0].alignment = center
    _line(word, header.motto[1], bold=True, size=13, align=center, cell=right)
    _line(word, header.place_date, italic=True, size=13, align=center, cell=right, before=4)


def _para(word, para: Para) -> None:
    if para.style == "heading":
        _line(word, para.text, bold=True, before=8)
    elif para.style == "alert":
        _line(word, para.text, bold=True, color=RED, before=6)
    elif para.style == "note":
        _line(word, para.text, italic=True, size=11)
    elif para.style == "center":
        _line(word, para.text, align=WD_ALIGN_PARAGRAPH.CENTER, before=6)
    else:
        paragraph = _line(word, para.text)
        paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        paragraph.paragraph_format.first_line_indent = Cm(1)


def _table(word, table: Table, width_cm: float) -> None:
    grid = word.add_table(rows=1 + len(table.rows), cols=len(table.columns))
    grid.style = "Table Grid"
    total = sum(table.widths)
    widths = [Cm(width_cm * w / total) for w in table.widths]
    for column, width in zip(grid.columns, widths):
        column.width = width
    for r, values in enumerate([table.columns, *table.rows]):
        bold = r == 0 or (table.total and r == len(table.rows))
        for c, value in enumerate(values):
            cell = grid.cell(r, c)
            cell.width = widths[c]
            run = cell.paragraphs[0].add_run(value)
            run.bold, run.font.size = bold, Pt(11)
    word.add_paragraph()


def _signature(word, signature: Signature) -> None:
    left, right = _borderless(word, [8.2, 8.3])
    run = left.paragraphs[0].add_run("Nơi nhận:")
    run.bold, run.italic, run.font.size = True, True, Pt(12)
    for recipient in signature.recipients:
        _line(word, f"- {recipient}", size=11, cell=left)
    right.paragraphs[0].add_run(signature.position).bold = True
    right.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    _line(word, signature.note, italic=True, size=12, align=WD_ALIGN_PARAGRAPH.CENTER, cell=right)
