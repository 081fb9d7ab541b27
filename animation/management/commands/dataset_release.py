"""Make a new release of the open dataset (issue 26, animation/datasets.py).

    python manage.py dataset_release --event <slug>   # one festival's release, version N+1
    python manage.py dataset_release                  # a release of every festival (its own numbering)
    python manage.py dataset_release --queue          # hand the build to a Celery worker instead
    python manage.py dataset_release --resume         # build the releases still waiting (the broker was down)

Builds in this process by default and prints the version, the figures and where the zip is stored.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from animation import datasets
from animation.models import DatasetRelease
from catalogue.models import Event


class Command(BaseCommand):
    help = "Make a new versioned release of the open dataset: one festival's (--event) or every festival's."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--event", help="the festival's slug; without it, every festival")
        parser.add_argument("--queue", action="store_true", help="queue the build for a worker, do not wait")
        parser.add_argument(
            "--resume",
            action="store_true",
            help="build here every release still waiting for a worker (or whose worker died), instead of a new one",
        )

    def handle(self, *args, **options) -> None:
        if options["resume"]:
            waiting = DatasetRelease.objects.filter(
                status__in=[DatasetRelease.Status.QUEUED, DatasetRelease.Status.BUILDING]
            ).order_by("created_at")
            for release in waiting:
                if datasets.dataset_release_build(release_id=release.id):
                    self._report(DatasetRelease.objects.select_related("event").get(id=release.id))
            return
        event = None
        if options["event"]:
            event = Event.objects.filter(slug=options["event"]).first()
            if event is None:
                raise CommandError(f"No festival with the slug {options['event']!r}.")
        release = datasets.dataset_release_request(event=event, enqueue=options["queue"])
        scope = event.slug if event else "all festivals"
        if options["queue"]:
            self.stdout.write(f"Release {release.version} of {scope} queued ({release.id}).")
            return
        try:
            datasets.dataset_release_build(release_id=release.id)
        except Exception as error:
            raise CommandError(f"Release {release.version} of {scope} failed: {error}") from error
        self._report(DatasetRelease.objects.select_related("event").get(id=release.id))

    def _report(self, release: DatasetRelease) -> None:
        scope = release.event.slug if release.event_id else "all festivals"
        counts = release.counts
        languages = ", ".join(f"{code} {figures['readings']}" for code, figures in counts["languages"].items())
        self.stdout.write(
            f"Release {release.version} of {scope}: {counts['readings']} readings ({languages or 'none'}), "
            f"{counts['seconds'] / 60:.1f} min, {counts['speakers']} speakers, "
            f"{counts['without_timings']} left out without timings; {release.archive_bytes} bytes "
            f"in {release.archive.name} (sha256 {release.archive_sha256})."
        )
