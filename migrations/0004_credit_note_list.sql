-- credit_note_list: one row per credit note, for listing.
CREATE TABLE credit_note_list (
    id           uuid PRIMARY KEY,
    tenant_id    uuid        NOT NULL,
    position     bigint      NOT NULL,
    invoice_id   uuid        NOT NULL,
    customer_id  uuid        NOT NULL,
    number       text        NOT NULL,
    invoice_number text      NOT NULL,
    status       text        NOT NULL,
    outcome      text        NOT NULL,
    reason       text        NOT NULL,
    currency     text        NOT NULL,
    issue_date   date        NOT NULL,
    subtotal     numeric     NOT NULL,
    tax_total    numeric     NOT NULL,
    total        numeric     NOT NULL,
    version      integer     NOT NULL
);
CREATE INDEX credit_note_list_by_tenant ON credit_note_list (tenant_id, position DESC);
CREATE INDEX credit_note_list_by_invoice ON credit_note_list (tenant_id, invoice_id);
