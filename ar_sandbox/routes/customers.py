from __future__ import annotations

from uuid import UUID

from ar_sandbox.access import CustomersRead, CustomersWrite
from ar_sandbox.routes._shared import CONFLICT_RESPONSES, router
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
    return caller.answer(
        "Customer created successfully",
        lambda s, p: CustomerOut.of(customers.create_customer(s, p, body)),
    )


reads = api.reads(CustomersRead, "Customer", "Customers")
reads.list_route(
    "/customers",
    "List customers with search, tags and paging",
    CustomerQuery,
    CustomerPage,
    customers.list_customers,
)


@api.post("/customers/bulk", summary="Bulk create or update up to 100 customers by external_id")
def bulk_upsert_customers(
    caller: CustomersWrite, body: CustomerBulkRequest
) -> Envelope[UpsertCounts]:
    return caller.answer(
        "Customers processed", lambda s, p: customers.bulk_upsert(s, p, body.customers)
    )


reads.get_route(
    "/customers/{customer_id}", "Fetch a customer by UUID", CustomerOut, customers.get_customer
)


@api.put("/customers/{customer_id}", summary="Update customer fields", responses=CONFLICT_RESPONSES)
def update_customer(
    caller: CustomersWrite, customer_id: UUID, body: CustomerUpdate
) -> Envelope[CustomerOut]:
    return caller.answer(
        "Customer updated successfully",
        lambda s, p: CustomerOut.of(customers.update_customer(s, p, str(customer_id), body)),
    )


@api.delete("/customers/{customer_id}", summary="Soft-delete a customer")
def delete_customer(caller: CustomersWrite, customer_id: UUID) -> Envelope[CustomerOut]:
    return caller.answer(
        "Customer deleted successfully",
        lambda s, p: CustomerOut.of(customers.delete_customer(s, p, str(customer_id))),
    )
