"""A reporting service that starts Celery jobs but gives clients no way to poll them."""
