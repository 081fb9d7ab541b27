from django.apps import AppConfig


class AnimationConfig(AppConfig):
    name = "animation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from animation import receivers

        receivers.connect()
