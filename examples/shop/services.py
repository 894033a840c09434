"""Order operations shared by the API and the scheduler, plus small BackgroundTasks helpers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any, ParamSpec

from fastapi import BackgroundTasks
from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Order, StockItem

P = ParamSpec("P")


class OrderNotFound(LookupError):
    pass


class OrderRejected(ValueError):
    pass


class OrderService:
    """Order state changes; the caller owns the session and its transaction."""

    def __init__(self, db: Session) -> None:
        self.db = db

    def get(self, order_id: int) -> Order:
        order = self.db.get(Order, order_id)
        if order is None:
            raise OrderNotFound(order_id)
        return order

    def place(self, user_id: int, sku: str, quantity: int) -> Order:
        item = self.db.get(StockItem, sku)
        if item is None or item.on_hand - item.reserved < quantity:
            raise OrderRejected(f"{sku} is out of stock")
        item.reserved += quantity
        order = Order(
            user_id=user_id, sku=sku, quantity=quantity, total_cents=item.price_cents * quantity
        )
        self.db.add(order)
        self.db.commit()
        return order

    def cancel(self, order_id: int) -> Order:
        order = self.get(order_id)
        if order.status not in ("pending", "paid"):
            raise OrderRejected(f"cannot cancel a {order.status} order")
        order.status = "cancelled"
        self.db.commit()
        return order

    def release_stock(self, order_id: int) -> None:
        order = self.get(order_id)
        item = self.db.get(StockItem, order.sku)
        if item is not None:
            item.reserved = max(0, item.reserved - order.quantity)
            self.db.commit()

    def expire_unpaid(self, older_than: timedelta) -> int:
        cutoff = datetime.now(timezone.utc) - older_than
        stale = self.db.scalars(
            select(Order).where(Order.status == "pending", Order.created_at < cutoff)
        ).all()
        for order in stale:
            order.status = "cancelled"
            self.release_stock(order.id)
        self.db.commit()
        return len(stale)


def run_later(
    background_tasks: BackgroundTasks, func: Callable[P, Any], *args: P.args, **kwargs: P.kwargs
) -> None:
    """Schedule `func` after the response (one place to add tracing later)."""
    background_tasks.add_task(func, *args, **kwargs)
