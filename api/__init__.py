"""The HTTP API and the `ledger` command line."""
