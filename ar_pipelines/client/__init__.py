"""A typed, batched, concurrent client of the AR External API, safe under faults.

::

    from ar_pipelines.client import ARClient

    with ARClient(base_url=..., api_key=...) as ar:   # or AR_BASE_URL / AR_API_KEY
        ar.customers.bulk_upsert(records)              # any number; 100 per request
        ar.ledgers.bulk_upsert(entries)                # any number; 500 per request
        for statement in ar.statements.list(customer_external_id="PT-001"):
            ...
        ar.statements.enroll(statement_ids, campaign_id=...)

Depends on httpx and pydantic only.
"""

from ar_pipelines.client._client import ARClient
from ar_pipelines.client._retry import RetryPolicy
from ar_pipelines.client.errors import (
    ApiConnectionError,
    ApiError,
    ApiResponseError,
    ApiStatusError,
    ApiTimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ErrorDetail,
    InternalServerError,
    LiveKeyRequiredError,
    NotFoundError,
    PermissionDeniedError,
    PushIncompleteError,
    RateLimitError,
    RequestTimeoutError,
    UnprocessableEntityError,
)
from ar_pipelines.client.records import (
    CustomerRecord,
    DisputeRecord,
    InvoiceRecord,
    LedgerEntryRecord,
    PaymentRecord,
)
from ar_pipelines.client.reports import (
    EnrollmentReport,
    NotEnrolled,
    Progress,
    PushReport,
    RecordIssue,
)

__all__ = [
    "ARClient",
    "ApiConnectionError",
    "ApiError",
    "ApiResponseError",
    "ApiStatusError",
    "ApiTimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "CustomerRecord",
    "DisputeRecord",
    "EnrollmentReport",
    "ErrorDetail",
    "InternalServerError",
    "InvoiceRecord",
    "LedgerEntryRecord",
    "LiveKeyRequiredError",
    "NotEnrolled",
    "NotFoundError",
    "PaymentRecord",
    "PermissionDeniedError",
    "Progress",
    "PushIncompleteError",
    "PushReport",
    "RateLimitError",
    "RecordIssue",
    "RequestTimeoutError",
    "RetryPolicy",
    "UnprocessableEntityError",
]
