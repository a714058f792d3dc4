-- api_requests: authenticated API requests per tenant and month. Requests are not events:
-- each process counts in memory and adds its counts here every few seconds and at shutdown.
CREATE TABLE api_requests (
    tenant_id  uuid    NOT NULL,
    month      date    NOT NULL,  -- the first day of the month (UTC)
    requests   bigint  NOT NULL,
    PRIMARY KEY (tenant_id, month)
);
