"""Smaller copies of a painting for pages (no Django): a phone gets a 480 px image, not a 6,000 px scan.

Each copy is a progressive JPEG at one of RENDITION_WIDTHS narrower than the original, kept at the
original's proportions, so a handscroll stays a handscroll. Pages pick among them with srcset.
"""

from __future__ import annotations

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
