"""Read models built from the event store: one module per projection, each owning its tables."""
