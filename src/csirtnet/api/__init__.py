"""The JSON API root: router, token authentication, OpenAPI metadata."""
