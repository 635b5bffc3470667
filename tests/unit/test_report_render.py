"""The report renderer: content model -> HTML -> PDF, checked as a reader sees it and as an attacker would try it."""
from __future__ import annotations

import logging
import math
import random
import re
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from pypdf import PdfReader

from chalicelib.reports import charts, render
from chalicelib.reports.sections import SECTIONS, TITLES

SCRIPT = "<script>alert(1)</script>"
SVG_BREAK = "</svg><img src=x onerror=alert(1)>"
QUOTES = "Tom & \"Jerry's\""
MATH = "$x^2$ pricing"
HOSTILE = (SCRIPT, SVG_BREAK, QUOTES, MATH)
PASSWD = '<img src="file:///etc/passwd">'
HEADLINES = [
    "Revenue was €337,631 in the last 30 days, 17% more than the 30 days before.",
    "Road Bike Pro sold best: €56,683, a sixth of all revenue.",
    "42 regular customers have not ordered for twice their usual gap.",
]


def _weeks(start: date, count: int) -> list[str]:
    return [(start + timedelta(weeks=i)).isoformat() for i in range(count)]


def _trend_chart(caption: str = "Revenue rose from €52k a week in January to €78k in May; the forecast "
                                 "expects about €80k a week through July.") -> dict[str, Any]:
    rng = random.Random(7)
    x = _weeks(date(2024, 6, 3), 50)
    actual: list[float | None] = [50_000 + 600 * i + rng.uniform(-6_000, 6_000) for i in range(50)]
    actual[20] = None  # a week without data leaves a gap, not a crash
    fx = _weeks(date(2025, 5, 19), 10)
    mid = [80_000 + 300 * i for i in range(10)]
    spread = [4_000 + 700 * i for i in range(10)]
    return {
        "kind": "trend", "title": "Weekly revenue", "caption": caption, "y_label": "Revenue (EUR)",
        "x": x, "actual": actual,
        "forecast": {"x": fx, "mid": mid,
                     "lower_80": [m - s for m, s in zip(mid, spread)], "upper_80": [m + s for m, s in zip(mid, spread)],
                     "lower_95": [m - 1.6 * s for m, s in zip(mid, spread)],
                     "upper_95": [m + 1.6 * s for m, s in zip(mid, spread)]},
        "marks": [{"x": x[12], "y": actual[12], "label": "unusual day"},
                  {"x": x[33], "y": actual[33], "label": MATH}],
    }


def _bars_chart(labels: list[str] | None = None) -> dict[str, Any]:
    labels = labels or ["Road Bike Pro", "Trail Tent 2P", "City Helmet", SCRIPT, MATH,
                        "An extraordinarily long product name that never seems to end at all, really"]
    values = [56683.26, 31020.5, 18_400.0, 9_800.0, 1_250.75, 640.0]
    return {"kind": "bars", "title": "Top products by revenue", "caption": f"{SVG_BREAK} leads the small sellers.",
            "labels": labels, "values": values[:len(labels)], "value_label": "Revenue (EUR)"}


def _table(title: str, rows: int = 8, hostile: bool = False) -> dict[str, Any]:
    names = ["Road Bike Pro", "Trail Tent 2P", "קסדה עירונית", "Sleeping Bag ❄️ Arctic", "Pump"]
    if hostile:
        names = [*HOSTILE, PASSWD, *names]
    body = [[names[i % len(names)], "Bikes" if i % 2 else "Camping", f"€{56_683 - 900 * i:,}", f"{12 - i:+d}%"]
            for i in range(rows)]
    return {"title": title, "columns": ["Product", "Category", "Revenue", "Change"],
            "align": ["left", "left", "right", "right"], "rows": body, "note": "Revenue net of returns."}


def _section(section_id: str, **parts: Any) -> dict[str, Any]:
    return {"id": section_id, "title": TITLES[section_id], "intro": "", "skipped": None, "cards": [], "charts": [],
            "tables": [], "sentences": [], **parts}


def full_content(company: str = f"Acme Bikes {QUOTES}", rows: int = 8) -> dict[str, Any]:
    """A realistic report: all nine sections in the default order, one skipped, hostile user text throughout."""
    cards = [
        {"label": "Revenue", "value": "€337,631", "previous": "+17% vs previous 30 days",
         "last_year": "+24% vs a year earlier", "direction": "up"},
        {"label": "Orders", "value": "2,904", "previous": "-3% vs previous 30 days",
         "last_year": "+8% vs a year earlier", "direction": "down"},
        {"label": "Average order", "value": "€116", "previous": "0% vs previous 30 days",
         "last_year": "+15% vs a year earlier", "direction": "flat"},
        {"label": "Customers", "value": "1,877", "previous": "+5% vs previous 30 days", "last_year": "",
         "direction": "up"},
    ]
    tables = {sid: [_table(f"{TITLES[sid]}: table 1", rows, hostile=(sid == "products"))] for sid in SECTIONS}
    sections = [
        _section("kpis", intro="The last 30 days against the 30 days before and the same days a year earlier.",
                 cards=cards),
        _section("trend", intro="Weekly revenue with the forecast for the next ten weeks.",
                 charts=[_trend_chart()]),
        _section("anomalies", skipped="Not enough history yet: unusual days need at least 8 weeks of sales."),
        _section("segments", tables=tables["segments"], sentences=["Champions bring 41% of revenue."]),
        _section("churn", tables=tables["churn"], sentences=["42 customers are at risk; together €18,400 a year."]),
        _section("products", intro="Best sellers and what sells with them.", charts=[_bars_chart()],
                 tables=tables["products"], sentences=[f"{SCRIPT} is often bought with {MATH}."]),
        _section("recommendations", tables=tables["recommendations"]),
        _section("leads", tables=tables["leads"], sentences=["12 customers look ready for the Trail Tent 2P."]),
        _section("insights", sentences=["Weekends bring 38% of revenue.", "Returns fell to 2.1% of orders."]),
    ]
    return {
        "title": f"Sales report: {company}", "company": company,
        "generated_at": "2026-12-04T21:30:00+00:00", "generated_label": "4 Dec 2026, 21:30 UTC",
        "period": {"from": "2025-04-15", "to": "2025-05-14", "label": "15 Apr 2025 to 14 May 2025"},
        "data_range": {"from": "2024-01-01", "to": "2025-05-14", "label": "1 Jan 2024 to 14 May 2025"},
        "filters": [{"field": "Category", "values": ["Bikes", SCRIPT]}, {"field": "Region", "values": [QUOTES]}],
        "currency": "EUR", "headlines": HEADLINES, "sections": sections,
    }


class _Tags(HTMLParser):
    """Every start tag an HTML parser sees, the way a browser would tokenise the document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser


def _flat(text: str) -> str:
    return " ".join(text.split())


def _pdf_text(pdf: bytes) -> list[str]:
    return [_flat(page.extract_text() or "") for page in PdfReader(BytesIO(pdf)).pages]


@pytest.fixture(scope="module")
def rendered() -> tuple[dict[str, Any], str, bytes]:
    content = full_content()
    html, pdf, _ = render.render(content)
    return content, html, pdf


# --- charts ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "text"), [
    (0, "0"), (950, "950"), (12_000, "12k"), (1_234, "1.23k"), (56_683.26, "56.7k"), (999_999, "1M"),
    (1_200_000, "1.2M"), (-3_400_000_000, "-3.4B"), (0.25, "0.25"), (math.nan, ""),
])
def test_compact_numbers_read_at_a_glance(value: float, text: str) -> None:
    assert charts.compact(value) == text


def test_long_labels_are_cut_with_an_ellipsis() -> None:
    assert charts.shorten("x" * 100) == "x" * 39 + "…"
    assert charts.shorten("  Road\nBike   Pro ") == "Road Bike Pro"


def test_chart_svg_is_inline_scalable_and_accessible() -> None:
    svg = charts.chart_svg(_trend_chart())
    assert svg.startswith("<svg") and "<?xml" not in svg and "<!DOCTYPE" not in svg
    opening = svg[:svg.index(">")]
    assert "viewBox=" in opening and 'role="img"' in opening and "width=" not in opening
    assert "<title>Weekly revenue</title>" in svg
    texts = re.findall(r"<text\b[^>]*>([^<]*)</text>", svg)
    assert "Weekly revenue" in texts and "Forecast" in texts and "unusual day" in texts  # text stays text
    assert any(re.fullmatch(r"[A-Z][a-z]{2} 20\d\d", t) for t in texts), texts  # month ticks like "Mar 2025"
    assert any(t.endswith("k") for t in texts), texts  # compact revenue ticks


def test_short_trends_tick_days() -> None:
    chart = {"kind": "trend", "title": "Daily", "caption": "", "y_label": "", "x": [f"2025-03-{d:02d}" for d in
             range(1, 22)], "actual": [float(d) for d in range(21)], "forecast": None, "marks": []}
    texts = re.findall(r"<text\b[^>]*>([^<]*)</text>", charts.chart_svg(chart))
    assert any(re.fullmatch(r"\d{1,2} Mar", t) for t in texts), texts


def test_chart_text_is_escaped_and_never_mathtext() -> None:
    svg = charts.chart_svg(_bars_chart())
    assert "<script" not in svg and "</svg><img" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    assert ">$x^2$ pricing</text>" in svg  # literal dollars: mathtext would have drawn x² as paths
    assert "An extraordinarily long product name th…" in svg
    assert svg.count("<svg") == 1 and svg.rstrip().endswith("</svg>")
    labels = re.findall(r"<text\b[^>]*>([^<]*)</text>", svg)
    order = [t for t in labels if t in ("Road Bike Pro", "Trail Tent 2P", "City Helmet")]
    assert order == ["Road Bike Pro", "Trail Tent 2P", "City Helmet"]  # largest on top
    assert "56.7k" in labels  # value labels on the bars


def test_bars_with_negative_values_and_empty_charts_render() -> None:
    svg = charts.chart_svg({"kind": "bars", "title": "Change", "caption": "", "labels": ["A", "B"],
                            "values": [-1200.0, 300.0], "value_label": ""})
    assert "-1.2k" in svg
    empty = charts.chart_svg({"kind": "trend", "title": "Nothing", "caption": "", "y_label": "", "x": [],
                              "actual": [], "forecast": None, "marks": []})
    assert "No data to show" in empty
    with pytest.raises(ValueError, match="unknown chart kind"):
        charts.chart_svg({"kind": "pie"})


def test_charts_drawn_in_threads_keep_their_settings() -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        svgs = list(pool.map(charts.chart_svg, [_bars_chart(), _trend_chart()] * 4))
    for svg in svgs:
        assert "<text" in svg and "<path id=\"DejaVu" not in svg  # text stays text: svg.fonttype held in every thread
    assert all(">$x^2$ pricing</text>" in svg for svg in svgs)


# --- HTML --------------------------------------------------------------------------------------------------------

def test_html_shows_every_section_caption_and_the_skip_reason(rendered) -> None:
    content, html, _ = rendered
    parsed = _parse(html)
    text = _flat("".join(parsed.text))
    headings = [t for t, _ in parsed.tags if t == "h2"]
    assert len(headings) == len(SECTIONS) + 1  # the sections and "In this report"
    for section in content["sections"]:
        assert section["title"] in text
        for chart in section["charts"]:
            assert _flat(chart["caption"]) in text
    assert "Not enough history yet: unusual days need at least 8 weeks of sales." in text
    skipped = html[html.index('class="section section-anomalies"'):]
    skipped = skipped[:skipped.index("</section>")]
    assert "<table" not in skipped and "<figure" not in skipped and 'class="skipped"' in skipped
    for sentence in HEADLINES:
        assert sentence in text
    assert "Data from 1 Jan 2024 to 14 May 2025" in text and "Generated 4 Dec 2026, 21:30 UTC" in text
    assert f"Category: Bikes, {SCRIPT}" in text and f"Region: {QUOTES}" in text


def test_html_is_a_self_contained_document(rendered) -> None:
    _, html, _ = rendered
    parsed = _parse(html)
    tags = [t for t, _ in parsed.tags]
    assert html.startswith("<!doctype html>") and ("html", {"lang": "en"}) in parsed.tags
    assert ("meta", {"charset": "utf-8"}) in parsed.tags
    assert tags.count("figure") == tags.count("figcaption") == tags.count("svg") == 2
    assert "script" not in tags and "img" not in tags and "link" not in tags and "iframe" not in tags
    namespaces = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    for _, attrs in parsed.tags:
        for name, value in attrs.items():
            assert not name.startswith("on")
            if name in ("href", "src", "xlink:href"):
                assert (value or "").startswith("#"), (name, value)  # only links inside the document
            elif ":" in (value or "") and value not in namespaces:
                assert not re.search(r"url\((?!#)|\w+://", value), (name, value)
    style = html[html.index("<style>"):html.index("</style>")]
    assert "url(" not in style and "@import" not in style and "@font-face" not in style
    assert set(re.findall(r"url\((.)", html)) <= {"#"}  # the SVG's clip paths point inside the SVG


def test_ids_are_unique_across_charts(rendered) -> None:
    """Each chart scopes matplotlib's per-figure ids, so two charts never share one (invalid HTML, broken clips)."""
    _, html, _ = rendered
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) > 20 and len(ids) == len(set(ids))
    assert set(re.findall(r'href="#([^"]+)"', html)) <= set(ids)


def test_tables_have_column_headers_and_align_numbers(rendered) -> None:
    _, html, _ = rendered
    parsed = _parse(html)
    headers = [attrs for tag, attrs in parsed.tags if tag == "th"]
    assert headers and all(a.get("scope") == "col" for a in headers)
    assert '<th scope="col" class="right">Revenue</th>' in html
    assert re.search(r'<td class="right" dir="auto">€56,683</td>', html)
    assert re.search(r'<td class="left" dir="auto">Road Bike Pro</td>', html)
    cards = [a for tag, a in parsed.tags if tag == "div" and "card" in (a.get("class") or "").split()]
    assert [a["class"] for a in cards] == ["card up", "card down", "card flat", "card up"]


def test_user_text_is_escaped_everywhere(rendered) -> None:
    _, html, _ = rendered
    parsed = _parse(html)
    assert "<script" not in html.lower() and "<img" not in html.lower()
    text = "".join(parsed.text)
    for hostile in HOSTILE:  # shown to the reader as the literal text, in the table, filters, company, chart
        assert hostile in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "Tom &amp; &#34;Jerry&#39;s&#34;" in html
    assert PASSWD not in html and "&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in html


def test_the_footer_takes_a_shortened_company_name_from_an_attribute() -> None:
    html = render.render_html(full_content(company="Z" * 150 + SCRIPT))
    footer = re.search(r'class="company" dir="auto" data-footer="([^"]*)"', html)
    assert footer and footer.group(1) == "Z" * 59 + "…"
    style = html[html.index("<style>"):html.index("</style>")]
    assert "ZZZ" not in style and "string(company)" in style  # user text never enters the CSS


def test_missing_optional_parts_and_no_filters() -> None:
    content = full_content()
    content["filters"] = []
    content["sections"] = [{"id": "insights", "title": "Insights", "skipped": None,
                            "sentences": ["Only sentences here."]}]
    html = render.render_html(content)
    text = _flat("".join(_parse(html).text))
    assert "No filters: all sales" in text and "Only sentences here." in text
    assert "In this report" not in text  # one section needs no contents list


# --- PDF ---------------------------------------------------------------------------------------------------------

def test_pdf_first_page_and_literal_hostile_text(rendered) -> None:
    _, _, pdf = rendered
    assert pdf.startswith(b"%PDF-")
    pages = _pdf_text(pdf)
    assert len(pages) > 1
    first = pages[0]
    for sentence in HEADLINES:
        assert sentence in first
    assert f"Category: Bikes, {SCRIPT}" in first and f"Region: {QUOTES}" in first
    assert "Data from 1 Jan 2024 to 14 May 2025" in first and "Generated 4 Dec 2026, 21:30 UTC" in first
    everything = " ".join(pages)
    for hostile in HOSTILE:
        assert hostile in everything
    assert SVG_BREAK + " leads the small sellers." in everything  # a chart caption, printed as text
    assert f"Acme Bikes {QUOTES} · Page 1 of {len(pages)}" in first  # the footer, company name from the document
    assert f"Page {len(pages)} of {len(pages)}" in pages[-1]


def test_pdf_pages_are_not_blank(rendered, tmp_path: Path) -> None:
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    _, _, pdf = rendered
    (tmp_path / "report.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(tmp_path / "report.pdf"), str(tmp_path / "page")],
                   check=True, timeout=120)
    images = sorted(tmp_path.glob("page*.png"))
    assert len(images) == len(PdfReader(BytesIO(pdf)).pages) > 1
    for image in images:
        grey = Image.open(image).convert("L")
        inked = sum(grey.histogram()[:246])  # anything visibly darker than white
        assert inked / (grey.width * grey.height) > 0.005, image.name


def test_a_big_report_stays_small(capsys) -> None:
    content = full_content(rows=50)
    shown = [s for s in content["sections"] if not s["skipped"]]
    for n in range(10 - sum(len(s["tables"]) for s in content["sections"])):
        shown[n % len(shown)]["tables"].append(_table(f"More {n + 1}", rows=50))
    tables = sum(len(s["tables"]) for s in content["sections"])
    assert tables == 10 and len(content["sections"]) == 9
    started = time.perf_counter()
    html, pdf, _ = render.render(content)
    seconds = time.perf_counter() - started
    with capsys.disabled():
        print(f"\nreport render: {tables} tables x 50 rows, {len(PdfReader(BytesIO(pdf)).pages)} pages, "
              f"{seconds:.2f} s, HTML {len(html) / 1024:.0f} KiB, PDF {len(pdf) / 1024:.0f} KiB")
    assert len(pdf) <= 2 * 1024 * 1024


def test_the_url_fetcher_refuses_everything() -> None:
    fetcher = render.NoFetcher()
    for url in ("file:///etc/passwd", "https://example.com/x.png", "data:text/plain,hi", "http://169.254.169.254/"):
        with pytest.raises(ValueError, match="fetch no URLs"):
            fetcher(url)


def test_html_that_asks_for_urls_still_renders_without_them(caplog) -> None:
    content = full_content()
    content["sections"][1]["charts"][0]["caption"] = f"See {PASSWD}"
    html = render.render_html(content)
    assert "<img" not in html
    # Even markup the template never writes, referencing files and hosts, has nothing fetched.
    urls = ["file:///etc/hostname", "file:///etc/passwd", "http://169.254.169.254/latest/meta-data/"]
    sneaky = html.replace("</main>", f'<img src="{urls[0]}" alt=""><link rel="stylesheet" href="{urls[1]}">'
                                     f'<div style="background: url({urls[2]})">x</div></main>')
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        pdf = render.render_pdf(sneaky)
    refused = [r.getMessage() for r in caplog.records if "reports fetch no URLs" in r.getMessage()]
    assert sorted(url for url in urls if any(url in message for message in refused)) == sorted(urls), refused
    text = " ".join(_pdf_text(pdf))
    assert f"See {PASSWD}" in text and "root:" not in text
