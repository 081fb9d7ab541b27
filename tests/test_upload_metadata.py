"""A reading is kept without its file's metadata (issue 19): the original a resident uploads is stream
copied into its own container without its tags, as a camera reading's sound already was, so no title,
name, place, time, comment or writer of theirs is stored, while the sound itself (the same packets) and
every later step stay as they were.

Real files, one per format a browser or phone sends, made by the shipped ffmpeg with the tags a phone or
a desktop tool writes, and a real Chromium MediaRecorder take; real ffmpeg reads back what was stored.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from rest_framework.test import APIClient

from animation.engine import audio
from contributions.models import Recording
from core import storage
from testkit.media import CHINESE_POEM, DEMO, ffmpeg

# Real Chromium MediaRecorder output (the poem read into the record page): Opus in WebM, no duration in
# its header, "Chrome" as its writer. From the team's shared media, beside the checkout.
BROWSER_TAKE = DEMO / "speech" / "browser_take_chinese_poem1.webm"

# Each value is unique, so its bytes anywhere in a stored file mean the tag survived in some form.
TAGS = {
    "title": "Jingye si take 7391",
    "artist": "Li Ming of Xicheng",
    "location": "+39.9042+116.4074/",
    "comment": "recorded at home in Haidian",
    "creation_time": "2024-05-01T10:02:03Z",
}
# What ffmpeg reports of a tag-free file: the container's own fields, not a word about the resident.
# Matroska must name its writing application: bitexact makes that "Lavf", without a version.
STRUCTURAL = {"major_brand", "minor_version", "compatible_brands", "handler_name", "vendor_id", "duration"}
BITEXACT_WRITER = "Lavf"

# (arguments for ffmpeg, the name the browser gives, the extension and codec kept)
FORMATS = {
    # Chrome and Edge: MediaRecorder's audio/webm;codecs=opus.
    "webm-opus": (("-c:a", "libopus", "-b:a", "48k", "-f", "webm"), "take.webm", "webm", "opus"),
    # Firefox: audio/ogg;codecs=opus.
    "ogg-opus": (("-c:a", "libopus", "-b:a", "48k", "-f", "ogg"), "take.ogg", "ogg", "opus"),
    # Safari and iPhone: audio/mp4, AAC in fragmented MP4 as MediaRecorder writes it.
    "mp4-aac": (
        ("-ar", "48000", "-c:a", "aac", "-movflags", "frag_keyframe+empty_moov+default_base_moof", "-f", "mp4"),
        "take.m4a",
        "m4a",
        "aac",
    ),
    # A recorder app's WAV: the tags are a LIST INFO chunk.
    "wav": (("-c:a", "pcm_s16le", "-f", "wav"), "take.wav", "wav", "pcm_s16le"),
    # An Android phone's 3GP: AAC, and AMR-NB, which only QuickTime's muxer takes by stream copy.
    "3gp-aac": (("-c:a", "aac", "-f", "3gp"), "take.3gp", "m4a", "aac"),
    "3gp-amr": (
        ("-ar", "8000", "-c:a", "libopencore_amrnb", "-b:a", "12.2k", "-f", "3gp"),
        "take.3gp",
        "m4a",
        "amr_nb",
    ),
}


def tagged_take(destination: Path, *arguments: str) -> Path:
    tags = [option for key, value in TAGS.items() for option in ("-metadata", f"{key}={value}")]
    subprocess.run(
        [ffmpeg(), "-v", "error", "-y", "-i", str(CHINESE_POEM), "-ac", "1", *tags, *arguments, str(destination)],
        check=True,
    )
    return destination


def metadata_of(path: Path) -> dict[str, str]:
    """Every tag ffmpeg reports of PATH: the file's, each stream's, each chapter's (imageio-ffmpeg ships no
    ffprobe, so this reads the Metadata blocks of ``ffmpeg -i``)."""
    completed = subprocess.run([ffmpeg(), "-hide_banner", "-i", str(path)], capture_output=True, check=False)
    tags: dict[str, str] = {}
    block_indent: int | None = None
    for line in completed.stderr.decode("utf-8", "replace").splitlines():
        indent = len(line) - len(line.lstrip())
        if line.strip() == "Metadata:":
            block_indent = indent
            continue
        if block_indent is not None and indent > block_indent:
            entry = re.match(r"\s*(\S[^:]*?)\s*: (.*)$", line)
            if entry:
                tags[entry.group(1).lower()] = entry.group(2).strip()
                continue
        block_indent = None
    chapters = subprocess.run(
        [ffmpeg(), "-v", "error", "-i", str(path), "-fflags", "+bitexact", "-f", "ffmetadata", "-"],
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8", "replace")
    assert "[CHAPTER]" not in chapters
    return tags


def assert_no_tags(path: Path) -> None:
    tags = metadata_of(path)
    personal = {
        key: value
        for key, value in tags.items()
        if key not in STRUCTURAL and not (key == "encoder" and value == BITEXACT_WRITER)
    }
    assert personal == {}, f"{path.name} keeps {personal}"
    content = path.read_bytes()
    for key, value in TAGS.items():
        assert value.encode() not in content, f"{path.name} still holds its {key}"
    assert b"Chrome" not in content, f"{path.name} still names the browser"


def upload(user, passage, path: Path, name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = APIClient()
    client.force_authenticate(user)
    return client.post(
        "/api/recordings/",
        {"passage": str(passage.id), "audio": SimpleUploadedFile(name, path.read_bytes())},
        format="multipart",
    )


def stored_original(recording: Recording, folder: Path) -> Path:
    local = folder / Path(recording.original.name).name
    assert storage.fetch_if_present(recording.original.name, local)
    return local


def assert_same_sound(uploaded: Path, stored: Path) -> None:
    """The stored file plays what was uploaded: as long (within 50 ms) and, a stream copy, the same samples."""
    heard = audio.decode_audio(uploaded, sample_rate=48000)
    kept = audio.decode_audio(stored, sample_rate=48000)
    assert abs(heard.size - kept.size) <= 0.05 * 48000, (heard.size, kept.size)
    assert abs(audio.probe_audio(uploaded).duration_seconds - audio.probe_audio(stored).duration_seconds) <= 0.05
    overlap = min(heard.size, kept.size)
    assert np.max(np.abs(heard[:overlap] - kept[:overlap])) <= 1e-6, "the sound was re-encoded"


@pytest.fixture(scope="module")
def takes(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("tagged-takes")
    made = {}
    for label, (arguments, name, _extension, _codec) in FORMATS.items():
        made[label] = tagged_take(folder / f"{label}{Path(name).suffix}", *arguments)
    return made


def test_the_test_files_carry_the_tags_a_phone_or_a_desktop_tool_writes(takes):
    """Else the tests below would prove nothing: every format starts with its tags."""
    for label, path in takes.items():
        tags = metadata_of(path)
        # ffmpeg's 3GP muxer writes only the place and the time of the tags given: the ones a phone writes.
        expected = ("location", "creation_time") if label.startswith("3gp") else ("title", "artist", "comment")
        for key in expected:
            assert key in tags, (label, key, tags)
    assert metadata_of(BROWSER_TAKE).get("encoder") == "Chrome"


@pytest.mark.django_db
@pytest.mark.parametrize("label", list(FORMATS))
def test_a_reading_is_kept_in_its_own_format_without_its_metadata(label, takes, tmp_path, festival, resident):
    from contributions.tasks import recording_prepare_voice

    _arguments, name, extension, codec = FORMATS[label]
    response = upload(resident, festival["chinese"], takes[label], name)
    assert response.status_code == 201, response.content
    recording = Recording.objects.get(id=response.json()["id"])
    assert (recording.original_extension, recording.codec) == (extension, codec)
    stored = stored_original(recording, tmp_path)
    assert_no_tags(stored)
    assert_same_sound(takes[label], stored)
    assert abs(recording.duration_seconds - audio.probe_audio(takes[label]).duration_seconds) <= 0.05

    # The film's voice is made from the stored original, as the speech worker makes it.
    recording_prepare_voice(str(recording.id))
    recording.refresh_from_db()
    assert recording.voice_wav, "no voice copy was made"
    voice = tmp_path / "voice48k.wav"
    assert storage.fetch_if_present(recording.voice_wav.name, voice)
    assert_no_tags(voice)
    assert abs(audio.probe_audio(voice).duration_seconds - recording.duration_seconds) <= 0.05


@pytest.mark.django_db
def test_a_real_browser_take_without_a_duration_is_accepted_and_kept_without_its_writer(
    tmp_path, festival, resident, client
):
    response = upload(resident, festival["chinese"], BROWSER_TAKE, "take.webm")
    assert response.status_code == 201, response.content
    recording = Recording.objects.get(id=response.json()["id"])
    assert (recording.original_extension, recording.codec) == ("webm", "opus")
    stored = stored_original(recording, tmp_path)
    assert_no_tags(stored)
    assert_same_sound(BROWSER_TAKE, stored)
    # The owner's player gets the stored file.
    client.force_login(resident)
    played = client.get(f"/recordings/{recording.id}/audio/")
    assert played.status_code == 200
    assert b"".join(played.streaming_content) == stored.read_bytes()


@pytest.mark.django_db
def test_a_format_without_a_stream_copy_is_kept_as_it_came_and_its_voice_copy_without_tags(
    tmp_path, festival, resident
):
    """AIFF has no container of ours to be copied into: the reading is kept, not lost for its tags; the
    voice copy the film and the players use carries none of them."""
    from contributions.tasks import recording_prepare_voice

    aiff = tagged_take(tmp_path / "take.aiff", "-c:a", "pcm_s16be", "-f", "aiff")
    assert "title" in metadata_of(aiff)
    response = upload(resident, festival["chinese"], aiff, "take.aiff")
    assert response.status_code == 201, response.content
    recording = Recording.objects.get(id=response.json()["id"])
    assert storage.read_bytes(recording.original.name) == aiff.read_bytes()
    recording_prepare_voice(str(recording.id))
    recording.refresh_from_db()
    voice = tmp_path / "voice48k.wav"
    assert storage.fetch_if_present(recording.voice_wav.name, voice)
    assert_no_tags(voice)


@pytest.mark.django_db
def test_a_file_that_is_not_sound_still_gets_the_clear_refusal(tmp_path, festival, resident):
    text = tmp_path / "poem.webm"
    text.write_text("床前明月光 " * 200)
    response = upload(resident, festival["chinese"], text, "poem.webm")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "not_audio"
    assert Recording.objects.count() == 0


@pytest.mark.slow
@pytest.mark.django_db
@pytest.mark.parametrize("source", ["browser", "mp4-aac"])
def test_a_reading_kept_without_metadata_still_aligns_to_its_text(source, takes, festival, resident):
    from animation.models import Alignment
    from animation.tasks import recording_align_early

    path, name = (BROWSER_TAKE, "take.webm") if source == "browser" else (takes[source], "take.m4a")
    response = upload(resident, festival["chinese"], path, name)
    assert response.status_code == 201, response.content
    recording_align_early(response.json()["id"])
    alignment = Alignment.objects.get(recording_id=response.json()["id"])
    assert alignment.text == festival["chinese"].text
    assert len(alignment.units) >= 20
    ends = [unit["end"] for unit in alignment.units]
    assert ends == sorted(ends) and ends[-1] <= Recording.objects.get().duration_seconds + 0.05
