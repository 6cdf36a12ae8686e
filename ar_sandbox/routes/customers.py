from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Query
from sqlalchemy.orm import Session

from ar_sandbox.access import CustomersRead, CustomersWrite, DatabaseDep
from ar_sandbox.routes._shared import CONFLICT_RESPONSES, Page, QueryText, router
from ar_sandbox.schemas.common import Envelope, UpsertCounts
from ar_sandbox.schemas.customers import (
    CustomerBulkRequest,
    CustomerCreate,
    CustomerOut,
    CustomerPage,
    CustomerUpdate,
)
from ar_sandbox.services import customers

api = router("customers")


@api.post("/customers", summary="Create a single customer", responses=CONFLICT_RESPONSES)
def create_customer(
    database: DatabaseDep, principal: CustomersWrite, body: CustomerCreate
) -> Envelope[CustomerOut]:
    data = database.run(lambda s: CustomerOut.of(customers.create_customer(s, principal, body)))
    return Envelope(message="Customer created successfully", data=data)


@api.get("/customers", summary="List customers with search, tags and paging")
def list_customers(
    database: DatabaseDep,
    principal: CustomersRead,
    search: QueryText | None = None,
    tags: Annotated[
        QueryText | None, Query(description="Comma-separated; any tag matches.")
    ] = None,
    page: Page = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Envelope[CustomerPage]:
    def work(session: Session) -> CustomerPage:
        rows, info = customers.list_customers(
            session, principal, search=search, tags=tags, page=page, per_page=per_page
        )
        return CustomerPage(customers=[CustomerOut.of(r) for r in rows], **info.model_dump())

    return Envelope(message="Customers retrieved", data=database.run(work))


@api.post("/customers/bulk", summary="Bulk create or update up to 100 customers by external_id")
def bulk_upsert_customers(
    database: DatabaseDep, principal: CustomersWrite, body: CustomerBulkRequest
) -> Envelope[UpsertCounts]:
    counts = database.run(lambda s: customers.bulk_upsert(s, principal, body.customers))
    return Envelope(message="Customers processed", data=counts)


@api.get("/customers/{customer_id}", summary="Fetch a customer by UUID")
def get_customer(
    database: DatabaseDep, principal: CustomersRead, customer_id: UUID
) -> Envelope[CustomerOut]:
    data = database.run(
        lambda s: CustomerOut.of(customers.get_customer(s, principal, str(customer_id)))
    )
    return Envelope(message="Customer retrieved", data=data)


@api.put("/customers/{customer_id}", summary="Update customer fields", responses=CONFLICT_RESPONSES)
def update_customer(
    database: DatabaseDep, principal: CustomersWrite, customer_id: UUID, body: CustomerUpdate
) -> Envelope[CustomerOut]:
    data = database.run(
        lambda s: CustomerOut.of(customers.update_customer(s, principal, str(customer_id), body))
    )
    return Envelope(message="Customer updated successfully", data=data)


@api.delete("/customers/{customer_id}", summary="Soft-delete a customer")
def delete_customer(
    database: DatabaseDep, principal: CustomersWrite, customer_id: UUID
) -> Envelope[CustomerOut]:
    data = database.run(
        lambda s: CustomerOut.of(customers.delete_customer(s, principal, str(customer_id)))
    )
    return Envelope(message="Customer deleted successfully", data=data)
