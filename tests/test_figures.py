"""The figures of a painting (issue 22): found or placed, numbered in reading order, named, hidden,
corrected, cast to passages, and each passage's film spoken by the figure cast for it."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from django.test import Client
from PIL import Image

from catalogue import selectors as catalogue_selectors
from catalogue import services as catalogue_services
from catalogue.models import Figure, Painting, Passage
from testkit.media import PORTRAIT_PAIR, portraits_side_by_side


@pytest.fixture
def curator(db, groups, festival):
    from accounts.models import User

    user = User.objects.create_user("curator", password="curator-pass-1", display_name="Zhang Wei")
    user.groups.add(groups["curators"])
    festival["event"].curators.add(user)  # curators are per festival
    return user


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def face_at(x: float, y: float, size: float = 60.0) -> dict:
    """A face as the engine reports it, its box at (x, y): the template's key points moved there."""
    template = catalogue_services.landmarks_template(width=1000, height=1000)["landmarks"]
    scale = size / 300.0  # the template's face is 0.3 of 1,000 px
    landmarks = {
        name: [[x + size / 2 + (px - 500) * scale, y + size / 2 + (py - 500) * scale] for px, py in points]
        for name, points in template.items()
    }
    return {"box": [x, y, size, size], "score": 0.9, "landmarks": landmarks}


@pytest.fixture
def scroll(festival):
    """A handscroll 3,000 x 600 (its pixels do not matter to these tests: only its shape does)."""
    painting = festival["painting"]
    Painting.objects.filter(id=painting.id).update(width=3000, height=600)
    painting.refresh_from_db()
    return painting


@pytest.mark.django_db
def test_detection_makes_figures_numbered_left_to_right_on_a_handscroll(scroll):
    # Detection reports faces in its own order (by score, tile by tile): not the order an eye reads.
    catalogue_services.painting_record_faces(
        painting_id=scroll.id, faces=[face_at(2000, 100), face_at(300, 200), face_at(1200, 150)]
    )
    figures = catalogue_selectors.painting_figures(painting=scroll)
    assert [figure.box[0] for figure in figures] == [300, 1200, 2000]
    assert [figure.number for figure in figures] == [1, 2, 3]
    scroll.refresh_from_db()
    assert scroll.face_status == Painting.FaceStatus.FOUND


@pytest.mark.django_db
def test_a_hanging_scroll_numbers_its_figures_top_to_bottom(festival):
    painting = festival["painting"]
    Painting.objects.filter(id=painting.id).update(width=600, height=3000)
    catalogue_services.painting_record_faces(
        painting_id=painting.id, faces=[face_at(100, 2000), face_at(400, 300), face_at(50, 1200)]
    )
    figures = catalogue_selectors.painting_figures(painting=painting)
    assert [figure.box[1] for figure in figures] == [300, 1200, 2000]


@pytest.mark.django_db
def test_looking_again_keeps_what_the_curator_did_and_drops_only_untouched_figures(scroll):
    catalogue_services.painting_record_faces(
        painting_id=scroll.id,
        faces=[face_at(300, 200), face_at(1200, 150), face_at(2000, 100), face_at(2600, 100)],
    )
    first, second, third, fourth = catalogue_selectors.painting_figures(painting=scroll)
    catalogue_services.figure_update(figure=second, name="韩熙载", name_en="Han Xizai")
    catalogue_services.figure_update(figure=third, name="", hidden=True)
    corrected = face_at(310, 205)
    catalogue_services.figure_save_landmarks(painting=scroll, landmarks=corrected, figure_id=first.id)
    placed = catalogue_services.figure_save_landmarks(painting=scroll, landmarks=face_at(1600, 300))

    # Looking again: the faces come back a little moved, the named one is missed this time, a new one
    # appears, and the untouched fourth is no longer found.
    catalogue_services.painting_record_faces(
        painting_id=scroll.id, faces=[face_at(304, 203), face_at(2004, 98), face_at(800, 250)]
    )
    figures = {figure.id: figure for figure in Figure.objects.filter(painting=scroll)}
    assert set(figures) == {first.id, second.id, third.id, placed.id} | {
        figure.id for figure in figures.values() if figure.box[0] == 800
    }
    assert fourth.id not in figures
    kept_mouth = np.array(figures[first.id].face["landmarks"]["mouth_outer"])
    assert figures[first.id].corrected and np.allclose(kept_mouth, corrected["landmarks"]["mouth_outer"], atol=0.1)
    assert figures[second.id].name == "韩熙载" and figures[second.id].name_en == "Han Xizai"
    assert figures[third.id].hidden and figures[third.id].box[0] == 2004  # untouched key points follow detection
    assert figures[placed.id].origin == Figure.Origin.PLACED
    assert len(figures) == 5
    scroll.refresh_from_db()
    assert scroll.face_status == Painting.FaceStatus.MANUAL


@pytest.mark.django_db
def test_a_hand_placed_figure_speaks_only_the_passages_cast_to_it(scroll, festival, curator):
    """The bug curators met: placing a missed face by hand made it speak every passage of the painting."""
    catalogue_services.painting_record_faces(painting_id=scroll.id, faces=[face_at(300, 200), face_at(1200, 150)])
    client = logged_in(curator)
    saved = client.post(
        f"/curation/paintings/{scroll.id}/landmarks/",
        {"landmarks": face_at(2200, 120)["landmarks"]},
        content_type="application/json",
    )
    assert saved.status_code == 200, saved.content
    placed = Figure.objects.get(id=saved.json()["figure"])
    _first, second, third = catalogue_selectors.painting_figures(painting=scroll)
    assert third.id == placed.id and third.origin == Figure.Origin.PLACED

    # The menu offers every figure, the hand-placed one too, by number and name.
    client.post(f"/curation/figures/{second.id}/", {"name": "琵琶女", "name_en": "The pipa player"})
    page = client.get(f"/curation/paintings/{scroll.id}/").content.decode()
    assert "2 · 琵琶女 (The pipa player)" in page and f'value="{placed.id}"' in page
    for passage, figure in ((festival["chinese"], second), (festival["english"], placed)):
        response = client.post(
            f"/curation/passages/{passage.id}/",
            {"title": passage.title, "text": passage.text, "language": passage.language, "max_seconds": 30,
             "figure": str(figure.id), "aspect": "16:9", "push_in": "on"},
        )  # fmt: skip
        assert response.status_code == 302, response.content.decode()[:2000]
    chinese, english = (Passage.objects.get(id=festival[key].id) for key in ("chinese", "english"))
    assert catalogue_selectors.speaking_figure(passage=chinese).id == second.id
    assert catalogue_selectors.speaking_figure(passage=english).id == placed.id
    assert chinese.aspect == "16:9" and chinese.push_in

    # Correcting the placed figure again changes that figure, not another one, and not a new one.
    again = client.post(
        f"/curation/paintings/{scroll.id}/landmarks/",
        {"landmarks": face_at(2210, 125)["landmarks"], "figure": str(placed.id)},
        content_type="application/json",
    )
    assert again.json()["figure"] == str(placed.id)
    assert Figure.objects.filter(painting=scroll).count() == 3
    assert catalogue_selectors.speaking_figure(passage=chinese).id == second.id


@pytest.mark.django_db
def test_a_figure_that_speaks_cannot_be_hidden_and_a_hidden_one_cannot_be_cast(scroll, festival, curator):
    catalogue_services.painting_record_faces(painting_id=scroll.id, faces=[face_at(300, 200), face_at(1200, 150)])
    first, second = catalogue_selectors.painting_figures(painting=scroll)
    catalogue_services.passage_update(passage=festival["chinese"], figure=first)
    client = logged_in(curator)
    refused = client.post(f"/curation/figures/{first.id}/", {"name": "", "hidden": "on"}, follow=True)
    assert "cast another figure for it first" in refused.content.decode()
    first.refresh_from_db()
    assert not first.hidden

    client.post(f"/curation/figures/{second.id}/", {"name": "", "hidden": "on"})
    with pytest.raises(catalogue_services.CurationError):
        second.refresh_from_db()
        catalogue_services.passage_update(passage=festival["english"], figure=second)
    page = client.get(f"/curation/passages/{festival['english'].id}/").content.decode()
    assert f'value="{second.id}"' not in page and f'value="{first.id}"' in page
    # With no figure cast, the first that may speak speaks: never a hidden one.
    assert catalogue_selectors.speaking_figure(passage=festival["english"]).id == first.id


@pytest.mark.django_db
def test_recasting_or_correcting_the_speaker_closes_the_passage_until_a_new_test_film(scroll, festival):
    catalogue_services.painting_record_faces(painting_id=scroll.id, faces=[face_at(300, 200), face_at(1200, 150)])
    first, second = catalogue_selectors.painting_figures(painting=scroll)
    passage = festival["chinese"]
    Passage.objects.filter(id=passage.id).update(figure=first, is_open=True)
    passage.refresh_from_db()
    catalogue_services.passage_update(passage=passage, figure=second)
    assert passage.is_open is False

    Passage.objects.filter(id=passage.id).update(is_open=True)
    catalogue_services.figure_save_landmarks(painting=scroll, landmarks=face_at(1210, 160), figure_id=second.id)
    passage.refresh_from_db()
    assert passage.is_open is False


@pytest.mark.django_db
def test_a_removed_hand_placed_figure_goes_and_a_corrected_one_returns_to_detection(scroll):
    catalogue_services.painting_record_faces(painting_id=scroll.id, faces=[face_at(300, 200)])
    detected = Figure.objects.get(painting=scroll)
    catalogue_services.figure_save_landmarks(painting=scroll, landmarks=face_at(320, 210), figure_id=detected.id)
    placed = catalogue_services.figure_save_landmarks(painting=scroll, landmarks=face_at(2000, 100))
    catalogue_services.figure_remove(figure=placed)
    assert not Figure.objects.filter(id=placed.id).exists()
    detected.refresh_from_db()
    catalogue_services.figure_remove(figure=detected)
    detected.refresh_from_db()
    assert not detected.corrected and detected.box[0] == 300
    scroll.refresh_from_db()
    assert scroll.face_status == Painting.FaceStatus.FOUND


@pytest.mark.django_db
def test_the_curators_page_asks_for_missing_crops_once_not_on_every_view(
    festival, curator, monkeypatch, django_capture_on_commit_callbacks
):
    """With the worker down, the crops stay missing: page views must not pile up messages for them."""
    from catalogue import tasks as catalogue_tasks

    sent = []
    monkeypatch.setattr(catalogue_tasks.painting_make_figure_thumbnails, "delay", sent.append)
    painting = festival["painting"]
    catalogue_services.painting_record_faces(painting_id=painting.id, faces=[face_at(100, 100, 100)])
    client = logged_in(curator)
    for _ in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            assert client.get(f"/curation/paintings/{painting.id}/").status_code == 200
    assert sent == [str(painting.id)]


@pytest.mark.django_db
def test_each_figure_gets_a_crop_of_its_face_for_the_strip_and_the_record_page(festival, curator, resident):
    painting = festival["painting"]
    with Image.open(painting.image.path) as image:
        width, height = image.size
    catalogue_services.painting_record_faces(painting_id=painting.id, faces=[face_at(width * 0.3, height * 0.2, 100)])
    figure = Figure.objects.get(painting=painting)
    catalogue_services.painting_make_figure_thumbnails(painting_id=painting.id)
    figure.refresh_from_db()
    assert figure.thumbnail.startswith(f"paintings/{painting.id}/figures/{figure.id}-")
    served = Client().get(f"/media/{figure.thumbnail}")
    assert served.status_code == 200
    crop = Image.open(__import__("io").BytesIO(b"".join(served.streaming_content)))
    assert crop.height <= 160 and 0.8 < crop.width / crop.height < 1.25
    # Its pixels are the painting's around the face (compared at the crop's size).
    with Image.open(painting.image.path) as image:
        side = 100 * 1.9
        left, top = width * 0.3 + 50 - side / 2, height * 0.2 + 50 - side / 2
        expected = image.convert("RGB").crop((round(left), round(top), round(left + side), round(top + side)))
    expected = np.asarray(expected.resize(crop.size), dtype=np.float32)
    assert np.abs(np.asarray(crop.convert("RGB"), dtype=np.float32) - expected).mean() < 12
    # Running it again crops nothing more; moving the face crops it again, and the old crop goes.
    assert catalogue_services.painting_make_figure_thumbnails(painting_id=painting.id) == 0
    old = figure.thumbnail
    catalogue_services.figure_save_landmarks(
        painting=painting, landmarks=face_at(width * 0.5, height * 0.3, 100), figure_id=figure.id
    )
    assert catalogue_services.painting_make_figure_thumbnails(painting_id=painting.id) == 1
    figure.refresh_from_db()
    assert figure.thumbnail != old and Client().get(f"/media/{old}").status_code == 404

    # The resident sees who will speak their reading, by name, with the face.
    catalogue_services.figure_update(figure=figure, name="仕女", name_en="A court lady")
    passage = festival["chinese"]
    Passage.objects.filter(id=passage.id).update(figure=figure, is_open=True)
    record = logged_in(resident).get(f"/record/{passage.id}/").content.decode()
    assert 'id="speaker"' in record and "仕女" in record and figure.thumbnail in record


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_test_film_moves_the_mouth_of_the_figure_cast_not_the_first_one(festival, curator, tmp_path):
    """Two portraits side by side: the passage is cast to the right-hand figure, and the film moves there."""
    import cv2
    from django.core.files import File

    from animation.engine.faces import find_faces
    from catalogue import tasks as catalogue_tasks
    from gallery import tasks
    from gallery.models import PassagePreview
    from testkit.media import CHINESE_POEM

    pair_path = tmp_path / "pair.jpg"
    pair = portraits_side_by_side(pair_path, PORTRAIT_PAIR, height=400)
    painting = festival["painting"]
    with pair_path.open("rb") as handle:
        painting.image.save("pair.jpg", File(handle), save=True)
    catalogue_tasks.painting_detect_faces(str(painting.id))
    figures = catalogue_selectors.painting_figures(painting=painting)
    assert len(figures) == 2, [figure.box for figure in figures]
    cast = figures[1]
    assert cast.box[0] > pair.width * 0.4  # the portrait on the right
    passage = festival["chinese"]
    catalogue_services.passage_update(passage=passage, figure=cast)

    client = logged_in(curator)
    with CHINESE_POEM.open("rb") as handle:
        client.post(f"/curation/passages/{passage.id}/", {"action": "preview", "sample_voice": handle})
    preview = PassagePreview.objects.get(passage=passage)
    tasks.passage_preview_render(str(preview.id))
    preview.refresh_from_db()
    assert preview.status == PassagePreview.Status.READY, preview.error

    film = tmp_path / "film.mp4"
    film.write_bytes(b"".join(client.get(f"/curation/previews/{preview.id}/video/").streaming_content))
    capture = cv2.VideoCapture(str(film))
    frames = []
    while len(frames) < 200:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY).astype(np.float32))
    assert len(frames) > 50
    variation = cv2.GaussianBlur(np.std(frames, axis=0), (0, 0), 3)
    y, x = np.unravel_index(np.argmax(variation), variation.shape)
    # Where the film moves most, in the painting's pixels: the cast figure's mouth, not the other's.
    _, found = find_faces(pair_path)
    mouths = sorted((face.landmarks["mouth_outer"].mean(0) for face in found), key=lambda mouth: mouth[0])
    scale = pair.width / variation.shape[1]
    moving = np.array([x, y]) * scale
    assert np.hypot(*(moving - mouths[-1])) < np.hypot(*(moving - mouths[0])) / 3


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("size", ["laptop", "phone"])
@pytest.mark.django_db(transaction=True)
def test_a_curator_sees_the_scrolls_figures_names_one_and_casts_it(
    size, asgi_live_server, festival, groups, resident, chromium_path, tmp_path
):
    from django.core.files import File

    from accounts.models import User
    from catalogue import tasks as catalogue_tasks
    from testkit.browser import LAPTOP, PHONE, chromium, horizontal_overflow, log_in, show_figure_from_its_thumb

    curator = User.objects.create_user("curator", password="curator-pass-1")
    curator.groups.add(groups["curators"])
    festival["event"].curators.add(curator)
    painting = festival["painting"]
    path = tmp_path / "scroll.jpg"
    # A handscroll-shaped painting: the five demo portraits side by side, five figures to find.
    five = ("art_2.jpg", "art_10.jpg", "art_12.jpg", "art_15.jpg", "art_7.jpg")
    portraits_side_by_side(path, five, height=1000, quality=90)
    with path.open("rb") as handle:
        painting.image.save("scroll.jpg", File(handle), save=True)
    catalogue_tasks.painting_detect_faces(str(painting.id))  # the worker's task: real detection
    figures = catalogue_selectors.painting_figures(painting=painting)
    assert len(figures) >= 4, [figure.box for figure in figures]
    catalogue_tasks.painting_make_figure_thumbnails(str(painting.id))
    catalogue_services.painting_make_renditions(painting_id=painting.id)

    with chromium(chromium_path) as browser:
        page = browser.new_page(**{"laptop": LAPTOP, "phone": PHONE}[size])
        log_in(page, asgi_live_server.url, username="curator", password="curator-pass-1", next_path="/curation/")
        page.goto(f"{asgi_live_server.url}/curation/paintings/{painting.id}/")
        assert horizontal_overflow(page) == 0
        # The scroll is shown at a height a face can be seen at, scrolling sideways inside its frame.
        drawn = page.locator("#painting-overview img.painting").bounding_box()
        assert drawn["height"] >= 300 and drawn["width"] > page.viewport_size["width"]
        # Numbered left to right; no number hides another.
        labels = page.eval_on_selector_all(
            "#painting-overview .face-box span",
            """spans => spans.map(s => { const b = s.getBoundingClientRect();
                                         return [+s.textContent, b.x, b.y, b.width, b.height]; })""",
        )
        assert [label[0] for label in sorted(labels, key=lambda label: label[1])] == list(range(1, len(figures) + 1))
        for first, second in itertools.combinations(labels, 2):
            apart = first[1] + first[3] <= second[1] or second[1] + second[3] <= first[1]
            assert apart or first[2] + first[4] <= second[2] or second[2] + second[4] <= first[2], (first, second)
        # Each box is drawn on its face: its centre where the figure's face is on the drawn painting.
        shown = page.locator("#painting-overview img.painting").bounding_box()
        for figure in figures:
            box = page.locator(f"#box-{figure.id}").bounding_box()
            x, y, w, h = figure.box
            expected = (shown["x"] + (x + w / 2) * shown["width"] / painting.width,
                        shown["y"] + (y + h / 2) * shown["height"] / painting.height)  # fmt: skip
            centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            assert abs(centre[0] - expected[0]) < 0.02 * shown["width"] + 3, (figure.number, centre, expected)
            assert abs(centre[1] - expected[1]) < 0.02 * shown["height"] + 3, (figure.number, centre, expected)
            assert box["width"] == pytest.approx(w * shown["width"] / painting.width, abs=0.02 * shown["width"] + 2)
        # The scroll is drawn from one of its smaller copies, never the full scan; zooming in draws it
        # twice as tall, from a copy sharp enough for that.
        page.wait_for_function("() => document.querySelector('#painting-overview img.painting').complete")
        source = page.eval_on_selector("#painting-overview img.painting", "img => img.currentSrc")
        assert "/w" in source and "image" not in source.rsplit("/", 1)[-1], source
        page.click("#overview-zoom [data-zoom=in]")
        page.wait_for_function(
            "() => document.querySelector('#painting-overview img.painting').getBoundingClientRect().height > 800"
        )
        page.wait_for_function("() => document.querySelector('#painting-overview img.painting').complete")
        source = page.eval_on_selector("#painting-overview img.painting", "img => img.currentSrc")
        painting.refresh_from_db()
        copies = {copy["name"].rsplit("/", 1)[-1]: copy["height"] for copy in painting.renditions}
        taken = copies.get(source.rsplit("/", 1)[-1], painting.height)  # not a copy: the original
        assert taken >= min(painting.height, 840 * (2 if size == "phone" else 1)), (source, copies)
        page.click("#overview-zoom [data-zoom=out]")
        # The strip shows each face, in the same order.
        # (Lazily loaded: each is looked at where it is.)
        thumbs = page.locator("#figure-strip .figure-thumb img")
        assert thumbs.count() == len(figures)
        for index in range(thumbs.count()):
            thumbs.nth(index).scroll_into_view_if_needed()
            assert thumbs.nth(index).evaluate("img => img.decode().then(() => img.naturalWidth)") > 0
        # The last face in the strip shows where it stands: the overview scrolls to its box.
        last = figures[-1]
        show_figure_from_its_thumb(page, last.id)
        # Name it, and cast it to the Chinese passage.
        card = page.locator(f"#figure-{last.id}")
        card.locator("input[name=name]").fill("韩熙载")
        card.locator("input[name=name_en]").fill("Han Xizai")
        card.locator("button[type=submit]").first.click()
        page.wait_for_load_state()
        assert page.locator(f"#figure-{last.id} input[name=name]").input_value() == "韩熙载"
        page.goto(f"{asgi_live_server.url}/curation/passages/{festival['chinese'].id}/")
        page.select_option("select[name=figure]", str(last.id))
        page.locator("form:has(select[name=figure]) button[type=submit]").first.click()
        page.wait_for_load_state()
    passage = Passage.objects.get(id=festival["chinese"].id)
    assert passage.figure_id == last.id

    # The resident picking the passage sees who will speak it.
    Passage.objects.filter(id=passage.id).update(is_open=True)
    with chromium(chromium_path) as browser:
        page = browser.new_page(**{"laptop": LAPTOP, "phone": PHONE}[size])
        log_in(page, asgi_live_server.url, username=resident.username, password="resident-pass-1", next_path="/")
        page.goto(f"{asgi_live_server.url}/record/{passage.id}/")
        speaker = page.locator("#speaker")
        assert "韩熙载" in speaker.inner_text()
        assert page.eval_on_selector("#speaker img", "img => img.naturalWidth") > 0
        assert horizontal_overflow(page) == 0


@pytest.mark.django_db
def test_the_passage_page_shows_what_the_film_frames(scroll, festival, curator):
    import re

    catalogue_services.painting_record_faces(painting_id=scroll.id, faces=[face_at(300, 200), face_at(2000, 150)])
    second = catalogue_selectors.painting_figures(painting=scroll)[1]
    passage = festival["chinese"]
    catalogue_services.passage_update(passage=passage, figure=second, aspect="16:9", push_in=True)
    page = logged_in(curator).get(f"/curation/passages/{passage.id}/").content.decode()
    crop = re.search(
        r'id="framing-crop" style="left: ([\d.]+)%; top: ([\d.]+)%; width: ([\d.]+)%; height: ([\d.]+)%"', page
    )
    assert crop, page[:3000]
    left, _top, width, height = (float(value) for value in crop.groups())
    # A wide-screen frame around the second figure, in painting pixels.
    assert (width * scroll.width) / (height * scroll.height) == pytest.approx(16 / 9, rel=0.03)
    centre = (left + width / 2) * scroll.width / 100
    assert abs(centre - (2000 + 30)) < 0.25 * width * scroll.width / 100
    assert "is-scene" in page  # the push-in's opening view


def test_a_figure_says_whether_it_is_seen_from_the_front_three_quarters_or_the_side():
    frontal = Figure(face=face_at(100, 100))
    assert frontal.view == "frontal"
    turned = face_at(100, 100)
    left = np.mean([x for x, _y in turned["landmarks"]["left_eye"]])
    right = np.mean([x for x, _y in turned["landmarks"]["right_eye"]])
    for where, view in ((0.15, "three-quarter"), (0.95, "three-quarter"), (1.4, "profile"), (-0.5, "profile")):
        nose = min(left, right) + where * abs(left - right)
        turned["landmarks"]["nose_tip"] = [[nose, turned["landmarks"]["nose_tip"][0][1]]]
        assert Figure(face=turned).view == view, where


@pytest.mark.django_db
def test_a_curator_keeps_a_paintings_heads_gentle_or_still(festival, curator):
    from animation.engine.motion import HeadRange

    painting = festival["painting"]
    response = logged_in(curator).post(
        f"/curation/paintings/{painting.id}/",
        {"action": "story", "title": painting.title, "head_motion": "still"},
    )
    assert response.status_code == 302
    painting.refresh_from_db()
    assert painting.head_motion == "still"
    assert HeadRange.of(painting.head_range()) == HeadRange(yaw=0, pitch=0, roll=0)
    for choice, _label in Painting._meta.get_field("head_motion").choices:
        painting.head_motion = choice
        limits = HeadRange.of(painting.head_range())  # every choice is a range the engine takes
        assert limits.yaw <= HeadRange().yaw
