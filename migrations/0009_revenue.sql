-- revenue_changes: every change of a subscription's monthly recurring revenue, exact (not
-- rounded), with its kind (new, expansion, contraction, churned). MRR on a day is the sum of
-- the deltas up to it; the report sums them per month and currency.
CREATE TABLE revenue_changes (
    subscription_id  uuid     NOT NULL,
    step             integer  NOT NULL,
    tenant_id        uuid     NOT NULL,
    currency         text     NOT NULL,
    effective_date   date     NOT NULL,
    kind             text     NOT NULL,
    delta            numeric  NOT NULL,
    mrr              numeric  NOT NULL,
    paying           integer  NOT NULL,
    PRIMARY KEY (subscription_id, step)
);
CREATE INDEX revenue_changes_by_tenant ON revenue_changes (tenant_id, effective_date);
