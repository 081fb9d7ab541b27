"""Make the smaller copies and deep-zoom tiles of paintings that have none (uploaded before they existed)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from catalogue import services
from catalogue.models import Painting


class Command(BaseCommand):
    help = "Make the smaller copies and tiles pages show, for every painting without them (--all: for every painting)."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="make them again for every painting")

    def handle(self, *args, **options):
        paintings = Painting.objects.all()
        if not options["all"]:
            paintings = paintings.filter(renditions=[]) | paintings.filter(tiles={})
        made = 0
        for painting_id, renditions, tiles in paintings.values_list("id", "renditions", "tiles"):
            copies = renditions
            if options["all"] or not renditions:
                copies = services.painting_make_renditions(painting_id=painting_id)
            if options["all"] or not tiles:
                tiles = services.painting_make_tiles(painting_id=painting_id)
            made += bool(copies or tiles)
            levels = len((tiles or {}).get("levels", []))
            self.stdout.write(f"{painting_id}: {len(copies)} copies, {levels} tile levels")
        self.stdout.write(f"{made} painting(s) given smaller copies or tiles")
