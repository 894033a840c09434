"""The shop API. Run with `uvicorn shop.main:app`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI

from .cache import refresh_catalog_forever
from .db import init_db
from .routes import catalog, jobs, orders, users
from .scheduler import create_scheduler

logger = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    await asyncio.to_thread(init_db)
    scheduler = create_scheduler()
    scheduler.start()
    catalog_refresher = asyncio.create_task(refresh_catalog_forever())
    try:
        yield
    finally:
        catalog_refresher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await catalog_refresher
        scheduler.shutdown(wait=False)


app = FastAPI(title="Shop", lifespan=lifespan)
app.include_router(users.router)
app.include_router(orders.router)
app.include_router(jobs.router)
app.include_router(catalog.router)


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}
