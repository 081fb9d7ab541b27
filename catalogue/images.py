"""Smaller copies of a painting for pages (no Django): a phone gets a 480 px image, not a 6,000 px scan.

Each copy is a progressive JPEG at one of RENDITION_WIDTHS narrower than the original, kept at the
original's proportions, so a handscroll stays a handscroll. Pages pick among them with srcset.
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageOps

# Card and strip thumbnails, phone-wide, laptop-wide, and a zoomed look at a detail.
RENDITION_WIDTHS = (240, 480, 960, 1600)
JPEG_QUALITY = 82
# A handscroll is drawn at a strip's height, not at a width: its copies are sized by height too, so a
# 20,000 x 2,000 scroll gets a 240 px tall strip (2,400 px wide), not a 240 px wide sliver.
SCROLL_ASPECT = 2.5


def make_renditions(source: Path, folder: Path) -> list[dict]:
    """Write FOLDER/w<width>.jpg for each width below the original's; return their width and height."""
    made = []
    with Image.open(source) as original:
        image = ImageOps.exif_transpose(original)
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        width, height = image.size
        for target in RENDITION_WIDTHS:
            if width / height >= SCROLL_ASPECT:
                size = (round(width * target / height), target) if target < height else None
            else:
                size = (target, round(height * target / width)) if target < width else None
            if size is None:
                continue
            path = folder / f"w{size[0]}.jpg"
            # reduce() first: a box filter down to twice the size, then Lanczos, at a fraction of the cost.
            copy = image.copy()
            copy.draft("RGB", (size[0] * 2, size[1] * 2))
            copy = copy.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)
            copy.save(path, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
            made.append({"width": size[0], "height": size[1], "file": path.name})
    return made


# A face in the curator's strip and on the record page: the face with room around it, this tall.
THUMBNAIL_HEIGHT = 160
THUMBNAIL_MARGIN = 0.45


def face_thumbnail(source: Path, box: list[float], out: Path) -> None:
    """Write OUT: a JPEG crop around the face BOX ([x, y, w, h] in the original's pixels) with a
    margin on each side, scaled to THUMBNAIL_HEIGHT (never up), square where the painting allows."""
    with Image.open(source) as original:
        image = ImageOps.exif_transpose(original)
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        x, y, w, h = (float(v) for v in box[:4])
        side = max(w, h) * (1 + 2 * THUMBNAIL_MARGIN)
        cx, cy = x + w / 2, y + h / 2
        left = max(0, min(image.width - side, cx - side / 2))
        top = max(0, min(image.height - side, cy - side / 2))
        crop = (round(left), round(top), round(min(image.width, left + side)), round(min(image.height, top + side)))
        face = image.crop(crop)
        if face.height > THUMBNAIL_HEIGHT:
            face = face.resize(
                (max(1, round(face.width * THUMBNAIL_HEIGHT / face.height)), THUMBNAIL_HEIGHT),
                Image.Resampling.LANCZOS,
            )
        face.save(out, "JPEG", quality=85, optimize=True)


# Deep zoom (issue 22): a pyramid of square tiles, so a 20,000 px handscroll is browsed on a phone by
# fetching the few tiles in view at the level the screen needs, never a 16,000 px copy of it.
TILE_SIZE = 256
TILE_QUALITY = 80
TILES_FORMAT = "jpg"


def tile_levels(width: int, height: int, tile_size: int = TILE_SIZE) -> list[dict]:
    """The pyramid's levels, smallest first: level 0 fits one tile, each next one twice as large, the
    last the original. Each level is {"level", "width", "height", "columns", "rows"}; a level's sides
    are the original's divided by a power of two, rounded up (as Deep Zoom and IIIF do)."""
    steps = 0
    while math.ceil(max(width, height) / 2**steps) > tile_size:
        steps += 1
    levels = []
    for level in range(steps + 1):
        divisor = 2 ** (steps - level)
        level_width, level_height = math.ceil(width / divisor), math.ceil(height / divisor)
        levels.append(
            {
                "level": level,
                "width": level_width,
                "height": level_height,
                "columns": math.ceil(level_width / tile_size),
                "rows": math.ceil(level_height / tile_size),
            }
        )
    return levels


def make_tiles(source: Path, folder: Path, *, tile_size: int = TILE_SIZE) -> dict:
    """Write FOLDER/<level>/<column>_<row>.jpg for every level of SOURCE's pyramid; return its descriptor
    ({"width", "height", "tile_size", "format", "levels"}).

    The original is decoded once; each smaller level is the one above halved (a 2 x 2 box filter,
    Image.reduce), so the whole pyramid costs about 1.33 times the decoded original in memory, never a
    second decode. Tiles at the right and bottom edges are as large as what is left of the level.
    """
    with Image.open(source) as image:
        image.load()
        # In place: a copy would hold a second full-size decode (120 MB for a 20,000 x 2,000 scroll).
        ImageOps.exif_transpose(image, in_place=True)
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    width, height = image.size
    levels = tile_levels(width, height, tile_size)
    current = image
    del image  # each level above is let go once halved: the pyramid never holds two full-size copies
    for spec in reversed(levels):
        if current.size != (spec["width"], spec["height"]):
            # Image.reduce rounds an odd side up, averaging the last row or column alone, as the levels do.
            current = current.reduce(2)
        level_folder = folder / str(spec["level"])
        level_folder.mkdir(parents=True, exist_ok=True)
        for column in range(spec["columns"]):
            for row in range(spec["rows"]):
                left, top = column * tile_size, row * tile_size
                box = (left, top, min(left + tile_size, spec["width"]), min(top + tile_size, spec["height"]))
                current.crop(box).save(level_folder / f"{column}_{row}.{TILES_FORMAT}", "JPEG", quality=TILE_QUALITY)
    return {"width": width, "height": height, "tile_size": tile_size, "format": TILES_FORMAT, "levels": levels}
