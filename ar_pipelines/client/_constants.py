"""Defaults of the AR client: limits, timeouts, retries and batch sizes in one place."""

from __future__ import annotations

import httpx

API_PREFIX = "/api/v1/external"
BASE_URL_ENV = "AR_BASE_URL"
API_KEY_ENV = "AR_API_KEY"
USER_AGENT = "ar-pipelines-client/0.1"

# Every call has a timeout: connecting should be quick; a 500-entry push re-aggregates
# its customers inside the request, so reading gets longer.
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=5.0)
DEFAULT_CONCURRENCY = 4

DEFAULT_MAX_RETRIES = 6
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 8.0
MAX_RETRY_AFTER_SECONDS = 60.0
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# Answers that say the server did not act on the request: safe to resend even when
# the request is not idempotent.
NOT_PROCESSED_STATUSES = frozenset({429, 503})

# The server's batch limits (docs/contract.md#bulk-upserts-and-partial-success).
MAX_LEDGER_ENTRIES_PER_REQUEST = 500
MAX_CUSTOMERS_PER_REQUEST = 100
MAX_INVOICES_PER_REQUEST = 100
MAX_ENROLLMENTS_PER_REQUEST = 100

# The largest page each list endpoint serves.
MAX_PER_PAGE = {
    "ledgers": 200,
    "statements": 100,
    "customers": 100,
    "accounts": 100,
    "campaigns": 100,
    "payments": 100,
    "disputes": 100,
}

LIVE_KEY_PREFIX = "sk_live_"
TEST_KEY_PREFIX = "sk_test_"
