"""A dialogue film from two residents' readings (issue 22): each reads one role, both are approved, the
worker's tasks make one film in which each figure speaks its own lines, the card credits both readers
and the subtitles say who speaks each line."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
from django.core.files import File
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from animation.models import Animation
from catalogue import selectors as catalogue_selectors
from catalogue import services as catalogue_services
from catalogue.models import Passage
from contributions import services as contribution_services
from testkit.media import CHINESE_POEM, PORTRAIT_PAIR, ffmpeg, grey_frames, portraits_side_by_side, region_motion

# The demo recitation is the poem 静夜思: its two couplets become the two roles' lines.
SCRIPT = "宝玉：床前明月光，疑是地上霜。\n黛玉：举头望明月，低头思故乡。"


def halves_of_the_poem(folder) -> tuple:
    """The recitation cut at its quietest moment near the middle: the first couplet and the second."""
    from animation.engine.audio import decode_audio

    samples = decode_audio(CHINESE_POEM, sample_rate=16000)
    frame = 320  # 20 ms
    energy = np.array([np.mean(samples[i : i + frame] ** 2) for i in range(0, samples.size - frame, frame)])
    middle = energy.size // 2
    window = slice(middle - 40, middle + 40)
    split = (window.start + int(np.argmin(energy[window]))) * frame / 16000
    first, second = folder / "first.flac", folder / "second.flac"
    for path, cut in ((first, ["-t", f"{split:.3f}"]), (second, ["-ss", f"{split:.3f}"])):
        subprocess.run([ffmpeg(), "-v", "error", "-y", "-i", str(CHINESE_POEM), *cut, str(path)], check=True)
    return first, second


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_residents_read_a_dialogue_and_each_figure_speaks_its_own_lines(
    festival, resident, other_resident, moderator, tmp_path
):
    from animation import tasks as animation_tasks
    from animation.engine.faces import find_faces
    from catalogue import tasks as catalogue_tasks
    from gallery.events import animation_card

    # Two figures side by side.
    pair_path = tmp_path / "pair.jpg"
    pair = portraits_side_by_side(pair_path, PORTRAIT_PAIR, height=400)
    painting = festival["painting"]
    with pair_path.open("rb") as handle:
        painting.image.save("pair.jpg", File(handle), save=True)
    catalogue_tasks.painting_detect_faces(str(painting.id))
    figures = catalogue_selectors.painting_figures(painting=painting)
    assert len(figures) == 2

    passage = catalogue_services.passage_create(
        painting=painting, title="静夜思 · 对读", text=SCRIPT, language="zh", max_seconds=30, kind="dialogue",
        camera="wide",  # both figures in the frame throughout: the mouths are measured where they stand
    )  # fmt: skip
    baoyu, daiyu = passage.roles.order_by("order")
    catalogue_services.dialogue_role_cast(role=baoyu, figure=figures[0])
    catalogue_services.dialogue_role_cast(role=daiyu, figure=figures[1])
    Passage.objects.filter(id=passage.id).update(is_open=True)
    passage.refresh_from_db()

    first, second = halves_of_the_poem(tmp_path)
    readings = []
    for user, role, take in ((resident, baoyu, first), (other_resident, daiyu, second)):
        readings.append(
            contribution_services.recording_submit(
                contributor=user, passage=passage, role=role,
                upload=SimpleUploadedFile(take.name, take.read_bytes()),
            )
        )  # fmt: skip
    for reading in readings:
        contribution_services.recording_approve(recording=reading, moderator=moderator)
    film = Animation.objects.filter(voices__isnull=False, recording__passage=passage).distinct().get()
    # What the workers run (here, one after the other).
    animation_tasks.animation_align(str(film.id))
    animation_tasks.animation_render(str(film.id))
    film.refresh_from_db()
    assert film.status == Animation.Status.PUBLISHED, film.error

    card = animation_card(film)
    assert "Li Ming (宝玉)" in card["reader"] and "(黛玉)" in card["reader"]
    subtitles = b"".join(Client().get(card["subtitles_url"]).streaming_content).decode()
    assert "<v 宝玉>" in subtitles and "<v 黛玉>" in subtitles
    assert subtitles.index("<v 宝玉>") < subtitles.index("<v 黛玉>")
    page = Client().get(f"/animations/{film.id}/").content.decode()
    assert 'class="dialogue-lines"' in page and "举头望明月" in page

    # Each figure's mouth moves in its own turn and rests in the other's.
    video = tmp_path / "film.mp4"
    video.write_bytes(b"".join(Client().get(card["video_url"]).streaming_content))
    frames, _ = grey_frames(video)
    scale = frames.shape[2] / pair.width
    _, found = find_faces(pair_path)
    mouths = sorted((face.landmarks["mouth_outer"] for face in found), key=lambda points: points[:, 0].mean())
    half = len(frames) // 2

    def motion(points, part) -> float:
        return region_motion(frames, points, scale=scale, part=part)

    first_half, second_half = slice(0, half), slice(half, len(frames))
    assert motion(mouths[0], first_half) > 2 * motion(mouths[0], second_half)
    assert motion(mouths[1], second_half) > 2 * motion(mouths[1], first_half)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_dialogues_test_film_is_one_sample_voice_reading_every_line(festival, groups, tmp_path):
    """The curator's test film of a dialogue: one sample voice reads the whole script; each line is cut
    from it and spoken by its role's figure, the subtitles naming who speaks."""
    from accounts.models import User
    from catalogue import tasks as catalogue_tasks
    from gallery import tasks
    from gallery.models import PassagePreview

    curator = User.objects.create_user("curator", password="curator-pass-1")
    curator.groups.add(groups["curators"])
    festival["event"].curators.add(curator)
    portraits_side_by_side(tmp_path / "pair.jpg", PORTRAIT_PAIR)
    painting = festival["painting"]
    with (tmp_path / "pair.jpg").open("rb") as handle:
        painting.image.save("pair.jpg", File(handle), save=True)
    catalogue_tasks.painting_detect_faces(str(painting.id))
    first, second = catalogue_selectors.painting_figures(painting=painting)
    passage = catalogue_services.passage_create(
        painting=painting, title="对读", text=SCRIPT, language="zh", max_seconds=30, kind="dialogue"
    )
    for role, figure in zip(passage.roles.order_by("order"), (first, second), strict=True):
        catalogue_services.dialogue_role_cast(role=role, figure=figure)
    client = Client()
    client.force_login(curator)
    with CHINESE_POEM.open("rb") as handle:
        client.post(f"/curation/passages/{passage.id}/", {"action": "preview", "sample_voice": handle})
    preview = PassagePreview.objects.get(passage=passage)
    tasks.passage_preview_render(str(preview.id))
    preview.refresh_from_db()
    assert preview.status == PassagePreview.Status.READY, preview.error
    subtitles = b"".join(client.get(f"/curation/previews/{preview.id}/subtitles/").streaming_content).decode()
    assert subtitles.index("<v 宝玉>") < subtitles.index("<v 黛玉>")
