"""Analysis runs and their encrypted artifacts: ``runs`` (DynamoDB), ``artifacts`` (S3 + KMS), ``service`` (API).

Nothing is re-exported here so that importing ``chalicelib.results.runs`` costs no pandas import.
"""
