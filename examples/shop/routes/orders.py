"""Checkout, order lifecycle and shipping."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import get_db
from ..emails import send_email
from ..models import Order, User
from ..schemas import OrderCreate, OrderNote, OrderOut, OrderStatusUpdate, Shipment
from ..services import OrderNotFound, OrderRejected, OrderService, run_later
from ..tasks import (
    award_loyalty_points,
    charge_payment,
    notify_delivered,
    notify_shipped,
    push_shipment_to_warehouse,
    record_audit_event,
    reorder_items,
)
from ..worker import charge_payment_task, fetch_tracking_updates, render_receipt_pdf, send_sms

router = APIRouter(prefix="/orders", tags=["orders"])

ALLOWED_STATUSES = {"pending", "paid", "shipped", "delivered", "cancelled"}


def _get_order(db: Session, order_id: int) -> Order:
    try:
        return OrderService(db).get(order_id)
    except OrderNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "order not found") from None


@router.post("", response_model=OrderOut, status_code=status.HTTP_201_CREATED)
def place_order(
    payload: OrderCreate, background_tasks: BackgroundTasks, db: Session = Depends(get_db)
) -> Order:
    user = db.get(User, payload.user_id)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "user not found")
    try:
        order = OrderService(db).place(user.id, payload.sku, payload.quantity)
    except OrderRejected as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    charge_payment_task.delay(order.id)
    run_later(
        background_tasks,
        send_email,
        user.email,
        f"We received order #{order.id}",
        f"{order.quantity} x {order.sku}. We'll email you when it ships.",
    )
    background_tasks.add_task(reorder_items, [order.sku])
    return order


@router.get("", response_model=list[OrderOut])
async def list_orders(
    user_id: int | None = None, limit: int = 50, db: Session = Depends(get_db)
) -> list[Order]:
    query = select(Order).order_by(Order.created_at.desc()).limit(limit)
    if user_id is not None:
        query = query.where(Order.user_id == user_id)
    return list(db.execute(query).scalars())


@router.get("/{order_id}", response_model=OrderOut)
def get_order(order_id: int, db: Session = Depends(get_db)) -> Order:
    return _get_order(db, order_id)


@router.post("/{order_id}/payment", status_code=status.HTTP_202_ACCEPTED)
def retry_payment(
    order_id: int, background_tasks: BackgroundTasks, db: Session = Depends(get_db)
) -> dict[str, str]:
    order = _get_order(db, order_id)
    if order.status != "pending":
        raise HTTPException(status.HTTP_409_CONFLICT, f"order is {order.status}")
    background_tasks.add_task(charge_payment, order.id)
    return {"detail": "payment is being retried"}


@router.patch("/{order_id}/status", response_model=OrderOut)
def update_status(
    order_id: int,
    payload: OrderStatusUpdate,
    background_tasks: BackgroundTasks,
    db: Session = Depends(get_db),
) -> Order:
    if payload.status not in ALLOWED_STATUSES:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "unknown status")
    order = _get_order(db, order_id)
    order.status = payload.status
    db.commit()
    background_tasks.add_task(record_audit_event, db, order.id, f"status:{payload.status}")
    return order


@router.post("/{order_id}/notes", status_code=status.HTTP_204_NO_CONTENT)
def add_note(
    order_id: int,
    payload: OrderNote,
    background_tasks: BackgroundTasks,
    db: Session = Depends(get_db),
) -> None:
    order = _get_order(db, order_id)
    background_tasks.add_task(partial(record_audit_event, db), order.id, "note", payload.text)


@router.post("/{order_id}/cancel", response_model=OrderOut)
def cancel_order(
    order_id: int, background_tasks: BackgroundTasks, db: Session = Depends(get_db)
) -> Order:
    service = OrderService(db)
    try:
        order = service.cancel(order_id)
    except OrderNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "order not found") from None
    except OrderRejected as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    background_tasks.add_task(service.release_stock, order.id)
    return order


@router.post("/{order_id}/shipment", response_model=OrderOut)
def ship_order(
    order_id: int,
    payload: Shipment,
    background_tasks: BackgroundTasks,
    db: Session = Depends(get_db),
) -> Order:
    order = _get_order(db, order_id)
    if order.status != "paid":
        raise HTTPException(status.HTTP_409_CONFLICT, f"order is {order.status}")
    order.status, order.tracking_number = "shipped", payload.tracking_number
    db.commit()
    background_tasks.add_task(notify_shipped, order.id, order.user.email, payload.tracking_number)
    background_tasks.add_task(push_shipment_to_warehouse, order.id, order.sku, order.quantity)
    fetch_tracking_updates.apply_async((order.id,), countdown=3600)
    return order


@router.post("/{order_id}/delivery", response_model=OrderOut)
def confirm_delivery(
    order_id: int, background_tasks: BackgroundTasks, db: Session = Depends(get_db)
) -> Order:
    order = _get_order(db, order_id)
    if order.status != "shipped":
        raise HTTPException(status.HTTP_409_CONFLICT, f"order is {order.status}")
    order.status = "delivered"
    db.commit()
    background_tasks.add_task(notify_delivered, order.id, order.user.email)
    background_tasks.add_task(award_loyalty_points, order.user_id, order.total_cents)
    if order.user.phone:
        send_sms.send(order.user.phone, f"Your order #{order.id} was delivered.")
    return order


@router.post("/{order_id}/receipt", status_code=status.HTTP_202_ACCEPTED)
def regenerate_receipt(
    order_id: int, background_tasks: BackgroundTasks, db: Session = Depends(get_db)
) -> dict[str, str]:
    order = _get_order(db, order_id)
    background_tasks.add_task(render_receipt_pdf, order.id)
    return {"detail": "receipt is being regenerated"}
