/** Plain-words help for the privacy option: how strong a passphrase is, which column holds the customer ids,
 * and which other columns look personal (names, e-mails, phones, addresses are not pseudonymised). */
import { MIN_PASSPHRASE } from "./pseudonymise.js";

/** "CustomerID" → "customer id", "E-Mail_Address" → "e mail address". */
export function words(name) {
  return String(name)
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .toLowerCase()
    .replace(/[^a-z0-9äöüéèàçñ]+/g, " ")
    .trim();
}

// The server's own names for a customer id column (chalicelib/ingest/mapping.py), best first.
const CUSTOMER_NAMES = [
  "customer id", "customerid", "customer", "customer no", "customer number", "customer nr", "customer code",
  "client id", "clientid", "client", "client no", "client number", "customer email", "email", "e mail",
  "email address", "buyer", "buyer id", "buyer email", "account id", "member id", "kunde", "kundennummer",
  "kunden nr", "kunden id", "kundennr", "numero client", "id client", "code client", "cliente", "id cliente",
  "numero de cliente", "klant", "klantnummer", "klant id",
];
const CUSTOMER_WORDS = new Set(["customer", "client", "kunde", "kunden", "cliente", "klant", "email", "buyer"]);

/** The index of the header's likely customer id column, or -1. */
export function guessCustomerColumn(header) {
  const named = header.map(words);
  for (const name of CUSTOMER_NAMES) {
    const at = named.indexOf(name);
    if (at >= 0) return at;
  }
  return named.findIndex((name) => {
    const parts = name.split(" ");
    return parts.some((part) => CUSTOMER_WORDS.has(part)) && !parts.includes("name");
  });
}

const PERSONAL = new Set(["email", "mail", "name", "firstname", "lastname", "surname", "phone", "telephone", "tel",
  "mobile", "address", "street", "zip", "postcode", "birthday", "dob", "iban", "contact"]);
const NOT_PERSONAL = new Set(["product", "item", "article", "category", "brand", "store", "shop", "region", "country",
  "file", "campaign", "channel"]);

/** Indexes of columns other than `except` whose names suggest personal data. */
export function personalColumns(header, except) {
  return header.flatMap((name, index) => {
    const parts = words(name).split(" ");
    const personal = index !== except && parts.some((part) => PERSONAL.has(part))
      && !parts.some((part) => NOT_PERSONAL.has(part));
    return personal ? [index] : [];
  });
}

/** `{level, text}` for a passphrase: short, weak, fair or strong (a rough guess from length and variety). */
export function strength(passphrase) {
  const length = [...passphrase].length;
  if (length < MIN_PASSPHRASE) {
    const missing = MIN_PASSPHRASE - length;
    return { level: "short", text: `Too short: ${missing} more character${missing === 1 ? "" : "s"} needed.` };
  }
  const pool = (/[a-z]/.test(passphrase) ? 26 : 0) + (/[A-Z]/.test(passphrase) ? 26 : 0)
    + (/[0-9]/.test(passphrase) ? 10 : 0) + (/[^A-Za-z0-9]/.test(passphrase) ? 33 : 0);
  if (/pass(word|wort)|123456|qwerty|saleslens/i.test(passphrase)) {
    return { level: "weak", text: "Weak: this is among the first things an attacker tries." };
  }
  const distinct = new Set(passphrase).size;
  const bits = Math.min(length, distinct * 2) * Math.log2(Math.max(pool, 2));
  if (bits < 60) return { level: "weak", text: "Weak: add a few more words or characters." };
  if (bits < 80) return { level: "fair", text: "Fair: a longer passphrase would be safer." };
  return { level: "strong", text: "Strong." };
}
