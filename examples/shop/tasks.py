"""Work the API hands to FastAPI's BackgroundTasks: runs after the response, in this process."""

from __future__ import annotations

import asyncio
import csv
import logging
import time
from datetime import datetime, timezone
from pathlib import Path

import httpx
from fastapi import Request
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from . import emails
from .config import (
    HTTP_TIMEOUT,
    MEDIA_ROOT,
    NEWSLETTER_API_URL,
    PAYMENT_API_URL,
    SUPPLIER_API_URL,
    WAREHOUSE_API_URL,
)
from .db import SessionLocal
from .models import AuditEvent, Job, Order, Payment, StockItem, User

logger = logging.getLogger(__name__)

# import id -> "pending" | "running" | "done" | "failed"
IMPORT_STATUS: dict[str, str] = {}


# --- accounts ---------------------------------------------------------------------------


def send_welcome(user: User) -> None:
    try:
        emails.send_email(
            user.email,
            "Welcome to the shop",
            f"Hi {user.name}, thanks for signing up. Your account number is {user.id}.",
        )
    except Exception:
        logger.exception("welcome email failed")


def send_verification_email(user_id: int) -> None:
    try:
        with SessionLocal() as db:
            user = db.get(User, user_id)
            if user is None or user.email_verified:
                return
            emails.send_email(
                user.email,
                "Confirm your email address",
                f"Hi {user.name}, open https://shop.example.com/verify/{user.id} to confirm.",
            )
    except Exception:
        logger.exception("verification email for user %s failed", user_id)


def record_security_event(user_id: int, action: str, client_ip: str | None) -> None:
    try:
        with SessionLocal() as db:
            db.add(
                AuditEvent(subject="user", subject_id=user_id, action=action, client_ip=client_ip)
            )
            db.commit()
    except Exception:
        logger.exception("could not record %s for user %s", action, user_id)


def _save_avatar(user_id: int, data: bytes) -> None:
    path = Path(MEDIA_ROOT) / "avatars" / f"{user_id}.img"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    with SessionLocal() as db:
        user = db.get(User, user_id)
        if user is not None:
            user.avatar_path = str(path)
            db.commit()


async def store_avatar(user_id: int, request: Request) -> None:
    try:
        data = await request.body()
        await asyncio.to_thread(_save_avatar, user_id, data)
    except Exception:
        logger.exception("avatar upload for user %s failed", user_id)


def import_users(import_id: str, rows: list[tuple[str, str]]) -> None:
    try:
        IMPORT_STATUS[import_id] = "running"
        with SessionLocal() as db:
            existing = set(db.scalars(select(User.email)))
            db.add_all(
                User(email=email, name=name) for email, name in rows if email not in existing
            )
            db.commit()
    except Exception:
        logger.exception("user import %s failed", import_id)
        IMPORT_STATUS[import_id] = "failed"
    else:
        IMPORT_STATUS[import_id] = "done"


def purge_user_data(user_id: int) -> None:
    try:
        with SessionLocal() as db:
            db.execute(delete(AuditEvent).where(AuditEvent.subject_id == user_id))
            user = db.get(User, user_id)
            if user is not None:
                user.email = f"deleted-{user_id}@invalid"
                user.name = ""
                user.avatar_path = None
            db.commit()
    except Exception:
        logger.exception("purging data of user %s failed", user_id)


def email_account_export(user_id: int) -> None:
    try:
        with SessionLocal() as db:
            user = db.get(User, user_id)
            if user is None:
                return
            lines = [f"{order.id},{order.sku},{order.total_cents}" for order in user.orders]
            emails.send_email(user.email, "Your data export", "\n".join(lines))
    except Exception:
        logger.exception("account export for user %s failed", user_id)


def sync_newsletter_subscription(email: str, subscribed: bool) -> None:
    response = httpx.put(
        f"{NEWSLETTER_API_URL}/members/{email}",
        json={"status": "subscribed" if subscribed else "unsubscribed"},
        timeout=HTTP_TIMEOUT,
    )
    response.raise_for_status()


# --- orders -----------------------------------------------------------------------------


def record_audit_event(db: Session, order_id: int, action: str, detail: str | None = None) -> None:
    try:
        db.add(AuditEvent(subject="order", subject_id=order_id, action=action, detail=detail))
        db.commit()
    except Exception:
        logger.exception("could not record %s for order %s", action, order_id)


def charge_payment(order_id: int) -> None:
    try:
        with SessionLocal() as db:
            order = db.get(Order, order_id)
            if order is None or order.status != "pending":
                return
            response = httpx.post(
                f"{PAYMENT_API_URL}/charges",
                json={"amount": order.total_cents, "currency": order.currency},
                timeout=HTTP_TIMEOUT,
            )
            response.raise_for_status()
            db.add(
                Payment(
                    order_id=order.id,
                    amount_cents=order.total_cents,
                    idempotency_key=f"order-{order.id}",
                    provider_ref=response.json()["id"],
                    status="captured",
                )
            )
            order.status = "paid"
            db.commit()
    except Exception:
        logger.exception("charging order %s failed", order_id)


def reorder_items(skus: list[str]) -> None:
    """Ask the supplier to restock any of these SKUs that fell below their reorder level."""
    try:
        with SessionLocal() as db:
            low = db.scalars(
                select(StockItem).where(
                    StockItem.sku.in_(skus),
                    StockItem.on_hand - StockItem.reserved < StockItem.reorder_level,
                )
            ).all()
            for item in low:
                httpx.post(
                    f"{SUPPLIER_API_URL}/restock-requests",
                    json={"sku": item.sku, "quantity": item.reorder_level * 2},
                    timeout=HTTP_TIMEOUT,
                ).raise_for_status()
    except Exception:
        logger.exception("restock request for %s failed", skus)


async def notify_shipped(order_id: int, email: str, tracking_number: str) -> None:
    try:
        emails.send_templated(
            email, "order-shipped", {"order_id": order_id, "tracking": tracking_number}
        )
    except Exception:
        logger.exception("shipping notification for order %s failed", order_id)


async def notify_delivered(order_id: int, email: str) -> None:
    try:
        await emails.send_templated_async(email, "order-delivered", {"order_id": order_id})
    except Exception:
        logger.exception("delivery notification for order %s failed", order_id)


def push_shipment_to_warehouse(order_id: int, sku: str, quantity: int) -> None:
    try:
        # The warehouse API is flaky in the mornings; keep trying for a few minutes.
        for attempt in range(1, 6):
            try:
                httpx.post(
                    f"{WAREHOUSE_API_URL}/shipments",
                    json={"order_id": order_id, "sku": sku, "quantity": quantity},
                    timeout=HTTP_TIMEOUT,
                ).raise_for_status()
                return
            except httpx.HTTPError:
                logger.warning("warehouse push for order %s failed (attempt %d)", order_id, attempt)
                time.sleep(30 * attempt)
        logger.error("giving up on pushing order %s to the warehouse", order_id)
    except Exception:
        logger.exception("warehouse push for order %s failed", order_id)


def award_loyalty_points(user_id: int, total_cents: int) -> None:
    try:
        db = SessionLocal()
        user = db.get(User, user_id)
        if user is not None:
            user.loyalty_points += total_cents // 100
            db.commit()
        db.close()
    except Exception:
        logger.exception("loyalty points for user %s failed", user_id)


# --- exports ----------------------------------------------------------------------------


def build_orders_export(job_id: str) -> None:
    try:
        with SessionLocal() as db:
            job = db.get(Job, job_id)
            if job is None:
                return
            job.status = "running"
            db.commit()
            try:
                orders = db.scalars(select(Order).order_by(Order.id)).all()
                path = Path(MEDIA_ROOT) / "exports" / f"orders-{job_id}.csv"
                path.parent.mkdir(parents=True, exist_ok=True)
                with path.open("w", newline="") as handle:
                    writer = csv.writer(handle)
                    writer.writerow(["id", "user_id", "sku", "quantity", "total_cents", "status"])
                    writer.writerows(
                        (o.id, o.user_id, o.sku, o.quantity, o.total_cents, o.status)
                        for o in orders
                    )
            except Exception as exc:
                job.status, job.error = "failed", str(exc)
                raise
            else:
                job.status, job.result_path = "done", str(path)
            finally:
                job.updated_at = datetime.now(timezone.utc)
                db.commit()
    except Exception:
        logger.exception("orders export %s failed", job_id)
