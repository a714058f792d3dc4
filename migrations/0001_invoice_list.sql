-- invoice_list: one row per invoice of every tenant, for listing and filtering.
CREATE TABLE invoice_list (
    id            uuid PRIMARY KEY,
    tenant_id     uuid        NOT NULL,
    position      bigint      NOT NULL,  -- store position of the Drafted event: list order
    customer_id   uuid        NOT NULL,
    number        text,
    status        text        NOT NULL,
    currency      text        NOT NULL,
    issue_date    date,
    due_date      date,
    subtotal      numeric     NOT NULL,
    tax_total     numeric     NOT NULL,
    total         numeric     NOT NULL,
    amount_paid   numeric     NOT NULL,
    amount_due    numeric     NOT NULL,
    created_at    timestamptz NOT NULL,
    finalized_at  timestamptz,
    version       integer     NOT NULL
);
CREATE INDEX invoice_list_by_tenant ON invoice_list (tenant_id, position DESC);
CREATE INDEX invoice_list_by_status ON invoice_list (tenant_id, status, position DESC);
CREATE INDEX invoice_list_by_customer ON invoice_list (tenant_id, customer_id, position DESC);
CREATE INDEX invoice_list_by_issue_date ON invoice_list (tenant_id, issue_date);
CREATE INDEX invoice_list_by_number ON invoice_list (tenant_id, number text_pattern_ops);
