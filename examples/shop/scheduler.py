"""Periodic jobs, run by an AsyncIOScheduler that the app's lifespan starts and stops."""

from __future__ import annotations

import asyncio
import logging
from datetime import date, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from .db import SessionLocal
from .services import OrderService
from .worker import generate_sales_report

logger = logging.getLogger(__name__)


def _expire_unpaid_orders() -> int:
    with SessionLocal() as db:
        return OrderService(db).expire_unpaid(older_than=timedelta(hours=2))


async def expire_unpaid_orders() -> None:
    expired = await asyncio.to_thread(_expire_unpaid_orders)
    if expired:
        logger.info("cancelled %d unpaid orders", expired)


def queue_daily_sales_report() -> None:
    yesterday = date.today() - timedelta(days=1)
    generate_sales_report.delay(yesterday.isoformat(), yesterday.isoformat())


def create_scheduler() -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.add_job(
        expire_unpaid_orders, "interval", minutes=15, id="expire-unpaid", replace_existing=True
    )
    scheduler.add_job(
        queue_daily_sales_report, "cron", hour=2, id="daily-sales", replace_existing=True
    )
    return scheduler
