"""A small online shop: users, orders, payments, emails, a Celery worker and a scheduler."""
