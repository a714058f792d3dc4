"""The Ledger application's commands, one module per area."""
