"""The Celery app: configuration comes from Django settings (CELERY_* names)."""

import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("shuohua")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def load_engine_dictionaries(**kwargs) -> None:
    # Pronouncing dictionaries take about a second to load: pay it once per worker process, not per film.
    from animation.engine.visemes import load_dictionaries

    load_dictionaries()
