"""Deep zoom (issue 22): each painting's tile pyramid, made by a worker after the upload, served as public
media; a long handscroll is browsed from the tiles in view, never from one huge copy."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from django.core.files import File
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from catalogue import images, services, tasks
from catalogue.models import Painting


def smooth_image(width: int, height: int) -> Image.Image:
    """Broad gradients and waves: JPEG keeps them faithfully, so a tile can be compared to its region."""
    x = np.linspace(0, 1, width, dtype=np.float32)[None, :]
    y = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    red = 255 * x * np.ones_like(y)
    green = 255 * y * np.ones_like(x)
    blue = 127 + 120 * np.sin(2 * np.pi * (3 * x + 2 * y))
    return Image.fromarray(np.stack([red, green, blue], axis=-1).astype(np.uint8), "RGB")


def upload(tmp_path, width: int, height: int, name: str = "upload.jpg") -> SimpleUploadedFile:
    path = tmp_path / name
    smooth_image(width, height).save(path, "JPEG", quality=95)
    return SimpleUploadedFile(name, path.read_bytes())


def difference(first: Image.Image, second: Image.Image) -> float:
    return float(np.abs(np.asarray(first, dtype=float) - np.asarray(second, dtype=float)).mean())


def test_a_scrolls_levels_halve_down_to_one_tile():
    levels = images.tile_levels(20_000, 2_000, 256)
    assert [(level["width"], level["height"]) for level in levels] == [
        (157, 16),
        (313, 32),
        (625, 63),
        (1250, 125),
        (2500, 250),
        (5000, 500),
        (10000, 1000),
        (20000, 2000),
    ]
    assert (levels[0]["columns"], levels[0]["rows"]) == (1, 1)
    assert (levels[-1]["columns"], levels[-1]["rows"]) == (79, 8)
    assert images.tile_levels(200, 100, 256) == [{"level": 0, "width": 200, "height": 100, "columns": 1, "rows": 1}]


@pytest.mark.django_db(transaction=True)
def test_each_tile_shows_its_region_of_the_painting_at_its_level(festival, tmp_path, media_root):
    painting = services.painting_create(event=festival["event"], title="Scroll", image=upload(tmp_path, 1500, 300))
    tasks.painting_make_tiles(str(painting.id))  # what the worker runs after the commit
    painting.refresh_from_db()
    descriptor = painting.tiles
    assert (descriptor["width"], descriptor["height"], descriptor["tile_size"]) == (1500, 300, 256)
    prefix = descriptor["prefix"]
    assert prefix.startswith(f"paintings/{painting.id}/tiles/")
    assert json.loads((media_root / prefix / "tiles.json").read_text()) == descriptor
    with Image.open(media_root / painting.image.name) as stored:
        original = stored.convert("RGB")
    made = sorted(path.relative_to(media_root / prefix).as_posix() for path in (media_root / prefix).rglob("*.jpg"))
    expected = []
    for level in descriptor["levels"]:
        # Each level is the original divided by a power of two (its last row and column may be partial).
        divisor = 2 ** (descriptor["levels"][-1]["level"] - level["level"])
        for column in range(level["columns"]):
            for row in range(level["rows"]):
                expected.append(f"{level['level']}/{column}_{row}.jpg")
                with Image.open(media_root / prefix / str(level["level"]) / f"{column}_{row}.jpg") as tile:
                    tile = tile.convert("RGB")
                left, top = column * 256, row * 256
                assert tile.size == (min(256, level["width"] - left), min(256, level["height"] - top))
                # The same region of the painting, drawn at the level's scale.
                right, bottom = min(1500, (left + tile.width) * divisor), min(300, (top + tile.height) * divisor)
                region = original.crop((left * divisor, top * divisor, right, bottom))
                region = region.resize(tile.size, Image.Resampling.BOX)
                # JPEG's own loss is about 2-5 levels of 255 here; a tile from the wrong place differs by ~100.
                assert difference(tile, region) < 6.0, (level, column, row)
    assert sorted(expected) == made
    # The last level is the original's own pixels, the first one tile for the whole painting.
    assert descriptor["levels"][-1]["width"] == 1500 and descriptor["levels"][0]["columns"] == 1
    # Public like the painting itself, through the media route.
    tile = Client().get(f"/media/{prefix}/{descriptor['levels'][-1]['level']}/5_1.jpg")
    assert tile.status_code == 200 and tile["Content-Type"] == "image/jpeg"
    assert Client().get(f"/media/{prefix}/tiles.json").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_making_tiles_twice_keeps_the_same_tiles_and_a_new_image_replaces_them(
    festival, tmp_path, media_root, monkeypatch
):
    painting = services.painting_create(event=festival["event"], title="Scroll", image=upload(tmp_path, 1200, 400))
    first = services.painting_make_tiles(painting_id=painting.id)
    root = media_root / "paintings" / str(painting.id) / "tiles"
    files = sorted(path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file())
    tile = (root / files[0]).read_bytes()
    second = services.painting_make_tiles(painting_id=painting.id)
    assert second == first
    assert sorted(path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()) == files
    assert (root / files[0]).read_bytes() == tile

    # A new image: its own folder of tiles, the old image's gone.
    with (tmp_path / "wider.jpg").open("wb") as handle:
        smooth_image(900, 300).save(handle, "JPEG", quality=95)
    with (tmp_path / "wider.jpg").open("rb") as handle:
        painting.image.save("image.jpg", File(handle), save=True)
    third = services.painting_make_tiles(painting_id=painting.id)
    assert third["prefix"] != first["prefix"] and (third["width"], third["height"]) == (900, 300)
    assert not any((media_root / first["prefix"]).rglob("*"))
    assert {path.name for path in root.iterdir()} == {third["prefix"].rsplit("/", 1)[-1]}

    # A late worker whose image was replaced meanwhile keeps nothing of what it made.
    make_tiles = images.make_tiles

    def replaced_meanwhile(source, folder, **kwargs):
        made = make_tiles(source, folder, **kwargs)
        Painting.objects.filter(id=painting.id).update(image="paintings/elsewhere/image.jpg")
        return made

    monkeypatch.setattr(images, "make_tiles", replaced_meanwhile)
    assert services.painting_make_tiles(painting_id=painting.id) == {}
    kept = Painting.objects.values_list("tiles", flat=True).get(id=painting.id)
    assert kept == third  # the row is not paired with tiles of an image it no longer has
    assert not any((media_root / third["prefix"]).rglob("*.jpg"))


@pytest.mark.slow
def test_a_20000_px_scrolls_pyramid_is_made_from_one_decode_within_memory(tmp_path):
    """A benchmark print, not a timed test: peak memory and time of a 20,000 x 2,000 scroll's pyramid."""
    source = tmp_path / "scroll.jpg"
    smooth_image(20_000, 2_000).save(source, "JPEG", quality=90)
    child = textwrap.dedent(
        f"""
        import json, re, time
        from pathlib import Path
        from catalogue import images
        def high_water_mark():  # this process's peak resident memory, in kB (ru_maxrss outlives exec)
            return int(re.search(r"VmHWM:\\s+(\\d+)", Path("/proc/self/status").read_text()).group(1))
        before = high_water_mark()
        started = time.perf_counter()
        descriptor = images.make_tiles(Path({str(source)!r}), Path({str(tmp_path / "tiles")!r}))
        seconds = time.perf_counter() - started
        peak = high_water_mark()
        tiles = sum(level["columns"] * level["rows"] for level in descriptor["levels"])
        print(json.dumps({{"before_mb": before / 1024, "peak_mb": peak / 1024, "seconds": seconds, "tiles": tiles}}))
        """
    )
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, check=True, cwd=".")
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    with open("/proc/loadavg") as handle:
        load = handle.read().split()[:3]
    print(
        f"\n20,000 x 2,000 scroll: {figures['tiles']} tiles in {figures['seconds']:.1f} s, peak RSS "
        f"{figures['peak_mb']:.0f} MB (interpreter and Pillow alone {figures['before_mb']:.0f} MB), "
        f"{time.perf_counter() - started:.1f} s with start-up, load {' '.join(load)}"
    )
    assert figures["peak_mb"] < 1500
    assert figures["tiles"] == sum(level["columns"] * level["rows"] for level in images.tile_levels(20_000, 2_000))


@pytest.mark.django_db
def test_the_curators_page_asks_once_for_the_tiles_of_a_painting_made_before_tiles(
    festival, groups, monkeypatch, django_capture_on_commit_callbacks
):
    """An older painting (no tiles) gets them when a curator opens it; page views do not pile up messages."""
    from accounts.models import User

    sent = []
    monkeypatch.setattr(tasks.painting_make_tiles, "delay", sent.append)
    curator = User.objects.create_user("curator", password="curator-pass-1")
    curator.groups.add(groups["curators"])
    festival["event"].curators.add(curator)
    client = Client()
    client.force_login(curator)
    painting = festival["painting"]
    assert painting.tiles == {}
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            assert client.get(f"/curation/paintings/{painting.id}/").status_code == 200
    assert sent == [str(painting.id)]


@pytest.mark.django_db(transaction=True)
def test_a_handscrolls_public_page_shows_the_viewer_once_its_tiles_are_made(festival, tmp_path, media_root):
    """Anonymous pages come from the cache: the tiles being kept retires them (no post_save announces it)."""
    scroll = services.painting_create(event=festival["event"], title="Scroll", image=upload(tmp_path, 3000, 400))
    square = services.painting_create(event=festival["event"], title="Square", image=upload(tmp_path, 800, 800))
    before = Client().get(f"/paintings/{scroll.id}/").content.decode()
    assert "data-deep-zoom" not in before and 'class="painting"' in before
    tasks.painting_make_tiles(str(scroll.id))
    tasks.painting_make_tiles(str(square.id))
    page = Client().get(f"/paintings/{scroll.id}/").content.decode()
    prefix = Painting.objects.get(id=scroll.id).tiles["prefix"]
    assert "data-deep-zoom" in page and f'data-tiles-url="/media/{prefix}"' in page
    assert 'data-width="3000" data-height="400"' in page and "js/deep_zoom" in page
    # A painting that is not a handscroll keeps its picture.
    assert "data-deep-zoom" not in Client().get(f"/paintings/{square.id}/").content.decode()
