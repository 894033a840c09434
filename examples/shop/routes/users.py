"""Sign-up, account settings and bulk user imports."""

from __future__ import annotations

import hashlib
import secrets
import uuid

from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from ..db import get_db
from ..emails import send_email
from ..models import User
from ..schemas import EmailChange, PasswordChange, UserCreate, UserImportRow, UserOut
from ..tasks import (
    IMPORT_STATUS,
    email_account_export,
    import_users,
    purge_user_data,
    record_security_event,
    send_verification_email,
    send_welcome,
    store_avatar,
    sync_newsletter_subscription,
)

router = APIRouter(prefix="/users", tags=["users"])


def _hash_password(password: str, salt: str | None = None) -> str:
    salt = salt or secrets.token_hex(8)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 200_000)
    return f"{salt}${digest.hex()}"


def _check_password(password: str, stored: str) -> bool:
    salt, _, _ = stored.partition("$")
    return secrets.compare_digest(_hash_password(password, salt), stored)


def _get_user(db: Session, user_id: int) -> User:
    user = db.get(User, user_id)
    if user is None or not user.is_active:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "user not found")
    return user


@router.post("", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def create_user(
    payload: UserCreate, background_tasks: BackgroundTasks, db: Session = Depends(get_db)
) -> User:
    if db.scalar(select(User.id).where(User.email == payload.email)) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, "email already registered")
    user = User(
        email=payload.email,
        name=payload.name,
        password_hash=_hash_password(payload.password),
        newsletter=payload.newsletter,
    )
    db.add(user)
    db.commit()
    background_tasks.add_task(send_welcome, user)
    background_tasks.add_task(send_verification_email, user.id)
    if user.newsletter:
        background_tasks.add_task(sync_newsletter_subscription, user.email, subscribed=True)
    return user


@router.get("/{user_id}", response_model=UserOut)
def get_user(user_id: int, db: Session = Depends(get_db)) -> User:
    return _get_user(db, user_id)


@router.post("/{user_id}/verification", status_code=status.HTTP_202_ACCEPTED)
def resend_verification(
    user_id: int, background_tasks: BackgroundTasks, db: Session = Depends(get_db)
) -> dict[str, str]:
    user = _get_user(db, user_id)
    if user.email_verified:
        raise HTTPException(status.HTTP_409_CONFLICT, "email already verified")
    background_tasks.add_task(send_verification_email, user.id)
    return {"detail": "verification email sent"}


@router.put("/{user_id}/password", status_code=status.HTTP_204_NO_CONTENT)
def change_password(
    user_id: int,
    payload: PasswordChange,
    request: Request,
    background_tasks: BackgroundTasks,
    db: Session = Depends(get_db),
) -> None:
    user = _get_user(db, user_id)
    if not _check_password(payload.current_password, user.password_hash):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "wrong password")
    user.password_hash = _hash_password(payload.new_password)
    db.commit()
    client_ip = request.client.host if request.client else None
    background_tasks.add_task(record_security_event, user.id, "password_changed", client_ip)
    background_tasks.add_task(
        send_email(user.email, "Your password was changed", "If this wasn't you, contact us.")
    )


@router.put("/{user_id}/email", response_model=UserOut)
def change_email(
    user_id: int,
    payload: EmailChange,
    background_tasks: BackgroundTasks,
    db: Session = Depends(get_db),
) -> User:
    user = _get_user(db, user_id)
    old_email = user.email
    user.email, user.email_verified = payload.email, False
    db.commit()
    background_tasks.add_task(
        send_email, old_email, "Your email was changed", f"Your new address is {user.email}."
    )
    background_tasks.add_task(send_verification_email, user.id)
    return user


@router.put("/{user_id}/avatar", status_code=status.HTTP_202_ACCEPTED)
async def upload_avatar(
    user_id: int, request: Request, background_tasks: BackgroundTasks
) -> dict[str, str]:
    if not request.headers.get("content-type", "").startswith("image/"):
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "send an image")
    background_tasks.add_task(store_avatar, user_id, request)
    return {"detail": "avatar is being processed"}


@router.post("/{user_id}/unsubscribe")
def unsubscribe(
    user_id: int,
    request: Request,
    background_tasks: BackgroundTasks,
    db: Session = Depends(get_db),
) -> JSONResponse:
    user = _get_user(db, user_id)
    user.newsletter = False
    db.commit()
    client_ip = request.client.host if request.client else None
    background_tasks.add_task(record_security_event, user.id, "unsubscribed", client_ip)
    return JSONResponse(
        {"detail": "unsubscribed"},
        background=BackgroundTask(sync_newsletter_subscription, user.email, subscribed=False),
    )


@router.post("/{user_id}/export", status_code=status.HTTP_202_ACCEPTED)
def request_account_export(user_id: int, db: Session = Depends(get_db)) -> JSONResponse:
    user = _get_user(db, user_id)
    tasks = BackgroundTasks()
    tasks.add_task(email_account_export, user.id)
    return JSONResponse(
        {"detail": "your export will be emailed to you"},
        status_code=status.HTTP_202_ACCEPTED,
        background=tasks,
    )


@router.delete("/{user_id}")
def delete_account(user_id: int, db: Session = Depends(get_db)) -> dict[str, str]:
    user = _get_user(db, user_id)
    user.is_active = False
    db.commit()
    tasks = BackgroundTasks()
    tasks.add_task(purge_user_data, user.id)
    return {"detail": "account deleted"}


@router.post("/imports", status_code=status.HTTP_202_ACCEPTED)
def start_user_import(
    rows: list[UserImportRow], background_tasks: BackgroundTasks
) -> dict[str, str]:
    import_id = uuid.uuid4().hex
    IMPORT_STATUS[import_id] = "pending"
    background_tasks.add_task(import_users, import_id, [(row.email, row.name) for row in rows])
    return {"import_id": import_id}


@router.get("/imports/{import_id}")
def get_user_import(import_id: str) -> dict[str, str]:
    state = IMPORT_STATUS.get(import_id)
    if state is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "unknown import")
    return {"import_id": import_id, "status": state}
