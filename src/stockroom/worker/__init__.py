"""`stockroom worker`: the background jobs (today: expiring reservations)."""

from stockroom.worker.runner import run_once, run_worker

__all__ = ["run_once", "run_worker"]
