"""Business operations on a session: no HTTP here, one call per request."""
