"""Deleting a painting deletes what is stored for it, once the deletion is committed: its image, smaller
copies, deep-zoom tiles and figure crops (a worker's task), and its passages' test films, through the
storage API."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import ProtectedError
from django.test import Client

from catalogue import services, tasks
from catalogue.models import Event, Figure, Painting, Passage
from core import storage
from testkit.media import DEMO


@pytest.fixture
def files_deleted_by_the_worker(monkeypatch):
    """The files task runs at once where it is sent (as a worker would right after): the painting ids sent."""
    sent = []

    def delay(painting_id):
        sent.append(painting_id)
        tasks.painting_delete_files(painting_id)

    monkeypatch.setattr(tasks.painting_delete_files, "delay", delay)
    return sent


def painting_with_every_file(event) -> Painting:
    """A portrait made as a curator makes one, with what the workers make of it: copies, tiles, crops."""
    image = SimpleUploadedFile("portrait.jpg", (DEMO / "paintings" / "art_10.jpg").read_bytes())
    painting = services.painting_create(event=event, title="Portrait", image=image)
    for task in (
        tasks.painting_make_renditions,
        tasks.painting_make_tiles,
        tasks.painting_detect_faces,
        tasks.painting_make_figure_thumbnails,
    ):
        task(str(painting.id))
    painting.refresh_from_db()
    return painting


def stored_test_film(passage) -> str:
    """A test film of PASSAGE with its sample voice and film stored, as the render leaves one: its folder."""
    from django.core.files.base import ContentFile

    from gallery.models import PassagePreview

    preview = PassagePreview(passage=passage, status=PassagePreview.Status.READY)
    preview.sample_voice.save("voice.flac", ContentFile(b"fLaC" + bytes(64)), save=False)
    preview.video.save(f"previews/{preview.id}/film.mp4", ContentFile(b"\0\0\0\x18ftypisom"), save=False)
    preview.save()
    return f"previews/{preview.id}"


def stored(painting_id) -> list[str]:
    return storage.list_names(f"paintings/{painting_id}")


@pytest.mark.django_db(transaction=True)
def test_deleting_a_painting_deletes_its_image_copies_tiles_and_figure_crops_after_the_commit(
    festival, files_deleted_by_the_worker
):
    painting = painting_with_every_file(festival["event"])
    names = stored(painting.id)
    thumbnails = list(Figure.objects.filter(painting=painting).values_list("thumbnail", flat=True))
    assert painting.image.name in names
    assert painting.renditions and all(rendition["name"] in names for rendition in painting.renditions)
    assert thumbnails and all(thumbnail in names for thumbnail in thumbnails)
    tiles = [name for name in names if name.startswith(f"{painting.tiles['prefix']}/")]
    assert f"{painting.tiles['prefix']}/tiles.json" in tiles and len(tiles) > 2
    # A test film of one of its passages (curators' files, under previews/), and one of another painting's.
    passage = services.passage_create(
        painting=painting, title="静夜思", text=festival["chinese"].text, language="zh", max_seconds=30
    )
    test_film, kept_film = stored_test_film(passage), stored_test_film(festival["chinese"])
    other = festival["painting"]
    others = stored(other.id)
    painting_id = painting.id  # the instance forgets its id once deleted

    with transaction.atomic():
        services.painting_delete(painting=painting)
        # Until the deletion is committed, nothing is deleted: a rollback would leave a painting without files.
        assert files_deleted_by_the_worker == [] and stored(painting_id) == names
        assert len(storage.list_names(test_film)) == 2
    assert files_deleted_by_the_worker == [str(painting_id)]
    assert not Painting.objects.filter(id=painting_id).exists()
    assert stored(painting_id) == []
    assert all(not storage.exists(name) for name in names)
    assert storage.list_names(test_film) == []
    assert stored(other.id) == others and len(storage.list_names(kept_film)) == 2  # another painting's stay
    assert Client().get(f"/media/{painting.tiles['prefix']}/tiles.json").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_deletion_rolled_back_or_refused_leaves_every_file(festival, resident, files_deleted_by_the_worker):
    from contributions import services as contribution_services
    from testkit.media import CHINESE_POEM

    painting = painting_with_every_file(festival["event"])
    painting_id = painting.id
    names = stored(painting_id)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.painting_delete(painting=painting)
        raise RuntimeError("something later in the same transaction failed")
    assert Painting.objects.filter(id=painting_id).exists() and stored(painting_id) == names
    painting = Painting.objects.get(id=painting_id)

    # A passage someone has read keeps its painting (the reading is the resident's): nothing goes.
    passage = services.passage_create(
        painting=painting, title="静夜思", text=festival["chinese"].text, language="zh", max_seconds=30
    )
    Passage.objects.filter(id=passage.id).update(is_open=True)
    passage.refresh_from_db()
    contribution_services.recording_submit(
        contributor=resident, passage=passage, upload=SimpleUploadedFile("take.flac", CHINESE_POEM.read_bytes())
    )
    with pytest.raises(ProtectedError):
        services.painting_delete(painting=painting)
    assert Painting.objects.filter(id=painting.id).exists() and stored(painting.id) == names
    assert files_deleted_by_the_worker == []

    # The task itself never deletes the files of a painting that exists.
    tasks.painting_delete_files(str(painting.id))
    assert stored(painting.id) == names


@pytest.mark.django_db(transaction=True)
def test_deleting_a_painting_or_its_festival_in_the_admin_deletes_the_files(festival, files_deleted_by_the_worker):
    from accounts.models import User

    admin = User.objects.create_superuser("admin", password="admin-pass-1")
    client = Client()
    client.force_login(admin)
    painting = painting_with_every_file(festival["event"])
    painting_id = painting.id
    assert stored(painting_id)
    response = client.post(f"/admin/catalogue/painting/{painting.id}/delete/", {"post": "yes"})
    assert response.status_code == 302, response.content[:500]
    assert not Painting.objects.filter(id=painting_id).exists() and stored(painting_id) == []

    event = Event.objects.create(slug="second", title="Second festival")
    first, second = painting_with_every_file(event), painting_with_every_file(event)
    response = client.post(f"/admin/catalogue/event/{event.id}/delete/", {"post": "yes"})
    assert response.status_code == 302, response.content[:500]
    assert not Event.objects.filter(id=event.id).exists()
    assert stored(first.id) == [] and stored(second.id) == []
    assert sorted(files_deleted_by_the_worker) == sorted(str(p) for p in (painting_id, first.id, second.id))
