"""A throwaway copy of the site for page benchmarks and screenshots: its own SQLite database and media
folder in a temporary directory, the demo festival, a few published films, a logged-in resident, and the
product's own ASGI server (Daphne) on a free port. Not a test fixture: a context manager for scripts.

The films are made with ffmpeg from the painting and a demo voice (H.264 + AAC, as the product's encoder
writes them) so that pages have something to show without a render worker: page figures do not depend
on what the film looks like.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Site:
    url: str
    env: dict
    film_ids: list = field(default_factory=list)
    session_cookie: str = ""
    event_slug: str = ""
    passage_ids: dict = field(default_factory=dict)
    painting_id: str = ""
    # Session keys of the demo's moderator and curator, for the pages only they see.
    staff_cookies: dict = field(default_factory=dict)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


SETUP = r"""
import json, subprocess, sys
from datetime import timedelta
from pathlib import Path
import django
django.setup()
from django.core.management import call_command
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.contrib.auth import SESSION_KEY, BACKEND_SESSION_KEY, HASH_SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone
import imageio_ffmpeg
call_command("migrate", verbosity=0)
call_command("load_demo", stdout=open("/dev/null", "w"))
from accounts.models import User
from animation.models import Alignment, Animation
from catalogue.models import Passage
from contributions.models import Recording
from contributions.services import consent_give
from catalogue.models import Event
event = Event.objects.get(slug="spring-reading")
resident = User.objects.get(username="resident")
consent = consent_give(user=resident, public_animation=True, open_dataset=False)
voice = Path(sys.argv[1])
films = []
for number, passage in enumerate(Passage.objects.filter(event=event).order_by("title")[:3]):
    recording = Recording.objects.create(contributor=resident, passage=passage, status=Recording.Status.APPROVED,
                                         consent=consent,
                                         duration_seconds=5.5, original_extension="flac")
    animation = Animation.objects.create(recording=recording, event=event)
    folder = f"animations/{animation.id}"
    painting = Path(passage.painting.image.path)
    scratch = Path(sys.argv[2]) / str(animation.id)
    scratch.mkdir(parents=True)
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    subprocess.run([ffmpeg, "-v", "error", "-y", "-loop", "1", "-i", str(painting), "-i", str(voice), "-t", "5.5",
                    "-vf", "scale=512:512,format=yuv420p", "-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac",
                    "-movflags", "+faststart", str(scratch / "film.mp4")], check=True)
    subprocess.run([ffmpeg, "-v", "error", "-y", "-i", str(painting), "-vf", "scale=512:512", "-q:v", "4",
                    str(scratch / "poster.jpg")], check=True)
    characters = [c for c in passage.text if c.strip() and c not in "，。,.?!'"][:12]
    cues = "".join(f"<00:00:{1 + i * 0.35:06.3f}>{c}" for i, c in enumerate(characters))
    vtt = f"WEBVTT\n\n00:00:01.000 --> 00:00:05.500\n{cues}\n"
    default_storage.save(f"{folder}/film.mp4", ContentFile((scratch / "film.mp4").read_bytes()))
    default_storage.save(f"{folder}/poster.jpg", ContentFile((scratch / "poster.jpg").read_bytes()))
    default_storage.save(f"{folder}/subtitles.vtt", ContentFile(vtt.encode()))
    units = [{"text": c, "start": round(1 + i * 0.35, 3), "end": round(1.3 + i * 0.35, 3)}
             for i, c in enumerate(characters)]
    Alignment.objects.update_or_create(
        recording=recording, defaults={"units": units, "phrases": [], "language": passage.language})
    Animation.objects.filter(id=animation.id).update(
        status=Animation.Status.PUBLISHED, progress=1.0, published_at=timezone.now() - timedelta(minutes=number),
        video=f"{folder}/film.mp4", poster=f"{folder}/poster.jpg", subtitles=f"{folder}/subtitles.vtt")
    films.append(str(animation.id))
def signed_in(user):
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key
session_key = signed_in(resident)
staff = {name: signed_in(User.objects.get(username=name)) for name in ("moderator", "curator")}
passages = {p.language: str(p.id) for p in Passage.objects.filter(event=event).order_by("-language")}
print(json.dumps({"films": films, "session": session_key, "staff": staff, "event": event.slug, "passages": passages,
                  "painting": str(event.paintings.first().id)}))
"""


@contextlib.contextmanager
def demo_site() -> Iterator[Site]:
    """The demo festival served by Daphne from a temporary folder; everything is removed afterwards."""
    import json

    with tempfile.TemporaryDirectory(prefix="shuohua-site-") as folder:
        root = Path(folder)
        env = dict(os.environ)
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            DEBUG="0",
            HTTPS="0",  # plain HTTP on loopback
            SECRET_KEY=secrets.token_urlsafe(40),
            DATABASE_URL=f"sqlite:///{root / 'db.sqlite3'}",
            MEDIA_ROOT=str(root / "media"),
            ALLOWED_HOSTS="127.0.0.1,localhost",
            SECURE_SSL_REDIRECT="0",
            SESSION_COOKIE_SECURE="0",
            CSRF_COOKIE_SECURE="0",
            SECURE_HSTS_SECONDS="0",
            PYTHONPATH=str(REPO),
        )
        voice = root / "voice.wav"
        import imageio_ffmpeg

        subprocess.run(
            [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-i", str(REPO / "demo/speech/chinese_poem1.flac"),
             "-ac", "1", "-ar", "48000", str(voice)],
            check=True,
        )  # fmt: skip
        output = subprocess.run(
            [sys.executable, "-c", SETUP, str(voice), str(root / "scratch")],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
        )
        if output.returncode != 0:
            raise RuntimeError(f"site set-up failed:\n{output.stderr[-4000:]}")
        facts = json.loads(output.stdout.strip().splitlines()[-1])
        port = free_port()
        daphne = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "-v", "0", "config.asgi:application"],
            cwd=REPO,
            env=env,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    break
                except OSError:
                    if time.monotonic() > deadline or daphne.poll() is not None:
                        raise RuntimeError("daphne did not start") from None
                    time.sleep(0.2)
            yield Site(
                url=f"http://127.0.0.1:{port}",
                env=env,
                film_ids=facts["films"],
                session_cookie=facts["session"],
                event_slug=facts["event"],
                passage_ids=facts["passages"],
                painting_id=facts["painting"],
                staff_cookies=facts["staff"],
            )
        finally:
            daphne.terminate()
            try:
                daphne.wait(timeout=10)
            except subprocess.TimeoutExpired:
                daphne.kill()


def public_pages(site: Site) -> dict[str, str]:
    """Name -> path of every page a visitor or resident sees (the record page needs the session)."""
    return {
        "home": "/",
        "event": f"/events/{site.event_slug}/",
        "film": f"/animations/{site.film_ids[0]}/",
        "record": f"/record/{site.passage_ids.get('zh') or next(iter(site.passage_ids.values()))}/",
        "painting": f"/paintings/{site.painting_id}/",
        "programme": f"/events/{site.event_slug}/programme/",
        "wall": f"/events/{site.event_slug}/wall/",
        "passages": "/passages/",
        "mine": "/me/recordings/",
    }
