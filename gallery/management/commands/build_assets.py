"""Build the site's font and icons from Debian's Noto Serif CJK (fonts-noto-cjk), into static/.

The serif face is subset to the characters the site shows (its Chinese translations, the demo festival's
poems and titles, Latin letters and punctuation), so a phone downloads tens of kilobytes, not the 20 MB
collection, and nothing comes from a CDN. Run again after adding translations or demo passages; the
outputs are committed, so `make run` needs neither the Debian fonts nor brotli.

    python manage.py build_assets [--font /usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc]
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from gallery.management.commands.load_demo import PASSAGES

SERIF_COLLECTION = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"
SERIF_BOLD_COLLECTION = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc"
STATIC = Path(settings.BASE_DIR) / "static"
SEAL_RED = "#9e2a1c"
PAPER = "#fbf7f0"
# Always present: CJK punctuation, the festival's mark.
BASE_CHARACTERS = "，。！？；：、（）《》「」『』【】〈〉—…·" + "说画春之声"


def characters_used() -> str:
    """The Chinese characters set in serif: the demo festival's poems, titles and texts, the base set.

    Only poems, titles and headings use the serif face (the interface stays in the system's sans), so
    the subset stays small; a character outside it falls back to the visitor's own serif CJK font.
    """
    from gallery.management.commands import load_demo

    used = set(BASE_CHARACTERS)
    for _filename, title, text, _language in PASSAGES:
        used.update(title + text)
    for value in vars(load_demo).values():
        if isinstance(value, str):
            used.update(value)
    return "".join(sorted(character for character in used if ord(character) > 0x2000))


def collection_index(path: str, family: str = "Noto Serif CJK SC") -> int:
    from fontTools.ttLib import TTCollection

    for index, font in enumerate(TTCollection(path).fonts):
        if font["name"].getDebugName(1) == family:
            return index
    raise ValueError(f"{family} is not in {path}")


def subset(source: str, destination: Path, text: str) -> int:
    from fontTools import subset as font_subset

    options = font_subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["vert", "vrt2"]  # upright punctuation in vertical poems
    options.font_number = collection_index(source)
    font = font_subset.load_font(source, options)
    subsetter = font_subset.Subsetter(options)
    subsetter.populate(text=text)
    subsetter.subset(font)
    font_subset.save_font(font, str(destination), options)
    return destination.stat().st_size


def glyph_path(character: str, source: str) -> tuple[str, int]:
    """The outline of CHARACTER as an SVG path (font units, y up) and the font's units per em."""
    from fontTools.pens.svgPathPen import SVGPathPen
    from fontTools.ttLib import TTFont

    font = TTFont(source, fontNumber=collection_index(source))
    glyphs = font.getGlyphSet()
    pen = SVGPathPen(glyphs)
    glyphs[font.getBestCmap()[ord(character)]].draw(pen)
    return pen.getCommands(), font["head"].unitsPerEm


def seal_svg(source: str) -> str:
    """A red seal with 说 in paper white: the festival's mark (favicon, app icon)."""
    path, units = glyph_path("说", source)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {units} {units}">'
        f'<rect width="{units}" height="{units}" rx="{units // 8}" fill="{SEAL_RED}"/>'
        # Font outlines have y up and the baseline near 12% from the bottom: flip and centre.
        f'<path fill="{PAPER}" transform="translate({units * 0.1:.0f} {units * 0.98:.0f}) scale(0.8 -0.8)" '
        f'd="{path}"/></svg>'
    )


class Command(BaseCommand):
    help = "Subset Noto Serif SC to the characters used and draw the site icons into static/."

    def add_arguments(self, parser):
        parser.add_argument("--font", default=SERIF_COLLECTION)
        parser.add_argument("--bold-font", default=SERIF_BOLD_COLLECTION)

    def handle(self, *args, font, bold_font, **options):
        import logging

        logging.getLogger("fontTools").setLevel(logging.WARNING)
        text = characters_used()
        (STATIC / "fonts").mkdir(exist_ok=True)
        size = subset(font, STATIC / "fonts" / "noto-serif-sc-subset.woff2", text)
        self.stdout.write(f"{len(text)} characters: {size / 1024:.0f} KiB")
        (STATIC / "icons").mkdir(exist_ok=True)
        (STATIC / "icons" / "seal.svg").write_text(seal_svg(bold_font), encoding="utf-8")
        for size in (180, 192, 512):
            draw_png(bold_font, size, STATIC / "icons" / f"seal-{size}.png")
        self.stdout.write("icons: static/icons/seal.svg, seal-180.png, seal-192.png, seal-512.png")


def draw_png(source: str, size: int, destination: Path) -> None:
    """The seal as a PNG (Pillow draws the glyph from the same font file)."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (size, size), SEAL_RED)
    font = ImageFont.truetype(source, int(size * 0.72), index=collection_index(source))
    draw = ImageDraw.Draw(image)
    draw.text((size / 2, size / 2), "说", font=font, fill=PAPER, anchor="mm")
    image.save(destination, optimize=True)
