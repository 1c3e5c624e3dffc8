from django.urls import include, path

from bench.baseline.views import insert_one

urlpatterns = [
    path("bench/insert/", insert_one),
    path("", include("spreekuur.urls")),
]
