"""Tenants, members, invitations and the per-tenant audit log (DynamoDB)."""
