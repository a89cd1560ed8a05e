"""`stockroom worker`: the background jobs (expiring reservations, numbering events, the
ledger's partitions)."""

from stockroom.worker.jobs import JOBS, Job
from stockroom.worker.runner import maintain_ledger, run_once, run_round, run_worker

__all__ = ["JOBS", "Job", "maintain_ledger", "run_once", "run_round", "run_worker"]
