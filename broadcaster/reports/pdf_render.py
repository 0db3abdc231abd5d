"""Lay a document outline out as PDF (reportlab), the same layout as the DOCX.

PDF viewers have no fallback fonts: Vietnamese needs an embedded TrueType font with its glyphs. DejaVu Serif
is looked for in the system font folders (Debian: fonts-dejavu-core) and then in matplotlib's own copy."""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, TableStyle
from reportlab.platypus import Table as PdfTable

from broadcaster.problems import fail
from broadcaster.reports.outline import Chart, Document, Header, Para, Signature, Table, Title

FONT_FILES = {"VN": "DejaVuSerif.ttf", "VN-Bold": "DejaVuSerif-Bold.ttf", "VN-Italic": "DejaVuSerif-Italic.ttf",
              "VN-BoldItalic": "DejaVuSerif-BoldItalic.ttf"}


def font_folders() -> list[Path]:
    folders = [Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"),
               Path("/usr/local/share/fonts")]
    try:
        import matplotlib

        folders.append(Path(matplotlib.get_data_path()) / "fonts" / "ttf")
    except ImportError:
        pass
    return folders


@cache
def register_fonts() -> str:
    """Register DejaVu Serif (four faces) with reportlab; the family name, or a clear error."""
    for folder in font_folders():
        if all((folder / name).is_file() for name in FONT_FILES.values()):
            for face, name in FONT_FILES.items():
                pdfmetrics.registerFont(TTFont(face, str(folder / name)))
            pdfmetrics.registerFontFamily("VN", normal="VN", bold="VN-Bold", italic="VN-Italic",
                                          boldItalic="VN-BoldItalic")
            return "VN"
    raise fail("PDF", "không tìm thấy phông chữ tiếng Việt DejaVu Serif",
               "no Vietnamese-capable font (DejaVu Serif) found for the PDF",
               hint_vi="cài gói fonts-dejavu-core (bash scripts/setup.sh)",
               hint_en="install fonts-dejavu-core (bash scripts/setup.sh)")


def _styles(family: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=family, fontSize=12, leading=15.5, alignment=TA_JUSTIFY,
                          firstLineIndent=1 * cm, spaceAfter=4)
    return {
        "body": base,
        "center": ParagraphStyle("center", base, alignment=TA_CENTER, firstLineIndent=0, spaceBefore=6),
        "heading": ParagraphStyle("heading", base, fontName="VN-Bold", firstLineIndent=0, spaceBefore=8),
        "alert": ParagraphStyle("alert", base, fontName="VN-Bold", textColor=colors.HexColor("#C00000"),
                                firstLineIndent=0, borderColor=colors.HexColor("#C00000"), borderWidth=1,
                                borderPadding=4, spaceBefore=8, spaceAfter=8),
        "note": ParagraphStyle("note", base, fontName="VN-Italic", fontSize=10.5, firstLineIndent=0),
        "cell": ParagraphStyle("cell", base, fontSize=9.5, leading=11.5, alignment=0, firstLineIndent=0,
                               spaceAfter=0),
        "cell_bold": ParagraphStyle("cell_bold", base, fontName="VN-Bold", fontSize=9.5, leading=11.5,
                                    alignment=0, firstLineIndent=0, spaceAfter=0),
        "head": ParagraphStyle("head", base, fontSize=11.5, leading=14, alignment=TA_CENTER, firstLineIndent=0,
                               spaceAfter=0),
        "head_bold": ParagraphStyle("head_bold", base, fontName="VN-Bold", fontSize=11.5, leading=14,
                                    alignment=TA_CENTER, firstLineIndent=0, spaceAfter=0),
        "motto": ParagraphStyle("motto", base, fontName="VN-Bold", fontSize=10.5, leading=14, alignment=TA_CENTER,
                                firstLineIndent=0, spaceAfter=0),
        "title": ParagraphStyle("title", base, fontName="VN-Bold", fontSize=14, leading=18, alignment=TA_CENTER,
                                firstLineIndent=0, spaceBefore=12, spaceAfter=2),
        "subject": ParagraphStyle("subject", base, fontName="VN-Bold", alignment=TA_CENTER, firstLineIndent=0),
        "caption": ParagraphStyle("caption", base, fontName="VN-Italic", fontSize=10, alignment=TA_CENTER,
                                  firstLineIndent=0),
    }


def render_pdf(doc: Document, out: str | Path) -> None:
    family = register_fonts()
    s = _styles(family)
    pagesize = landscape(A4) if doc.landscape else A4
    frame_width = pagesize[0] - 4.5 * cm
    story: list = []
    for block in doc.blocks:
        if isinstance(block, Header):
            left = [Paragraph(escape(block.parent_body), s["head"]), Paragraph(escape(block.body), s["head_bold"]),
                    Spacer(1, 4), Paragraph(escape(block.number), s["head"])]
            right = [Paragraph(escape(block.motto[0]), s["motto"]),
                     Paragraph(f"<u>{escape(block.motto[1])}</u>", s["head_bold"]), Spacer(1, 4),
                     Paragraph(f"<i>{escape(block.place_date)}</i>", s["head"])]
            story.append(_plain_table([[left, right]], [frame_width * 0.38, frame_width * 0.62]))
        elif isinstance(block, Title):
            story += [Paragraph(escape(block.kind), s["title"]), Paragraph(escape(block.subject), s["subject"])]
        elif isinstance(block, Para):
            story.append(Paragraph(escape(block.text), s.get(block.style, s["body"])))
        elif isinstance(block, Table):
            story += [_grid(block, frame_width, s), Spacer(1, 6)]
        elif isinstance(block, Chart):
            reader = ImageReader(io.BytesIO(block.png))
            w, h = reader.getSize()
            width = min(16 * cm, frame_width)
            story += [Image(io.BytesIO(block.png), width=width, height=width * h / w),
                      Paragraph(escape(block.caption), s["caption"])]
        elif isinstance(block, Signature):
            left = [Paragraph("<b><i>Nơi nhận:</i></b>", s["cell"])]
            left += [Paragraph(f"- {escape(r)}", s["cell"]) for r in block.recipients]
            right = [Paragraph(escape(block.position), s["head_bold"]),
                     Paragraph(f"<i>{escape(block.note)}</i>", s["head"])]
            story += [Spacer(1, 10), _plain_table([[left, right]], [frame_width * 0.5, frame_width * 0.5])]
    SimpleDocTemplate(str(out), pagesize=pagesize, topMargin=2 * cm, bottomMargin=2 * cm, leftMargin=3 * cm,
                      rightMargin=1.5 * cm, title="Báo cáo / Sổ nhật ký", author="broadcaster").build(story)


def _plain_table(rows: list, widths: list[float]) -> PdfTable:
    table = PdfTable(rows, colWidths=widths)
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


def _grid(table: Table, frame_width: float, s: dict) -> PdfTable:
    total = sum(table.widths)
    rows = [[Paragraph(escape(c), s["cell_bold"]) for c in table.columns]]
    for index, row in enumerate(table.rows):
        style = s["cell_bold"] if table.total and index == len(table.rows) - 1 else s["cell"]
        rows.append([Paragraph(escape(v), style) for v in row])
    grid = PdfTable(rows, colWidths=[frame_width * w / total for w in table.widths], repeatRows=1)
    grid.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                              ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEEEEE"))]))
    return grid
