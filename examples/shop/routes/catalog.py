"""Catalog maintenance for the merchandising team."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, status

from ..cache import purge_catalog_cache, rebuild_search_index, spawn

router = APIRouter(prefix="/catalog", tags=["catalog"])


@router.post("/cache/purge", status_code=status.HTTP_202_ACCEPTED)
async def purge_cache(paths: list[str]) -> dict[str, str]:
    asyncio.create_task(purge_catalog_cache(paths))
    return {"detail": "purge requested"}


@router.post("/search-index/rebuild", status_code=status.HTTP_202_ACCEPTED)
async def rebuild_index() -> dict[str, str]:
    spawn(rebuild_search_index())
    return {"detail": "rebuild started"}
