"""An upload's display name: path parts, control and bidi characters gone, length capped, extension kept."""
from __future__ import annotations

import pytest

from chalicelib.ingest.filenames import MAX_CHARS, display_name, key_name


@pytest.mark.parametrize("name", ["sales.csv", "Ventes été 2025.csv", "Müller & Söhne (Q1).xlsx", "売上データ.tsv",
                                  "orders.csv.gz", "export-2026_01_31.jsonl", ".hidden.csv"])
def test_ordinary_names_are_shown_as_sent(name: str) -> None:
    assert display_name(name) == name


@pytest.mark.parametrize(("sent", "shown"), [
    ("../../etc/passwd.csv", "passwd.csv"),
    ("..\\..\\Windows\\system.ini.csv", "system.ini.csv"),
    ("C:\\Users\\ada\\Desktop\\sales.csv", "sales.csv"),
    ("/var/data/sales.csv", "sales.csv"),
    ("invoice\u202ecod.csv", "invoicecod.csv"),           # right-to-left override: "invoicevsc.doc" on screen
    ("\u2066\u2067\u2068sales\u2069\u200b\ufeff.csv", "sales.csv"),  # isolates, zero-width space, BOM
    ("sa\x00l\x07es\x1b[31m.csv", "sales[31m.csv"),       # NUL, bell, escape
    ("my\tsales\r\nfile.csv", "my sales file.csv"),        # whitespace controls become one space
    ("  lots   of \u00a0\u2003 space  .csv", "lots of space .csv"),
    ("sales.csv...", "sales.csv"),
    ("bad\ud800half.csv", "badhalf.csv"),                  # a lone surrogate cannot even be stored
])
def test_hostile_names_are_cleaned(sent: str, shown: str) -> None:
    assert display_name(sent) == shown


@pytest.mark.parametrize(("sent", "shown"), [
    ("", "upload"), ("..", "upload"), ("../", "upload"), ("\u202e\u200b", "upload"), ("folder/", "upload"),
    (".csv", "upload.csv"), ("\u202e.csv", "upload.csv"), ("../.csv.gz", "upload.csv.gz"), (" . .csv", "upload.csv"),
])
def test_nothing_left_falls_back_to_a_plain_name(sent: str, shown: str) -> None:
    assert display_name(sent) == shown


def test_long_names_are_capped_keeping_the_extension() -> None:
    just_under = "a" * (MAX_CHARS - 4) + ".csv"
    assert display_name(just_under) == just_under
    capped = display_name("b" * 500 + ".csv.gz")
    assert len(capped) == MAX_CHARS and capped.endswith("b.csv.gz")
    assert display_name("é" * 130 + ".xlsx") == "é" * (MAX_CHARS - 5) + ".xlsx"
    assert len(display_name("x" * 300)) == MAX_CHARS  # no extension: plainly cut


def test_the_key_name_is_plain_ascii_and_keeps_the_extension() -> None:
    assert key_name("Ventes été 2025.csv") == "Ventes ete 2025.csv"
    assert key_name("売上.tsv") == "_.tsv"
    assert key_name("passwd.csv") == "passwd.csv"
    assert key_name("") == "upload"
