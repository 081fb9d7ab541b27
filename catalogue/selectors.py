"""Catalogue reads: who curates which festival, a painting's figures in the order an eye reads them,
and who speaks a passage."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from catalogue.models import Event, Figure, Painting, Passage


def events_curated_by(*, user: Any) -> QuerySet[Event]:
    """The festivals USER curates: those they created or were given (Event.curators); superusers every
    one. Anyone outside the curators group curates none, whatever the festival's list says."""
    if not user.is_authenticated or not user.is_curator():
        return Event.objects.none()
    if user.is_superuser:
        return Event.objects.all()
    return Event.objects.filter(curators=user)


def event_curated_by(*, event_id: Any, user: Any) -> bool:
    """Whether USER curates the festival EVENT_ID (see events_curated_by)."""
    return events_curated_by(user=user).filter(id=event_id).exists()


def painting_tile_name(
    *, painting_id: Any, folder: str, level: int, column: int, row: int, extension: str
) -> str | None:
    """The stored name of one deep-zoom tile of the painting PAINTING_ID (catalogue.services
    painting_make_tiles), or None when there is no such tile: no such painting, tiles of another image
    (FOLDER is not the current one), a level, column or row outside the pyramid or another format.
    Every painting is public (its page is), so whoever asks may have any tile of it."""
    painting = Painting.objects.filter(id=painting_id).only("tiles").first()
    tiles = (painting.tiles or {}) if painting else {}
    prefix = tiles.get("prefix", "")
    if not prefix or prefix.rsplit("/", 1)[-1] != folder or extension != tiles.get("format"):
        return None
    levels = {entry["level"]: entry for entry in tiles.get("levels", [])}
    entry = levels.get(level)
    if entry is None or not (0 <= column < entry["columns"] and 0 <= row < entry["rows"]):
        return None
    return f"{prefix}/{level}/{column}_{row}.{extension}"


def painting_figures(*, painting: Painting, visible_only: bool = False) -> list[Figure]:
    """The painting's figures left to right (top to bottom on a hanging scroll), each with its
    ``number`` (1, 2, ...) counted over every figure, hidden ones included, so a number never moves
    when a figure is hidden."""
    figures = list(Figure.objects.filter(painting=painting).order_by("position", "created_at"))
    for number, figure in enumerate(figures, start=1):
        figure.number = number  # type: ignore[attr-defined]
    return [figure for figure in figures if not figure.hidden] if visible_only else figures


def speaking_figure(*, passage: Passage) -> Figure | None:
    """The figure whose face speaks PASSAGE: the one cast, else the painting's first that may speak."""
    if passage.figure_id is not None:
        figure = Figure.objects.filter(id=passage.figure_id, hidden=False).first()
        if figure is not None:
            return figure
    return (
        Figure.objects.filter(painting_id=passage.painting_id, hidden=False).order_by("position", "created_at").first()
    )


def figure_label(figure: Figure) -> str:
    """How a menu names a figure: its number and its name, if it has one."""
    number = getattr(figure, "number", None)
    parts = [str(number)] if number else []
    if figure.name:
        parts.append(figure.name + (f" ({figure.name_en})" if figure.name_en else ""))
    elif figure.name_en:
        parts.append(figure.name_en)
    return " · ".join(parts) or str(figure)


def passage_framing(*, passage: Passage) -> dict | None:
    """What the film of PASSAGE shows of its painting, as percentages of the painting (for the curator's
    preview): ``crop`` the speaker's framing, ``scene`` the opening view of a push-in; None before the
    painting has a figure that may speak."""
    from animation.engine.framing import crop_box, parse_aspect, scene_box

    figure = speaking_figure(passage=passage)
    painting = passage.painting
    if figure is None or not painting.width or not painting.height:
        return None
    shape = (painting.height, painting.width, 3)
    crop = crop_box(shape, [round(value) for value in figure.box], parse_aspect(passage.aspect or None))

    def share(box: tuple[int, int, int, int]) -> dict:
        x0, y0, x1, y1 = box
        return {
            "left": round(100 * x0 / painting.width, 2),
            "top": round(100 * y0 / painting.height, 2),
            "width": round(100 * (x1 - x0) / painting.width, 2),
            "height": round(100 * (y1 - y0) / painting.height, 2),
        }

    framing = {"crop": share(crop), "figure": figure}
    if passage.push_in:
        framing["scene"] = share(scene_box(shape, crop))
    return framing
