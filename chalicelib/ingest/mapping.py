"""Propose which column of an uploaded file feeds which canonical column, from header names and sample values.

Users confirm or correct the proposal in the portal; the confirmed mapping is saved under the file's
``header_signature`` so the next export from the same system maps without asking.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from chalicelib import errors
from chalicelib.ingest.schema import BOOLEAN, DATASETS, DATE, INTEGER, NUMBER, TIMESTAMP

MIN_CONFIDENCE = 0.45  # below this a column is left unmapped: a wrong guess costs more than a question


def normalise(header: str) -> str:
    """Lower case, accents folded, and everything but letters and digits removed: "Sale_Price " -> "saleprice"."""
    folded = unicodedata.normalize("NFKD", str(header)).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]", "", folded.lower())


def _tokens(header: str) -> list[str]:
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", str(header))
    return [normalise(token) for token in re.split(r"[^0-9A-Za-z\u00c0-\u024f]+", spaced) if normalise(token)]


def _names(strong: str, weak: str = "", weak_score: float = 0.7) -> dict[str, float]:
    names = {normalise(name): weak_score for name in weak.split(",") if name.strip()}
    names.update({normalise(name): 1.0 for name in strong.split(",") if name.strip()})
    return names


# canonical column -> {normalised header: score}. English first, then German, French, Spanish, Dutch.
SYNONYMS: dict[str, dict[str, float]] = {
    "order_id": _names(
        "order id, order, order no, order number, order nr, order ref, invoice, invoice no, invoice number, "
        "invoice id, receipt, receipt no, receipt number, transaction id, transaction, txn id, sale id, sales order, "
        "bill no, document no, ticket no, bestellnummer, bestellung, auftragsnummer, auftrag, rechnungsnummer, "
        "belegnummer, beleg, bonnummer, commande, numero de commande, no commande, facture, numero facture, pedido, "
        "numero de pedido, factura, numero de factura, bestelnummer, ordernummer, factuurnummer, bonnummer",
        "id, number, nr, reference, ref, document"),
    "ts": _names(
        "ts, timestamp, date, datetime, date time, order date, invoice date, sale date, sales date, sold date, "
        "transaction date, purchase date, created at, created, order time, processed at, booking date, datum, "
        "bestelldatum, rechnungsdatum, verkaufsdatum, belegdatum, zeitstempel, zeitpunkt, date de commande, "
        "date de vente, date facture, fecha, fecha de venta, fecha pedido, fecha de pedido, besteldatum, orderdatum, "
        "verkoopdatum, factuurdatum",
        "time, day, paid at, period, when, tag, jour, dia, dag"),
    "customer_id": _names(
        "customer id, customer, customer no, customer number, customer nr, customer email, client id, client, "
        "client no, email, e mail, email address, buyer, buyer email, account id, member id, kunde, kundennummer, "
        "kunden nr, kunden id, kundennr, numero client, id client, code client, cliente, id cliente, "
        "numero de cliente, klant, klantnummer, klant id",
        "account, member, user, user id, contact"),
    "customer_name": _names(
        "customer name, name, full name, client name, company, company name, kundenname, firma, nom, nom du client, "
        "nombre, nombre del cliente, naam, klantnaam", "customer, client, kunde, cliente, klant", 0.6),
    "product_id": _names(
        "product id, sku, item code, stock code, product code, item id, item no, item number, article no, "
        "article number, part number, part no, ean, upc, gtin, barcode, variant sku, artikelnummer, artikel nr, "
        "artikelnr, artikel id, produkt id, produktnummer, reference, code article, code produit, referencia, "
        "codigo, codigo producto, codigo de producto, artikelcode, productcode",
        "code, product number, article, ref, model code, id"),
    "product_name": _names(
        "product name, product, item, item name, description, item description, product description, title, "
        "product title, model, article name, bezeichnung, artikel, artikelbezeichnung, produkt, produktname, "
        "beschreibung, produit, nom du produit, libelle, designation, producto, nombre del producto, descripcion, "
        "articulo, omschrijving, productnaam, artikelnaam, product omschrijving, lineitem name, line item name",
        "name, variant, goods, service"),
    "category": _names(
        "category, product category, item category, product type, type, department, product group, item group, "
        "family, product family, class, kategorie, warengruppe, produktgruppe, artikelgruppe, categorie, "
        "famille, rayon, categoria, familia, productgroep, categorie",
        "make, brand, marke, marque, marca, merk, group, product line, segment", 0.8),
    "brand": _names("brand, make, manufacturer, vendor, marke, hersteller, marque, fabricant, marca, fabricante, merk"),
    "quantity": _names(
        "quantity, qty, units, quantity sold, units sold, pieces, pcs, number of items, no of items, menge, anzahl, "
        "stuck, stk, stuckzahl, quantite, qte, nombre, cantidad, cant, unidades, aantal, hoeveelheid, stuks",
        "count, items, volume, pieces sold"),
    "unit_price": _names(
        "unit price, price, sale price, selling price, sales price, price each, each, price per unit, retail price, "
        "unit cost price, item price, einzelpreis, preis, stuckpreis, verkaufspreis, prix, prix unitaire, "
        "prix de vente, precio, precio unitario, precio de venta, prijs, stukprijs, eenheidsprijs, verkoopprijs",
        "list price, msrp, rate, net price, gross price", 0.75),
    "amount": _names(
        "amount, total, revenue, line total, net sales, sales, sale amount, sales amount, total amount, total price, "
        "line amount, net amount, gross amount, subtotal, turnover, extended price, ext price, net revenue, "
        "gross sales, total sales, line value, umsatz, betrag, gesamt, gesamtbetrag, gesamtpreis, summe, "
        "nettobetrag, bruttobetrag, montant, montant total, total ttc, total ht, chiffre d affaires, importe, "
        "total venta, ventas, monto, importe total, bedrag, omzet, totaal, totaalbedrag",
        "value, income, paid, wert"),
    "region": _names(
        "region, country, store, shop, location, branch, outlet, territory, area, market, sales region, "
        "billing country, country code, land, filiale, standort, geschaft, laden, pays, magasin, boutique, pais, "
        "tienda, sucursal, winkel, vestiging, regio, provincie, bundesland",
        "dealer, dealership, state, city, shipping country, ship country, province, site, zone, ort, ville, ciudad, "
        "stad", 0.7),
    "channel": _names("channel, sales channel, order channel, medium, platform, order source, kanal, vertriebskanal, "
                      "canal, canal de vente, canal de venta, kanaal, verkoopkanaal", "source", 0.6),
    "currency": _names("currency, currency code, curr, ccy, iso currency, wahrung, waehrung, devise, monnaie, moneda, "
                       "divisa, valuta, munt"),
    "signup_date": _names("signup date, signed up, sign up date, registration date, registered, customer since, "
                          "join date, joined, created at, created, anmeldedatum, registriert, kunde seit, "
                          "date d inscription, fecha de alta, fecha de registro, aanmelddatum, klant sinds",
                          "date, first order date, datum, fecha"),
    "segment": _names("segment, tier, customer group, customer type, loyalty tier, level, kundengruppe, "
                      "kundensegment, type de client, tipo de cliente, klantgroep", "group, class, type"),
    "unit_cost": _names("unit cost, cost, cost price, purchase price, cogs, buying price, einkaufspreis, kosten, "
                        "ek preis, prix d achat, cout, cout unitaire, costo, coste, precio de compra, kostprijs, "
                        "inkoopprijs"),
    "list_price": _names("list price, price, retail price, msrp, rrp, selling price, sale price, unit price, "
                         "listenpreis, preis, verkaufspreis, prix, prix de vente, precio, precio de lista, prijs, "
                         "verkoopprijs"),
    "date": _names("date, day, datum, fecha, jour, dag, tag", "ts, timestamp, period"),
    "visits": _names("visits, visitors, sessions, footfall, traffic, users, besuche, besucher, visites, visiteurs, "
                     "visitas, visitantes, bezoeken, bezoekers", "views, page views, count"),
    "prospect_id": _names("prospect id, lead id, lead, prospect, contact id, email, e mail, interessent, "
                          "id prospect, id lead", "id, contact"),
    "lead_source": _names("source, lead source, origin, utm source, quelle, herkunft, origine, source du lead, origen, "
                     "fuente, bron", "channel, campaign", 0.7),
    "created_date": _names("created date, created, created at, lead date, date created, erstellt, erstellt am, "
                           "date de creation, fecha de creacion, aangemaakt", "date, datum, fecha"),
    "converted": _names("converted, is customer, won, became customer, konvertiert, converti, convertido, "
                        "geconverteerd", "status, customer, closed"),
}

# Header words that point at a column wherever they appear ("Retail Price EUR" -> unit_price).
WORDS: dict[str, set[str]] = {
    "order_id": {"order", "invoice", "receipt", "transaction", "bestellung", "rechnung", "commande", "facture",
                 "pedido", "factura", "bestelling"},
    "ts": {"date", "datetime", "timestamp", "datum", "fecha"},
    "customer_id": {"customer", "client", "kunde", "kunden", "cliente", "klant", "email", "buyer"},
    "customer_name": {"name", "nom", "nombre", "naam"},
    "product_id": {"sku", "ean", "upc", "gtin", "artikelnummer"},
    "product_name": {"product", "description", "produkt", "produit", "producto", "bezeichnung"},
    "category": {"category", "categorie", "categoria", "kategorie", "department", "make"},
    "brand": {"brand", "make", "manufacturer", "marke", "marque", "marca"},
    "quantity": {"qty", "quantity", "units", "menge", "anzahl", "quantite", "cantidad", "aantal"},
    "unit_price": {"price", "preis", "prix", "precio", "prijs"},
    "amount": {"amount", "total", "revenue", "sales", "umsatz", "betrag", "montant", "importe", "bedrag", "omzet"},
    "region": {"region", "country", "store", "shop", "location", "branch", "territory", "land", "pays", "pais"},
    "channel": {"channel", "kanal", "canal", "kanaal"},
    "currency": {"currency", "wahrung", "devise", "moneda", "valuta"},
    "unit_cost": {"cost", "kosten", "cout", "costo"},
    "list_price": {"price", "preis", "prix", "precio", "prijs", "msrp"},
    "visits": {"visits", "visitors", "sessions", "footfall"},
    "signup_date": {"signup", "registration", "joined"},
    "created_date": {"created"},
    "prospect_id": {"lead", "prospect"},
}

# Prefixes exports put before a plain name ("Lineitem sku", "Billing Country", "Amount (EUR)").
_PREFIXES = {"lineitem": 0.95, "line": 0.9, "billing": 0.9, "bill": 0.85, "shipping": 0.8, "ship": 0.8,
             "customer": 0.85, "order": 0.85, "item": 0.85, "sales": 0.85, "sale": 0.85, "product": 0.85,
             "total": 0.8, "net": 0.85, "gross": 0.8}
_SUFFIXES = {"eur", "usd", "gbp", "chf", "cad", "aud", "sek", "nok", "dkk", "pln", "jpy", "inkl", "excl", "incl",
             "net", "gross", "brutto", "netto"}

CURRENCIES = {"EUR", "USD", "GBP", "CHF", "CAD", "AUD", "NZD", "JPY", "CNY", "HKD", "SGD", "SEK", "NOK", "DKK",
              "PLN", "CZK", "HUF", "RON", "BGN", "TRY", "RUB", "UAH", "INR", "IDR", "MYR", "THB", "PHP", "KRW",
              "TWD", "VND", "ZAR", "NGN", "KES", "EGP", "MAD", "AED", "SAR", "ILS", "BRL", "MXN", "ARS", "CLP",
              "COP", "PEN", "ISK"}
_DATE = re.compile(
    r"\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2}|[A-Z]{3})?)?"
    r"|\d{1,4}[/.-]\d{1,2}[/.-]\d{2,4}(,?\s+\d{1,2}:\d{2}(:\d{2})?(\s*[AaPp][Mm])?)?"
    r"|\d{1,2}[ -][A-Za-z]{3,9}\.?[ ,-]+\d{2,4}.*|[A-Za-z]{3,9}\.? \d{1,2},? \d{4}.*")
_NUMBER = re.compile(r"[-+(]?\s*[$€£¥₹]?\s*[-+]?(\d{1,3}([.,' \u00a0]\d{3})+|\d+)([.,]\d+)?\s*[$€£¥₹%]?\)?"
                     r"(\s*[A-Z]{3})?")
_INTEGER = re.compile(r"[-+]?\d+([.,]0+)?")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
_HASH_ID = re.compile(r"#\s?[A-Za-z0-9-]*\d+")
_VIN = re.compile(r"[A-HJ-NPR-Z0-9]{17}")
_BOOLEAN = {"true", "false", "yes", "no", "y", "n", "1", "0", "ja", "nein", "oui", "non", "si", "nee", "x", ""}


@dataclass
class ColumnMapping:
    """Which source header feeds each canonical column, how sure we are, and what is kept as extra columns."""

    dataset: str
    columns: dict[str, str]
    confidence: dict[str, float] = field(default_factory=dict)
    extras: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "columns": dict(self.columns), "confidence": dict(self.confidence),
                "extras": list(self.extras)}

    @classmethod
    def from_dict(cls, data: Any) -> ColumnMapping:
        """Build from stored or user-sent JSON; shape errors are the user's to fix, so they are user errors."""
        if not isinstance(data, dict) or not isinstance(data.get("dataset"), str):
            raise errors.ValidationFailed("A column mapping needs a 'dataset' name and a 'columns' object.")
        columns, confidence = data.get("columns") or {}, data.get("confidence") or {}
        extras = data.get("extras") or []
        if not isinstance(columns, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                    for k, v in columns.items()):
            raise errors.ValidationFailed("'columns' must map canonical column names to header names (text).")
        if not isinstance(confidence, dict) or not isinstance(extras, list):
            raise errors.ValidationFailed("'confidence' must be an object and 'extras' a list of header names.")
        try:
            scores = {str(k): float(v) for k, v in confidence.items()}
        except (TypeError, ValueError) as exc:
            raise errors.ValidationFailed("'confidence' values must be numbers between 0 and 1.") from exc
        return cls(data["dataset"], dict(columns), scores, [str(extra) for extra in extras])

    def problems(self, headers: list[str]) -> list[str]:
        """Everything that stops this mapping from being used on a file with these headers, in plain English."""
        dataset = DATASETS.get(self.dataset)
        if dataset is None:
            return [f"Unknown dataset '{self.dataset}'. Choose one of: {', '.join(DATASETS)}."]
        found = []
        available = {str(header).strip() for header in headers}
        known = set(dataset.column_names)
        for canonical in self.columns:
            if canonical not in known:
                found.append(f"'{canonical}' is not a column of {dataset.title.lower()}. "
                             f"Use one of: {', '.join(dataset.column_names)}.")
        for canonical, header in self.columns.items():
            if header.strip() not in available:
                found.append(f"'{canonical}' is mapped to a column '{header}' that the file does not have.")
        used: dict[str, list[str]] = {}
        for canonical, header in self.columns.items():
            used.setdefault(header.strip(), []).append(canonical)
        for header, canonicals in used.items():
            if len(canonicals) > 1:
                found.append(f"The column '{header}' is mapped to {' and '.join(canonicals)}; "
                             "each column can feed only one field.")
        for group in dataset.missing_requirements({name for name in self.columns if name in known}):
            wanted = " or ".join(f"{name} ({dataset.column(name).description})" for name in group)
            found.append(f"No column is mapped to {wanted}. Pick the file's column that holds it.")
        return found


def header_signature(headers: list[str]) -> str:
    """Same for the same export whatever the column order, case or spacing, so a saved mapping can be reused."""
    names = sorted({normalise(header) for header in headers} - {""})
    return hashlib.sha256("\x1f".join(names).encode("utf-8")).hexdigest()[:32]


def propose_mapping(headers: list[str], sample: pd.DataFrame, dataset: str = "transactions") -> ColumnMapping:
    """Score every (canonical column, header) pair, then assign greedily from the most confident pair down."""
    schema = DATASETS.get(dataset)
    if schema is None:
        raise errors.ValidationFailed(f"Unknown dataset '{dataset}'. Choose one of: {', '.join(DATASETS)}.")
    profiles = {header: _profile(sample[header] if header in sample.columns else None) for header in headers}
    order = {name: position for position, name in enumerate(schema.column_names)}
    pairs = []
    for position, header in enumerate(headers):
        for column in schema.columns:
            score = _value_score(column.name, column.kind, _header_score(column.name, header), profiles[header])
            if score >= MIN_CONFIDENCE:
                pairs.append((-score, order[column.name], position, column.name, header))
    columns: dict[str, str] = {}
    confidence: dict[str, float] = {}
    for negative, _, _, canonical, header in sorted(pairs):
        if canonical not in columns and header not in columns.values():
            columns[canonical] = header
            confidence[canonical] = round(min(1.0, -negative), 2)
    ordered = {name: columns[name] for name in schema.column_names if name in columns}
    extras = [header for header in headers if header not in columns.values()]
    return ColumnMapping(dataset, ordered, {name: confidence[name] for name in ordered}, extras)


def _header_score(canonical: str, header: str) -> float:
    names = SYNONYMS.get(canonical, {})
    key = normalise(header)
    if canonical == key or key in names:
        return 1.0 if canonical == key else names[key]
    best = 0.0
    for prefix, factor in _PREFIXES.items():
        if key.startswith(prefix) and key[len(prefix):] in names:
            best = max(best, factor * names[key[len(prefix):]])
    for suffix in _SUFFIXES:
        if key.endswith(suffix) and key[:-len(suffix)] in names:
            best = max(best, 0.9 * names[key[:-len(suffix)]])
    tokens = _tokens(header)
    if set(tokens) & WORDS.get(canonical, set()):
        best = max(best, 0.6)
    return best


def _profile(values: pd.Series | None) -> dict[str, float]:
    """Fractions of the sample's non-empty values that look like dates, numbers, codes, e-mails..."""
    if values is None:
        return {"count": 0}
    texts = [str(v).strip() for v in values.dropna().head(500) if str(v).strip()]
    if not texts:
        return {"count": 0}

    def share(test: Any) -> float:
        return sum(1 for text in texts if test(text)) / len(texts)

    numbers = share(lambda t: bool(_NUMBER.fullmatch(t)) and not _DATE.fullmatch(t))
    return {
        "count": len(texts),
        "date": share(lambda t: bool(_DATE.fullmatch(t))),
        "number": numbers,
        "integer": share(lambda t: bool(_INTEGER.fullmatch(t))),
        "currency": share(lambda t: t.upper() in CURRENCIES),
        "email": share(lambda t: bool(_EMAIL.fullmatch(t))),
        "hash_id": share(lambda t: bool(_HASH_ID.fullmatch(t))),
        "vin": share(lambda t: bool(_VIN.fullmatch(t.upper()))),
        "boolean": share(lambda t: t.lower() in _BOOLEAN),
        "unique": len(set(texts)) / len(texts),
    }


def _value_score(canonical: str, kind: str, score: float, profile: dict[str, float]) -> float:
    """Adjust a header score by what the values look like; values alone can suggest a few columns."""
    if not profile.get("count"):
        return score
    if kind in (TIMESTAMP, DATE):
        if profile["date"] >= 0.8:
            return max(score + 0.05, 0.5 if canonical in ("ts", "date") else 0.0)
        return score * 0.3 if profile["date"] < 0.3 else score
    if kind in (NUMBER, INTEGER):
        if profile["number"] < 0.5:
            return score * 0.25
        if canonical == "quantity" and profile["integer"] >= 0.9:
            return score + 0.05
        return score
    if kind == BOOLEAN:
        return score if profile["boolean"] >= 0.8 else score * 0.5
    if canonical == "currency":
        return max(score, 0.8) if profile["currency"] >= 0.8 else score * 0.5
    if canonical == "order_id" and profile["hash_id"] >= 0.8:
        return max(score, 0.8)  # Shopify's order "Name" (#1001)
    if canonical in ("product_name", "customer_name", "category", "region") and (
            profile["hash_id"] >= 0.8 or profile["date"] >= 0.8 or profile["email"] >= 0.8):
        return score * 0.3
    if canonical == "customer_id" and profile["email"] >= 0.8:
        return max(score, 0.6)
    if canonical == "product_id" and profile["vin"] >= 0.8:
        # a VIN names one car, not a product: kept as an extra column, the model is what sells again
        return 0.0
    return score
