"""Start the app against a throwaway SQLite database and call a few routes.

Run from `examples/`: `python -m shop.smoke`. Needs no Redis, broker or SMTP server.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path


def main() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="shop-smoke-"))
    os.environ["SHOP_DATABASE_URL"] = f"sqlite:///{workdir / 'shop.db'}"
    os.environ["SHOP_MEDIA_ROOT"] = str(workdir / "media")
    os.environ["SHOP_SMTP_HOST"] = ""  # log emails instead of sending them
    os.environ["SHOP_CDN_PURGE_URL"] = ""  # no CDN to purge

    # Imported here so the settings above are read.
    from fastapi.testclient import TestClient

    from .db import SessionLocal
    from .main import app
    from .models import StockItem
    from .services import OrderService

    with TestClient(app) as client:
        assert client.get("/health").json() == {"status": "ok"}
        paths = client.get("/openapi.json").json()["paths"]

        response = client.post(
            "/users", json={"email": "ada@example.com", "name": "Ada", "password": "correct horse"}
        )
        assert response.status_code == 201, response.text
        user_id = response.json()["id"]
        assert client.get(f"/users/{user_id}").json()["email"] == "ada@example.com"

        response = client.put(f"/users/{user_id}/email", json={"email": "ada@example.org"})
        assert response.status_code == 200, response.text
        assert response.json()["email_verified"] is False

        with SessionLocal() as db:
            db.add(StockItem(sku="MUG-01", on_hand=20, price_cents=1250))
            db.commit()
            # POST /orders queues the charge on Celery, which needs a broker; place it directly.
            order_id = OrderService(db).place(user_id, "MUG-01", 2).id

        order = client.get(f"/orders/{order_id}").json()
        assert (order["status"], order["total_cents"]) == ("pending", 2500), order
        assert [o["id"] for o in client.get("/orders", params={"user_id": user_id}).json()] == [
            order_id
        ]

        response = client.post("/exports/orders")
        assert response.status_code == 202, response.text
        job = client.get(f"/exports/{response.json()['id']}").json()
        assert job["status"] == "done", job
        assert Path(job["result_path"]).read_text().count("\n") == 2

        assert client.get("/users/999").status_code == 404

    print(f"smoke check passed ({len(paths)} paths, database in {workdir})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
