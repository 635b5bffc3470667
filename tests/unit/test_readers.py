"""Golden files in, exact columns, values and row numbers out; bad files give user errors, never crashes."""
from __future__ import annotations

import gzip
import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib import errors
from chalicelib.ingest.readers import TableStream, open_table

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ingest"
SALES_COLUMNS = ["order_id", "ts", "customer_id", "product_name", "quantity", "unit_price", "region"]


def read(name: str, chunk_rows: int = 200_000) -> tuple[TableStream, pd.DataFrame]:
    stream = open_table(io.BytesIO((FIXTURES / name).read_bytes()), name, chunk_rows=chunk_rows)
    return stream, pd.concat(list(stream.chunks))


@pytest.mark.parametrize(("name", "encoding", "fmt"), [
    ("utf8.csv", "utf-8", "csv"), ("utf8_bom.csv", "utf-8-sig", "csv"), ("cp1252.csv", "cp1252", "csv"),
    ("utf16.tsv", "utf-16", "tsv"), ("utf8.csv.gz", "utf-8", "csv"), ("one_csv.zip", "utf-8", "csv")])
def test_text_encodings_and_containers(name: str, encoding: str, fmt: str) -> None:
    stream, frame = read(name)
    assert stream.columns == SALES_COLUMNS
    assert (stream.format, stream.details["encoding"]) == (fmt, encoding)
    assert len(frame) == 5
    assert frame.loc[0, "product_name"] == "Café au lait"
    assert frame.loc[2, "product_name"] == "Crème brûlée"
    assert frame.loc[2, "region"] == "Genève"
    assert pd.isna(frame.loc[2, "customer_id"])       # empty cell -> missing
    assert frame.loc[4, "region"] == "NA"              # "NA" is text (North America), not missing
    assert frame.loc[4, "product_name"] == "Tea, green"
    assert all(pd.api.types.is_string_dtype(dtype) for dtype in frame.dtypes)


def test_compression_is_reported() -> None:
    assert read("utf8.csv.gz")[0].details["compression"] == "gzip"
    details = read("one_csv.zip")[0].details
    assert (details["compression"], details["member"]) == ("zip", "export/sales.csv")


def test_semicolon_file_keeps_decimal_commas_and_dates_as_text() -> None:
    stream, frame = read("semicolon_decimal_comma.csv")
    assert stream.details["delimiter"] == ";"
    assert stream.columns == ["Datum", "Artikel", "Menge", "Preis", "Umsatz"]
    assert frame.loc[0, "Preis"] == "1.234,50"
    assert frame.loc[0, "Datum"] == "31/12/2024"


def test_quoted_newlines_and_doubled_quotes_survive() -> None:
    _, frame = read("quoted_multiline.csv")
    assert len(frame) == 3
    assert frame.loc[0, "note"] == 'He said "hi"\nthen left'
    assert frame.loc[1, "note"] == "line one\r\nline two"
    assert frame.loc[1, "product"] == 'The "Best" Chair'
    assert frame.loc[2, "product"] == "Desk"


def test_xlsx_cells_become_text_and_keep_sheet_row_numbers() -> None:
    stream, frame = read("sales.xlsx")
    assert stream.format == "xlsx"
    assert stream.columns == ["Order", "Date", "Product", "Qty", "Price", "column_6", "Region"]
    assert list(frame.index) == [0, 1, 3]  # the empty sheet row 4 is skipped, row 5 keeps its number
    assert frame.loc[0, "Date"] == "2024-01-05T14:30:00"
    assert (frame.loc[0, "Qty"], frame.loc[0, "Price"], frame.loc[1, "Price"]) == ("3", "9.99", "120")
    assert frame.loc[3, "column_6"] == "note"


def test_jsonl_unions_keys_and_reports_non_objects() -> None:
    stream, frame = read("sales.jsonl")
    assert stream.columns == ["order_id", "amount", "meta", "paid", "region", "extra_key"]
    assert list(frame["order_id"]) == ["J1", "J2", "J3"]
    assert frame.loc[0, "meta"] == '{"coupon":"SPRING"}'
    assert frame.loc[0, "paid"] == "true"
    assert frame.loc[1, "amount"] == "3"
    assert stream.malformed == [{"row": 5, "line": 4, "reason": "the line is not a JSON object"}]


def test_parquet_values_are_cast_to_text() -> None:
    stream, frame = read("sales.parquet")
    assert stream.columns == ["order_id", "ts", "quantity", "amount"]
    assert frame.loc[0, "ts"] == "2024-01-01T12:00:00"
    assert list(frame["quantity"]) == ["1", "2", "3"]
    assert frame.loc[1, "amount"] == "20"
    assert pd.isna(frame.loc[2, "amount"]) and pd.isna(frame.loc[2, "order_id"])


@pytest.mark.parametrize("name", ["online_retail.csv", "dealer.csv", "shopify_orders.csv"])
def test_real_world_exports(name: str) -> None:
    _, frame = read(name)
    assert len(frame) == 20


def test_chunks_keep_row_numbers_across_chunks() -> None:
    stream, _ = read("online_retail.csv")
    chunks = list(open_table(io.BytesIO((FIXTURES / "online_retail.csv").read_bytes()), "x.csv",
                             chunk_rows=3).chunks)
    assert [len(chunk) for chunk in chunks] == [3] * 6 + [2]
    assert [i for chunk in chunks for i in chunk.index] == list(range(20))
    assert chunks[1].index[0] + 2 == 5  # the 4th data row is spreadsheet row 5
    assert chunks[0].columns.tolist() == stream.columns


def test_sample_does_not_consume() -> None:
    stream = open_table(io.BytesIO((FIXTURES / "dealer.csv").read_bytes()), "dealer.csv", chunk_rows=3)
    head = stream.sample(5)
    assert len(head) == 5 and list(head.index) == [0, 1, 2, 3, 4]
    assert len(stream.sample(100)) == 20
    frame = pd.concat(list(stream.chunks))
    assert len(frame) == 20
    pd.testing.assert_frame_equal(frame.head(5), head)


def test_ragged_rows_are_reported_with_row_numbers() -> None:
    stream, frame = read("ragged.csv")
    assert list(frame["order_id"]) == ["1", "4"]
    assert list(frame.index + 2) == [2, 5]
    assert [(m["row"], m["reason"]) for m in stream.malformed] == [
        (3, "expected 3 fields but found 2"), (4, "expected 3 fields but found 4")]


def test_blank_lines_are_skipped_but_rows_keep_their_numbers() -> None:
    data = b'a,b\n1,"x\ny"\n\n2,z\n'
    stream = open_table(io.BytesIO(data), "blank.csv")
    frame = pd.concat(list(stream.chunks))
    assert list(frame.index + 2) == [2, 4]
    assert stream.details["blank_rows"] == 1


def test_headers_are_trimmed_and_made_unique() -> None:
    stream = open_table(io.BytesIO(b" Name ,,name,Name_2\n1,2,3,4\n"), "h.csv")
    assert stream.columns == ["Name", "column_2", "name_3", "Name_2"]


def test_non_seekable_stream_and_gzip_without_extension() -> None:
    class Pipe(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self._data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: bytearray) -> int:
            chunk = self._data.read(len(buffer))
            buffer[:len(chunk)] = chunk
            return len(chunk)

    data = gzip.compress((FIXTURES / "utf8.csv").read_bytes())
    stream = open_table(Pipe(data), "upload.csv")
    assert len(pd.concat(list(stream.chunks))) == 5


@pytest.mark.parametrize(("name", "error", "words"), [
    ("not_a_table.png", errors.UnsupportedFile, "PNG"),
    ("empty.csv", errors.UnreadableFile, "empty"),
    ("header_only.csv", errors.UnreadableFile, "no data rows"),
])
def test_bad_files_raise_helpful_errors(name: str, error: type, words: str) -> None:
    with pytest.raises(error) as caught:
        open_table(io.BytesIO((FIXTURES / name).read_bytes()), name)
    assert words in caught.value.message


def zipped(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_zip_with_several_tables_lists_them() -> None:
    data = zipped({"a.csv": b"x\n1\n", "b.csv": b"y\n2\n", ".hidden": b"z"})
    with pytest.raises(errors.UnreadableFile) as caught:
        open_table(io.BytesIO(data), "two.zip")
    assert "a.csv" in caught.value.message and "b.csv" in caught.value.message


def test_office_documents_and_pdfs_are_unsupported() -> None:
    docx = zipped({"[Content_Types].xml": b"<x/>", "word/document.xml": b"<x/>"})
    for data, name in ((docx, "letter.docx"), (b"%PDF-1.7\n...", "invoice.pdf")):
        with pytest.raises(errors.UnsupportedFile):
            open_table(io.BytesIO(data), name)


def test_all_rows_malformed_is_explained() -> None:
    with pytest.raises(errors.UnreadableFile) as caught:
        open_table(io.BytesIO(b"a,b\n1,2,3\n4,5,6\n"), "bad.csv")
    assert "same number of fields" in caught.value.message
    assert caught.value.details[0]["row"] == 2


def consume(data: bytes, name: str) -> None:
    try:
        stream = open_table(io.BytesIO(data), name, chunk_rows=7)
        stream.sample(5)
        for _ in stream.chunks:
            pass
    except errors.SalesLensError:
        pass


@settings(deadline=None, max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([b"", b"\x1f\x8b\x08\x00", b"PK\x03\x04", b"PAR1", b"\xef\xbb\xbf", b"\xff\xfe", b"{"]),
       st.binary(max_size=600), st.sampled_from(["f.csv", "f.tsv", "f.jsonl", "f.xlsx", "f.csv.gz", "f.zip", "f"]))
def test_random_bytes_only_raise_user_errors(magic: bytes, data: bytes, name: str) -> None:
    consume(magic + data, name)


csv_text = st.lists(st.lists(st.text(alphabet=st.sampled_from(list('ab1,;\t|"\n\r é€')), max_size=6), max_size=5),
                    max_size=8).map(lambda rows: "\n".join(",".join(row) for row in rows))


@settings(deadline=None, max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(csv_text, st.sampled_from(["utf-8", "cp1252", "utf-16"]))
def test_random_csv_text_only_raises_user_errors(text: str, encoding: str) -> None:
    consume(text.encode(encoding, errors="replace"), "fuzz.csv")
