"""One renderer, two outputs: the report content model -> one HTML document (Jinja2) -> the same HTML as a PDF.

There is no second layout for paper: the print rules (``@page``, footer, page breaks) live in the one stylesheet
(``templates/_style.css.j2``). Every string in the content model is untrusted user data: the templates autoescape
it, chart text is escaped by matplotlib's SVG writer, and WeasyPrint is given a URL fetcher that fetches nothing.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, NamedTuple

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from chalicelib.reports.charts import chart_svg, shorten

TEMPLATES = Path(__file__).parent / "templates"
ALIGNS = frozenset({"left", "right", "center"})
DIRECTIONS = {"up": "▲", "down": "▼", "flat": "■"}
FOOTER_NAME = 60  # characters of the company name in the page footer; the cover shows it whole
NARROW, WIDE = 6, 48  # characters: the least and most room a table column is sized for


class NoFetcher(URLFetcher):
    """Refuses every URL, ``file://`` and ``data:`` included: a report is built from its content model alone.

    The HTML we write references nothing, so a fetch could only come from user text that escaped escaping; refusing
    means such text can neither read local files nor call out. WeasyPrint logs the refusal and renders on.
    """

    def fetch(self, url: str, headers: Any = None) -> Any:
        raise ValueError(f"reports fetch no URLs: {url[:80]!r}")


class Rendered(NamedTuple):
    html: str
    pdf: bytes
    pages: int


def render(content: dict[str, Any]) -> Rendered:
    """The report as ``(html, pdf, pages)``: the PDF is rendered from exactly the HTML returned."""
    html = render_html(content)
    document = _document(html)
    return Rendered(html, document.write_pdf(), len(document.pages))


def render_html(content: dict[str, Any]) -> str:
    """A self-contained HTML5 document (inline style and SVG, no scripts, no URLs) for one content model."""
    return _environment().get_template("report.html.j2").render(report=content)


def render_pdf(html: str) -> bytes:
    """The HTML printed to A4 by WeasyPrint, with nothing fetched from anywhere."""
    return _document(html).write_pdf()


def _document(html: str) -> Any:
    return HTML(string=html, url_fetcher=NoFetcher()).render()


@functools.cache
def _environment() -> Environment:
    """Built once and reused: Jinja caches compiled templates per environment."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.globals.update(chart=_chart, align=_align, arrow=_arrow, direction=_direction, widths=_widths,
                       FOOTER_NAME=FOOTER_NAME)
    env.filters["shorten"] = shorten
    return env


def _chart(chart: dict[str, Any]) -> Markup:
    # Markup only because matplotlib wrote this SVG itself and escaped every text it holds (tests check that).
    return Markup(chart_svg(chart))


def _align(table: dict[str, Any], column: int) -> str:
    """The CSS class for a column: ``right`` for numbers, as the table's ``align`` says; ``left`` when unsaid."""
    aligns = table.get("align") or []
    value = aligns[column] if column < len(aligns) else "left"
    return value if value in ALIGNS else "left"


def _widths(table: dict[str, Any]) -> list[int]:
    """Column widths in % from the longest text in each (capped), so tables can use the fixed layout: WeasyPrint
    then skips measuring every cell, a third of the render time, and long "why" columns still get the room."""
    columns = table.get("columns") or []
    longest = [min(WIDE, max([len(str(c))] + [len(str(r[i])) for r in table.get("rows") or [] if i < len(r)]))
               for i, c in enumerate(columns)]
    weights = [max(NARROW, n) for n in longest]
    total = sum(weights) or 1
    return [round(100 * w / total) for w in weights]


def _direction(card: dict[str, Any]) -> str:
    value = card.get("direction")
    return value if value in DIRECTIONS else "flat"


def _arrow(card: dict[str, Any]) -> str:
    return DIRECTIONS[_direction(card)]
