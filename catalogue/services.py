"""Catalogue writes: festivals, paintings, their faces and key points, passages.

Every rule a curator meets about them lives here (what an upload must be, which face may speak), so
the pages and the API stay thin. Face detection runs off the request path (catalogue.tasks) after the
commit. Test films of passages are the gallery's curation (gallery.services).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from catalogue import signals
from catalogue.models import Event, Painting, Passage

# Formats a browser shows and the engine reads; the stored extension follows the format, not the name.
PAINTING_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
PAINTING_MAX_BYTES = 40 * 1024 * 1024
# Below the engine's own ceiling (80 Mpx) and Pillow's bomb warning (89 Mpx): a painting this big is a
# scan nobody needs at a 512 px render size, and decoding it would cost gigabytes.
PAINTING_MAX_PIXELS = 50_000_000
PAINTING_MIN_SIDE = 256


class CurationError(Exception):
    """A curator's request that cannot be done; the message says why and what to do instead."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


# ---------------------------------------------------------------------------------------------------
# Events


def event_create(
    *,
    title: str,
    slug: str,
    title_en: str = "",
    description: str = "",
    description_en: str = "",
    starts_on: date | None = None,
    ends_on: date | None = None,
    publish_mode: str = Event.PublishMode.AUTO,
    is_open: bool = True,
    moderators: Iterable[Any] = (),
) -> Event:
    _check_dates(starts_on, ends_on)
    if Event.objects.filter(slug=slug).exists():
        raise CurationError(_("Another festival already uses this web address."), code="slug_taken")
    event = Event.objects.create(
        title=title,
        title_en=title_en,
        slug=slug,
        description=description,
        description_en=description_en,
        starts_on=starts_on,
        ends_on=ends_on,
        publish_mode=publish_mode,
        is_open=is_open,
    )
    event.moderators.set(list(moderators))
    return event


def event_update(*, event: Event, **fields: Any) -> Event:
    _check_dates(fields.get("starts_on", event.starts_on), fields.get("ends_on", event.ends_on))
    moderators = fields.pop("moderators", None)
    for name, value in fields.items():
        setattr(event, name, value)
    event.save()
    if moderators is not None:
        event.moderators.set(list(moderators))
    return event


def _check_dates(starts_on: date | None, ends_on: date | None) -> None:
    if starts_on and ends_on and ends_on < starts_on:
        raise CurationError(_("The festival cannot end before it starts."), code="dates")


# ---------------------------------------------------------------------------------------------------
# Paintings


def painting_check_image(upload: UploadedFile) -> str:
    """Check an uploaded painting with Pillow; return the file extension its real format calls for.

    Raises CurationError for too large a file, a format we do not take, a decompression bomb (too
    many pixels for its bytes), a tiny image or a truncated file.
    """
    if upload.size is not None and upload.size > PAINTING_MAX_BYTES:
        raise CurationError(
            _("The image is larger than %(limit)d MB.") % {"limit": PAINTING_MAX_BYTES // (1024 * 1024)},
            code="too_large",
        )
    unreadable = CurationError(_("This file is not an image we can read: upload a JPEG, PNG or WebP."), code="format")
    with warnings.catch_warnings():
        # Pillow only warns between 89 and 179 Mpx; any bomb at all is refused here.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            upload.seek(0)
            with Image.open(upload) as image:
                # The header is read, the pixels are not: refuse a bomb before decoding it.
                image_format, (width, height) = image.format, image.size
                if width * height > PAINTING_MAX_PIXELS:
                    raise CurationError(
                        _("The image has %(pixels)d million pixels; at most %(limit)d million are accepted.")
                        % {"pixels": width * height // 1_000_000, "limit": PAINTING_MAX_PIXELS // 1_000_000},
                        code="too_many_pixels",
                    )
                if image_format not in PAINTING_FORMATS:
                    raise unreadable
                if min(width, height) < PAINTING_MIN_SIDE:
                    raise CurationError(
                        _("The image is %(width)d×%(height)d pixels; each side needs at least %(minimum)d.")
                        % {"width": width, "height": height, "minimum": PAINTING_MIN_SIDE},
                        code="too_small",
                    )
                image.verify()
            upload.seek(0)
            with Image.open(upload) as image:
                image.load()  # verify() does not decode: a truncated file only fails here
        except CurationError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise CurationError(_("The image declares more pixels than is safe to open."), code="bomb") from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            raise unreadable from None
    upload.seek(0)
    return PAINTING_FORMATS[image_format]


@transaction.atomic
def painting_create(
    *,
    event: Event,
    title: str,
    image: UploadedFile,
    artist: str = "",
    era: str = "",
    source: str = "",
    story: str = "",
    title_en: str = "",
    story_en: str = "",
) -> Painting:
    extension = painting_check_image(image)
    painting = Painting(
        event=event,
        title=title,
        title_en=title_en,
        artist=artist,
        era=era,
        source=source,
        story=story,
        story_en=story_en,
    )
    painting.image.save(f"image.{extension}", image, save=False)
    painting.save()
    _enqueue_face_detection(painting.id)
    _enqueue_renditions(painting.id)
    return painting


def painting_update(*, painting: Painting, **fields: Any) -> Painting:
    for name, value in fields.items():
        setattr(painting, name, value)
    painting.save()
    return painting


def painting_detect_faces_again(*, painting: Painting) -> None:
    Painting.objects.filter(id=painting.id).update(face_status=Painting.FaceStatus.PENDING, face_error="")
    _enqueue_face_detection(painting.id)


def _enqueue_face_detection(painting_id: Any) -> None:
    from catalogue import tasks

    transaction.on_commit(lambda: tasks.painting_detect_faces.delay(str(painting_id)))


def _enqueue_renditions(painting_id: Any) -> None:
    from catalogue import tasks

    transaction.on_commit(lambda: tasks.painting_make_renditions.delay(str(painting_id)))


def painting_make_renditions(*, painting_id: Any) -> list[dict]:
    """Make and store the smaller copies pages show (catalogue.images); returns what was kept.

    Idempotent: each copy is stored under its own fixed name, replacing the last run's. When the
    painting's image changed or the painting went meanwhile, the copies just made are deleted and
    nothing is kept: a late worker never pairs old copies with a new image.
    """
    from catalogue import images
    from core import storage

    painting = Painting.objects.filter(id=painting_id).first()
    if painting is None or not painting.image:
        return []
    image_name = painting.image.name
    renditions = []
    with storage.scratch_folder(f"renditions-{painting_id}") as scratch:
        source = storage.fetch(image_name, scratch, as_name="original")
        for made in images.make_renditions(source, scratch):
            name = storage.put(scratch / made["file"], f"paintings/{painting_id}/{made['file']}")
            renditions.append({"width": made["width"], "height": made["height"], "name": name})
    if not Painting.objects.filter(id=painting_id, image=image_name).update(renditions=renditions):
        storage.delete(*(rendition["name"] for rendition in renditions))
        return []
    return renditions


def painting_record_faces(*, painting_id: Any, faces: list[dict]) -> None:
    """Keep what detection found. Key points a curator placed by hand stay in charge."""
    painting = Painting.objects.get(id=painting_id)
    if painting.landmarks_override:
        status = Painting.FaceStatus.MANUAL
    else:
        status = Painting.FaceStatus.FOUND if faces else Painting.FaceStatus.NONE
    error = "" if faces else _("No face was found. Place the key points by hand in the editor.")
    Painting.objects.filter(id=painting_id).update(faces=faces, face_status=status, face_error=error)


def painting_record_face_error(*, painting_id: Any, reason: str) -> None:
    Painting.objects.filter(id=painting_id).exclude(face_status=Painting.FaceStatus.MANUAL).update(
        face_status=Painting.FaceStatus.NONE
    )
    Painting.objects.filter(id=painting_id).update(face_error=reason[:2000])


def painting_save_landmarks(*, painting: Painting, landmarks: Any) -> Painting:
    """Keep the key points a curator placed; from now on they win over detection for every film.

    LANDMARKS is a face as the editor sends it ({"landmarks": {group: [[x, y], ...]}}) or the groups
    alone. The engine's own reader checks it, so what is saved is exactly what a render accepts.
    """
    from animation.engine.errors import EngineInputError
    from animation.engine.faces import face_from_landmarks

    try:
        face = face_from_landmarks(landmarks, (painting.height, painting.width, 3))
    except EngineInputError as error:
        raise CurationError(str(error), code="landmarks") from None
    painting.landmarks_override = {"score": 1.0, **face.to_dict(), "index": 0}
    painting.face_status = Painting.FaceStatus.MANUAL
    painting.save(update_fields=["landmarks_override", "face_status"])
    return painting


def painting_clear_landmarks(*, painting: Painting) -> Painting:
    painting.landmarks_override = None
    painting.face_status = Painting.FaceStatus.FOUND if painting.faces else Painting.FaceStatus.NONE
    painting.save(update_fields=["landmarks_override", "face_status"])
    return painting


def landmarks_fit(*, painting: Painting, box: Any = None, centre: Any = None) -> dict:
    """Two clicks: key points fitted inside the box a curator dragged ([x, y, w, h]) or around the point
    they clicked ([x, y]), for the editor to refine. Nothing is saved until the curator saves.

    Raises CurationError when the box or point is not on the painting or the image cannot be read.
    """
    from animation.engine.errors import EngineInputError
    from animation.engine.face_paintings import fit_in_box
    from animation.engine.faces import face_from_mesh, load_painting
    from core import storage

    def numbers(value: Any, count: int) -> list[float] | None:
        if value is None:
            return None
        try:
            out = [float(v) for v in value]
        except (TypeError, ValueError):
            out = []
        if len(out) != count or not all(abs(v) < 1e6 for v in out):
            raise CurationError(_("The box or point sent by the editor is not understood."), code="fit")
        return out

    box, centre = numbers(box, 4), numbers(centre, 2)
    if box is None and centre is None:
        raise CurationError(_("Drag a box around the face or click its centre."), code="fit")
    inside = (box[0] + box[2] / 2, box[1] + box[3] / 2) if box else tuple(centre)
    if box and (box[2] < 6 or box[3] < 6):
        raise CurationError(_("The box is too small to hold a face."), code="fit")
    if not (0 <= inside[0] <= painting.width and 0 <= inside[1] <= painting.height):
        raise CurationError(_("The box or point is outside the painting."), code="fit")
    try:
        with storage.scratch_folder(f"fit-{painting.id}") as scratch:
            image = load_painting(storage.fetch(painting.image.name, scratch))
    except EngineInputError as error:
        raise CurationError(str(error), code="fit") from None
    fit = fit_in_box(image, box, centre=centre)
    face = face_from_mesh(fit.points, image.shape, score=fit.presence)
    return {"landmarks": face.to_dict()["landmarks"], "score": round(fit.presence, 3)}


def landmarks_template(*, width: int, height: int) -> dict:
    """Key points of a plain frontal face in the middle of the painting: where a curator starts when
    detection found nothing. Each group has the fewest points the renderer accepts, in its order."""
    size = 0.3 * min(width, height)
    centre_x, centre_y = width / 2, height / 2

    def at(points: list[tuple[float, float]]) -> list[list[float]]:
        return [[round(centre_x + x * size, 1), round(centre_y + y * size, 1)] for x, y in points]

    def ellipse(cx: float, cy: float, rx: float, ry: float, count: int) -> list[tuple[float, float]]:
        import math

        # From the image-left corner along the top to the other corner, back along the bottom.
        return [
            (cx - rx * math.cos(math.pi * i / (count / 2)), cy - ry * math.sin(math.pi * i / (count / 2)))
            for i in range(count)
        ]

    return {
        "landmarks": {
            "right_eye": at(ellipse(-0.2, -0.12, 0.09, 0.035, 6)),
            "left_eye": at(ellipse(0.2, -0.12, 0.09, 0.035, 6)),
            "mouth_outer": at(ellipse(0.0, 0.28, 0.16, 0.06, 8)),
            "mouth_inner": at(ellipse(0.0, 0.28, 0.12, 0.02, 6)),
            "nose_tip": at([(0.0, 0.08)]),
            "jaw": at([(-0.42, -0.05), (-0.35, 0.3), (0.0, 0.52), (0.35, 0.3), (0.42, -0.05)]),
        }
    }


# ---------------------------------------------------------------------------------------------------
# Passages


def _check_face(painting: Painting, speaking_face: int) -> None:
    if painting.landmarks_override:
        return  # the curator's key points are the face that speaks, whatever the index
    if painting.faces and not 0 <= speaking_face < len(painting.faces):
        raise CurationError(
            _("Face %(number)d does not exist: the painting has %(count)d.")
            % {"number": speaking_face + 1, "count": len(painting.faces)},
            code="face",
        )


def passage_create(
    *,
    painting: Painting,
    title: str,
    text: str,
    language: str,
    max_seconds: int,
    speaking_face: int = 0,
    title_en: str = "",
    translation: str = "",
    note: str = "",
    note_en: str = "",
):
    """A new passage starts closed: residents can record it once a test film has been watched."""
    _check_face(painting, speaking_face)
    return Passage.objects.create(
        event=painting.event,
        painting=painting,
        title=title,
        title_en=title_en,
        text=text,
        language=language,
        translation=translation,
        note=note,
        note_en=note_en,
        max_seconds=max_seconds,
        speaking_face=speaking_face,
        is_open=False,
    )


# What a test film shows: change one of these and the film no longer vouches for the passage.
FILMED_FIELDS = ("text", "language", "speaking_face")


@transaction.atomic
def passage_update(*, passage: Passage, **fields: Any) -> Passage:
    if "speaking_face" in fields:
        _check_face(passage.painting, fields["speaking_face"])
    refilm = any(name in FILMED_FIELDS and getattr(passage, name) != value for name, value in fields.items())
    for name, value in fields.items():
        setattr(passage, name, value)
    if refilm:
        # Residents must not record a text nobody has seen animated: close it until a new test film.
        passage.is_open = False
    passage.save()
    if refilm:
        signals.passage_needs_new_test_film.send(sender=None, passage=passage)
    return passage
