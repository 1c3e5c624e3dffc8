"""The baseline: a bare Django view doing one INSERT, served by the same gunicorn."""

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from .models import Row


@csrf_exempt
def insert_one(request):
    Row.objects.create(note="bench")
    return HttpResponse("ok", content_type="text/plain")
