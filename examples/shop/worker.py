"""Celery worker: the work that must survive a restart and be retried.

Run with `celery -A shop.worker worker`.
"""

from __future__ import annotations

import csv
import logging
import uuid
from datetime import date
from pathlib import Path

import dramatiq
import httpx
from celery import Celery, Task
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import func, select

from .config import (
    CARRIER_API_URL,
    CELERY_BROKER_URL,
    CELERY_RESULT_BACKEND,
    HTTP_TIMEOUT,
    MEDIA_ROOT,
    PAYMENT_API_URL,
    PRICING_API_URL,
    REDIS_URL,
    WAREHOUSE_API_URL,
)
from .db import SessionLocal
from .emails import send_templated
from .models import Order, Payment, StockItem

logger = logging.getLogger(__name__)

celery_app = Celery("shop", broker=CELERY_BROKER_URL, backend=CELERY_RESULT_BACKEND)
celery_app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    task_track_started=True,
    result_expires=24 * 3600,
)

# SMS go through Dramatiq, which the notifications team already ran before Celery arrived.
dramatiq.set_broker(RedisBroker(url=REDIS_URL))


class PaymentDeclined(Exception):
    pass


@celery_app.task(
    bind=True,
    autoretry_for=(httpx.TransportError,),
    retry_backoff=True,
    max_retries=5,
)
def charge_payment_task(self: Task, order_id: int) -> str:
    """Charge an order once; the idempotency key makes a retried charge safe."""
    with SessionLocal() as db:
        order = db.get(Order, order_id)
        if order is None or order.status != "pending":
            return "skipped"
        payment = db.scalars(
            select(Payment).where(Payment.order_id == order_id, Payment.status == "pending")
        ).first()
        if payment is None:
            payment = Payment(
                order_id=order_id,
                amount_cents=order.total_cents,
                idempotency_key=str(uuid.uuid4()),
            )
            db.add(payment)
            db.commit()
        response = httpx.post(
            f"{PAYMENT_API_URL}/charges",
            json={"amount": payment.amount_cents, "currency": order.currency},
            headers={"Idempotency-Key": payment.idempotency_key},
            timeout=HTTP_TIMEOUT,
        )
        if response.status_code == 402:
            payment.status = "declined"
            db.commit()
            raise PaymentDeclined(f"order {order_id}")
        response.raise_for_status()
        payment.status = "captured"
        payment.provider_ref = response.json()["id"]
        order.status = "paid"
        db.commit()
    render_receipt_pdf.delay(order_id)
    return "captured"


@celery_app.task
def render_receipt_pdf(order_id: int) -> str:
    with SessionLocal() as db:
        order = db.get(Order, order_id)
        if order is None:
            return ""
        path = Path(MEDIA_ROOT) / "receipts" / f"{order.id}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            f"Order {order.id}\n{order.quantity} x {order.sku}\n"
            f"Total: {order.total_cents / 100:.2f} {order.currency}\n"
        )
        send_templated(order.user.email, "receipt", {"order_id": order.id})
    return str(path)


@celery_app.task
def generate_sales_report(start: str, end: str) -> str:
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    with SessionLocal() as db:
        rows = db.execute(
            select(Order.sku, func.sum(Order.quantity), func.sum(Order.total_cents))
            .where(func.date(Order.created_at).between(first, last))
            .group_by(Order.sku)
        ).all()
    path = Path(MEDIA_ROOT) / "reports" / f"sales-{first}-{last}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["sku", "quantity", "total_cents"])
        writer.writerows(rows)
    return str(path)


@celery_app.task
def export_inventory() -> str:
    with SessionLocal() as db:
        items = db.scalars(select(StockItem).order_by(StockItem.sku)).all()
        path = Path(MEDIA_ROOT) / "reports" / "inventory.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["sku", "on_hand", "reserved"])
            writer.writerows((item.sku, item.on_hand, item.reserved) for item in items)
    return str(path)


@celery_app.task(max_retries=3, default_retry_delay=30)
def sync_inventory(self: Task, sku: str) -> None:
    """Pull the warehouse's stock count for one SKU."""
    try:
        response = httpx.get(f"{WAREHOUSE_API_URL}/stock/{sku}", timeout=HTTP_TIMEOUT)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise self.retry(exc=exc) from exc
    with SessionLocal() as db:
        item = db.get(StockItem, sku) or StockItem(sku=sku)
        item.on_hand = int(response.json()["on_hand"])
        db.add(item)
        db.commit()


@celery_app.task(bind=True, max_retries=5, default_retry_delay=60)
def sync_prices(self: Task, sku: str) -> None:
    """Pull the current list price for one SKU from the pricing service."""
    try:
        response = httpx.get(f"{PRICING_API_URL}/prices/{sku}", timeout=HTTP_TIMEOUT)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise self.retry(exc=exc) from exc
    with SessionLocal() as db:
        item = db.get(StockItem, sku)
        if item is not None:
            item.price_cents = int(response.json()["price_cents"])
            db.commit()


@celery_app.task(bind=True, max_retries=10, default_retry_delay=300)
def fetch_tracking_updates(self: Task, order_id: int) -> None:
    """Mark the order delivered once the carrier says so; ask again later until then."""
    with SessionLocal() as db:
        order = db.get(Order, order_id)
        if order is None or order.tracking_number is None:
            return
        try:
            response = httpx.get(
                f"{CARRIER_API_URL}/tracking/{order.tracking_number}", timeout=HTTP_TIMEOUT
            )
            response.raise_for_status()
        except httpx.HTTPError as exc:
            self.retry(exc=exc)
        if response.json()["state"] == "delivered":
            order.status = "delivered"
            db.commit()


@dramatiq.actor(max_retries=5)
def send_sms(phone: str, text: str) -> None:
    response = httpx.post(
        "https://sms.example.com/v1/messages",
        json={"to": phone, "text": text},
        timeout=HTTP_TIMEOUT,
    )
    response.raise_for_status()
