"""Customers: create, read, update, soft-delete, bulk upsert by ``external_id``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.orm import Session

from ar_sandbox.access import Principal
from ar_sandbox.errors import ApiError
from ar_sandbox.models import Customer, utcnow
from ar_sandbox.schemas.common import Paging, UpsertCounts
from ar_sandbox.schemas.customers import (
    JSON_FIELDS,
    CustomerBulkRecord,
    CustomerCreate,
    CustomerFields,
    CustomerOut,
    CustomerPage,
    CustomerQuery,
)
from ar_sandbox.services.common import (
    get_scoped,
    in_scope,
    last_occurrences,
    like_pattern,
    new_row,
    paginate,
    settle,
)


def _columns(fields: CustomerFields, *, only_sent: bool) -> dict[str, Any]:
    sent = fields.model_fields_set if only_sent else set(type(fields).model_fields)
    values: dict[str, Any] = {}
    for name in sent:
        value = getattr(fields, name)
        if name in JSON_FIELDS:
            empty: Any = [] if name == "tags" else {}
            value = json.dumps(value if value is not None else empty, sort_keys=True)
        values[name] = value
    return values


def _live(principal: Principal) -> list[Any]:
    return [*in_scope(Customer, principal), Customer.deleted_at.is_(None)]


def get_customer(session: Session, principal: Principal, customer_id: str) -> Customer:
    return get_scoped(
        session, principal, Customer, customer_id, "Customer", Customer.deleted_at.is_(None)
    )


def _external_id_taken(
    session: Session, principal: Principal, external_id: str, other_than: str | None = None
) -> bool:
    query = select(Customer.id).where(
        *in_scope(Customer, principal), Customer.external_id == external_id
    )
    found = session.scalar(query)
    return found is not None and found != other_than


def create_customer(session: Session, principal: Principal, body: CustomerCreate) -> Customer:
    if body.external_id and _external_id_taken(session, principal, body.external_id):
        raise ApiError(409, f"A customer with external_id {body.external_id!r} already exists")
    now = utcnow()
    customer = Customer(
        **new_row(principal, **_columns(body, only_sent=False)), created_at=now, updated_at=now
    )
    session.add(customer)
    session.flush()
    return customer


def update_customer(
    session: Session, principal: Principal, customer_id: str, body: CustomerFields
) -> Customer:
    customer = get_customer(session, principal, customer_id)
    changes = _columns(body, only_sent=True)
    external_id = changes.get("external_id")
    if external_id and _external_id_taken(session, principal, external_id, customer.id):
        raise ApiError(409, f"A customer with external_id {external_id!r} already exists")
    for name, value in changes.items():
        setattr(customer, name, value)
    if not customer.email and not customer.phone:
        raise ApiError(
            422,
            "Validation failed: email or phone is required",
            [
                {
                    "index": None,
                    "field": "email",
                    "loc": "email",
                    "message": "email or phone is required",
                }
            ],
        )
    customer.updated_at = utcnow()
    session.flush()
    return customer


def delete_customer(session: Session, principal: Principal, customer_id: str) -> Customer:
    customer = get_customer(session, principal, customer_id)
    customer.deleted_at = customer.updated_at = utcnow()
    session.flush()
    return customer


def list_customers(
    session: Session, principal: Principal, wanted: CustomerQuery, paging: Paging
) -> CustomerPage:
    query = select(Customer).where(*_live(principal))
    if search := wanted.search:
        pattern = like_pattern(search.lower())
        columns = (
            Customer.first_name,
            Customer.last_name,
            Customer.company_name,
            Customer.email,
            Customer.phone,
            Customer.external_id,
        )
        query = query.where(or_(*(c.ilike(pattern, escape="\\") for c in columns)))
    tags = [t.strip() for t in (wanted.tags or "").split(",") if t.strip()]
    if tags:
        patterns = [like_pattern(json.dumps(tag)) for tag in tags]
        query = query.where(or_(*(Customer.tags.like(p, escape="\\") for p in patterns)))
    query = query.order_by(Customer.created_at.desc(), Customer.id)
    return paginate(session, query, paging, CustomerPage, CustomerOut.of)


def bulk_upsert(
    session: Session, principal: Principal, records: Sequence[CustomerBulkRecord]
) -> UpsertCounts:
    """Create or update by ``external_id``; a deleted customer sent again is restored."""
    counts = UpsertCounts(total=len(records))
    keep, duplicates = last_occurrences([r.external_id for r in records])
    counts.skipped = len(duplicates)
    wanted = [records[i].external_id for i in keep]
    query = select(Customer.external_id, Customer.id).where(
        *in_scope(Customer, principal), Customer.external_id.in_(wanted)
    )
    existing = dict(session.execute(query).all())
    now = utcnow()
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for index in keep:
        record = records[index]
        stored = existing.get(record.external_id)
        if stored is None:
            values = _columns(record, only_sent=False)
            inserts.append(new_row(principal, **values, created_at=now, updated_at=now))
        else:
            values = _columns(record, only_sent=True)
            updates.append({**values, "id": stored, "updated_at": now, "deleted_at": None})
    if inserts:
        session.execute(insert(Customer), inserts)
    for row in updates:  # rows differ in which fields were sent
        session.execute(update(Customer), [row])
    return settle(counts, len(inserts), len(updates))
