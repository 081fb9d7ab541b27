"""A small festival seen by every role: two events, two residents, a moderator of each event, a curator,
real recordings (through the real upload checks) and real films (H.264/AAC made with the shipped
ffmpeg from the painting and the reading), stored where the pipeline stores them.

Used by the access tests (media, matrix, schemathesis, security). Not a fixture module: each test
module wraps ``build_world`` in a fixture of its own.
"""

from __future__ import annotations

import dataclasses
import subprocess
import tempfile
from pathlib import Path

from django.core.files import File
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from testkit.media import CHINESE_POEM, DEMO, ffmpeg

PASSWORDS = {
    "resident_a": "resident-pass-1",
    "resident_b": "neighbour-pass-1",
    "moderator_x": "moderator-x-pass-1",
    "moderator_y": "moderator-y-pass-1",
    "curator": "curator-pass-1",
}
ROLES = ("anonymous", "resident_a", "resident_b", "moderator_x", "moderator_y", "curator")


@dataclasses.dataclass
class World:
    event_x: object
    event_y: object
    painting_x: object
    passage_x: object
    users: dict
    recording_a: object  # resident A's reading on event X, pending
    recording_b: object  # resident B's reading on event X, pending
    film_a: object  # resident A's film on event X, ready (not published)
    film_b: object  # resident B's film on event X, published

    sessions: dict = dataclasses.field(default_factory=dict)

    def client(self, role: str) -> Client:
        """A client logged in through the login form with the role's password (a real session, through
        axes and the rate limits), once per role: later clients of the role carry that session."""
        from django.conf import settings

        client = Client()
        if role == "anonymous":
            return client
        if role not in self.sessions:
            user = self.users[role]
            answer = client.post("/accounts/login/", {"username": user.username, "password": PASSWORDS[role]})
            assert answer.status_code == 302, f"{role} could not log in through the form: {answer.status_code}"
            self.sessions[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
        client.cookies[settings.SESSION_COOKIE_NAME] = self.sessions[role]
        return client


def make_film(animation) -> None:
    """A real short film of ANIMATION's reading over its painting, with poster, subtitles and curves, in storage."""
    recording = animation.recording
    painting = recording.passage.painting
    with tempfile.TemporaryDirectory() as scratch:
        film = Path(scratch) / "film.mp4"
        source_audio = Path(scratch) / "voice"
        with recording.original.open("rb") as handle:
            source_audio.write_bytes(handle.read())
        with painting.image.open("rb") as handle:
            (Path(scratch) / "painting.jpg").write_bytes(handle.read())
        painting_jpg = Path(scratch) / "painting.jpg"
        command = [ffmpeg(), "-v", "error", "-y", "-loop", "1", "-framerate", "5", "-i", str(painting_jpg)]
        command += ["-i", str(source_audio), "-t", "2", "-vf", "scale=128:128", "-pix_fmt", "yuv420p"]
        command += ["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest", str(film)]
        subprocess.run(command, check=True)
        prefix = f"animations/{animation.id}"
        with film.open("rb") as handle:
            animation.video.name = default_storage.save(f"{prefix}/film.mp4", File(handle))
        with (DEMO / "paintings" / "art_2.jpg").open("rb") as handle:
            animation.poster.name = default_storage.save(f"{prefix}/poster.jpg", File(handle))
        animation.subtitles.name = default_storage.save(
            f"{prefix}/subtitles.vtt", File(_text_file("WEBVTT\n\n00:00.000 --> 00:02.000\n床前明月光\n"))
        )
        animation.curves.name = default_storage.save(f"{prefix}/curves.json", File(_text_file('{"fps": 5}')))
    animation.save()


def _text_file(text: str):
    import io

    return io.BytesIO(text.encode())


def submit(passage, user):
    from contributions.services import recording_submit

    upload = SimpleUploadedFile("take.flac", CHINESE_POEM.read_bytes())
    return recording_submit(contributor=user, passage=passage, upload=upload)


def build_world(festival, resident, other_resident, groups) -> World:
    from accounts.models import User
    from animation.models import Animation
    from catalogue.models import Event, Painting, Passage

    event_x = festival["event"]
    event_y = Event.objects.create(slug="other-festival", title="Other Festival")
    painting_y = Painting(event=event_y, title="Second portrait")
    with (DEMO / "paintings" / "art_7.jpg").open("rb") as handle:
        painting_y.image.save("art_7.jpg", File(handle), save=False)
    painting_y.save()
    Passage.objects.create(
        event=event_y, painting=painting_y, title="静夜思", text=festival["chinese"].text, language="zh", max_seconds=30
    )
    users = {"resident_a": resident, "resident_b": other_resident}
    for role in ("moderator_x", "moderator_y", "curator"):
        user = User.objects.create_user(role.replace("_", "-"), password=PASSWORDS[role], display_name=role)
        user.groups.add(groups["curators" if role == "curator" else "moderators"])
        users[role] = user
    event_x.moderators.add(users["moderator_x"])
    event_x.curators.add(users["curator"])  # curators are per festival: Y is not theirs
    event_y.moderators.add(users["moderator_y"])

    recording_a = submit(festival["chinese"], resident)
    recording_b = submit(festival["chinese"], other_resident)
    film_a = Animation.objects.create(recording=recording_a, event=event_x, status=Animation.Status.READY)
    film_b = Animation.objects.create(
        recording=recording_b, event=event_x, status=Animation.Status.PUBLISHED, published_at=timezone.now()
    )
    make_film(film_a)
    make_film(film_b)
    return World(
        event_x=event_x,
        event_y=event_y,
        painting_x=festival["painting"],
        passage_x=festival["chinese"],
        users=users,
        recording_a=recording_a,
        recording_b=recording_b,
        film_a=film_a,
        film_b=film_b,
    )


def poem_festival(*, slug: str, title: str, painting_file: str = "art_2.jpg", painting_title: str = "Portrait"):
    """An event with one demo painting and the Chinese poem as its passage (open, 30 s), as the suite's
    festival fixture and the benchmarks start from: {"event", "painting", "chinese"}."""
    from catalogue.models import Event, Painting, Passage
    from testkit.media import CHINESE_POEM_TEXT

    event = Event.objects.create(slug=slug, title=title)
    painting = Painting(event=event, title=painting_title, artist="Unknown")
    with (DEMO / "paintings" / painting_file).open("rb") as handle:
        painting.image.save(painting_file, File(handle), save=False)
    painting.save()
    chinese = Passage.objects.create(
        event=event, painting=painting, title="静夜思", text=CHINESE_POEM_TEXT, language="zh", max_seconds=30
    )
    return {"event": event, "painting": painting, "chinese": chinese}
