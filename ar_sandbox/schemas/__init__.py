"""Request and response schemas, apart from the storage models."""
