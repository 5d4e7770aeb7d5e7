from django.apps import AppConfig


class BackupsConfig(AppConfig):
    name = "control_plane.backups"
    label = "backups"
    verbose_name = "Backups"
