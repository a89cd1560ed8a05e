"""`stockroom worker`: the background jobs (expiring reservations, the ledger's partitions)."""

from stockroom.worker.runner import maintain_ledger, run_once, run_worker

__all__ = ["maintain_ledger", "run_once", "run_worker"]
