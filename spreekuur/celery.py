"""Celery application for Spreekuur.

Configuration comes from Django settings (every `CELERY_*` setting), and tasks are
found in each installed app's `tasks.py`. Start a worker with
`celery -A spreekuur worker` and the scheduler with `celery -A spreekuur beat`.
"""

import os
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "spreekuur.settings")

app = Celery("spreekuur")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def create_filesystem_broker_folders(sender, source, **kwargs) -> None:
    """Create the folders of the on-disk broker that `make run` uses.

    Kombu's filesystem transport expects its folders to exist, in the web process
    that queues a task as much as in the worker. The configuration is read lazily,
    so this runs once Django's settings are loaded, not while they are importing.
    """
    if not str(source.broker_url or "").startswith("filesystem"):
        return
    options = source.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)
