"""The webhook door: signed pushes from POS systems and shops, verified, deduplicated, adapted and buffered."""
