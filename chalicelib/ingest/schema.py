"""The canonical datasets a tenant can bring: their columns, types and what each row must have.

Readers, mapping, cleaning, the lake and the query engine all take their column lists from here.
"""
from __future__ import annotations

from dataclasses import dataclass, field

# Column kinds: how a raw text value is parsed.
TEXT, NUMBER, INTEGER, TIMESTAMP, DATE, BOOLEAN = "text", "number", "integer", "timestamp", "date", "boolean"
MAP = "map"  # name → text: the tenant's own extra columns, in one column every engine can read


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    description: str


@dataclass(frozen=True)
class Dataset:
    """One kind of table a tenant uploads.

    ``required`` lists groups of columns: each group must have at least one mapped column, e.g.
    ``("product_id", "product_name")`` means a product id *or* a product name.
    ``key`` names the columns that identify a row for joins with transactions.
    """

    name: str
    title: str
    columns: tuple[Column, ...]
    required: tuple[tuple[str, ...], ...]
    key: tuple[str, ...] = ()
    derived: tuple[Column, ...] = field(default=())

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def column(self, name: str) -> Column:
        return next(column for column in self.columns + self.derived if column.name == name)

    def missing_requirements(self, mapped: set[str]) -> list[tuple[str, ...]]:
        """The required groups none of whose columns is mapped."""
        return [group for group in self.required if not mapped & set(group)]


# Added to every row of every dataset at ingestion: where it came from, and its identity for de-duplication.
LINEAGE = (
    Column("source", TEXT, "upload, drop, webhook or manual"),
    Column("batch_id", TEXT, "The ingestion batch the row came in"),
    Column("row_fingerprint", INTEGER, "64-bit hash of the row's canonical values, to never count a row twice"),
)

TRANSACTIONS = Dataset(
    name="transactions",
    title="Sales transactions (one row per order line)",
    columns=(
        Column("order_id", TEXT, "Order, invoice or receipt number"),
        Column("ts", TIMESTAMP, "Date and time of the sale"),
        Column("customer_id", TEXT, "Who bought (customer number or e-mail)"),
        Column("product_id", TEXT, "Product code, SKU or VIN"),
        Column("product_name", TEXT, "Product name or description"),
        Column("category", TEXT, "Product category or make"),
        Column("quantity", NUMBER, "Units sold; negative for a return"),
        Column("unit_price", NUMBER, "Price of one unit"),
        Column("amount", NUMBER, "Line total (quantity x unit price)"),
        Column("region", TEXT, "Region, country, store or dealer"),
        Column("channel", TEXT, "Sales channel (online, store, phone...)"),
        Column("currency", TEXT, "ISO currency code of the prices"),
    ),
    required=(("ts",), ("amount", "unit_price"), ("product_id", "product_name")),
    key=("order_id", "product_id"),
    derived=(
        Column("is_return", BOOLEAN, "Negative quantity or a cancellation invoice"),
        Column("is_outlier", BOOLEAN, "Price or quantity far outside the product's usual range"),
        *LINEAGE,
        Column("extras", MAP, "The company's own extra columns (name → value), for Explore to split by"),
    ),
)

CUSTOMERS = Dataset(
    name="customers", title="Customers",
    columns=(Column("customer_id", TEXT, "Customer number or e-mail, as in transactions"),
             Column("customer_name", TEXT, "Name"),
             Column("region", TEXT, "Region or country"),
             Column("signup_date", DATE, "When the customer joined"),
             Column("segment", TEXT, "Your own segment or tier")),
    required=(("customer_id",),), key=("customer_id",), derived=LINEAGE)

PRODUCTS = Dataset(
    name="products", title="Products",
    columns=(Column("product_id", TEXT, "Product code or SKU, as in transactions"),
             Column("product_name", TEXT, "Name"),
             Column("category", TEXT, "Category"),
             Column("brand", TEXT, "Brand or make"),
             Column("unit_cost", NUMBER, "What one unit costs you"),
             Column("list_price", NUMBER, "Regular selling price")),
    required=(("product_id",),), key=("product_id",), derived=LINEAGE)

TRAFFIC = Dataset(
    name="traffic", title="Store or site traffic per day",
    columns=(Column("date", DATE, "Day"),
             Column("visits", INTEGER, "Visits or footfall that day"),
             Column("region", TEXT, "Store or region, if split")),
    required=(("date",), ("visits",)), key=("date", "region"), derived=LINEAGE)

PROSPECTS = Dataset(
    name="prospects", title="Prospects and leads",
    columns=(Column("prospect_id", TEXT, "Lead id or e-mail"),
             Column("customer_id", TEXT, "Customer id once converted"),
             Column("region", TEXT, "Region"),
             Column("lead_source", TEXT, "Where the lead came from"),
             Column("created_date", DATE, "When the lead was created"),
             Column("converted", BOOLEAN, "Whether the lead became a customer")),
    required=(("prospect_id",),), key=("prospect_id",), derived=LINEAGE)

DATASETS: dict[str, Dataset] = {d.name: d for d in (TRANSACTIONS, CUSTOMERS, PRODUCTS, TRAFFIC, PROSPECTS)}

# -- tables SalesLens derives from the datasets; in the lake and the query engine, never uploaded -----------
SALES_DAILY = Dataset(
    name="sales_daily", title="Daily sales rollup (one row per day, product, region, channel and currency)",
    columns=(Column("day", DATE, "Day of the sale"),
             Column("category", TEXT, "Category, '(unknown)' when missing"),
             Column("product", TEXT, "Product name, else product id, else '(unknown)'"),
             Column("region", TEXT, "Region, '(unknown)' when missing"),
             Column("channel", TEXT, "Channel, '(unknown)' when missing"),
             Column("currency", TEXT, "Currency code, when recorded"),
             Column("revenue", NUMBER, "Purchase amounts (returns excluded)"),
             Column("units", NUMBER, "Units bought (returns excluded)"),
             Column("lines", INTEGER, "Order lines behind the row, returns included"),
             Column("returns", NUMBER, "Returned amount, positive"),
             Column("return_lines", INTEGER, "Return lines")),
    required=(), derived=(Column("batch_id", TEXT, "The transactions batch this rollup summarises"),))

CUSTOMER_LABELS = Dataset(
    name="customer_labels", title="Each customer's segment and RFM group from the latest analysis",
    columns=(Column("customer_id", TEXT, "Customer id, as in transactions"),
             Column("segment", TEXT, "K-Means segment name"),
             Column("rfm_group", TEXT, "RFM group name")),
    required=(), derived=(Column("batch_id", TEXT, "The analysis run that labelled the customer"),))

# Everything the lake holds and the query engine can name: what tenants bring plus what SalesLens derives.
TABLES: dict[str, Dataset] = {**DATASETS, SALES_DAILY.name: SALES_DAILY, CUSTOMER_LABELS.name: CUSTOMER_LABELS}
