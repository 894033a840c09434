"""Settings read from the environment, with defaults that work on a laptop."""

from __future__ import annotations

import os

DATABASE_URL = os.environ.get("SHOP_DATABASE_URL", "sqlite:///./shop.db")
REDIS_URL = os.environ.get("SHOP_REDIS_URL", "redis://localhost:6379/0")
CELERY_BROKER_URL = os.environ.get("SHOP_CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = os.environ.get("SHOP_CELERY_RESULT_BACKEND", REDIS_URL)

# An empty SMTP host means "log emails instead of sending them" (local development).
SMTP_HOST = os.environ.get("SHOP_SMTP_HOST", "localhost")
SMTP_PORT = int(os.environ.get("SHOP_SMTP_PORT", "25"))
MAIL_FROM = os.environ.get("SHOP_MAIL_FROM", "shop@example.com")
MAIL_API_URL = os.environ.get("SHOP_MAIL_API_URL", "https://mail.example.com/v1/messages")
MAIL_API_MIN_INTERVAL = float(os.environ.get("SHOP_MAIL_API_MIN_INTERVAL", "0.5"))
NEWSLETTER_API_URL = os.environ.get("SHOP_NEWSLETTER_API_URL", "https://lists.example.com/v3")

PAYMENT_API_URL = os.environ.get("SHOP_PAYMENT_API_URL", "https://payments.example.com/v1")
WAREHOUSE_API_URL = os.environ.get("SHOP_WAREHOUSE_API_URL", "https://warehouse.example.com/api")
SUPPLIER_API_URL = os.environ.get("SHOP_SUPPLIER_API_URL", "https://supplier.example.com/api")
CARRIER_API_URL = os.environ.get("SHOP_CARRIER_API_URL", "https://carrier.example.com/api")
PRICING_API_URL = os.environ.get("SHOP_PRICING_API_URL", "https://pricing.example.com/api")
CDN_PURGE_URL = os.environ.get("SHOP_CDN_PURGE_URL", "https://cdn.example.com/purge")
SEARCH_API_URL = os.environ.get("SHOP_SEARCH_API_URL", "https://search.example.com/indexes/catalog")

MEDIA_ROOT = os.environ.get("SHOP_MEDIA_ROOT", "./media")
HTTP_TIMEOUT = 10.0
