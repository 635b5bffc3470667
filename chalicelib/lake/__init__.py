"""The tenant's data in S3: key layout, and (later) Parquet I/O and encrypted results."""
