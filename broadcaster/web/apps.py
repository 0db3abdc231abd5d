from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "broadcaster.web"
    label = "console"
    verbose_name = "Broadcaster console"
