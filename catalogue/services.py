"""Catalogue writes: festivals, paintings, their faces and key points, passages.

Every rule a curator meets about them lives here (what an upload must be, which face may speak), so
the pages and the API stay thin. Face detection runs off the request path (catalogue.tasks) after the
commit. Test films of passages are the gallery's curation (gallery.services).
"""

from __future__ import annotations

import re
import uuid
import warnings
from collections.abc import Iterable
from datetime import date
from typing import Any

import numpy as np
from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from catalogue import signals
from catalogue.models import DialogueLine, DialogueRole, Event, Figure, Painting, Passage

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
    curators: Iterable[Any] = (),
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
    event.curators.set(list(curators))
    return event


def event_update(*, event: Event, **fields: Any) -> Event:
    _check_dates(fields.get("starts_on", event.starts_on), fields.get("ends_on", event.ends_on))
    moderators = fields.pop("moderators", None)
    curators = fields.pop("curators", None)
    for name, value in fields.items():
        setattr(event, name, value)
    event.save()
    if moderators is not None:
        event.moderators.set(list(moderators))
    if curators is not None:
        event.curators.set(list(curators))
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
    _enqueue_tiles(painting.id)
    return painting


def painting_update(*, painting: Painting, **fields: Any) -> Painting:
    for name, value in fields.items():
        setattr(painting, name, value)
    painting.save()
    return painting


def painting_files_prefix(painting_id: Any) -> str:
    """The folder every stored file of a painting lives in: its image (catalogue.models.painting_image_path),
    smaller copies, deep-zoom tiles (painting_tiles_prefix) and figure crops."""
    return f"paintings/{painting_id}"


@transaction.atomic
def painting_delete(*, painting: Painting) -> None:
    """Delete PAINTING with its figures and passages and, once that is committed, its stored files (a
    worker deletes everything under painting_files_prefix; the layers above delete their own files of
    it, told by signals.painting_deleting, e.g. the passages' test films). A painting with a passage someone read cannot
    be deleted: the readings keep it (ProtectedError), the transaction rolls back and every file stays.

    A worker still making copies, tiles or crops of it when it goes finds the painting gone and deletes
    what it just made (painting_make_renditions, painting_make_tiles, painting_make_figure_thumbnails).
    """
    from catalogue import tasks

    painting_id = painting.id
    signals.painting_deleting.send(sender=Painting, painting_id=painting_id)
    painting.delete()
    transaction.on_commit(lambda: tasks.painting_delete_files.delay(str(painting_id)))


def painting_delete_files(*, painting_id: Any) -> int:
    """Delete every stored file of the painting PAINTING_ID, which must be deleted already; returns how
    many. A painting that exists keeps its files (a task sent by mistake, or for a row restored meanwhile)."""
    from core import storage

    if Painting.objects.filter(id=painting_id).exists():
        return 0
    return storage.delete_prefix(painting_files_prefix(painting_id))


@transaction.atomic
def event_delete(*, event: Event) -> None:
    """Delete the festival EVENT and its paintings, each through painting_delete (their files go after the
    commit). Its open-dataset releases are not catalogue files and stay (animation.datasets)."""
    for painting in list(event.paintings.all()):
        painting_delete(painting=painting)
    event.delete()


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
    signals.painting_images_made.send(sender=Painting, painting_id=painting_id)
    return renditions


def _enqueue_tiles(painting_id: Any) -> None:
    from catalogue import tasks

    transaction.on_commit(lambda: tasks.painting_make_tiles.delay(str(painting_id)))


def painting_tiles_prefix(*, painting_id: Any, image_name: str, image_size: int) -> str:
    """Where the tiles of one image of the painting are stored: a folder per image, so a painting given
    a new image gets new tile addresses (no browser shows a cached tile of the old one) and a late
    worker's tiles of the old image never mix with the new image's."""
    import hashlib

    digest = hashlib.sha256(f"{image_name}:{image_size}".encode()).hexdigest()[:12]
    return f"paintings/{painting_id}/tiles/{digest}"


def painting_make_tiles(*, painting_id: Any) -> dict:
    """Make and store the painting's deep-zoom pyramid (catalogue.images.make_tiles): tiles under
    ``<prefix>/<level>/<column>_<row>.jpg`` and the descriptor in ``<prefix>/tiles.json`` and in
    Painting.tiles; returns the descriptor kept ({} when nothing was).

    Idempotent: a second run of the same image writes the same names again and keeps the same
    descriptor. Tiles of an earlier image are deleted once the new ones are kept; when the image
    changed or the painting went meanwhile, the tiles just made are deleted and nothing is kept.
    """
    import json

    from catalogue import images
    from core import storage

    painting = Painting.objects.filter(id=painting_id).first()
    if painting is None or not painting.image:
        return {}
    image_name = painting.image.name
    with storage.scratch_folder(f"tiles-{painting_id}") as scratch:
        source = storage.fetch(image_name, scratch, as_name="original")
        prefix = painting_tiles_prefix(painting_id=painting_id, image_name=image_name, image_size=source.stat().st_size)
        made = scratch / "tiles"
        descriptor = images.make_tiles(source, made)
        source.unlink()
        descriptor["prefix"] = prefix
        (made / "tiles.json").write_text(json.dumps(descriptor), encoding="utf-8")
        for path in sorted(made.rglob("*")):
            if path.is_file():
                storage.put(path, f"{prefix}/{path.relative_to(made).as_posix()}")
    if not Painting.objects.filter(id=painting_id, image=image_name).update(tiles=descriptor):
        storage.delete_prefix(prefix)
        return {}
    root = f"paintings/{painting_id}/tiles"
    older = {name[len(root) + 1 :].split("/", 1)[0] for name in storage.list_names(root)} - {prefix.rsplit("/", 1)[1]}
    for folder in sorted(older):
        storage.delete_prefix(f"{root}/{folder}")
    signals.painting_images_made.send(sender=Painting, painting_id=painting_id)
    return descriptor


def figure_position(painting: Painting, box: list[float]) -> float:
    """Where a face stands along the painting's reading direction, 0 to 1 (its number comes from it)."""
    x, y, w, h = [*box, 0, 0, 0, 0][:4]
    if painting.figure_order_is_horizontal():
        return (x + w / 2) / max(1, painting.width)
    return (y + h / 2) / max(1, painting.height)


def _corners(box: list[float]) -> np.ndarray:
    x, y, w, h = box
    return np.array([x, y, x + w, y + h], dtype=float)


def _painting_status(painting_id: Any, *, detected: int) -> Any:  # a Painting.FaceStatus
    touched = Figure.objects.filter(painting_id=painting_id).exclude(origin=Figure.Origin.DETECTED, corrected=False)
    if touched.exists():
        return Painting.FaceStatus.MANUAL
    return Painting.FaceStatus.FOUND if detected else Painting.FaceStatus.NONE


@transaction.atomic
def painting_record_faces(*, painting_id: Any, faces: list[dict]) -> None:
    """Keep what detection found, as the painting's figures.

    A detected face the painting already has as a figure (the same face: overlapping boxes) refreshes
    that figure's key points unless a curator corrected them; a new one becomes a new figure. A figure
    detection no longer finds goes only if nobody touched it (not named, corrected, hidden or cast):
    a curator's work is never undone by looking again. Hand-placed figures stay as they are.
    """
    from animation.engine.boxes import same_face

    painting = Painting.objects.select_for_update().filter(id=painting_id).first()
    if painting is None:
        return
    figures = list(Figure.objects.filter(painting=painting))
    matched: set[Any] = set()
    for face in faces:
        if not face.get("landmarks") or not face.get("box"):
            continue
        corners = _corners(face["box"])
        same = next(
            (f for f in figures if f.id not in matched and same_face(_corners(f.box), corners)),
            None,
        )
        if same is None:
            same = Figure.objects.create(
                painting=painting,
                face=face,
                origin=Figure.Origin.DETECTED,
                position=figure_position(painting, face["box"]),
            )
        elif same.origin == Figure.Origin.DETECTED and not same.corrected:
            same.face, same.position = face, figure_position(painting, face["box"])
            same.save(update_fields=["face", "position"])
        matched.add(same.id)
    for figure in figures:
        untouched = figure.origin == Figure.Origin.DETECTED and not (figure.corrected or figure.hidden or figure.name)
        if figure.id not in matched and untouched and not figure.passages.exists():
            figure.delete()
    status = _painting_status(painting_id, detected=len(faces))
    error = "" if faces else _("No face was found. Place the key points by hand in the editor.")
    Painting.objects.filter(id=painting_id).update(faces=faces, face_status=status, face_error=error)
    _enqueue_figure_thumbnails(painting_id)


def painting_record_face_error(*, painting_id: Any, reason: str) -> None:
    Painting.objects.filter(id=painting_id).exclude(face_status=Painting.FaceStatus.MANUAL).update(
        face_status=Painting.FaceStatus.NONE
    )
    Painting.objects.filter(id=painting_id).update(face_error=reason[:2000])


# A curator's page views ask at most once in this many seconds per painting: with a worker down, every
# view would otherwise queue one more message for the same crops.
FIGURE_THUMBNAILS_ASK_EVERY_SECONDS = 120


def painting_request_figure_thumbnails(*, painting: Painting) -> bool:
    """Ask for the figures' missing crops (a figure made before crops existed, or a worker that was down),
    once per FIGURE_THUMBNAILS_ASK_EVERY_SECONDS per painting; True when a request was sent."""
    if not cache.add(f"figure-thumbnails-asked:{painting.id}", 1, FIGURE_THUMBNAILS_ASK_EVERY_SECONDS):
        return False
    _enqueue_figure_thumbnails(painting.id)
    return True


def painting_request_tiles(*, painting: Painting) -> bool:
    """Ask for the painting's deep-zoom tiles when it has none (uploaded before tiles existed, or a worker
    that was down), once per FIGURE_THUMBNAILS_ASK_EVERY_SECONDS per painting; True when a request was sent."""
    if painting.tiles or not cache.add(f"tiles-asked:{painting.id}", 1, FIGURE_THUMBNAILS_ASK_EVERY_SECONDS):
        return False
    _enqueue_tiles(painting.id)
    return True


def _enqueue_figure_thumbnails(painting_id: Any) -> None:
    from catalogue import tasks

    transaction.on_commit(lambda: tasks.painting_make_figure_thumbnails.delay(str(painting_id)))


@transaction.atomic
def figure_save_landmarks(*, painting: Painting, landmarks: Any, figure_id: Any = None) -> Figure:
    """Keep the key points a curator placed: on figure FIGURE_ID (a correction), or as a new figure
    (a face detection missed). From now on they are that figure's face in every film it speaks.

    LANDMARKS is a face as the editor sends it ({"landmarks": {group: [[x, y], ...]}}) or the groups
    alone. The engine's own reader checks it, so what is saved is exactly what a render accepts.
    Passages the figure speaks close until a new test film: their films would show other key points.
    """
    from animation.engine.errors import EngineInputError
    from animation.engine.faces import face_from_landmarks

    figure = None
    if figure_id is not None:
        figure = Figure.objects.filter(painting=painting, id=_uuid_or_none(figure_id)).first()
        if figure is None:
            raise CurationError(_("This figure is no longer on the painting: reload the page."), code="figure")
    try:
        face = face_from_landmarks(landmarks, (painting.height, painting.width, 3))
    except EngineInputError as error:
        raise CurationError(str(error), code="landmarks") from None
    kept = {"score": 1.0, **face.to_dict()}
    kept.pop("index", None)
    position = figure_position(painting, kept["box"])
    if figure is None:
        figure = Figure.objects.create(painting=painting, face=kept, origin=Figure.Origin.PLACED, position=position)
    else:
        figure.face, figure.position, figure.corrected = kept, position, figure.origin == Figure.Origin.DETECTED
        figure.save(update_fields=["face", "position", "corrected"])
        _refilm_passages_of(figure)
    Painting.objects.filter(id=painting.id).update(face_status=Painting.FaceStatus.MANUAL)
    painting.face_status = Painting.FaceStatus.MANUAL
    _enqueue_figure_thumbnails(painting.id)
    return figure


@transaction.atomic
def figure_update(*, figure: Figure, name: str, name_en: str = "", hidden: bool = False) -> Figure:
    """Name a figure, or hide one that should never speak (a servant in the corner, a face in a
    painting within the painting). A figure that speaks a passage cannot be hidden: cast another first."""
    if hidden and not figure.hidden and figure.passages.exists():
        titles = ", ".join(figure.passages.values_list("title", flat=True)[:3])
        raise CurationError(
            _("This figure speaks %(titles)s: cast another figure for it first.") % {"titles": titles}, code="figure"
        )
    figure.name, figure.name_en, figure.hidden = name.strip(), name_en.strip(), hidden
    figure.save(update_fields=["name", "name_en", "hidden"])
    return figure


@transaction.atomic
def figure_remove(*, figure: Figure) -> None:
    """A hand-placed figure goes; a corrected detected one goes back to what detection found. Passages
    it spoke close until a new test film (the first figure that may speak takes them meanwhile)."""
    from core import storage

    _refilm_passages_of(figure)
    painting = Painting.objects.get(id=figure.painting_id)
    if figure.origin == Figure.Origin.DETECTED and figure.corrected:
        from animation.engine.boxes import same_face

        found = next(
            (
                face
                for face in painting.faces or []
                if face.get("box") and same_face(_corners(face["box"]), _corners(figure.box))
            ),
            None,
        )
        if found is not None:
            figure.face, figure.corrected = found, False
            figure.position = figure_position(painting, found["box"])
            figure.save(update_fields=["face", "corrected", "position"])
            _enqueue_figure_thumbnails(painting.id)
            Painting.objects.filter(id=painting.id).update(
                face_status=_painting_status(painting.id, detected=len(painting.faces))
            )
            return
    thumbnail = figure.thumbnail
    figure.delete()
    if thumbnail:
        transaction.on_commit(lambda: storage.delete(thumbnail))
    Painting.objects.filter(id=painting.id).update(
        face_status=_painting_status(painting.id, detected=len(painting.faces or []))
    )


def _refilm_passages_of(figure: Figure) -> None:
    for passage in Passage.objects.filter(figure=figure, is_open=True):
        passage.is_open = False
        passage.save(update_fields=["is_open"])
        signals.passage_needs_new_test_film.send(sender=None, passage=passage)


def _uuid_or_none(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def painting_make_figure_thumbnails(*, painting_id: Any) -> int:
    """Store a small crop around each figure's face whose crop is missing or shows an older box;
    returns how many were made. Idempotent: a crop is named after the box it shows."""
    import hashlib

    from catalogue import images
    from core import storage

    painting = Painting.objects.filter(id=painting_id).first()
    if painting is None or not painting.image:
        return 0

    def name_for(figure: Figure) -> str:
        digest = hashlib.sha256(repr([round(v) for v in figure.box]).encode()).hexdigest()[:10]
        return f"paintings/{painting.id}/figures/{figure.id}-{digest}.jpg"

    wanted = {}
    for figure in Figure.objects.filter(painting=painting):
        if figure.thumbnail != name_for(figure):
            wanted[figure.id] = (figure, name_for(figure))
    if not wanted:
        return 0
    made = 0
    with storage.scratch_folder(f"figures-{painting_id}") as scratch:
        source = storage.fetch(painting.image.name, scratch, as_name="original")
        for figure, name in wanted.values():
            local = scratch / f"{figure.id}.jpg"
            images.face_thumbnail(source, figure.box, local)
            stored = storage.put(local, name)
            with transaction.atomic():
                current = Figure.objects.select_for_update().filter(id=figure.id).first()
                if current is None or name_for(current) != name:
                    storage.delete(stored)  # the figure moved or went meanwhile: the next run crops it
                    continue
                old = current.thumbnail
                Figure.objects.filter(id=figure.id).update(thumbnail=stored)
            made += 1
            if old and old != stored:
                storage.delete(old)
    return made


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


def _check_figure(painting: Painting, figure: Figure | None) -> None:
    if figure is None:
        return  # the painting's first figure that may speak
    if figure.painting_id != painting.id:
        raise CurationError(_("That figure is on another painting."), code="figure")
    if figure.hidden:
        raise CurationError(_("That figure is hidden: it never speaks. Show it again first."), code="figure")


# A line of a dialogue as curators write it: the role's name, a colon (full-width or not), what it says.
_DIALOGUE_LINE = re.compile(r"^\s*([^:：]{1,100}?)\s*[:：]\s*(.+?)\s*$")


def dialogue_parse(script: str) -> list[tuple[str, str]]:
    """(role, line) pairs of SCRIPT, one line of text per line of dialogue, blank lines ignored.

    Raises CurationError naming the first line that has no role, and a dialogue of one role or one line.
    """
    lines = []
    for number, text in enumerate(script.splitlines(), start=1):
        if not text.strip():
            continue
        match = _DIALOGUE_LINE.match(text)
        if match is None:
            raise CurationError(
                _("Line %(number)d has no role: write the role's name, a colon, then what it says (宝玉：…).")
                % {"number": number},
                code="dialogue",
            )
        lines.append((match.group(1), match.group(2)))
    if len({role for role, _line in lines}) < 2:
        raise CurationError(_("A dialogue needs at least two roles, each with a line."), code="dialogue")
    return lines


def _sync_dialogue(passage: Passage) -> None:
    """Make the passage's roles and lines those of its script: a role keeps its figure and its readings
    while its name stays; a role that has readings cannot disappear."""
    if passage.kind != Passage.Kind.DIALOGUE:
        if passage.roles.filter(recordings__isnull=False).exists():
            raise CurationError(
                _("Residents have read roles of this dialogue: it must stay a dialogue."), code="dialogue"
            )
        passage.lines.all().delete()
        passage.roles.all().delete()
        return
    parsed = dialogue_parse(passage.text)
    names = list(dict.fromkeys(role for role, _line in parsed))
    gone = passage.roles.exclude(name__in=names)
    read = gone.filter(recordings__isnull=False).values_list("name", flat=True).distinct()
    if read:
        raise CurationError(
            _("Residents have read the role %(role)s: keep it in the dialogue.") % {"role": read[0]}, code="dialogue"
        )
    passage.lines.all().delete()
    gone.delete()
    roles = {}
    for order, name in enumerate(names):
        role, _created = DialogueRole.objects.update_or_create(passage=passage, name=name, defaults={"order": order})
        roles[name] = role
    DialogueLine.objects.bulk_create(
        DialogueLine(passage=passage, role=roles[role], order=order, text=text)
        for order, (role, text) in enumerate(parsed)
    )


def dialogue_check_cast(*, passage: Passage) -> None:
    """A dialogue opens only with every role cast to a figure that may speak."""
    if passage.kind != Passage.Kind.DIALOGUE:
        return
    uncast = [role.name for role in passage.roles.select_related("figure") if not role.figure or role.figure.hidden]
    if uncast:
        raise CurationError(
            _("Cast every role to a figure first: %(roles)s.") % {"roles": "、".join(uncast)}, code="dialogue"
        )


@transaction.atomic
def dialogue_role_cast(*, role: DialogueRole, figure: Figure | None, name_en: str | None = None) -> DialogueRole:
    """Cast ROLE to FIGURE of the passage's painting (None: not cast yet). The dialogue's test film no
    longer vouches for it: the passage closes until a new one."""
    passage = role.passage
    _check_figure(passage.painting, figure)
    changed = role.figure_id != (figure.id if figure else None)
    role.figure = figure
    if name_en is not None:
        role.name_en = name_en.strip()
    role.save(update_fields=["figure", "name_en"])
    if changed and passage.is_open:
        passage.is_open = False
        passage.save(update_fields=["is_open"])
        signals.passage_needs_new_test_film.send(sender=None, passage=passage)
    return role


@transaction.atomic
def passage_create(
    *,
    painting: Painting,
    title: str,
    text: str,
    language: str,
    max_seconds: int,
    figure: Figure | None = None,
    aspect: str = "",
    push_in: bool = False,
    title_en: str = "",
    translation: str = "",
    note: str = "",
    note_en: str = "",
    kind: str = "reading",  # a Passage.Kind
    camera: str = "cut",
):
    """A new passage starts closed: residents can record it once a test film has been watched. A
    dialogue's TEXT is its script (dialogue_parse): its roles and lines are made from it."""
    _check_figure(painting, figure)
    passage = Passage.objects.create(
        kind=kind or Passage.Kind.READING,
        camera=camera or "cut",
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
        figure=figure,
        aspect=aspect,
        push_in=push_in,
        is_open=False,
    )
    _sync_dialogue(passage)
    return passage


# What a test film shows: change one of these and the film no longer vouches for the passage.
FILMED_FIELDS = ("text", "language", "figure", "aspect", "push_in", "kind", "camera")


@transaction.atomic
def passage_update(*, passage: Passage, **fields: Any) -> Passage:
    if "figure" in fields:
        _check_figure(passage.painting, fields["figure"])
    refilm = any(name in FILMED_FIELDS and getattr(passage, name) != value for name, value in fields.items())
    for name, value in fields.items():
        setattr(passage, name, value)
    if refilm:
        # Residents must not record a text nobody has seen animated: close it until a new test film.
        passage.is_open = False
    passage.save()
    if "text" in fields or "kind" in fields:
        _sync_dialogue(passage)
    if refilm:
        signals.passage_needs_new_test_film.send(sender=None, passage=passage)
    return passage
