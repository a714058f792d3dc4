"""Ledger: the domain and the application of an event-sourced invoicing ledger."""
