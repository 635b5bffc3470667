"""Explore: interactive questions over a company's own sales (see docs/adr/0005)."""
