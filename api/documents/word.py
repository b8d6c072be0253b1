"""The DOCX of a document (for editing; the PDF is the record): the same blocks as the PDF,
from the same template file, laid out by python-docx on A4 with the same margins."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph

from api.documents.render import Templates

SERIF, SANS = "宋体", "黑体"


def _font(paragraph: Paragraph, size: float, *, bold: bool = False, face: str = SERIF) -> None:
    for run in paragraph.runs:
        run.font.size = Pt(size)
        run.font.bold = bold
        run.font.name = face
        rpr = run._element.get_or_add_rPr()
        rpr.get_or_add_rFonts().set(qn("w:eastAsia"), face)


def docx_bytes(templates: Templates, facts: Mapping[str, Any]) -> bytes:
    doc = Document()
    section = doc.sections[0]
    section.start_type = WD_SECTION.NEW_PAGE
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    props = doc.core_properties
    props.title = f"{facts['title']} {facts['number']}"
    props.author = str(facts["issuing_body"])
    for block in templates.blocks(facts):
        kind, text = block["type"], block.get("text", "")
        if kind == "table":
            table = doc.add_table(rows=0, cols=2)
            table.style = "Table Grid"
            for label, value in block["rows"]:
                cells = table.add_row().cells
                cells[0].text, cells[1].text = label, value
                for cell in cells:
                    for p in cell.paragraphs:
                        _font(p, 13)
            continue
        if kind == "blank":
            doc.add_paragraph()
            continue
        if kind == "cut":
            p = doc.add_paragraph("- - - - - - - - - - 沿此线剪下 - - - - - - - - - -")
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _font(p, 10)
            continue
        p = doc.add_paragraph(text)
        if kind == "head":
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _font(p, 18, face=SANS)
        elif kind in ("title", "subtitle"):
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _font(p, 22 if kind == "title" else 18, bold=True)
        elif kind in ("number", "case"):
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            _font(p, 14)
        elif kind == "sign":
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            _font(p, 16)
            if block.get("date"):
                d = doc.add_paragraph(str(block["date"]))
                d.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                _font(d, 16)
            seal = doc.add_paragraph("（印章）")
            seal.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            _font(seal, 9)
            for run in seal.runs:
                run.font.color.rgb = RGBColor(0xC8, 0x10, 0x2E)
        elif kind == "signline":
            p.add_run("＿" * 12)
            _font(p, 16)
        elif kind == "h":
            _font(p, 16, face=SANS)
        elif kind == "note":
            _font(p, 12)
        else:
            if kind in ("p", "item", "party"):
                p.paragraph_format.first_line_indent = Pt(32)
            _font(p, 16)
    tail = doc.add_paragraph(
        f"核验码：{facts['verification_code']}　核验地址：{facts['verify_url']}"
        "（可编辑稿；以出具的PDF文书为准）"
    )
    _font(tail, 9, face=SANS)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
