"""Bench-only settings: the product's settings plus the baseline app. Not part of the product."""

from spreekuur.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "bench.baseline"]  # noqa: F405
ROOT_URLCONF = "bench.urls"
