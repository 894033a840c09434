"""The back-office app from before the lifespan migration, still deployed as `shop-admin`.

Its jobs are being moved to `shop.scheduler`; the public API (`shop.main`) does not import it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime, timedelta, timezone

import httpx
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from fastapi import FastAPI
from sqlalchemy import delete, func, select

from .config import HTTP_TIMEOUT, PRICING_API_URL
from .db import SessionLocal
from .emails import send_email
from .models import AuditEvent, Order, StockItem
from .worker import sync_inventory

logger = logging.getLogger(__name__)

LOW_STOCK_CHECK_INTERVAL = 60.0

app = FastAPI(title="Shop back office")

# EUR per unit of each currency we accept, refreshed hourly.
exchange_rates: dict[str, float] = {"EUR": 1.0}


def purge_old_audit_events() -> None:
    cutoff = datetime.now(timezone.utc) - timedelta(days=365)
    with SessionLocal() as db:
        db.execute(delete(AuditEvent).where(AuditEvent.created_at < cutoff))
        db.commit()


async def refresh_exchange_rates() -> None:
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as client:
        response = await client.get(f"{PRICING_API_URL}/exchange-rates")
        response.raise_for_status()
    exchange_rates.update(response.json()["rates"])


scheduler = BackgroundScheduler(timezone="UTC")
scheduler.add_job(purge_old_audit_events, "cron", hour=4, id="purge-audit")
scheduler.add_job(refresh_exchange_rates, "interval", hours=1, id="exchange-rates")
scheduler.start()


def _resync_low_stock() -> None:
    """Low stock may just be a stale count: ask the warehouse for the real numbers."""
    with SessionLocal() as db:
        skus = db.scalars(
            select(StockItem.sku).where(
                StockItem.on_hand - StockItem.reserved < StockItem.reorder_level
            )
        ).all()
    for sku in skus:
        sync_inventory.delay(sku)


async def watch_low_stock() -> None:
    while True:
        await asyncio.to_thread(_resync_low_stock)
        await asyncio.sleep(LOW_STOCK_CHECK_INTERVAL)


@app.on_event("startup")
async def start_stock_watcher() -> None:
    app.state.stock_watcher = asyncio.create_task(watch_low_stock())


def email_daily_summary() -> None:
    yesterday = date.today() - timedelta(days=1)
    with SessionLocal() as db:
        count, revenue = db.execute(
            select(func.count(Order.id), func.coalesce(func.sum(Order.total_cents), 0)).where(
                func.date(Order.created_at) == yesterday
            )
        ).one()
    send_email(
        "ops@example.com",
        f"Orders on {yesterday}",
        f"{count} orders, {revenue / 100:.2f} EUR",
    )


nightly = BlockingScheduler(timezone="UTC")
nightly.add_job(email_daily_summary, "cron", hour=6, id="daily-summary")


def run_nightly() -> None:
    """Entry point of the `shop-nightly` console script."""
    nightly.start()


@app.get("/exchange-rates")
def get_exchange_rates() -> dict[str, float]:
    return exchange_rates
