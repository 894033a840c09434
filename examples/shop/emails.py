"""Outgoing email: SMTP for account mail, the mail provider's HTTP API for templated mail."""

from __future__ import annotations

import asyncio
import logging
import smtplib
import time as _time
from email.message import EmailMessage
from typing import Any

import httpx

from .config import (
    HTTP_TIMEOUT,
    MAIL_API_MIN_INTERVAL,
    MAIL_API_URL,
    MAIL_FROM,
    SMTP_HOST,
    SMTP_PORT,
)

logger = logging.getLogger(__name__)


def send_email(to: str, subject: str, body: str) -> None:
    """Send a plain-text email. Failures are logged, never raised: the caller has moved on."""
    try:
        if not SMTP_HOST:
            logger.info("email to %s: %s", to, subject)
            return
        message = EmailMessage()
        message["From"] = MAIL_FROM
        message["To"] = to
        message["Subject"] = subject
        message.set_content(body)
        with smtplib.SMTP(SMTP_HOST, SMTP_PORT, timeout=HTTP_TIMEOUT) as smtp:
            smtp.send_message(message)
    except Exception:
        logger.exception("could not send %r to %s", subject, to)


def send_templated(to: str, template: str, data: dict[str, Any]) -> None:
    """Send through the mail provider's API, staying under its per-second rate limit."""
    _time.sleep(MAIL_API_MIN_INTERVAL)
    response = httpx.post(
        MAIL_API_URL,
        json={"to": to, "template": template, "data": data},
        timeout=HTTP_TIMEOUT,
    )
    response.raise_for_status()


async def send_templated_async(to: str, template: str, data: dict[str, Any]) -> None:
    """`send_templated` for coroutines: waits and sends without holding the event loop."""
    await asyncio.sleep(MAIL_API_MIN_INTERVAL)
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as client:
        response = await client.post(
            MAIL_API_URL, json={"to": to, "template": template, "data": data}
        )
        response.raise_for_status()
