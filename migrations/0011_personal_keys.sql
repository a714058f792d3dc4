-- The keys that seal each customer's personal data in the event store (crypto-shredding).
-- Erasure sets `key` to NULL in the transaction that appends Customer.Erased; the row stays
-- as a tombstone, so a key is never made again for an erased customer.
CREATE TABLE personal_keys (
    subject_id  uuid        PRIMARY KEY,
    key         bytea,
    created_at  timestamptz NOT NULL DEFAULT now(),
    erased_at   timestamptz,
    CHECK ((key IS NULL) = (erased_at IS NOT NULL))
);
