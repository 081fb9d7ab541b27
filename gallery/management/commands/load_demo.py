"""Load the demo festival: one event, five paintings, passages in Chinese and English, demo accounts.

Safe to run again: what exists is kept. Passwords come from DEMO_RESIDENT_PASSWORD,
DEMO_MODERATOR_PASSWORD and DEMO_CURATOR_PASSWORD, or are generated, kept in var/demo-logins.txt
(owner-only) and printed on every run.
"""

import os
import secrets
from datetime import date
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.files import File
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import User
from catalogue import services as catalogue_services
from catalogue.models import Event, Painting, Passage

DEMO_DIR = Path(settings.BASE_DIR) / "demo"
DEMO_LOGINS_FILE = Path(settings.VAR_DIR) / "demo-logins.txt"


def _remember_demo_login(*, username: str, display_name: str, password: str) -> None:
    """Append one account to the owner-only file of demo logins (created 0600 before anything is written)."""
    DEMO_LOGINS_FILE.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(DEMO_LOGINS_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(descriptor, "a", encoding="utf-8") as handle:
        handle.write(f"  {username:<10} password {password}   ({display_name})\n")


# The demo's images are example portraits, not classical Chinese paintings: their labels say so, and say
# what each one is, rather than dressing them up as museum pieces. (file, title, what it is, former title)
PAINTINGS = [
    (
        "art_2.jpg",
        "示例：油画少女像",
        "Demo image: a young woman in oil",
        "oil-painting style",
        "Portrait of a Young Woman",
    ),
    (
        "art_7.jpg",
        "示例：稚拙画风的园丁",
        "Demo image: a gardener, naive style",
        "naive-painting style",
        "The Gardener",
    ),
    (
        "art_10.jpg",
        "示例：数字绘画女子像",
        "Demo image: a woman, digital painting",
        "digital painting",
        "Evening Light",
    ),
    ("art_12.jpg", "示例：动漫风格少女", "Demo image: a girl, anime style", "anime illustration", "The Reader"),
    ("art_15.jpg", "示例：戴眼镜的男子", "Demo image: a man with glasses", "painted portrait", "Man with Glasses"),
]
SOURCE = "SadTalker example images (Apache-2.0)"
DEMO_STORY = "演示用图片，并非中国古代人物画：节日自己的画作加入之前，由它代替展示朗读如何让画开口。"
DEMO_STORY_EN = (
    "A demo image, not a classical Chinese figure painting: it stands in until the festival's own "
    "paintings are added, to show how a reading brings a painting to life."
)

PASSAGES = [
    ("art_2.jpg", "静夜思 · 李白", "床前明月光，疑是地上霜。举头望明月，低头思故乡。", "zh"),
    ("art_7.jpg", "春晓 · 孟浩然", "春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少。", "zh"),
    ("art_10.jpg", "登鹳雀楼 · 王之涣", "白日依山尽，黄河入海流。欲穷千里目，更上一层楼。", "zh"),
    (
        "art_12.jpg",
        "Holidays",
        "The holidays are a time of celebrating with loved ones, enjoying the festivities "
        "and muddling through Wisconsin's cold. But for many this year has been",
        "en",
    ),
    (
        "art_15.jpg",
        "Sonnet 18 · Shakespeare",
        "Shall I compare thee to a summer's day? Thou art more lovely and more temperate.",
        "en",
    ),
]

# Readings of the demo voices (demo/speech), made into films once, in the background, at the first start:
# the gallery is never empty on a first visit. (passage title, file, reader's username)
DEMO_READINGS = [
    ("静夜思 · 李白", "chinese_poem1.flac", "resident"),
    ("Holidays", "english_radio.flac", "resident"),
]

ACCOUNTS = [
    ("resident", "Li Ming", None, "DEMO_RESIDENT_PASSWORD"),
    ("moderator", "Wang Fang", "moderators", "DEMO_MODERATOR_PASSWORD"),
    ("curator", "Zhang Wei", "curators", "DEMO_CURATOR_PASSWORD"),
]


# The demo festival's programme (issue 26): days from the first load, the hour, title and reading room.
DEMO_PROGRAMME = [
    (-3, 10, "开幕朗读", "Opening reading", "一楼大厅", "Main hall, ground floor"),
    (0, 19, "月下读诗", "Poems by moonlight", "二楼古籍阅览室", "Rare books reading room, second floor"),
    (2, 14, "少儿读诗会", "Poems for children", "一楼少儿阅览室", "Children's reading room, ground floor"),
]


class Command(BaseCommand):
    help = "Load the demo festival (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-films", action="store_true", help="do not submit the demo voices for films (first start only)"
        )

    @transaction.atomic
    def handle(self, *args, **options):
        for group_name in ("moderators", "curators"):
            Group.objects.get_or_create(name=group_name)
        event, _ = Event.objects.get_or_create(
            slug="spring-reading",
            defaults={
                "title": "春之声读诗节（演示）",
                "title_en": "Spring Reading Festival (demo)",
                "description": "在画旁读一首诗，看画用你的声音开口。这是演示节日：画作是示例图片，不是古代名画。",
                "description_en": (
                    "Read a poem beside a painting and watch it speak with your voice. A demo festival: its "
                    "paintings are example images, not classical works."
                ),
                "starts_on": date(2026, 11, 20),
                "ends_on": date(2026, 12, 20),
            },
        )
        paintings = {}
        for filename, title, title_en, style, former_title in PAINTINGS:
            painting = Painting.objects.filter(event=event, title__in=(title, former_title)).first()
            if painting is None:
                painting = Painting(event=event)
            # Honest labels, also on a demo festival loaded before they were honest.
            painting.title, painting.title_en, painting.era = title, title_en, ""
            painting.artist, painting.source = f"Unknown ({style})", SOURCE
            painting.story, painting.story_en = DEMO_STORY, DEMO_STORY_EN
            if painting.pk:
                painting.save()
            # Also mends a demo painting whose file went missing (MEDIA_ROOT moved or was cleaned).
            if not painting.image or not painting.image.storage.exists(painting.image.name):
                with (DEMO_DIR / "paintings" / filename).open("rb") as handle:
                    painting.image.save(filename, File(handle), save=False)
                painting.save()
            if not painting.renditions:
                # Small demo images: made here rather than waiting for a worker, so pages are light at once.
                painting.renditions = catalogue_services.painting_make_renditions(painting_id=painting.id)
            if not painting.tiles:
                painting.tiles = catalogue_services.painting_make_tiles(painting_id=painting.id)
            paintings[filename] = painting
        for filename, title, text, language in PASSAGES:
            Passage.objects.get_or_create(
                event=event, title=title, defaults={"painting": paintings[filename], "text": text, "language": language}
            )
        for username, display_name, group_name, variable in ACCOUNTS:
            if User.objects.filter(username=username).exists():
                continue
            password = os.environ.get(variable) or secrets.token_urlsafe(9)
            user = User.objects.create_user(
                username=username, password=password, display_name=display_name, email=f"{username}@example.org"
            )
            if group_name:
                user.groups.add(Group.objects.get(name=group_name))
            if group_name == "curators":
                user.is_staff = True
                user.save(update_fields=["is_staff"])
            if group_name == "moderators":
                event.moderators.add(user)  # nobody else reviews the demo festival's readings
            if group_name == "curators":
                event.curators.add(user)  # curators are per festival: the demo curator curates the demo
            shown = "(from $" + variable + ")" if os.environ.get(variable) else password
            _remember_demo_login(username=username, display_name=display_name, password=shown)
        self._demo_programme(event, paintings)
        if not options.get("no_films"):
            queued = self._demo_films(event)
            if queued:
                self.stdout.write(
                    f"{queued} demo film(s) queued: they appear in the gallery as the worker finishes them"
                )
        self.stdout.write(f"demo festival ready: /events/{event.slug}/")
        if DEMO_LOGINS_FILE.exists():
            # Printed on every start: a generated password shown only once is a password lost.
            self.stdout.write(f"demo logins (kept in {DEMO_LOGINS_FILE}, readable by you only):")
            self.stdout.write(DEMO_LOGINS_FILE.read_text().rstrip())

    def _demo_programme(self, event: Event, paintings: dict) -> None:
        """Three readings in the library's reading rooms around the day of the first load (one past, one
        today, one in two days), so that the festival page shows its programme at once; never again."""
        import datetime

        from django.utils import timezone

        from gallery import services as gallery_services
        from gallery.models import ProgrammeItem

        if ProgrammeItem.objects.filter(event=event).exists():
            return
        today = timezone.localdate()
        first_painting = next(iter(paintings.values()), None)
        for days, hour, title, title_en, venue, venue_en in DEMO_PROGRAMME:
            starts_at = timezone.make_aware(
                datetime.datetime.combine(today + datetime.timedelta(days=days), datetime.time(hour))
            )
            gallery_services.programme_item_create(
                event=event,
                title=title,
                title_en=title_en,
                venue=venue,
                venue_en=venue_en,
                description="在画旁一起朗读，馆员带来话筒与耳机。",
                description_en="Read aloud together beside the paintings; librarians bring microphones and headphones.",
                starts_at=starts_at,
                ends_at=starts_at + datetime.timedelta(hours=1, minutes=30),
                paintings=[first_painting] if first_painting else [],
            )

    def _demo_films(self, event: Event) -> int:
        """Submit and approve the demo voices once (never again, even after they are withdrawn): the
        worker renders them after this transaction commits, through the same services as a resident's."""
        from django.core.files.uploadedfile import SimpleUploadedFile

        from contributions import selectors as contribution_selectors
        from contributions import services as contribution_services
        from contributions.models import Recording

        if Recording.objects.filter(passage__event=event).exists():
            return 0
        moderator = User.objects.filter(groups__name="moderators").order_by("date_joined").first()
        if moderator is None:
            return 0
        queued = 0
        for title, filename, username in DEMO_READINGS:
            passage = Passage.objects.filter(event=event, title=title).first()
            reader = User.objects.filter(username=username).first()
            if passage is None or reader is None:
                continue
            if contribution_selectors.consent_current(user=reader) is None:
                contribution_services.consent_give(user=reader, public_animation=True, open_dataset=False)
            upload = SimpleUploadedFile(filename, (DEMO_DIR / "speech" / filename).read_bytes())
            recording = contribution_services.recording_submit(contributor=reader, passage=passage, upload=upload)
            contribution_services.recording_approve(recording=recording, moderator=moderator)
            queued += 1
        return queued
