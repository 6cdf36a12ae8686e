"""One namespace per API resource, as ``ARClient`` attributes (``ar.ledgers`` ...)."""
