-- receivables: what customers owe, as dated movements.
-- statement_lines: every document and payment that changes a customer's balance
--   (+ the customer owes more, - less), dated by its business date.
CREATE TABLE statement_lines (
    position        bigint      NOT NULL,  -- store position of the event
    seq             smallint    NOT NULL,  -- rows of one event
    tenant_id       uuid        NOT NULL,
    customer_id     uuid        NOT NULL,
    currency        text        NOT NULL,
    effective_date  date        NOT NULL,
    kind            text        NOT NULL,  -- invoice, credit_note, payment, refund, void
    document_id     uuid        NOT NULL,
    number          text,
    amount          numeric     NOT NULL,
    PRIMARY KEY (position, seq)
);
CREATE INDEX statement_lines_by_customer
    ON statement_lines (tenant_id, customer_id, currency, effective_date, position);

-- open_items: movements of each invoice's open amount, for aging as of any date.
CREATE TABLE open_items (
    position        bigint      NOT NULL,
    seq             smallint    NOT NULL,
    tenant_id       uuid        NOT NULL,
    customer_id     uuid        NOT NULL,
    currency        text        NOT NULL,
    invoice_id      uuid        NOT NULL,
    due_date        date        NOT NULL,
    effective_date  date        NOT NULL,
    kind            text        NOT NULL,  -- invoice, payment, credit, customer_credit, void
    amount          numeric     NOT NULL,
    PRIMARY KEY (position, seq)
);
CREATE INDEX open_items_by_tenant ON open_items (tenant_id, effective_date);
