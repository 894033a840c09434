"""Reports API.

Run with `uvicorn shop_no_status.main:app`; the worker with `celery -A shop_no_status.main worker`.
"""

from __future__ import annotations

import os

from celery import Celery
from fastapi import FastAPI, status
from pydantic import BaseModel

celery_app = Celery(
    "reports",
    broker=os.environ.get("REPORTS_BROKER_URL", "redis://localhost:6379/1"),
    backend=os.environ.get("REPORTS_RESULT_BACKEND", "redis://localhost:6379/1"),
)

app = FastAPI(title="Reports")


class ReportRequest(BaseModel):
    kind: str
    month: str


@celery_app.task
def build_report(kind: str, month: str) -> str:
    # Rendering is elided; the worker writes the file and returns where it put it.
    return f"reports/{kind}-{month}.pdf"


@app.post("/reports", status_code=status.HTTP_202_ACCEPTED)
def start_report(payload: ReportRequest) -> dict[str, str]:
    task = build_report.delay(payload.kind, payload.month)
    return {"task_id": task.id}
