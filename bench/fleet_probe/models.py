from django.db import models


class Probe(models.Model):
    id = models.BigAutoField(primary_key=True)
    label = models.CharField(max_length=40)
    note = models.CharField(max_length=80, blank=True, default="", db_index=True)

    def __str__(self) -> str:
        return self.label
