"""One Chalice blueprint per resource: parse the request, call a service, return."""
