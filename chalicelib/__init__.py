"""SalesLens runtime code deployed with the API Lambda."""
