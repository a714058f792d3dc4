-- customer_list: one row per customer of every tenant, for listing.
CREATE TABLE customer_list (
    id          uuid PRIMARY KEY,
    tenant_id   uuid        NOT NULL,
    position    bigint      NOT NULL,  -- store position of the Created event: list order
    name        text        NOT NULL,
    email       text,
    country     text        NOT NULL,
    kind        text        NOT NULL,
    vat_id      text,
    created_at  timestamptz NOT NULL,
    version     integer     NOT NULL
);
CREATE INDEX customer_list_by_tenant ON customer_list (tenant_id, position DESC);
