"""Stockroom: a multi-tenant inventory service whose stock levels come from an append-only ledger."""
