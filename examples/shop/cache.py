"""CDN and search-index refreshes, run as asyncio tasks on the server's event loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

import httpx

from .config import CDN_PURGE_URL, HTTP_TIMEOUT, SEARCH_API_URL

logger = logging.getLogger(__name__)

CATALOG_REFRESH_INTERVAL = 300.0

# Strong references to running tasks; the event loop itself only keeps weak ones.
_running: set[asyncio.Task[Any]] = set()


def spawn(coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
    task = asyncio.create_task(coro)
    _running.add(task)
    task.add_done_callback(_running.discard)
    return task


async def purge_catalog_cache(paths: list[str]) -> None:
    if not CDN_PURGE_URL:
        return
    try:
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as client:
            response = await client.post(CDN_PURGE_URL, json={"paths": paths})
            response.raise_for_status()
    except httpx.HTTPError:
        logger.exception("CDN purge of %s failed", paths)


async def rebuild_search_index() -> None:
    try:
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as client:
            response = await client.post(f"{SEARCH_API_URL}/rebuild")
            response.raise_for_status()
    except httpx.HTTPError:
        logger.exception("search index rebuild failed")


async def refresh_catalog_forever() -> None:
    """Keep the CDN copy of the catalog fresh while the app runs."""
    while True:
        await purge_catalog_cache(["/catalog", "/catalog/*"])
        await asyncio.sleep(CATALOG_REFRESH_INTERVAL)
