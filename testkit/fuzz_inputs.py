"""Malformed uploads and paintings for the fuzz test (tests/test_security.py) and benchmark (bench/bench_fuzz.py).

Seeds are real files made with the shipped ffmpeg and Pillow from the demo media; each malformed input
is a seeded mutation of one, so a run is reproducible from its seed. Django is imported only by the
run_* functions, which drive a logged-in test client.
"""

from __future__ import annotations

import io
import random
import struct
import subprocess
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from testkit.media import CHINESE_POEM, DEMO, ffmpeg

AUDIO_KINDS = ("truncated", "bit_flipped", "wrong_container", "lying_header", "huge_duration", "bomb", "tiny")
PAINTING_KINDS = ("truncated", "bit_flipped", "wrong_container", "lying_header", "tiny", "bomb")


def _encode(arguments: list[str]) -> bytes:
    return subprocess.run([ffmpeg(), "-v", "error", *arguments, "pipe:1"], check=True, capture_output=True).stdout


def audio_seeds() -> dict[str, bytes]:
    """The reading in every container a browser or phone sends (WebM written to a pipe has no duration)."""
    source = ["-i", str(CHINESE_POEM)]
    return {
        "flac": CHINESE_POEM.read_bytes(),
        "webm": _encode([*source, "-c:a", "libopus", "-f", "webm"]),
        "ogg": _encode([*source, "-c:a", "libopus", "-f", "ogg"]),
        "mp3": _encode([*source, "-f", "mp3"]),
        "wav": _encode([*source, "-c:a", "pcm_s16le", "-f", "wav"]),
        "m4a": _encode([*source, "-c:a", "aac", "-f", "adts"]),
    }


def audio_bombs() -> dict[str, bytes]:
    """Small files that expand: 10 minutes of FLAC silence, a deflate bomb, a gzip of zeros."""
    silence = _encode(["-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-t", "600", "-c:a", "flac", "-f", "flac"])
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("take.wav", b"\0" * 20_000_000)
    return {"silence.flac": silence, "bomb.zip": archive.getvalue(), "zeros.gz": zlib.compress(b"\0" * 20_000_000, 9)}


def _wav_with(header_fields: dict, pcm: bytes) -> bytes:
    channels = header_fields.get("channels", 1)
    rate = header_fields.get("rate", 24000)
    bits = header_fields.get("bits", 16)
    data_size = header_fields.get("data_size", len(pcm))
    riff_size = header_fields.get("riff_size", 36 + len(pcm))
    block = max(1, channels * bits // 8) & 0xFFFF
    return (
        b"RIFF"
        + struct.pack("<I", riff_size & 0xFFFFFFFF)
        + b"WAVEfmt "
        + struct.pack(
            "<IHHIIHH", 16, header_fields.get("format", 1), channels, rate, rate * block & 0xFFFFFFFF, block, bits
        )
        + b"data"
        + struct.pack("<I", data_size & 0xFFFFFFFF)
        + pcm
    )


def _flac_claiming_samples(flac: bytes, samples: int) -> bytes:
    """FLAC whose STREAMINFO claims SAMPLES samples (36 bits) whatever the frames hold."""
    data = bytearray(flac)
    info = 8  # "fLaC" + block header
    packed = int.from_bytes(data[info + 10 : info + 18], "big")
    packed = (packed & ~((1 << 36) - 1)) | (samples & ((1 << 36) - 1))
    data[info + 10 : info + 18] = packed.to_bytes(8, "big")
    return bytes(data)


def malformed_uploads(count: int, *, seed: int = 10) -> Iterator[tuple[str, str, bytes]]:
    """COUNT (kind, file name, content) of broken readings, kinds in turn."""
    rng = random.Random(seed)
    seeds = audio_seeds()
    bombs = audio_bombs()
    pcm = seeds["wav"][44:]
    painting = (DEMO / "paintings" / "art_2.jpg").read_bytes()
    for number in range(count):
        kind = AUDIO_KINDS[number % len(AUDIO_KINDS)]
        container = rng.choice(sorted(seeds))
        original = seeds[container]
        name = f"take.{container}"
        if kind == "truncated":
            content = original[: rng.randrange(0, max(1, len(original) // 3))]
        elif kind == "bit_flipped":
            data = bytearray(original)
            # Headers are where parsers trust numbers: flip mostly in the first kilobyte.
            for _ in range(rng.randint(1, 64)):
                position = rng.randrange(min(len(data), 1024) if rng.random() < 0.7 else len(data))
                data[position] ^= 1 << rng.randrange(8)
            content = bytes(data)
        elif kind == "wrong_container":
            content = rng.choice([
                painting,
                b"<html><body>not audio</body></html>" * 50,
                b"#EXTM3U\n#EXTINF:10,\n../recordings/x/original.mp3\n#EXT-X-ENDLIST\n",
                rng.randbytes(rng.randrange(100, 20000)),
                b"OggS" + rng.randbytes(5000),
                b"\x1aE\xdf\xa3" + rng.randbytes(5000),
            ])  # fmt: skip
        elif kind == "lying_header":
            content = _wav_with(
                rng.choice([
                    {"data_size": 0xFFFFFFF0, "riff_size": 0xFFFFFFF8},
                    {"rate": 0},
                    {"rate": 4_000_000_000},
                    {"channels": 0},
                    {"channels": 65535},
                    {"bits": 7},
                    {"format": 0x55},
                    {"format": 0xFFFE},
                ]),
                pcm[: rng.randrange(1000, len(pcm))],
            )  # fmt: skip
            name = rng.choice(["take.wav", "take.webm", "take.mp3", "voice.m3u8", "take"])
        elif kind == "huge_duration":
            content = rng.choice([
                _flac_claiming_samples(seeds["flac"], (1 << 36) - 1),
                _wav_with({"data_size": 24000 * 2 * 36000}, pcm),  # "ten hours" of which 5 s are there
                seeds["wav"] * 8,  # eight readings back to back: longer than the passage allows
            ])  # fmt: skip
        elif kind == "bomb":
            name, content = rng.choice(sorted(bombs.items()))
        else:  # tiny
            content = original[: rng.randrange(0, 64)]
        yield kind, name, content


def painting_seeds() -> dict[str, bytes]:
    from PIL import Image

    jpeg = (DEMO / "paintings" / "art_2.jpg").read_bytes()
    image = Image.open(io.BytesIO(jpeg)).convert("RGB")
    seeds = {"jpg": jpeg}
    for fmt, suffix in (("PNG", "png"), ("WEBP", "webp")):
        buffer = io.BytesIO()
        image.save(buffer, fmt)
        seeds[suffix] = buffer.getvalue()
    return seeds


def _png_claiming(png: bytes, width: int, height: int) -> bytes:
    """A PNG whose IHDR says WIDTH x HEIGHT (CRC fixed, so readers believe it)."""
    data = bytearray(png)
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF)
    return bytes(data)


def malformed_paintings(count: int, *, seed: int = 11) -> Iterator[tuple[str, str, bytes]]:
    from PIL import Image

    rng = random.Random(seed)
    seeds = painting_seeds()
    tiny = io.BytesIO()
    Image.new("RGB", (12, 12), "white").save(tiny, "PNG")
    gif = io.BytesIO()
    Image.new("RGB", (300, 300), "white").save(gif, "GIF")
    for number in range(count):
        kind = PAINTING_KINDS[number % len(PAINTING_KINDS)]
        fmt = rng.choice(sorted(seeds))
        original = seeds[fmt]
        name = f"painting.{fmt}"
        if kind == "truncated":
            content = original[: rng.randrange(0, len(original) - 1)]
        elif kind == "bit_flipped":
            data = bytearray(original)
            for _ in range(rng.randint(1, 64)):
                position = rng.randrange(min(len(data), 2048) if rng.random() < 0.7 else len(data))
                data[position] ^= 1 << rng.randrange(8)
            content = bytes(data)
        elif kind == "wrong_container":
            content = rng.choice([CHINESE_POEM.read_bytes(), gif.getvalue(), b"%PDF-1.4\n" + b"x" * 3000, b"GIF89a"])
        elif kind == "lying_header":
            content = _png_claiming(seeds["png"], rng.choice([0, 1, 100_000, 2**31 - 1]), rng.choice([0, 60_000]))
        elif kind == "tiny":
            content = rng.choice([tiny.getvalue(), b"", original[:20]])
        else:  # bomb: a huge canvas in a small file
            content = _png_claiming(seeds["png"], 30_000, 30_000)
        yield kind, name, content


def stored_files(root: Path) -> int:
    return sum(1 for path in root.rglob("*") if path.is_file()) if root.exists() else 0


def _clear_message(response) -> str:
    """The refusal's message a person would read: JSON detail / field errors, or the form's errors."""
    if response["Content-Type"].startswith("application/json"):
        body = response.json()
        values = body.values() if isinstance(body, dict) else body
        return " ".join(str(value) for value in values)
    context = response.context or {}
    for name in ("painting_form", "form"):
        form = context.get(name)
        if form is not None and form.errors:
            return " ".join(str(error) for errors in form.errors.values() for error in errors)
    return ""


def run_upload_fuzz(client, *, passage_id, media_root: Path, count: int, seed: int = 10, on_progress=None) -> dict:
    """COUNT malformed uploads through the API as a logged-in resident; counts of what came back."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from contributions.models import Recording

    counts = {"sent": 0, "accepted": 0, "refused": 0, "server_errors": 0, "unclear": 0, "stored_on_refusal": 0}
    by_kind: dict[str, dict[str, int]] = {}
    for number, (kind, name, content) in enumerate(malformed_uploads(count, seed=seed)):
        rows, files = Recording.objects.count(), stored_files(media_root / "recordings")
        upload = SimpleUploadedFile(name, content, content_type="audio/webm")
        response = client.post("/api/recordings/", {"passage": str(passage_id), "audio": upload})
        counts["sent"] += 1
        tally = by_kind.setdefault(kind, {"accepted": 0, "refused": 0})
        if response.status_code >= 500:
            counts["server_errors"] += 1
        elif response.status_code == 201:
            counts["accepted"] += 1
            tally["accepted"] += 1
        else:
            counts["refused"] += 1
            tally["refused"] += 1
            if len(_clear_message(response)) < 8:
                counts["unclear"] += 1
            if Recording.objects.count() != rows or stored_files(media_root / "recordings") != files:
                counts["stored_on_refusal"] += 1
        if on_progress is not None:
            on_progress(number)
    counts["by_kind"] = by_kind
    return counts


def run_painting_fuzz(client, *, event_slug: str, media_root: Path, count: int, seed: int = 11, on_progress=None):
    """COUNT malformed paintings through the curators' upload form; counts of what came back."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from catalogue.models import Painting

    counts = {"sent": 0, "accepted": 0, "refused": 0, "server_errors": 0, "unclear": 0, "stored_on_refusal": 0}
    for number, (_kind, name, content) in enumerate(malformed_paintings(count, seed=seed)):
        rows, files = Painting.objects.count(), stored_files(media_root / "paintings")
        upload = SimpleUploadedFile(name, content, content_type="image/jpeg")
        response = client.post(
            f"/curation/events/{event_slug}/", {"action": "painting", "title": f"Fuzz {number}", "image": upload}
        )
        counts["sent"] += 1
        if response.status_code >= 500:
            counts["server_errors"] += 1
        elif response.status_code == 302:
            counts["accepted"] += 1
        else:
            counts["refused"] += 1
            if len(_clear_message(response)) < 8:
                counts["unclear"] += 1
            if Painting.objects.count() != rows or stored_files(media_root / "paintings") != files:
                counts["stored_on_refusal"] += 1
        if on_progress is not None:
            on_progress(number)
    return counts
