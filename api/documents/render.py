"""Documents from their templates: facts → blocks (Jinja) → PDF (Typst) or DOCX (python-docx).

A document kind is one template *file*, ``templates/documents/<commission>/<kind>.j2``,
falling back to ``templates/documents/default/<kind>.j2``; the shared A4 layout is
``layout.typ`` beside them (overridable the same way). The kind's template writes the
document as lines, one block each:

=================  ===========================================================
``@head TEXT``     the issuing body above the title
``= TEXT``         the title (``@subtitle TEXT``: a smaller one, e.g. 回执)
``@number TEXT``   the 文号, right-aligned; ``@case TEXT`` the 案号 line
``@to TEXT``       the addressee (no indent)
``@party TEXT``    a line of the parties block
``@h TEXT``        a heading; ``@item TEXT`` a numbered item; ``@note TEXT`` small print
``@sign TEXT``     the issuing body over the seal area; ``@date TEXT`` under it
``@signline TEXT`` a signature line; ``@row A|B`` a table row; ``@cut``; ``@blank``
any other line      a body paragraph (first line indented two characters)
=================  ===========================================================

Values enter the lines through Jinja with newlines removed (``finalize``), and reach
Typst as JSON data, never as markup: nothing a party typed can change the layout.

Deterministic: no system fonts but the configured CJK ones, the PDF's date is the issue
date, Typst derives the document ID from the content. The bytes are kept anyway
(``mediation.document_store``): a reprint is the stored file, never a re-rendering.
"""

from __future__ import annotations

import io
import json
import re
import threading
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import segno
import typst
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined

from mediation.issuing import Rendered

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "documents"

# Debian's fonts-noto-cjk (宋体-like serif, 黑体-like sans) and fonts-wqy-microhei as the
# fallback; DejaVu for the verification code (.ci/run installs all three)
FONT_DIRS = (
    "/usr/share/fonts/opentype/noto",
    "/usr/share/fonts/truetype/wqy",
    "/usr/share/fonts/truetype/dejavu",
)

_DIRECTIVE = re.compile(
    r"^(@head|@number|@case|@to|@party|@h|@item|@note|@sign|@date|@signline|@row|@subtitle"
    r"|@cut|@blank|=)(?:\s+(.*))?$"
)


def _one_line(value: Any) -> Any:
    """Every ``{{ value }}`` on one line: a typed newline cannot start a directive."""
    if value is None:
        return ""
    return re.sub(r"[\r\n\u2028\u2029]+", " ", str(value))


class Templates:
    """The template files of one commission (its own, else the default set)."""

    def __init__(self, root: Path = TEMPLATES) -> None:
        self.root = root
        self._envs: dict[str, Environment] = {}
        self._lock = threading.Lock()

    def dirs(self, commission: str) -> list[Path]:
        own = self.root / commission
        return [own, self.root / "default"] if own.is_dir() else [self.root / "default"]

    def env(self, commission: str) -> Environment:
        with self._lock:
            env = self._envs.get(commission)
            if env is None:
                env = Environment(
                    loader=ChoiceLoader([FileSystemLoader(d) for d in self.dirs(commission)]),
                    undefined=StrictUndefined,
                    autoescape=False,  # plain text lines, never HTML or Typst markup
                    trim_blocks=True,
                    lstrip_blocks=True,
                    keep_trailing_newline=True,
                    finalize=_one_line,
                )
                self._envs[commission] = env
            return env

    def layout(self, commission: str, name: str = "layout.typ") -> Path:
        for d in self.dirs(commission):
            if (d / name).is_file():
                return d / name
        raise FileNotFoundError(name)

    def blocks(self, facts: Mapping[str, Any]) -> list[dict[str, Any]]:
        commission = str(facts["commission"]["code"])
        text = self.env(commission).get_template(f"{facts['kind']}.j2").render(**facts)
        return parse(text.splitlines())


def parse(lines: Iterable[str]) -> list[dict[str, Any]]:
    """Template lines → blocks (see the module docstring)."""
    out: list[dict[str, Any]] = []
    for raw in lines:
        line = raw.rstrip()
        if not line.strip():
            continue
        m = _DIRECTIVE.match(line)
        if m is None:
            out.append({"type": "p", "text": line.strip()})
            continue
        kind, text = m.group(1), (m.group(2) or "").strip(" \t")
        if kind == "=":
            out.append({"type": "title", "text": text})
        elif kind == "@date" and out and out[-1]["type"] == "sign":
            out[-1]["date"] = text
        elif kind == "@row":
            label, _, value = text.partition("|")
            if not out or out[-1]["type"] != "table":
                out.append({"type": "table", "text": "", "rows": []})
            out[-1]["rows"].append([label.strip(" \t"), value.strip(" \t")])
        else:
            out.append({"type": kind.lstrip("@"), "text": text})
    return out


def qr_svg(url: str) -> str:
    buf = io.BytesIO()
    segno.make(url, error="m").save(buf, kind="svg", scale=4, border=1, xmldecl=False)
    return buf.getvalue().decode("utf-8")


def page_count(pdf: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


class TypstEngine:
    """The PDF engine (docs/adr/0011-document-bytes.md says why Typst)."""

    name = "typst"

    def __init__(self, templates: Templates | None = None, font_dirs: Iterable[str] = FONT_DIRS):
        self.templates = templates or Templates()
        self.font_dirs = [d for d in font_dirs if Path(d).is_dir()]
        self._compilers: dict[Path, typst.Compiler] = {}
        self._lock = threading.Lock()

    def _compiler(self, layout: Path) -> typst.Compiler:
        compiler = self._compilers.get(layout)
        if compiler is None:
            compiler = typst.Compiler(
                str(layout),
                root=str(layout.parent),
                font_paths=self.font_dirs,
                ignore_system_fonts=True,
            )
            self._compilers[layout] = compiler
        return compiler

    def pdf(self, facts: Mapping[str, Any]) -> bytes:
        issued = date.fromisoformat(str(facts["issued_on"]))
        data = {
            "facts": facts,
            "blocks": self.templates.blocks(facts),
            "qr": qr_svg(str(facts["verify_url"])),
            "date": [issued.year, issued.month, issued.day],
        }
        layout = self.templates.layout(str(facts["commission"]["code"]))
        with self._lock:  # one compilation at a time per engine (the compiler is shared)
            out = self._compiler(layout).compile(
                format="pdf", sys_inputs={"data": json.dumps(data, ensure_ascii=False)}
            )
        assert isinstance(out, bytes)
        return out

    def __call__(self, facts: Mapping[str, Any]) -> Rendered:
        pdf = self.pdf(facts)
        return Rendered(pdf, page_count(pdf))
