from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Query

from ar_sandbox.access import CustomersRead, CustomersWrite
from ar_sandbox.routes._shared import CONFLICT_RESPONSES, PagingQuery, router
from ar_sandbox.schemas.common import Envelope, UpsertCounts
from ar_sandbox.schemas.customers import (
    CustomerBulkRequest,
    CustomerCreate,
    CustomerOut,
    CustomerPage,
    CustomerQuery,
    CustomerUpdate,
)
from ar_sandbox.services import customers

api = router("customers")


@api.post("/customers", summary="Create a single customer", responses=CONFLICT_RESPONSES)
def create_customer(caller: CustomersWrite, body: CustomerCreate) -> Envelope[CustomerOut]:
    data = caller.run(lambda s, p: CustomerOut.of(customers.create_customer(s, p, body)))
    return Envelope(message="Customer created successfully", data=data)


@api.get("/customers", summary="List customers with search, tags and paging")
def list_customers(
    caller: CustomersRead, wanted: Annotated[CustomerQuery, Query()], paging: PagingQuery
) -> Envelope[CustomerPage]:
    data = caller.run(lambda s, p: customers.list_customers(s, p, wanted, paging))
    return Envelope(message="Customers retrieved", data=data)


@api.post("/customers/bulk", summary="Bulk create or update up to 100 customers by external_id")
def bulk_upsert_customers(
    caller: CustomersWrite, body: CustomerBulkRequest
) -> Envelope[UpsertCounts]:
    counts = caller.run(lambda s, p: customers.bulk_upsert(s, p, body.customers))
    return Envelope(message="Customers processed", data=counts)


@api.get("/customers/{customer_id}", summary="Fetch a customer by UUID")
def get_customer(caller: CustomersRead, customer_id: UUID) -> Envelope[CustomerOut]:
    data = caller.run(lambda s, p: CustomerOut.of(customers.get_customer(s, p, str(customer_id))))
    return Envelope(message="Customer retrieved", data=data)


@api.put("/customers/{customer_id}", summary="Update customer fields", responses=CONFLICT_RESPONSES)
def update_customer(
    caller: CustomersWrite, customer_id: UUID, body: CustomerUpdate
) -> Envelope[CustomerOut]:
    data = caller.run(
        lambda s, p: CustomerOut.of(customers.update_customer(s, p, str(customer_id), body))
    )
    return Envelope(message="Customer updated successfully", data=data)


@api.delete("/customers/{customer_id}", summary="Soft-delete a customer")
def delete_customer(caller: CustomersWrite, customer_id: UUID) -> Envelope[CustomerOut]:
    data = caller.run(
        lambda s, p: CustomerOut.of(customers.delete_customer(s, p, str(customer_id)))
    )
    return Envelope(message="Customer deleted successfully", data=data)
