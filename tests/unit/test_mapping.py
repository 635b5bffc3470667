"""Column mapping: real exports map as a person would map them; problems are explained in plain English."""
from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from chalicelib import errors
from chalicelib.ingest.mapping import ColumnMapping, header_signature, propose_mapping
from chalicelib.ingest.readers import open_table

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ingest"


def mapping_of(name: str, dataset: str = "transactions") -> ColumnMapping:
    stream = open_table(io.BytesIO((FIXTURES / name).read_bytes()), name)
    return propose_mapping(stream.columns, stream.sample(), dataset)


def test_online_retail() -> None:
    mapping = mapping_of("online_retail.csv")
    assert mapping.columns == {"order_id": "InvoiceNo", "ts": "InvoiceDate", "customer_id": "CustomerID",
                               "product_id": "StockCode", "product_name": "Description", "quantity": "Quantity",
                               "unit_price": "UnitPrice", "region": "Country"}
    assert mapping.extras == []
    assert mapping.problems(list(mapping.columns.values())) == []


def test_car_dealer_keeps_dealer_and_vin_as_extras() -> None:
    mapping = mapping_of("dealer.csv")
    # a VIN names one car: products are models, so recommendations and top products mean something
    assert mapping.columns == {"ts": "Sale Date", "product_name": "Model", "category": "Make",
                               "quantity": "Qty", "unit_price": "Sale Price", "region": "Region"}
    assert mapping.extras == ["VIN", "Dealer"]


def test_dealer_feeds_region_when_there_is_no_region() -> None:
    headers = ["Date", "Model", "Price", "Dealer"]
    assert propose_mapping(headers, pd.DataFrame(columns=headers)).columns["region"] == "Dealer"


def test_shopify_orders_export() -> None:
    mapping = mapping_of("shopify_orders.csv")
    assert mapping.columns == {"order_id": "Name", "ts": "Created at", "customer_id": "Email",
                               "product_id": "Lineitem sku", "product_name": "Lineitem name",
                               "quantity": "Lineitem quantity", "unit_price": "Lineitem price",
                               "region": "Billing Country", "currency": "Currency"}
    assert set(mapping.extras) == {"Financial Status", "Vendor"}
    assert all(0 < score <= 1 for score in mapping.confidence.values())


def test_name_with_product_values_is_a_product_name() -> None:
    sample = pd.DataFrame({"Name": ["Blue Shirt", "Red Cap"], "Date": ["2024-01-01", "2024-01-02"],
                           "Price": ["10", "12"]})
    assert propose_mapping(list(sample.columns), sample).columns == {
        "ts": "Date", "product_name": "Name", "unit_price": "Price"}


@pytest.mark.parametrize(("header", "canonical"), [
    ("Total", "amount"), ("Revenue", "amount"), ("Line Total", "amount"), ("Net Sales", "amount"),
    ("Price", "unit_price"), ("Date", "ts"), ("Order Date", "ts"), ("Datum", "ts"), ("SKU", "product_id"),
    ("Item Code", "product_id"), ("Store", "region"), ("Country", "region"), ("Region", "region"),
    ("Channel", "channel"), ("Umsatz", "amount"), ("Cantidad", "quantity"), ("Prix unitaire", "unit_price"),
    ("Amount (EUR)", "amount"), ("customer_id", "customer_id"), ("product_name", "product_name")])
def test_common_headers(header: str, canonical: str) -> None:
    assert propose_mapping([header], pd.DataFrame(columns=[header])).columns == {canonical: header}


def test_plain_canonical_names_map_to_themselves() -> None:
    headers = ["order_id", "ts", "customer_id", "product_id", "product_name", "category", "quantity", "unit_price",
               "amount", "region", "channel", "currency"]
    mapping = propose_mapping(headers, pd.DataFrame(columns=headers))
    assert mapping.columns == {name: name for name in headers}
    assert set(mapping.confidence.values()) == {1.0}


def test_values_that_look_like_dates_find_the_date_column() -> None:
    sample = pd.DataFrame({"Wann": ["31/12/2024", "01/01/2025"], "Produkt": ["A", "B"], "Preis": ["1,50", "2"]})
    assert propose_mapping(list(sample.columns), sample).columns["ts"] == "Wann"


def test_a_date_header_without_dates_is_not_trusted_blindly() -> None:
    sample = pd.DataFrame({"Date": ["pending", "n/a", "soon"], "Sold On": ["2024-01-01", "2024-01-02", "2024-01-03"]})
    assert propose_mapping(list(sample.columns), sample).columns["ts"] == "Sold On"


def test_each_header_and_each_canonical_column_used_once() -> None:
    headers = ["Order Date", "Date", "Price", "Sale Price", "Total", "Revenue"]
    mapping = propose_mapping(headers, pd.DataFrame(columns=headers))
    assert len(set(mapping.columns.values())) == len(mapping.columns)
    assert sorted(mapping.extras + list(mapping.columns.values())) == sorted(headers)


def test_missing_date_is_reported() -> None:
    headers = ["Product", "Price", "Qty"]
    mapping = propose_mapping(headers, pd.DataFrame(columns=headers))
    problems = mapping.problems(headers)
    assert len(problems) == 1 and "date" in problems[0].lower()


def test_problems_name_unknown_headers_duplicates_and_unknown_fields() -> None:
    mapping = ColumnMapping("transactions", {"ts": "Date", "amount": "Total", "unit_price": "Total",
                                             "product_name": "Gone", "flavour": "Date"})
    problems = " | ".join(mapping.problems(["Date", "Total"]))
    assert "'flavour' is not a column" in problems
    assert "'Gone'" in problems and "does not have" in problems
    assert "'Total' is mapped to amount and unit_price" in problems
    assert "'Date' is mapped to ts and flavour" in problems
    assert ColumnMapping("nope", {}).problems([])[0].startswith("Unknown dataset")


def test_round_trip() -> None:
    mapping = mapping_of("dealer.csv")
    assert ColumnMapping.from_dict(mapping.to_dict()) == mapping
    with pytest.raises(errors.ValidationFailed):
        ColumnMapping.from_dict({"dataset": "transactions", "columns": ["ts"]})
    with pytest.raises(errors.ValidationFailed):
        ColumnMapping.from_dict("not a dict")


def test_other_datasets() -> None:
    headers = ["Kundennummer", "Name", "Land", "Kunde seit"]
    sample = pd.DataFrame({"Kundennummer": ["K1"], "Name": ["Anna"], "Land": ["DE"], "Kunde seit": ["2023-04-01"]})
    assert propose_mapping(headers, sample, "customers").columns == {
        "customer_id": "Kundennummer", "customer_name": "Name", "region": "Land", "signup_date": "Kunde seit"}
    headers = ["SKU", "Name", "Make", "Cost", "Price"]
    assert propose_mapping(headers, pd.DataFrame(columns=headers), "products").columns == {
        "product_id": "SKU", "product_name": "Name", "brand": "Make", "unit_cost": "Cost", "list_price": "Price"}
    with pytest.raises(errors.ValidationFailed):
        propose_mapping(headers, pd.DataFrame(), "nope")


def test_header_signature_ignores_case_spacing_and_order() -> None:
    one = header_signature(["Sale Date", "Make", "Sale Price"])
    assert one == header_signature(["sale_price", " MAKE", "saledate"])
    assert one != header_signature(["Sale Date", "Make"])
    assert len(one) == 32
