from django.shortcuts import render


def csrf_failure(request, reason=""):
    return render(request, "errors/csrf.html", status=403)
