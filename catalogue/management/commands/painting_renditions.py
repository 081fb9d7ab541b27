"""Make the smaller copies of paintings that have none (paintings uploaded before copies existed)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from catalogue import services
from catalogue.models import Painting


class Command(BaseCommand):
    help = "Make the smaller copies pages show, for every painting without them (--all: for every painting)."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="make them again for every painting")

    def handle(self, *args, **options):
        paintings = Painting.objects.all() if options["all"] else Painting.objects.filter(renditions=[])
        made = 0
        for painting_id in paintings.values_list("id", flat=True):
            copies = services.painting_make_renditions(painting_id=painting_id)
            made += bool(copies)
            self.stdout.write(f"{painting_id}: {len(copies)} copies")
        self.stdout.write(f"{made} painting(s) given smaller copies")
