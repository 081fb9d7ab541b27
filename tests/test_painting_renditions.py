"""Smaller copies of each painting for pages: made after the upload, picked by the browser (srcset)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from catalogue import services, tasks
from catalogue.models import Painting


def jpeg(tmp_path, size) -> SimpleUploadedFile:
    path = tmp_path / "upload.jpg"
    Image.effect_noise(size, 40).convert("RGB").save(path, "JPEG", quality=90)
    return SimpleUploadedFile("upload.jpg", path.read_bytes())


@pytest.mark.django_db(transaction=True)
def test_an_upload_gets_smaller_copies_at_its_own_proportions_and_pages_offer_them(festival, tmp_path, media_root):
    painting = services.painting_create(event=festival["event"], title="Tall", image=jpeg(tmp_path, (1200, 1800)))
    tasks.painting_make_renditions(str(painting.id))  # what the worker runs after the commit
    painting.refresh_from_db()
    assert [(copy["width"], copy["height"]) for copy in painting.renditions] == [(240, 360), (480, 720), (960, 1440)]
    for copy in painting.renditions:
        with Image.open(media_root / copy["name"]) as image:
            assert image.size == (copy["width"], copy["height"]) and image.format == "JPEG"
    # Twice over: the same names, no second set of files.
    tasks.painting_make_renditions(str(painting.id))
    painting.refresh_from_db()
    assert sorted(path.name for path in (media_root / "paintings" / str(painting.id)).iterdir()) == [
        "image.jpg",
        "w240.jpg",
        "w480.jpg",
        "w960.jpg",
    ]
    page = Client().get(f"/paintings/{painting.id}/").content.decode()
    assert f"/media/paintings/{painting.id}/w480.jpg 480w" in page
    assert f"/media/paintings/{painting.id}/image.jpg 1200w" in page
    # Each copy is served like the painting itself.
    assert Client().get(f"/media/paintings/{painting.id}/w240.jpg").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_handscroll_is_copied_by_height_and_late_copies_of_a_replaced_image_are_not_kept(
    festival, tmp_path, media_root, monkeypatch
):
    scroll = services.painting_create(event=festival["event"], title="Scroll", image=jpeg(tmp_path, (6000, 600)))
    tasks.painting_make_renditions(str(scroll.id))
    scroll.refresh_from_db()
    assert [(copy["width"], copy["height"]) for copy in scroll.renditions] == [(2400, 240), (4800, 480)]
    event_page = Client().get(f"/events/{festival['event'].slug}/").content.decode()
    assert 'sizes="600px"' in event_page  # a 120 px tall strip, at most 600 px of it

    from catalogue import images

    replaced = services.painting_create(event=festival["event"], title="Replaced", image=jpeg(tmp_path, (800, 800)))
    make_renditions = images.make_renditions

    def replaced_meanwhile(source, folder):
        Painting.objects.filter(id=replaced.id).update(image=f"paintings/{replaced.id}/image.png")
        return make_renditions(source, folder)

    monkeypatch.setattr(images, "make_renditions", replaced_meanwhile)
    assert services.painting_make_renditions(painting_id=replaced.id) == []
    assert Painting.objects.get(id=replaced.id).renditions == []
    assert not list((media_root / "paintings" / str(replaced.id)).glob("w*.jpg"))
