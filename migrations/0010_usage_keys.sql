-- usage_keys: every idempotency key of recorded usage, per subscription, claimed by the
-- event store in the transaction that appends the `UsageBatch.Recorded` event holding it
-- (projections/usage_keys.py). The primary key is what makes a key count once, ever.
CREATE TABLE usage_keys (
    subscription_id  uuid    NOT NULL,
    key              text    COLLATE "C" NOT NULL,  -- compared bytewise: cheaper to index
    position         bigint  NOT NULL,  -- the event that recorded it
    PRIMARY KEY (subscription_id, key)
);

-- Keys claimed before, as `UsageKey` aggregates (one event each), are claimed here too.
DO $$
BEGIN
    IF to_regclass('ledger_events') IS NOT NULL THEN
        INSERT INTO usage_keys (subscription_id, key, position)
        SELECT (state -> 'subscription_id' ->> '_data_')::uuid, state ->> 'key', notification_id
        FROM (
            SELECT convert_from(state, 'UTF8')::jsonb AS state, notification_id
            FROM ledger_events
            WHERE topic = 'ledger.domain.usage:UsageKey.Claimed'
        ) AS claimed
        ON CONFLICT DO NOTHING;
    END IF;
END
$$;
