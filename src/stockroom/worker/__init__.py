"""`stockroom worker`: the background jobs (expiring reservations, numbering events)."""

from stockroom.worker.jobs import JOBS, Job
from stockroom.worker.runner import run_once, run_round, run_worker

__all__ = ["JOBS", "Job", "run_once", "run_round", "run_worker"]
