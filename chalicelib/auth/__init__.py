"""Identity: Cognito facade, JWT verification, roles and permissions."""
