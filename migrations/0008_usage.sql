-- usage_counters: per subscription, metric and period, the usage recorded so far, kept in
-- every aggregation a plan can bill (sum, count, max, unique), so the report needs no plan.
CREATE TABLE usage_counters (
    meter_id         uuid        NOT NULL,
    metric           text        NOT NULL,
    tenant_id        uuid        NOT NULL,
    subscription_id  uuid        NOT NULL,
    period_start     date        NOT NULL,
    total            numeric     NOT NULL,
    events           bigint      NOT NULL,
    maximum          numeric     NOT NULL,
    distinct_values  bigint      NOT NULL,
    PRIMARY KEY (meter_id, metric)
);
CREATE INDEX usage_counters_by_tenant ON usage_counters (tenant_id, period_start);

-- documents_issued: one row per numbered document, to count a tenant's documents per month.
CREATE TABLE documents_issued (
    document_id  uuid PRIMARY KEY,
    tenant_id    uuid NOT NULL,
    kind         text NOT NULL,
    issue_date   date NOT NULL
);
CREATE INDEX documents_issued_by_tenant ON documents_issued (tenant_id, issue_date);
