-- tax reports: what VAT/GST returns, EC sales lists and OSS returns need.
-- tax_documents: one row per document (invoice, credit note, voided invoice) and tax
--   group, in the tenant's currency; credit notes and voids are negative, dated when issued.
CREATE TABLE tax_documents (
    position        bigint   NOT NULL,
    seq             smallint NOT NULL,
    tenant_id       uuid     NOT NULL,
    document_id     uuid     NOT NULL,
    document_kind   text     NOT NULL,  -- invoice, credit_note, void
    number          text     NOT NULL,
    invoice_number  text,               -- the corrected invoice, for credit notes and voids
    issue_date      date     NOT NULL,
    customer_id     uuid     NOT NULL,
    buyer_name      text,
    buyer_tax_id    text,
    buyer_tax_id_valid boolean NOT NULL,
    buyer_country   text     NOT NULL,
    buyer_region    text,
    seller_country  text     NOT NULL,
    seller_region   text,
    tax_country     text,
    tax_category    text     NOT NULL,
    tax_rate        numeric  NOT NULL,
    taxable_amount  numeric  NOT NULL,
    tax_amount      numeric  NOT NULL,
    document_total  numeric  NOT NULL,
    gst             jsonb    NOT NULL DEFAULT '[]',
    PRIMARY KEY (position, seq)
);
CREATE INDEX tax_documents_by_date ON tax_documents (tenant_id, issue_date);

-- tax_daily: the same amounts summed per day and group, so a year's return reads a few
-- hundred rows however many invoices there were.
CREATE TABLE tax_daily (
    tenant_id       uuid     NOT NULL,
    day             date     NOT NULL,
    seller_country  text     NOT NULL,
    tax_country     text     NOT NULL,
    tax_category    text     NOT NULL,
    tax_rate        numeric  NOT NULL,
    taxable_amount  numeric  NOT NULL,
    tax_amount      numeric  NOT NULL,
    PRIMARY KEY (tenant_id, day, seller_country, tax_country, tax_category, tax_rate)
);
