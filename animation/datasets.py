"""The festival's open dataset (issue 26), as Common Voice releases one: reads (``dataset_*`` selectors)
and writes (``dataset_release_*`` services) in one module, as gallery/dashboard.py keeps the dashboard's.

A release holds every reading that is approved, whose reader ticked "give this reading to the open
dataset" (``Recording.open_dataset``, per reading, apart from the film) and that has timings (its
``Alignment``). It is built from the state of the moment, so a reading withdrawn or taken out after
release N is in no release after N. Releases already made are not changed: what was downloaded cannot be
recalled, and the datasheet says so.

What a release never holds: names, e-mails, usernames, credits, moderators' notes, database ids, dates of
readings. Each reading gets an id drawn afresh for that release, each reader a speaker id drawn afresh for
that release (so that users can split by speaker), so two releases cannot be joined with each other or
with the accounts. The sound is re-encoded (48 kHz mono FLAC of the loudness-normalised voice copy)
without any of its source's tags.

Lives in animation, the lowest layer that may read both the readings (contributions) and their
timings (animation.Alignment).
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import logging
import secrets
import zipfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from animation.engine.audio import WITHOUT_METADATA, probe_audio
from animation.engine.ffmpeg import run_ffmpeg
from animation.models import Alignment, DatasetRelease
from catalogue.models import Event
from catalogue.selectors import event_curated_by
from contributions.models import Recording
from core import storage

logger = logging.getLogger(__name__)

SAMPLE_RATE = 48000
# A build whose worker died (no heartbeat here: a release takes minutes) may be claimed again after this.
BUILD_CLAIM_SECONDS = 3600
UNIT_KEYS = ("text", "start", "end", "confidence", "skipped")
LICENCE_URLS = {
    "CC0-1.0": "https://creativecommons.org/publicdomain/zero/1.0/",
    "CC-BY-4.0": "https://creativecommons.org/licenses/by/4.0/",
    "CC-BY-SA-4.0": "https://creativecommons.org/licenses/by-sa/4.0/",
}
TSV_COLUMNS = (
    "id",
    "speaker",
    "split",
    "path",
    "language",
    "unit",
    "duration_seconds",
    "sentence",
    "passage",
    "painting",
    "artist",
    "festival",
    "role",
)


# ---------------------------------------------------------------------------------------------------
# Reads


def dataset_readings(*, event: Event | None = None) -> QuerySet[Recording]:
    """The readings a release made now would hold, timings or not (EVENT's, or every festival's)."""
    readings = (
        Recording.objects.filter(status=Recording.Status.APPROVED, open_dataset=True, erased_at__isnull=True)
        .filter(~Q(voice_wav="") | ~Q(original=""))  # a reading whose sound is kept
        .select_related("passage__painting", "passage__event", "role")
    )
    return readings.filter(passage__event=event) if event is not None else readings


def dataset_outlook(*, event: Event | None = None) -> dict[str, int]:
    """For the curators' page: readings opted in now, by what a release made now would do with them."""
    approved = dataset_readings(event=event)
    timed = approved.filter(alignment__isnull=False).exclude(alignment__units=[])
    waiting = Recording.objects.filter(status=Recording.Status.PENDING, open_dataset=True)
    if event is not None:
        waiting = waiting.filter(passage__event=event)
    timed_count = timed.count()
    return {
        "ready": timed_count,
        "without_timings": approved.count() - timed_count,
        "waiting_for_moderation": waiting.count(),
    }


def dataset_releases(*, event: Event | None = None) -> QuerySet[DatasetRelease]:
    """EVENT's releases, newest first; with no event, the releases of all festivals."""
    releases = DatasetRelease.objects.select_related("event")
    return releases.filter(event=event) if event is not None else releases.filter(event__isnull=True)


def dataset_release_visible(*, release: DatasetRelease, user: Any) -> bool:
    """A festival's release: its curators (and superusers); a release of all festivals: superusers only."""
    if release.event_id is None:
        return bool(user.is_authenticated and user.is_superuser)
    return event_curated_by(event_id=release.event_id, user=user)


def reading_key(release: DatasetRelease, recording_id: Any) -> str:
    """The release's salted hash of a reading's id: tells whether it holds the reading, and no more."""
    message = f"open-dataset-reading:{recording_id}".encode()
    return hmac.new(release.reading_salt.encode(), message, hashlib.sha256).hexdigest()[:32]


def dataset_release_file_name(release: DatasetRelease) -> str:
    """The name a download is saved under: shuohua-dataset-<festival slug or all-festivals>-v<N>.zip."""
    return f"shuohua-dataset-{_scope(release)}-v{release.version}.zip"


def _scope(release: DatasetRelease) -> str:
    return release.event.slug if release.event_id else "all-festivals"


# ---------------------------------------------------------------------------------------------------
# Writes


def dataset_release_request(*, event: Event | None = None, enqueue: bool = True) -> DatasetRelease:
    """A new release of EVENT (None: all festivals), numbered one after the scope's last, queued for a
    worker after the commit (``animation.tasks.dataset_release_build``) unless ENQUEUE is False (the
    management command builds it in its own process). Two requests at once get two numbers."""
    for _attempt in range(5):
        try:
            with transaction.atomic():
                last = dataset_releases(event=event).aggregate(last=Max("version"))["last"] or 0
                release = DatasetRelease.objects.create(
                    event=event, version=last + 1, licence=settings.DATASET_LICENSE, reading_salt=secrets.token_hex(16)
                )
                if enqueue:
                    from animation.tasks import dataset_release_build as build_task

                    transaction.on_commit(lambda release_id=str(release.id): build_task.delay(release_id), robust=True)
            return release
        except IntegrityError:
            continue  # another request took this number first
    raise RuntimeError("could not number a new dataset release")


def dataset_release_build(*, release_id: Any) -> bool:
    """Build the release RELEASE_ID: claim it (queued, or building by a worker gone for an hour), gather
    its readings into a scratch folder, store the zip, record it. False when there was nothing to claim
    (already built, or another worker has it): safe to run twice. A failure is recorded on the row
    (status failed, with why) and raised."""
    now = timezone.now()
    stale = now - timedelta(seconds=BUILD_CLAIM_SECONDS)
    claimed = (
        DatasetRelease.objects.filter(id=release_id)
        .filter(Q(status=DatasetRelease.Status.QUEUED) | Q(status=DatasetRelease.Status.BUILDING, claimed_at__lt=stale))
        .update(status=DatasetRelease.Status.BUILDING, claimed_at=now, error="")
    )
    if not claimed:
        return False
    release = DatasetRelease.objects.select_related("event").get(id=release_id)
    mine = DatasetRelease.objects.filter(id=release_id, status=DatasetRelease.Status.BUILDING, claimed_at=now)
    try:
        with storage.scratch_folder(f"dataset-{release_id}") as scratch:
            clips, without_timings = _gather(release, scratch)
            name, clips, digest, size = _store(release, clips, scratch, without_timings=without_timings)
            counts = _counts(clips, without_timings=without_timings)
        recorded = mine.update(
            status=DatasetRelease.Status.READY,
            archive=name,
            archive_bytes=size,
            archive_sha256=digest,
            counts=counts,
            reading_keys=sorted(reading_key(release, clip.recording_id) for clip in clips),
            finished_at=timezone.now(),
        )
        if not recorded:
            return False  # another worker took the claim over: its zip (the same name) stands
        # A reading withdrawn between the last check and READY found no release to retire: look again.
        for gone in {clip.recording_id for clip in clips} - _still_eligible(clips):
            dataset_releases_retire_holding(recording_id=gone)
        return True
    except Exception as error:
        logger.exception("dataset release %s failed", release_id)
        mine.update(status=DatasetRelease.Status.FAILED, error=str(error)[:1000], finished_at=timezone.now())
        raise


def dataset_releases_retire_holding(*, recording_id: Any) -> int:
    """Retire every ready release that holds the reading RECORDING_ID (withdrawn, taken out of the
    dataset, its approval taken back): its zip is deleted after the commit and nobody downloads it
    again; curators make a new release. Copies downloaded before cannot be recalled. Returns how many."""
    retired = 0
    for release in DatasetRelease.objects.filter(status=DatasetRelease.Status.READY).only(
        "id", "reading_salt", "reading_keys", "archive"
    ):
        if reading_key(release, recording_id) not in release.reading_keys:
            continue
        name = release.archive.name
        changed = DatasetRelease.objects.filter(id=release.id, status=DatasetRelease.Status.READY).update(
            status=DatasetRelease.Status.RETIRED, retired_at=timezone.now(), archive=""
        )
        if changed:
            retired += 1
            transaction.on_commit(lambda name=name: storage.delete(name), robust=True)
    return retired


@dataclass
class _Clip:
    recording_id: Any
    contributor_id: Any
    audio: Path
    metadata: dict[str, Any] = field(default_factory=dict)


def _gather(release: DatasetRelease, scratch: Path) -> tuple[list[_Clip], int]:
    """Every reading of the release with its sound made anonymous in SCRATCH, in a random order (the
    order of the readings' arrival is not in the release either); and how many were left out for want
    of timings."""
    readings = list(dataset_readings(event=release.event))
    secrets.SystemRandom().shuffle(readings)
    alignments = {
        alignment.recording_id: alignment
        for alignment in Alignment.objects.filter(recording_id__in=[reading.id for reading in readings])
    }
    speakers: dict[Any, str] = {}
    used: set[str] = set()
    clips: list[_Clip] = []
    without_timings = 0
    for reading in readings:
        alignment = alignments.get(reading.id)
        if alignment is None or not alignment.units:
            without_timings += 1
            continue
        clip_id = _fresh_id(used, length=12)
        source = scratch / f"{clip_id}-source"
        name = reading.voice_wav.name or reading.original.name
        if not name or not storage.fetch_if_present(name, source):
            continue  # withdrawn and erased since the list was read
        audio = scratch / f"{clip_id}.flac"
        _anonymous_flac(source, audio)
        source.unlink()
        if reading.contributor_id not in speakers:
            speakers[reading.contributor_id] = "s" + _fresh_id(used, length=8)
        clips.append(
            _Clip(
                recording_id=reading.id,
                contributor_id=reading.contributor_id,
                audio=audio,
                metadata=_metadata(reading, alignment, clip_id=clip_id, speaker=speakers[reading.contributor_id])
                | {"duration_seconds": round(probe_audio(audio).duration_seconds, 3)},
            )
        )
    _assign_splits(clips)
    return clips, without_timings


# Train / dev / test with no speaker in two of them, as Common Voice splits its releases: a model tested on
# voices it trained on would look better than it is. Test and dev each take about a tenth of the sound.
SPLIT_SHARE = 0.1
SPLIT_MIN_SPEAKERS = 3  # fewer readers cannot make three disjoint parts: every reading is "train"


def _assign_splits(clips: list[_Clip]) -> None:
    """Give every clip its speaker's split: speakers from the least sound to the most fill test, then dev,
    each to at least SPLIT_SHARE of the release's duration; the rest train. A release of fewer
    than SPLIT_MIN_SPEAKERS speakers is all train."""
    seconds: dict[str, float] = {}
    for clip in clips:
        seconds[clip.metadata["speaker"]] = (
            seconds.get(clip.metadata["speaker"], 0.0) + clip.metadata["duration_seconds"]
        )
    split_of = dict.fromkeys(seconds, "train")
    if len(seconds) >= SPLIT_MIN_SPEAKERS:
        total = sum(seconds.values())
        # The speakers with the least sound first (their random ids break ties): the prolific ones train,
        # as in Common Voice, and no one voice makes up a test set.
        queue = sorted(seconds, key=lambda speaker: (seconds[speaker], speaker))
        for part in ("test", "dev"):
            taken = 0.0
            # Always leave at least one speaker for each part still to fill (dev after test, then train).
            while queue and len(queue) > (2 if part == "test" else 1) and taken < SPLIT_SHARE * total:
                speaker = queue.pop(0)
                split_of[speaker] = part
                taken += seconds[speaker]
    for clip in clips:
        clip.metadata["split"] = split_of[clip.metadata["speaker"]]


def _fresh_id(used: set[str], *, length: int) -> str:
    while True:
        candidate = secrets.token_hex(length // 2)
        if candidate not in used:
            used.add(candidate)
            return candidate


def _anonymous_flac(source: Path, destination: Path) -> None:
    """SOURCE's sound as 48 kHz mono 16-bit FLAC, with no tag of the source's nor ffmpeg's own."""
    arguments = ["-y", "-i", str(source), "-map", "0:a:0", "-vn", "-ac", "1", "-ar", str(SAMPLE_RATE)]
    arguments += ["-sample_fmt", "s16", "-c:a", "flac", *WITHOUT_METADATA, "-flags:a", "+bitexact"]
    arguments += ["-f", "flac", str(destination)]
    result = run_ffmpeg(arguments, timeout=300, what="encoding a dataset clip")
    if result.returncode != 0:
        raise RuntimeError(f"ffmpeg could not encode a dataset clip: {result.stderr.decode(errors='replace')[-300:]}")


def unit_kind(language: str) -> str:
    """Chinese is aligned character by character, the other languages word by word."""
    return "character" if language.lower().split("-")[0] in ("zh", "yue", "ja") else "word"


def _metadata(reading: Recording, alignment: Alignment, *, clip_id: str, speaker: str) -> dict[str, Any]:
    """What the release says of one reading: nothing of the reader but the release's speaker id."""
    passage, painting = reading.passage, reading.passage.painting
    language = passage.language
    return {
        "id": clip_id,
        "speaker": speaker,
        "path": f"clips/{clip_id}/audio.flac",
        "language": language,
        "unit": unit_kind(language),
        "sample_rate": SAMPLE_RATE,
        # The text as it was aligned: what the voice reads (a passage edited since reads differently).
        "text": alignment.text or reading.text_to_read,
        "passage": {"title": passage.title, "title_en": passage.title_en},
        "painting": {"title": painting.title, "title_en": painting.title_en, "artist": painting.artist},
        "festival": {"title": passage.event.title, "title_en": passage.event.title_en},
        "role": reading.role.name if reading.role_id else "",
        "units": [{key: unit[key] for key in UNIT_KEYS if key in unit} for unit in alignment.units],
        "phrases": [{"start": phrase["start"], "end": phrase["end"]} for phrase in alignment.phrases or []],
        "timings_by": "machine (Whisper forced alignment), not checked by hand",
    }


def _still_eligible(clips: list[_Clip]) -> set[Any]:
    return set(
        Recording.objects.filter(
            id__in=[clip.recording_id for clip in clips],
            status=Recording.Status.APPROVED,
            open_dataset=True,
            erased_at__isnull=True,
        ).values_list("id", flat=True)
    )


def _store(
    release: DatasetRelease, clips: list[_Clip], scratch: Path, *, without_timings: int
) -> tuple[str, list[_Clip], str, int]:
    """Write and store the zip; a reading withdrawn or taken out while it was built is left out (the zip
    is written again without it). Returns the stored name, the clips it holds, its SHA-256 and size."""
    name = f"datasets/{release.event_id or 'all'}/{release.version}/{dataset_release_file_name(release)}"
    for _attempt in range(3):
        eligible = _still_eligible(clips)
        clips = [clip for clip in clips if clip.recording_id in eligible]
        archive = scratch / "release.zip"
        _write_zip(archive, release, clips, without_timings=without_timings)
        storage.put(archive, name)
        if _still_eligible(clips) == {clip.recording_id for clip in clips}:
            return name, clips, *_sha256(archive)
    raise RuntimeError("readings kept changing while the release was stored")


def _counts(clips: list[_Clip], *, without_timings: int) -> dict[str, Any]:
    languages: dict[str, dict[str, Any]] = {}
    for clip in clips:
        language = languages.setdefault(clip.metadata["language"], {"readings": 0, "seconds": 0.0, "speakers": 0})
        language["readings"] += 1
        language["seconds"] = round(language["seconds"] + clip.metadata["duration_seconds"], 3)
    for code, figures in languages.items():
        figures["speakers"] = len({clip.contributor_id for clip in clips if clip.metadata["language"] == code})
    return {
        "readings": len(clips),
        "seconds": round(sum(clip.metadata["duration_seconds"] for clip in clips), 3),
        "speakers": len({clip.contributor_id for clip in clips}),
        "texts": len({clip.metadata["text"] for clip in clips}),
        "languages": dict(sorted(languages.items())),
        "splits": {
            part: round(sum(clip.metadata["duration_seconds"] for clip in clips if clip.metadata["split"] == part), 3)
            for part in ("train", "dev", "test")
        },
        "without_timings": without_timings,
    }


def _sha256(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(2**20), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _write_zip(archive: Path, release: DatasetRelease, clips: list[_Clip], *, without_timings: int) -> None:
    folder = f"shuohua-dataset-{_scope(release)}-v{release.version}"
    stamp = timezone.localtime(release.created_at).timetuple()[:6]
    readings = sorted((clip.metadata for clip in clips), key=lambda metadata: metadata["id"])
    counts = _counts(clips, without_timings=without_timings)

    def text_entry(bundle: zipfile.ZipFile, path: str, content: str) -> None:
        info = zipfile.ZipInfo(f"{folder}/{path}", date_time=stamp)
        info.compress_type = zipfile.ZIP_DEFLATED
        bundle.writestr(info, content.encode())

    with zipfile.ZipFile(archive, "w") as bundle:
        text_entry(bundle, "DATASHEET.md", datasheet(release, counts=counts, festivals=_festivals(readings)))
        text_entry(bundle, "clips.tsv", _tsv(readings))
        text_entry(bundle, "clips.json", json.dumps(readings, ensure_ascii=False, indent=1))
        for clip in sorted(clips, key=lambda clip: clip.metadata["id"]):
            clip_folder = f"clips/{clip.metadata['id']}"
            text_entry(bundle, f"{clip_folder}/reading.json", json.dumps(clip.metadata, ensure_ascii=False, indent=1))
            info = zipfile.ZipInfo(f"{folder}/{clip_folder}/audio.flac", date_time=stamp)
            info.compress_type = zipfile.ZIP_STORED  # FLAC is compressed already
            with clip.audio.open("rb") as source, bundle.open(info, "w") as target:
                for chunk in iter(lambda source=source: source.read(2**20), b""):
                    target.write(chunk)


def _one_line(text: str) -> str:
    return " ".join(text.replace("\t", " ").split())


def _tsv(readings: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(TSV_COLUMNS)
    for reading in readings:
        writer.writerow(
            [
                reading["id"],
                reading["speaker"],
                reading["split"],
                reading["path"],
                reading["language"],
                reading["unit"],
                f"{reading['duration_seconds']:.3f}",
                _one_line(reading["text"]),
                _one_line(reading["passage"]["title"]),
                _one_line(reading["painting"]["title"]),
                _one_line(reading["painting"]["artist"]),
                _one_line(reading["festival"]["title"]),
                _one_line(reading["role"]),
            ]
        )
    return out.getvalue()


def _festivals(readings: list[dict[str, Any]]) -> list[str]:
    return sorted({reading["festival"]["title"] for reading in readings})


def _hours(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.2f} h"


def _many(count: int, thing: str) -> str:
    return f"{count} {thing}" + ("" if count == 1 else "s")


def datasheet(release: DatasetRelease, *, counts: dict[str, Any], festivals: list[str]) -> str:
    """DATASHEET.md, after Gebru et al., "Datasheets for Datasets": what the release is, how it was
    collected and with what consent, its licence, how withdrawal works, its figures and its known limits.
    In English: it is read by the dataset's users, wherever they are."""
    licence = release.licence or settings.DATASET_LICENSE
    licence_line = f"{licence} ({LICENCE_URLS[licence]})" if licence in LICENCE_URLS else licence
    scope = f"the festival “{release.event.title}”" if release.event_id else "every festival of this site"
    made = timezone.localtime(release.created_at).strftime("%Y-%m-%d")
    rows = "\n".join(
        f"| {code} | {unit_kind(code)} | {figures['readings']} | {figures['speakers']} | {_hours(figures['seconds'])} |"
        for code, figures in counts["languages"].items()
    )
    contact = settings.DATASET_CONTACT
    lines = [
        f"# Shuohua open speech dataset: {_scope(release)}, version {release.version}",
        "",
        f"Released {made}. Readings of {scope}"
        + (f" ({', '.join(festivals)})" if festivals and not release.event_id else "")
        + f": {_many(counts['readings'], 'reading')} by {_many(counts['speakers'], 'speaker')} of "
        + f"{_many(counts['texts'], 'text')}, {_hours(counts['seconds'])}.",
        "",
        "## What it is",
        "Residents of a city read a poem or a passage aloud in their browser, beside a portrait painting, "
        "for a festival whose films bring the paintings to life with their voices. This release holds the "
        "readings whose readers chose, reading by reading, to give them to this open dataset, each with "
        "the text read, its language and the time of every unit of the text in the sound: every character "
        "for Chinese, every word for other languages.",
        "",
        "| language | unit | readings | speakers | duration |",
        "|---|---|---|---|---|",
        rows or "| (none) | | 0 | 0 | 0 h |",
        "",
        "## Files",
        "- `clips.tsv`: one line per reading: `id`, `speaker`, `split`, `path`, `language`, `unit`, "
        "`duration_seconds`, `sentence` (the text, line breaks as spaces), `passage`, `painting`, `artist`, "
        "`festival`, `role` (the role read, in a dialogue).",
        "- `clips.json`: the same readings with the text exactly as read and the timings: `units` (each "
        "`text`, `start` and `end` in seconds, the aligner's `confidence` from 0 to 1, and `skipped` when "
        "the reader passed over it: it then has no duration) and `phrases` (`start`, `end`).",
        "- `clips/<id>/audio.flac` (48 kHz, mono, 16-bit) and `clips/<id>/reading.json` (that reading's line "
        "of `clips.json`).",
        "",
        "## Splits",
        "`split` is `train`, `dev` or `test`; no speaker is in two of them. Test and dev each hold at least "
        f"a tenth of the sound, speaker by speaker; a release of fewer than {SPLIT_MIN_SPEAKERS} speakers is all "
        "`train`. This release: "
        + ", ".join(f"{part} {_hours(counts.get('splits', {}).get(part, 0.0))}" for part in ("train", "dev", "test"))
        + ".",
        "",
        "## How it was collected",
        "- Recorded in the reader's browser (MediaRecorder; the microphone of their phone or computer) or "
        "uploaded as a file, in libraries, at home, anywhere; each reading is of a text chosen by the "
        "festival's curators, most of them classical Chinese poems and prose.",
        "- Checked on arrival (it decodes, holds a voice, fits the passage's length) and listened to by a "
        "moderator of the festival, who approved it as a reading of the text. Only approved readings are here.",
        "- The sound is the loudness-normalised copy the films are made from (EBU R128, about -16 LUFS, one "
        "gain for the whole reading), re-encoded without any metadata of the original file.",
        "- Timings are made by machine: Whisper's forced alignment of the known text, refined at pauses. "
        "Nobody checked them by hand.",
        "",
        "## Consent",
        "Every reader agreed to the festival's terms to take part, and then ticked, for each reading on its "
        "own, the separate choice to give it to this dataset (off unless ticked; independent of the consent "
        "for the festival's film). A reading without that choice is not here, whatever else it was used for.",
        "",
        "## What is not in it",
        "No names, e-mail addresses, usernames, accounts, dates of the readings, moderators' notes or any "
        "database id. The ids (`id`, `speaker`) are drawn afresh for every release: they group one "
        "speaker's readings within this release, and match nothing in any other release. There are no "
        "demographic data (age, gender, accent): the festival does not ask. A voice can be recognised by "
        "people who know it, and a reading also shown in the festival's public gallery with its reader's "
        "name can be matched with it by ear: do not try to find out who the speakers are.",
        "",
        "## Licence",
        f"{licence_line}, for the recordings and their timings. The texts are those the festival's curators "
        "chose to be read (`passage`, `painting`, `artist` say what each is); most are classical works in the "
        "public domain, and the licence gives no rights in a text that is not.",
        "",
        "## Withdrawal and later releases",
        "A reader may take a reading out of the dataset, or withdraw it from the festival altogether, at any "
        "time. It is then in no release made after that: each release is made afresh from the readings that "
        "are approved and given at that moment. The festival deletes its own copy of every release that holds "
        "a reading taken out since, and makes a new one. Copies already downloaded cannot be recalled: please "
        "use the latest release, and delete older ones when you take a new one.",
    ]
    if contact:
        lines += ["", f"Questions, and requests to remove a reading from copies you hold: {contact}."]
    lines += [
        "",
        "## Known limits",
        f"- Small and narrow: a festival's readers, self-selected, reading {_many(counts['texts'], 'literary text')} "
        "(the same text by many voices); not a sample of any population or of everyday speech.",
        "- Recording conditions vary (phones, laptops, rooms with echo or noise); a moderator approved each "
        "reading as a reading of the text, not its sound quality.",
        "- Machine timings: typically within a few tens of milliseconds of where a person would place a unit "
        "in quiet speech, worse in noise and in connected speech; units the aligner judged skipped are "
        "marked `skipped`. Use `confidence` to leave out doubtful ones.",
        "- A reader may have misread a unit that the moderator let pass: the text is the text asked for, "
        "not a transcript.",
    ]
    if counts["without_timings"]:
        lines.append(
            f"- {_many(counts['without_timings'], 'approved reading')} given to the dataset left out of this "
            "release: their timings were not made yet; a later release will hold them."
        )
    return "\n".join(lines) + "\n"
