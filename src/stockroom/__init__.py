"""Stockroom: multi-tenant inventory whose stock levels come from an append-only ledger."""
