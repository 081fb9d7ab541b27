from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A festival account. Residents sign up; moderators and curators are put in groups by staff."""

    display_name = models.CharField(_("display name"), max_length=80, blank=True)

    @property
    def public_name(self) -> str:
        return self.display_name or self.username

    def is_moderator(self) -> bool:
        return self.is_superuser or self.groups.filter(name="moderators").exists()

    def is_curator(self) -> bool:
        return self.is_superuser or self.groups.filter(name="curators").exists()
