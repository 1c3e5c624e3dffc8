from django.db import models


class Row(models.Model):
    created = models.DateTimeField(auto_now_add=True)
    note = models.CharField(max_length=40)

    def __str__(self) -> str:
        return self.note
