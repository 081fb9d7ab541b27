"""Catalogue work off the request path: finding a painting's faces. Tasks take ids and call services.

The image is copied from storage into a scratch folder (workers share no disk).
"""

from __future__ import annotations

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from catalogue import services
from catalogue.models import Painting
from core import storage


# On the render queue (CELERY_TASK_ROUTES), where the GPU workers are in a deployment.
@shared_task(soft_time_limit=300, time_limit=330)
def painting_detect_faces(painting_id: str) -> None:
    """Find the painting's faces and keep them. Running it twice stores the same result twice."""
    from animation.engine import faces
    from animation.engine.errors import EngineInputError

    painting = Painting.objects.filter(id=painting_id).first()
    if painting is None:
        return  # deleted before the worker got to it
    try:
        with storage.scratch_folder(f"faces-{painting_id}") as scratch:
            image = faces.load_painting(storage.fetch(painting.image.name, scratch))
        found = faces.detect_faces(image)
    except EngineInputError as error:
        services.painting_record_face_error(painting_id=painting_id, reason=str(error))
        return
    except SoftTimeLimitExceeded:
        services.painting_record_face_error(painting_id=painting_id, reason="Looking for faces took too long.")
        return
    services.painting_record_faces(painting_id=painting_id, faces=[face.to_dict() for face in found])


@shared_task(soft_time_limit=120, time_limit=150)
def painting_make_renditions(painting_id: str) -> None:
    """Make the smaller copies pages show; running it twice stores the same copies."""
    services.painting_make_renditions(painting_id=painting_id)


# A 20,000 x 2,000 scroll takes a few seconds and about 300 MB (bench: tests/test_painting_tiles.py).
@shared_task(soft_time_limit=300, time_limit=330)
def painting_make_tiles(painting_id: str) -> None:
    """Make the deep-zoom tiles of the painting's viewer; running it twice stores the same tiles."""
    services.painting_make_tiles(painting_id=painting_id)


@shared_task(soft_time_limit=120, time_limit=150)
def painting_make_figure_thumbnails(painting_id: str) -> None:
    """Crop each figure's face for the curator's strip and the record page; running it twice crops nothing more."""
    services.painting_make_figure_thumbnails(painting_id=painting_id)


@shared_task(soft_time_limit=300, time_limit=330)
def painting_delete_files(painting_id: str) -> None:
    """Delete the stored files of a painting deleted since (image, copies, tiles, figure crops); running
    it twice deletes nothing more, and it never touches a painting that exists."""
    services.painting_delete_files(painting_id=painting_id)
