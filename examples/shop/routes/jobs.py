"""Reports and exports: start a job, then poll its status."""

from __future__ import annotations

import uuid

from celery.result import AsyncResult
from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, status
from sqlalchemy.orm import Session

from ..db import get_db
from ..models import Job
from ..schemas import JobOut, ReportRequest, TaskStatus
from ..tasks import build_orders_export
from ..worker import celery_app, export_inventory, generate_sales_report

router = APIRouter(tags=["jobs"])


@router.post("/reports/sales")
def start_sales_report(payload: ReportRequest) -> dict[str, str]:
    task = generate_sales_report.delay(payload.start.isoformat(), payload.end.isoformat())
    return {"task_id": task.id}


@router.post("/reports/inventory", status_code=status.HTTP_202_ACCEPTED)
def start_inventory_export() -> dict[str, str]:
    task = export_inventory.delay()
    return {"task_id": task.id}


@router.get("/jobs/{task_id}", response_model=TaskStatus)
def get_task_status(task_id: str) -> TaskStatus:
    result = AsyncResult(task_id, app=celery_app)
    return TaskStatus(
        task_id=task_id,
        state=result.state,
        result=str(result.result) if result.ready() else None,
    )


@router.post("/exports/orders", response_model=JobOut, status_code=status.HTTP_202_ACCEPTED)
def start_orders_export(background_tasks: BackgroundTasks, db: Session = Depends(get_db)) -> Job:
    job = Job(id=str(uuid.uuid4()), kind="orders-export")
    db.add(job)
    db.commit()
    background_tasks.add_task(build_orders_export, job.id)
    return job


@router.get("/exports/{job_id}", response_model=JobOut)
def get_export(job_id: str, db: Session = Depends(get_db)) -> Job:
    job = db.get(Job, job_id)
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "unknown export")
    return job
