-- Tamper evidence: every stored event's link in its tenant's hash chain, written by the
-- application in the transaction that appends the event (projections/event_chain.py).
-- hash = SHA-256(previous hash of the tenant || position || aggregate id || version ||
-- topic || state); prev_position names the tenant's previous event, so a deleted event
-- shows as a gap even when its own link was deleted with it.
CREATE TABLE IF NOT EXISTS event_chain (
    position           bigint PRIMARY KEY,
    tenant_id          uuid   NOT NULL,  -- the nil UUID for events of no tenant (sign-ups)
    originator_id      uuid   NOT NULL,
    originator_version bigint NOT NULL,
    prev_position      bigint,           -- NULL for a tenant's first event
    hash               bytea  NOT NULL
);

-- The tenant's feed and a tenant's verification read the chain in store order.
CREATE INDEX IF NOT EXISTS event_chain_by_tenant ON event_chain (tenant_id, position);
-- The tenant of a later event is the tenant of its aggregate's first event.
CREATE INDEX IF NOT EXISTS event_chain_by_originator ON event_chain (originator_id);

-- The last link of each tenant's chain: what the next event links to, what a checkpoint
-- signs, and what reveals a deleted tail.
CREATE TABLE IF NOT EXISTS event_chain_heads (
    tenant_id uuid   PRIMARY KEY,
    position  bigint NOT NULL,
    hash      bytea  NOT NULL
);
