"""Campaign enrollment: the rules of 003 and 004 in one place.

One active execution (pending, running, waiting) per invoice; campaigns accept new
enrollments only while active, running or paused; payment-reminder campaigns refuse
past-due invoices; statements go only into statement-acknowledgement campaigns,
and test keys never enroll (campaigns send real communications).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ar_sandbox.access import Principal
from ar_sandbox.errors import ApiError, bad_request
from ar_sandbox.models import Campaign, CampaignExecution, Customer, Invoice, utcnow
from ar_sandbox.schemas.common import Paging
from ar_sandbox.schemas.statements import (
    AccountAssignmentResult,
    AccountAssignRequest,
    AccountBulkAssignment,
    AccountBulkAssignRequest,
    CampaignOut,
    CampaignPage,
    CampaignQuery,
    EnrollmentResult,
    SkippedStatement,
    StatementBulkEnrollRequest,
    StatementEnrollment,
)
from ar_sandbox.services.accounts import today
from ar_sandbox.services.common import (
    file_against,
    get_scoped,
    in_scope,
    like_pattern,
    paginate,
)
from ar_sandbox.services.statements import get_statement

SA_CATEGORY = "statement_acknowledgement"
ACTIVE_EXECUTION = ("pending", "running", "waiting")
EXECUTION_ORDER = ("pending", "running", "waiting", "completed")
ACCEPTING_STATUSES = ("active", "running", "paused")

ACTIVE_EXECUTION_MESSAGE = (
    "Invoice has an active execution in another campaign. "
    "Please wait for the current campaign to complete before reassigning."
)
NOT_FOUND_MESSAGE = "Invoice or Customer not found or access denied"
WRONG_CUSTOMER_MESSAGE = "Invoice does not belong to this customer"
PAST_DUE_MESSAGE = (
    "Invoice is past its due date and cannot be enrolled in a payment reminder campaign. "
    "Please use an early stage or first party campaign instead."
)
TEST_KEY_MESSAGE = (
    "Sandbox keys (sk_test_) cannot enroll into campaigns: campaigns send real communications"
)


class EnrollmentRefusedError(Exception):
    """One invoice could not be enrolled; the message is the API's."""


@dataclass(frozen=True)
class Attempt:
    """One invoice of a batch enrollment: not found (no ``invoice``), refused, or enrolled
    (the ``execution`` it started)."""

    invoice_id: str
    invoice: Invoice | None = None
    execution: CampaignExecution | None = None
    refusal: str = ""


def refuse_test_keys(principal: Principal) -> None:
    if principal.is_test:
        raise bad_request(TEST_KEY_MESSAGE)


def accepts_enrollments(campaign: Campaign) -> bool:
    return campaign.status in ACCEPTING_STATUSES


def get_campaign(session: Session, principal: Principal, campaign_id: str) -> Campaign:
    return get_scoped(session, principal, Campaign, campaign_id, "Campaign")


def campaign_out(campaign: Campaign) -> CampaignOut:
    return CampaignOut.read(campaign, accepts_enrollments=accepts_enrollments(campaign))


def list_campaigns(
    session: Session, principal: Principal, wanted: CampaignQuery, paging: Paging
) -> CampaignPage:
    query = select(Campaign).where(*in_scope(Campaign, principal))
    if wanted.search:
        pattern = like_pattern(wanted.search)
        query = query.where(
            or_(
                Campaign.name.ilike(pattern, escape="\\"),
                Campaign.description.ilike(pattern, escape="\\"),
            )
        )
    if wanted.status is not None:
        query = query.where(Campaign.status == wanted.status)
    if wanted.type is not None:
        query = query.where(Campaign.type == wanted.type)
    query = query.order_by(Campaign.name, Campaign.id)
    return paginate(session, query, paging, CampaignPage, campaign_out)


def open_campaign(
    session: Session, principal: Principal, campaign_id: str, *, sa: bool
) -> Campaign:
    """The target campaign, checked for category (when ``sa``) and for accepting enrollments."""
    campaign = get_campaign(session, principal, campaign_id)
    if sa and campaign.category != SA_CATEGORY:
        raise bad_request(
            f"Campaign category must be {SA_CATEGORY!r} to enroll statements "
            f"(this campaign is {campaign.category!r})"
        )
    if not accepts_enrollments(campaign):
        raise bad_request(f"Campaign does not accept new enrollments (status: {campaign.status})")
    return campaign


def lock_invoices(session: Session, principal: Principal, ids: Sequence[str]) -> dict[str, Invoice]:
    query = (
        select(Invoice)
        .where(*in_scope(Invoice, principal), Invoice.id.in_(sorted(set(ids))))
        .order_by(Invoice.id)
        .with_for_update()
    )
    return {invoice.id: invoice for invoice in session.scalars(query)}


def enroll(
    session: Session, principal: Principal, invoice: Invoice, campaign: Campaign
) -> CampaignExecution:
    """Enroll one invoice (already locked): the execution it starts, or
    ``EnrollmentRefusedError``."""
    customer = session.scalar(
        select(Customer).where(Customer.id == invoice.customer_id, Customer.deleted_at.is_(None))
    )
    if customer is None:
        raise EnrollmentRefusedError(
            "Statement has no customer"
            if invoice.billing_type == "statement"
            else NOT_FOUND_MESSAGE
        )
    if invoice.billing_type == "statement" and campaign.category != SA_CATEGORY:
        raise EnrollmentRefusedError(
            "Statements can only be enrolled into statement_acknowledgement campaigns"
        )
    if invoice.billing_type != "statement" and campaign.category == SA_CATEGORY:
        raise EnrollmentRefusedError(
            "Only statements can be enrolled into statement_acknowledgement campaigns"
        )
    active = session.scalar(
        select(CampaignExecution.id).where(
            CampaignExecution.invoice_id == invoice.id,
            CampaignExecution.status.in_(ACTIVE_EXECUTION),
        )
    )
    if active is not None:
        raise EnrollmentRefusedError(ACTIVE_EXECUTION_MESSAGE)
    if campaign.type == "payment_reminder" and invoice.due_date < today():
        raise EnrollmentRefusedError(PAST_DUE_MESSAGE)
    return _start(session, principal, invoice, campaign)


def enroll_alone(
    session: Session,
    principal: Principal,
    invoice: Invoice,
    campaign_id: str,
    *,
    sa: bool,
    customer_id: str | None = None,
) -> StatementEnrollment:
    """Enroll one invoice (already locked) on its own, checked against the customer the
    caller named, if any; a refusal is the request's 400."""
    campaign = open_campaign(session, principal, campaign_id, sa=sa)
    try:
        check_customer(invoice, customer_id)
        execution = enroll(session, principal, invoice, campaign)
    except EnrollmentRefusedError as refused:
        raise bad_request(str(refused)) from refused
    return StatementEnrollment.of_one(execution)


def assign_account(
    session: Session, principal: Principal, account_id: str, body: AccountAssignRequest
) -> StatementEnrollment:
    """Assign one account to a campaign (003), checked against the customer named, if any."""
    refuse_test_keys(principal)
    invoice = lock_invoices(session, principal, [account_id]).get(account_id)
    if invoice is None:
        raise ApiError(404, NOT_FOUND_MESSAGE)
    customer_id = str(body.customer_id) if body.customer_id else None
    campaign_id = str(body.campaign_id)
    return enroll_alone(session, principal, invoice, campaign_id, sa=False, customer_id=customer_id)


def assign_accounts(
    session: Session, principal: Principal, body: AccountBulkAssignRequest
) -> AccountBulkAssignment:
    """Assign a batch of accounts to one campaign (003): each account succeeds or fails
    on its own."""
    refuse_test_keys(principal)
    wanted = [str(i) for i in body.account_ids]
    campaign, attempts = _enroll_batch(session, principal, str(body.campaign_id), wanted, sa=False)
    results = [_assignment(attempt) for attempt in attempts]
    succeeded = sum(r.status == "SUCCESS" for r in results)
    return AccountBulkAssignment(
        campaign_id=campaign.id,
        total_enrollments=len(results),
        successful_enrollments=succeeded,
        failed_enrollments=len(results) - succeeded,
        results=results,
    )


def _assignment(attempt: Attempt) -> AccountAssignmentResult:
    """How the bulk assignment reports one of its accounts."""
    if attempt.invoice is None:
        return AccountAssignmentResult(
            invoice_id=attempt.invoice_id, status="FAILED", error=NOT_FOUND_MESSAGE
        )
    number = attempt.invoice.invoice_number
    if attempt.execution is None:
        return AccountAssignmentResult(
            invoice_id=attempt.invoice_id,
            invoice_number=number,
            status="FAILED",
            error=attempt.refusal,
        )
    return AccountAssignmentResult(
        invoice_id=attempt.invoice_id,
        invoice_number=number,
        status="SUCCESS",
        execution_id=attempt.execution.id,
    )


def enroll_statement(
    session: Session, principal: Principal, statement_id: str, campaign_id: str
) -> StatementEnrollment:
    """Enroll one statement into a statement-acknowledgement campaign (004)."""
    refuse_test_keys(principal)
    found = get_statement(session, principal, statement_id)
    statement = lock_invoices(session, principal, [found.id])[found.id]
    return enroll_alone(session, principal, statement, campaign_id, sa=True)


def enroll_statements(
    session: Session, principal: Principal, body: StatementBulkEnrollRequest
) -> StatementEnrollment:
    """Enroll a batch of statements into one statement-acknowledgement campaign (004):
    the ones that cannot be enrolled are skipped, each with its reason."""
    refuse_test_keys(principal)
    wanted = list(dict.fromkeys(str(i) for i in body.statement_ids))
    campaign, attempts = _enroll_batch(session, principal, str(body.campaign_id), wanted, sa=True)
    results: list[EnrollmentResult] = []
    skipped: list[SkippedStatement] = []
    for attempt in attempts:
        if attempt.execution is not None:
            results.append(EnrollmentResult.of(attempt.execution))
        else:
            error = "Statement not found" if attempt.invoice is None else attempt.refusal
            skipped.append(SkippedStatement(statement_id=attempt.invoice_id, error=error))
    return StatementEnrollment(
        campaign_id=campaign.id,
        enrolled_count=len(results),
        skipped_count=len(skipped),
        results=results,
        skipped_errors=skipped or None,
    )


def _enroll_batch(
    session: Session, principal: Principal, campaign_id: str, wanted: Sequence[str], *, sa: bool
) -> tuple[Campaign, list[Attempt]]:
    """Open the campaign, lock the ``wanted`` invoices and try each in order (see
    ``enroll_each``). A batch for a statement-acknowledgement campaign takes statements
    only, and is refused when it names none."""
    campaign = open_campaign(session, principal, campaign_id, sa=sa)
    found = lock_invoices(session, principal, wanted)
    if sa:
        found = {i: s for i, s in found.items() if s.billing_type == "statement"}
        if not found:
            raise bad_request("No valid statements in batch")
    return campaign, enroll_each(session, principal, campaign, wanted, found)


def enroll_each(
    session: Session,
    principal: Principal,
    campaign: Campaign,
    wanted: Sequence[str],
    found: Mapping[str, Invoice],
) -> list[Attempt]:
    """Try each invoice of ``wanted`` that was ``found`` (and locked), in order: a refusal
    stops only its own invoice."""
    attempts: list[Attempt] = []
    for invoice_id in wanted:
        invoice = found.get(invoice_id)
        if invoice is None:
            attempts.append(Attempt(invoice_id))
            continue
        try:
            execution = enroll(session, principal, invoice, campaign)
        except EnrollmentRefusedError as refused:
            attempts.append(Attempt(invoice_id, invoice, refusal=str(refused)))
        else:
            attempts.append(Attempt(invoice_id, invoice, execution=execution))
    return attempts


def _start(
    session: Session, principal: Principal, invoice: Invoice, campaign: Campaign
) -> CampaignExecution:
    execution = file_against(
        session, principal, invoice, CampaignExecution, campaign_id=campaign.id, status="pending"
    )
    invoice.status = "in_progress"
    invoice.enrollment_status = "enrolled"
    invoice.campaign_id = campaign.id
    session.flush()
    return execution


def check_customer(invoice: Invoice, customer_id: str | None) -> None:
    if customer_id is not None and invoice.customer_id != customer_id:
        raise EnrollmentRefusedError(WRONG_CUSTOMER_MESSAGE)


def advance_execution(
    session: Session, principal: Principal, execution_id: str, to: str | None
) -> tuple[CampaignExecution, Invoice, CampaignExecution | None]:
    """Move an execution forward (sandbox only); on completion, chain or hand back."""
    execution = get_scoped(
        session, principal, CampaignExecution, execution_id, "Execution", lock=True
    )
    if execution.status not in ACTIVE_EXECUTION:
        raise bad_request(f"Execution is already {execution.status}")
    position = EXECUTION_ORDER.index(execution.status)
    target = to or EXECUTION_ORDER[position + 1]
    if target not in EXECUTION_ORDER or EXECUTION_ORDER.index(target) <= position:
        raise ApiError(422, f"Cannot advance an execution from {execution.status} to {target}")
    now = utcnow()
    execution.status, execution.updated_at = target, now
    invoice = lock_invoices(session, principal, [execution.invoice_id])[execution.invoice_id]
    follow_up = None
    if target == "completed":
        campaign = get_campaign(session, principal, execution.campaign_id)
        invoice.status, invoice.updated_at = "pending_collection", now
        if campaign.next_campaign_id:
            following = get_campaign(session, principal, campaign.next_campaign_id)
            if accepts_enrollments(following):
                try:
                    follow_up = enroll(session, principal, invoice, following)
                except EnrollmentRefusedError:
                    follow_up = None
    session.flush()
    return execution, invoice, follow_up


def list_executions(
    session: Session, principal: Principal, invoice_id: str | None
) -> Sequence[CampaignExecution]:
    query = select(CampaignExecution).where(*in_scope(CampaignExecution, principal))
    if invoice_id is not None:
        query = query.where(CampaignExecution.invoice_id == invoice_id)
    return session.scalars(query.order_by(CampaignExecution.created_at, CampaignExecution.id)).all()
