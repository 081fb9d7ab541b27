"""Audio in and out of the engine: decode anything ffmpeg reads, normalise, measure, find the voice.

Every decode goes through the ffmpeg binary that imageio-ffmpeg ships, in a subprocess with a time
limit (``ffmpeg.run_ffmpeg``), so a hostile or broken upload can neither hang a worker nor crash the
Python process. File extensions are never trusted: ffmpeg sniffs the content.

Sample arrays are float32, mono, in [-1, 1]. Levels are in dBFS (0 dB = full scale sine peak).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import re
import tempfile
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from animation.engine.errors import EngineInputError
from animation.engine.ffmpeg import ffmpeg_executable as ffmpeg_executable  # re-exported: audio.ffmpeg_executable
from animation.engine.ffmpeg import run_ffmpeg

SPEECH_SAMPLE_RATE = 16000
VOICE_SAMPLE_RATE = 48000
VOICE_TARGET_LUFS = -16.0
VOICE_TRUE_PEAK_DBFS = -1.5

# Below this a frame is digital silence whatever the noise floor says (a muted or zero-padded track).
ABSOLUTE_SILENCE_DBFS = -60.0
DIGITAL_SILENCE_DBFS = -100.0
# A sample this close to full scale was almost certainly clipped by the recorder.
CLIP_LEVEL = 0.999

# Output options for a file that carries none of its source's tags: no global, stream or chapter
# metadata (a phone's file may name its model, the time and the place; a desktop tool the resident),
# and bitexact, so that ffmpeg adds no "encoder" tag with its own version either.
WITHOUT_METADATA = ("-map_metadata", "-1", "-map_chapters", "-1", "-fflags", "+bitexact")

# The muxers that take a kept original's sound by stream copy, by its extension, the first that works
# wins: Chrome's audio/webm;codecs=pcm fits only Matroska, a phone's AMR in 3GP only QuickTime.
_COPY_MUXERS = {
    "webm": ("webm", "matroska"),
    "ogg": ("ogg",),
    "m4a": ("mp4", "mov"),
    "wav": ("wav",),
    "mp3": ("mp3",),
    "flac": ("flac",),
}
# A stream copy plays exactly as long as its source (same packets); more than this apart, packets were lost.
COPY_DURATION_TOLERANCE_SECONDS = 0.05

_CHANNEL_LAYOUTS = {
    "mono": 1,
    "stereo": 2,
    "2.1": 3,
    "3.0": 3,
    "3.0(back)": 3,
    "quad": 4,
    "quad(side)": 4,
    "4.0": 4,
    "4.1": 5,
    "5.0": 5,
    "5.0(side)": 5,
    "5.1": 6,
    "5.1(side)": 6,
    "6.1": 7,
    "7.1": 8,
    "7.1(wide)": 8,
    "downmix": 2,
}


@dataclasses.dataclass(frozen=True)
class AudioProbe:
    duration_seconds: float
    codec: str
    sample_rate: int
    channels: int
    format_name: str

    def to_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class AudioStats:
    duration_seconds: float
    peak_dbfs: float
    rms_dbfs: float
    loudness_lufs: float  # integrated, gated, K-weighted (BS.1770 style); approximate, see _k_weighted_power
    clipped_ratio: float  # share of samples at full scale
    silence_ratio: float  # share of 10 ms frames without voice activity

    def to_dict(self) -> dict[str, float]:
        return {key: round(float(value), 4) for key, value in dataclasses.asdict(self).items()}


def _last_error_line(stderr: bytes) -> str:
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1] if lines else "ffmpeg gave no reason"


def _check_readable(path: Path) -> None:
    if not path.is_file():
        raise EngineInputError(f"audio file not found: {path}")
    if path.stat().st_size == 0:
        raise EngineInputError(f"audio file is empty: {path.name}")


def _timestamp_seconds(text: str) -> float:
    hours, minutes, seconds = text.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def probe_audio(path: str | os.PathLike[str], *, timeout: float = 20) -> AudioProbe:
    """Describe the first audio stream of PATH.

    The stream is decoded to the end (to a null sink) so that the duration is what a player would
    play, not what a possibly lying container header claims, and so that a file that only looks
    like audio is rejected here rather than half-way through a render.
    """
    path = Path(path)
    _check_readable(path)
    completed = run_ffmpeg(
        ["-i", str(path), "-map", "0:a:0", "-vn", "-sn", "-dn", "-f", "null", "-"],
        timeout=timeout,
        what=f"reading {path.name}",
    )
    stderr = completed.stderr.decode("utf-8", "replace")
    stream = re.search(r"Stream #0:\d+(?:\[\w+\])?(?:\(\w+\))?: Audio: ([^\n]+)", stderr)
    if completed.returncode != 0 or stream is None:
        if "does not contain any stream" in stderr or ("matches no streams" in stderr and "Audio:" not in stderr):
            raise EngineInputError(f"{path.name} has no audio track")
        raise EngineInputError(
            f"{path.name} is not an audio file ffmpeg can decode ({_last_error_line(completed.stderr)})"
        )

    fields = [field.strip() for field in stream.group(1).split(",")]
    codec = fields[0].split(" ")[0]
    sample_rate_match = re.search(r"(\d+) Hz", stream.group(1))
    sample_rate = int(sample_rate_match.group(1)) if sample_rate_match else 0
    channels = 0
    for field in fields[1:]:
        layout = field.split(" ")[0]
        if layout in _CHANNEL_LAYOUTS:
            channels = _CHANNEL_LAYOUTS[layout]
            break
        count = re.match(r"(\d+) channels", field)
        if count:
            channels = int(count.group(1))
            break
    format_match = re.search(r"Input #0, ([^\s]+?), from", stderr)
    format_name = format_match.group(1) if format_match else "unknown"

    # The final progress line holds the decoded length; the header's Duration is the fallback.
    times = re.findall(r"time=\s*(\d+:\d+:\d+(?:\.\d+)?)", stderr)
    if times:
        duration = _timestamp_seconds(times[-1])
    else:
        header = re.search(r"Duration: (\d+:\d+:\d+(?:\.\d+)?)", stderr)
        duration = _timestamp_seconds(header.group(1)) if header else 0.0
    if duration <= 0:
        raise EngineInputError(f"{path.name} contains no audio samples")
    return AudioProbe(
        duration_seconds=round(duration, 3),
        codec=codec,
        sample_rate=sample_rate,
        channels=channels,
        format_name=format_name,
    )


def decode_audio(
    path: str | os.PathLike[str],
    *,
    sample_rate: int = SPEECH_SAMPLE_RATE,
    max_seconds: float | None = None,
    timeout: float = 60,
) -> np.ndarray:
    """Decode the first audio stream of PATH to float32 mono at SAMPLE_RATE (channels averaged)."""
    path = Path(path)
    _check_readable(path)
    arguments = ["-i", str(path), "-map", "0:a:0", "-vn", "-sn", "-dn", "-ac", "1", "-ar", str(sample_rate)]
    if max_seconds is not None:
        arguments += ["-t", f"{max_seconds:.3f}"]
    arguments += ["-f", "f32le", "-acodec", "pcm_f32le", "pipe:1"]
    completed = run_ffmpeg(arguments, timeout=timeout, what=f"decoding {path.name}")
    if completed.returncode != 0:
        stderr = completed.stderr.decode("utf-8", "replace")
        if "matches no streams" in stderr or "does not contain any stream" in stderr:
            raise EngineInputError(f"{path.name} has no audio track")
        raise EngineInputError(
            f"{path.name} is not an audio file ffmpeg can decode ({_last_error_line(completed.stderr)})"
        )
    samples = np.frombuffer(completed.stdout, dtype="<f4").astype(np.float32)
    if samples.size == 0:
        raise EngineInputError(f"{path.name} contains no audio samples")
    # Float decoders (Opus, AAC) can overshoot full scale slightly; NaN would poison every statistic.
    return np.clip(np.nan_to_num(samples, nan=0.0, posinf=1.0, neginf=-1.0), -1.0, 1.0)


def copy_without_metadata(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    probe: AudioProbe,
    container: str,
    timeout: float = 60,
) -> AudioProbe:
    """Copy the first sound stream of SRC into DST without any metadata; return the probe of the copy.

    PROBE is ``probe_audio(SRC)``; CONTAINER the kept file's extension (webm, ogg, m4a, wav, mp3, flac):
    the copy stays in it, so the packets are SRC's and the sound is not re-encoded. Raises
    EngineInputError when no muxer takes the codec in CONTAINER or the copy does not play as SRC does.
    """
    source, destination = Path(src), Path(dst)
    muxers = _COPY_MUXERS.get(container)
    if muxers is None:
        raise EngineInputError(f"{source.name}: no stream copy into a .{container} file")
    reason = "no muxer took it"
    for muxer in muxers:
        arguments = ["-y", "-i", str(source), "-map", "0:a:0", "-vn", "-sn", "-dn", "-c:a", "copy"]
        completed = run_ffmpeg(
            [*arguments, *WITHOUT_METADATA, "-f", muxer, str(destination)],
            timeout=timeout,
            what=f"copying {source.name}",
        )
        if completed.returncode == 0 and destination.is_file() and destination.stat().st_size > 0:
            try:
                copied = probe_audio(destination, timeout=timeout)
            except EngineInputError as error:
                reason = str(error)
            else:
                if (
                    copied.codec == probe.codec
                    and abs(copied.duration_seconds - probe.duration_seconds) <= COPY_DURATION_TOLERANCE_SECONDS
                ):
                    return copied
                reason = f"the copy plays {copied.duration_seconds:g} s of {copied.codec}"
        else:
            reason = _last_error_line(completed.stderr)
        destination.unlink(missing_ok=True)
    raise EngineInputError(f"could not copy {source.name} without its metadata ({reason})")


@contextmanager
def _atomic_destination(destination: Path) -> Iterator[Path]:
    """Yield a temporary path beside DESTINATION; it replaces DESTINATION only if the block succeeds.

    Readers (a worker serving the file, a second task) therefore never see a half-written file.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary_name = tempfile.mkstemp(
        prefix=f".{destination.stem}.", suffix=destination.suffix or ".tmp", dir=destination.parent
    )
    os.close(handle)
    temporary = Path(temporary_name)
    try:
        yield temporary
        os.replace(temporary, destination)
    finally:
        temporary.unlink(missing_ok=True)


def write_wav(path: str | os.PathLike[str], samples: np.ndarray, sample_rate: int) -> None:
    """Write mono (1-D) or interleaved multichannel (frames x channels) samples as 16-bit PCM WAV."""
    samples = np.asarray(samples, dtype=np.float32)
    channels = 1 if samples.ndim == 1 else samples.shape[1]
    pcm = np.round(np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2")
    with _atomic_destination(Path(path)) as temporary, wave.open(str(temporary), "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(2)
        writer.setframerate(int(sample_rate))
        writer.writeframes(pcm.tobytes())


def convert_for_speech(src: str | os.PathLike[str], dst: str | os.PathLike[str], *, timeout: float = 120) -> AudioProbe:
    """Write SRC as the 16 kHz mono 16-bit WAV that Whisper expects; return the probe of SRC."""
    source, destination = Path(src), Path(dst)
    probe = probe_audio(source, timeout=timeout)
    with _atomic_destination(destination) as temporary:
        completed = run_ffmpeg(
            [
                "-y",
                "-i",
                str(source),
                "-map",
                "0:a:0",
                "-vn",
                "-ac",
                "1",
                "-ar",
                str(SPEECH_SAMPLE_RATE),
                "-c:a",
                "pcm_s16le",
                *WITHOUT_METADATA,
                "-f",
                "wav",
                str(temporary),
            ],
            timeout=timeout,
            what=f"converting {source.name}",
        )
        if completed.returncode != 0:
            raise EngineInputError(f"could not convert {source.name} ({_last_error_line(completed.stderr)})")
    return probe


def convert_for_voice(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    target_lufs: float = VOICE_TARGET_LUFS,
    timeout: float = 180,
) -> AudioStats:
    """Write SRC as a 48 kHz mono 16-bit WAV at about TARGET_LUFS; return the stats of the result.

    Uses ffmpeg's EBU R128 loudnorm in two passes (measure, then apply with linear=true): one
    constant gain for the whole recording, so a speaker's natural dynamics are kept, which a
    single dynamic pass would flatten. A quiet recording whose peaks would pass the true-peak ceiling
    gets less gain rather than being compressed; that is loudnorm's documented fallback.
    """
    source, destination = Path(src), Path(dst)
    probe_audio(source, timeout=timeout)
    settings = f"I={target_lufs:g}:TP={VOICE_TRUE_PEAK_DBFS:g}:LRA=11"
    measuring = run_ffmpeg(
        [
            "-i",
            str(source),
            "-map",
            "0:a:0",
            "-vn",
            "-ac",
            "1",
            "-af",
            f"loudnorm={settings}:print_format=json",
            "-f",
            "null",
            "-",
        ],
        timeout=timeout,
        what=f"measuring the loudness of {source.name}",
    )
    measured = _loudnorm_measurement(measuring.stderr)
    if measuring.returncode != 0 or measured is None or not _finite_level(measured.get("input_i")):
        # Silence or a few milliseconds of sound: nothing to normalise, keep the level as it is.
        loudness_filter = "anull"
    else:
        loudness_filter = (
            f"loudnorm={settings}:linear=true"
            f":measured_I={measured['input_i']}:measured_TP={measured['input_tp']}"
            f":measured_LRA={measured['input_lra']}:measured_thresh={measured['input_thresh']}"
            f":offset={measured['target_offset']}"
        )
    with _atomic_destination(destination) as temporary:
        completed = run_ffmpeg(
            [
                "-y",
                "-i",
                str(source),
                "-map",
                "0:a:0",
                "-vn",
                "-ac",
                "1",
                "-af",
                loudness_filter,
                "-ar",
                str(VOICE_SAMPLE_RATE),
                "-c:a",
                "pcm_s16le",
                # The voice copy is the film's sound: none of the original's tags travel with it.
                *WITHOUT_METADATA,
                "-f",
                "wav",
                str(temporary),
            ],
            timeout=timeout,
            what=f"normalising {source.name}",
        )
        if completed.returncode != 0:
            raise EngineInputError(f"could not convert {source.name} ({_last_error_line(completed.stderr)})")
        samples = decode_audio(temporary, sample_rate=VOICE_SAMPLE_RATE, timeout=timeout)
    return measure_audio(samples, VOICE_SAMPLE_RATE)


def _loudnorm_measurement(stderr: bytes) -> dict[str, str] | None:
    text = stderr.decode("utf-8", "replace")
    start = text.rfind("{")
    end = text.rfind("}")
    if start < 0 or end < start:
        return None
    try:
        return {key: str(value) for key, value in json.loads(text[start : end + 1]).items()}
    except json.JSONDecodeError:
        return None


def _finite_level(value: str | None) -> bool:
    try:
        return value is not None and np.isfinite(float(value))
    except ValueError:
        return False


def _to_dbfs(power: np.ndarray | float) -> np.ndarray:
    return 10.0 * np.log10(np.maximum(power, 1e-12))


def frame_power(samples: np.ndarray, sample_rate: int, *, hop: float, window: float | None = None) -> np.ndarray:
    """Mean square of SAMPLES in windows of WINDOW seconds centred every HOP seconds (frame i at i*HOP)."""
    samples = np.asarray(samples, dtype=np.float64)
    hop_samples = max(1, round(hop * sample_rate))
    window_samples = max(1, round((window if window is not None else 2 * hop) * sample_rate))
    frame_count = max(1, int(np.ceil(samples.size / hop_samples)))
    cumulative = np.concatenate([[0.0], np.cumsum(samples * samples)])
    centres = np.arange(frame_count) * hop_samples
    starts = np.clip(centres - window_samples // 2, 0, samples.size)
    ends = np.clip(centres + (window_samples - window_samples // 2), 0, samples.size)
    lengths = np.maximum(ends - starts, 1)
    return (cumulative[ends] - cumulative[starts]) / lengths


def _k_weighting_gain(frequencies: np.ndarray) -> np.ndarray:
    """Power response of the BS.1770 K-weighting (shelf + high-pass) at FREQUENCIES in Hz.

    The standard gives the two biquads for 48 kHz; their response evaluated at a frequency in Hz is
    a close approximation at other sample rates up to 24 kHz, which is all speech needs.
    """
    shelf_b = np.array([1.53512485958697, -2.69169618940638, 1.19839281085285])
    shelf_a = np.array([1.0, -1.69065929318241, 0.73248077421585])
    highpass_b = np.array([1.0, -2.0, 1.0])
    highpass_a = np.array([1.0, -1.99004745483398, 0.99007225036621])
    z = np.exp(-1j * 2 * np.pi * np.minimum(frequencies, 24000.0) / 48000.0)
    powers = np.stack([np.ones_like(z), z, z * z])

    def response(b: np.ndarray, a: np.ndarray) -> np.ndarray:
        return (b @ powers) / (a @ powers)

    return np.abs(response(shelf_b, shelf_a) * response(highpass_b, highpass_a)) ** 2


def _integrated_loudness(samples: np.ndarray, sample_rate: int) -> float:
    """BS.1770-4 gated integrated loudness of a mono signal, K-weighting applied per block in frequency."""
    block = int(0.4 * sample_rate)
    if samples.size < block:
        block = samples.size
    step = max(1, block // 4)  # 75 % overlap, as the standard asks
    starts = np.arange(0, max(1, samples.size - block + 1), step)
    gain = _k_weighting_gain(np.fft.rfftfreq(block, 1.0 / sample_rate))
    powers = np.empty(starts.size)
    for index, start in enumerate(starts):
        spectrum = np.fft.rfft(samples[start : start + block].astype(np.float64))
        weights = np.full(spectrum.size, 2.0)
        weights[0] = 1.0
        if block % 2 == 0:
            weights[-1] = 1.0
        # Parseval: mean square of the filtered block from its weighted spectrum.
        powers[index] = float(np.sum(weights * gain * np.abs(spectrum) ** 2)) / (block * block)
    loudness = -0.691 + _to_dbfs(powers)
    gated = powers[loudness > -70.0]
    if gated.size == 0:
        return -70.0
    relative_gate = -0.691 + float(_to_dbfs(gated.mean())) - 10.0
    gated = powers[(loudness > -70.0) & (loudness > relative_gate)]
    if gated.size == 0:
        return -70.0
    return float(-0.691 + _to_dbfs(gated.mean()))


def measure_audio(samples: np.ndarray, sample_rate: int) -> AudioStats:
    samples = np.asarray(samples, dtype=np.float32)
    if samples.size == 0:
        return AudioStats(0.0, -120.0, -120.0, -70.0, 0.0, 1.0)
    peak = float(np.max(np.abs(samples)))
    mean_square = float(np.mean(samples.astype(np.float64) ** 2))
    activity = voice_activity(samples, sample_rate)
    return AudioStats(
        duration_seconds=samples.size / sample_rate,
        peak_dbfs=float(20.0 * np.log10(max(peak, 1e-6))),
        rms_dbfs=float(_to_dbfs(mean_square)),
        loudness_lufs=_integrated_loudness(samples, sample_rate),
        clipped_ratio=float(np.mean(np.abs(samples) >= CLIP_LEVEL)),
        silence_ratio=float(1.0 - activity.mean()) if activity.size else 1.0,
    )


def is_mostly_silent(stats: AudioStats, *, min_voiced_seconds: float = 0.5, min_loudness_lufs: float = -50.0) -> bool:
    """True when a recording holds too little voice to be worth moderating or animating."""
    voiced_seconds = stats.duration_seconds * (1.0 - stats.silence_ratio)
    return voiced_seconds < min_voiced_seconds or stats.loudness_lufs < min_loudness_lufs


def loudness_envelope(
    samples: np.ndarray,
    sample_rate: int,
    *,
    fps: float,
    dynamic_range_db: float = 30.0,
    attack_seconds: float = 0.02,
    release_seconds: float = 0.08,
) -> np.ndarray:
    """One value per video frame in 0..1: how loud the voice is around that frame.

    Levels are relative to the recording's own loud speech (its 95th percentile frame), so a quiet
    but clean recording opens the mouth as wide as a loud one; DYNAMIC_RANGE_DB below that maps to 0.
    Smoothing is asymmetric (fast attack, slower release) because a mouth opens on a syllable's onset
    but closes gradually.
    """
    samples = np.asarray(samples, dtype=np.float32)
    frame_count = max(1, int(np.ceil(samples.size / sample_rate * fps)))
    # Analyse at 10 ms then average into video frames: aliasing would make the mouth flicker.
    hop = 0.01
    levels = _to_dbfs(frame_power(samples, sample_rate, hop=hop, window=0.03))
    top = float(np.percentile(levels, 95)) if levels.size else 0.0
    top = max(top, ABSOLUTE_SILENCE_DBFS + dynamic_range_db)
    openness = np.clip((levels - (top - dynamic_range_db)) / dynamic_range_db, 0.0, 1.0)

    attack = 1.0 - np.exp(-hop / attack_seconds)
    release = 1.0 - np.exp(-hop / release_seconds)
    smoothed = np.empty_like(openness)
    state = 0.0
    for index, value in enumerate(openness):
        state += (attack if value > state else release) * (value - state)
        smoothed[index] = state

    frame_times = (np.arange(frame_count) + 0.5) / fps
    analysis_times = np.arange(smoothed.size) * hop
    return np.clip(np.interp(frame_times, analysis_times, smoothed), 0.0, 1.0).astype(np.float32)


VOICED_DIP = 0.3  # YIN's threshold: the normalised difference at the period of a voiced frame


def pitch_semitones(
    samples: np.ndarray,
    sample_rate: int,
    *,
    fps: float,
    lowest_hz: float = 70.0,
    highest_hz: float = 400.0,
    window_seconds: float = 0.04,
) -> np.ndarray:
    """One value per video frame: the voice's pitch in semitones above the recording's own median pitch,
    NaN where the frame is not voiced. YIN's cumulative-mean-normalised difference over 40 ms windows
    (a frame is voiced when a dip goes below VOICED_DIP and it is not near silence); relative to the
    median, a rise reads the same for a low voice and a high one."""
    samples = np.asarray(samples, dtype=np.float64)
    frame_count = max(1, int(np.ceil(samples.size / sample_rate * fps)))
    window = int(window_seconds * sample_rate)
    shortest, longest = int(sample_rate / highest_hz), int(sample_rate / lowest_hz)
    if samples.size < window + longest:
        return np.full(frame_count, np.nan, np.float32)
    loud = float(np.percentile(np.abs(samples), 99)) or 1.0
    pitch = np.full(frame_count, np.nan)
    for frame in range(frame_count):
        middle = int((frame + 0.5) / fps * sample_rate)
        first = min(max(middle - window // 2, 0), samples.size - window - longest)
        chunk = samples[first : first + window + longest]
        if np.sqrt(np.mean(chunk[:window] ** 2)) < 0.03 * loud:
            continue
        # Difference d(tau) = sum (x[t] - x[t+tau])^2 over the window, for every lag at once.
        head = chunk[:window]
        energy = np.cumsum(np.concatenate([[0.0], chunk**2]))
        lags = np.arange(1, longest + 1)
        shifted_energy = energy[lags + window] - energy[lags]
        spectrum = np.fft.rfft(chunk, 2 * chunk.size)
        correlation = np.fft.irfft(np.fft.rfft(head, 2 * chunk.size).conj() * spectrum)[1 : longest + 1]
        difference = np.sum(head**2) + shifted_energy - 2 * correlation
        normalised = difference * lags / np.maximum(np.cumsum(difference), 1e-12)
        # YIN's rule: the first dip under the threshold, followed down to its minimum (the global
        # minimum is often a multiple of the period: an octave too low).
        below = np.flatnonzero(normalised[shortest - 1 :] < VOICED_DIP) + shortest - 1
        if below.size == 0:
            continue
        index = int(below[0])
        while index + 1 < normalised.size and normalised[index + 1] < normalised[index]:
            index += 1
        pitch[frame] = sample_rate / lags[index]
    voiced = np.isfinite(pitch)
    if not voiced.any():
        return pitch.astype(np.float32)
    semitones = 12 * np.log2(pitch / np.median(pitch[voiced]))
    return semitones.astype(np.float32)


def voice_activity(
    samples: np.ndarray,
    sample_rate: int,
    *,
    hop: float = 0.01,
    min_gap: float = 0.08,
    min_voiced: float = 0.04,
) -> np.ndarray:
    """Which HOP-second frames hold voice (frame i covers i*HOP .. (i+1)*HOP).

    The threshold adapts to the recording: it sits above the noise floor (a low percentile of frame
    energy) and scales with the speech level, so a phone in a quiet room and a hall with
    air-conditioning both work. Gaps shorter than MIN_GAP (stop closures inside a word) are filled
    and blips shorter than MIN_VOICED (clicks) dropped.
    """
    if np.asarray(samples).size == 0:
        return np.zeros(0, dtype=bool)
    levels, threshold = activity_levels(samples, sample_rate, hop=hop)
    active = levels > threshold

    active = _fill_short_runs(active, value=False, max_length=round(min_gap / hop))
    return _fill_short_runs(active, value=True, max_length=round(min_voiced / hop) - 1)


def activity_levels(samples: np.ndarray, sample_rate: int, *, hop: float = 0.01) -> tuple[np.ndarray, float]:
    """Level in dBFS of each HOP-second frame (lightly smoothed) and the voice threshold for them.

    The threshold sits above the noise floor (a low percentile of the levels) by at least 6 dB and
    by a share of the speech's dynamic range, never below digital silence nor 40 dB under the speech.
    """
    samples = np.asarray(samples, dtype=np.float32)
    hop_samples = max(1, round(hop * sample_rate))
    frame_count = max(1, int(np.ceil(samples.size / hop_samples)))
    padded = np.zeros(frame_count * hop_samples, dtype=np.float64)
    padded[: samples.size] = samples
    levels = _to_dbfs(np.mean(padded.reshape(frame_count, hop_samples) ** 2, axis=1))
    smoothing = max(1, round(0.03 / hop))
    if smoothing > 1:
        # Edge padding: zero padding would read as 0 dBFS, i.e. a shout at both ends of every file.
        padded_levels = np.pad(levels, (smoothing // 2, smoothing - 1 - smoothing // 2), mode="edge")
        levels = np.convolve(padded_levels, np.ones(smoothing) / smoothing, mode="valid")
    # Digital silence (zero padding, muted gaps) says nothing about the room: leave it out of the floor.
    room = levels[levels > DIGITAL_SILENCE_DBFS]
    room = room if room.size >= max(10, levels.size // 10) else levels
    floor = float(np.percentile(room, 10))
    loud = float(np.percentile(room, 95))
    if loud - floor < 15.0:
        # Nothing but voice between the digital silences: there is no room noise to rise above.
        floor = float(np.percentile(levels, 10))
    threshold = max(floor + max(6.0, 0.3 * (loud - floor)), ABSOLUTE_SILENCE_DBFS, loud - 40.0)
    return levels, threshold


def _runs(mask: np.ndarray) -> list[tuple[int, int, bool]]:
    """(start, end, value) for each run of equal values in MASK, end exclusive."""
    if mask.size == 0:
        return []
    change = np.flatnonzero(np.diff(mask.astype(np.int8))) + 1
    bounds = np.concatenate([[0], change, [mask.size]])
    return [(int(start), int(end), bool(mask[start])) for start, end in itertools.pairwise(bounds)]


def _fill_short_runs(mask: np.ndarray, *, value: bool, max_length: int) -> np.ndarray:
    """Flip interior runs of VALUE no longer than MAX_LENGTH (edge runs are kept: they are real)."""
    result = mask.copy()
    if max_length <= 0:
        return result
    for start, end, run_value in _runs(mask):
        if run_value == value and end - start <= max_length and start > 0 and end < mask.size:
            result[start:end] = not value
    return result


def find_silences(
    samples: np.ndarray, sample_rate: int, *, min_silence: float = 0.25, hop: float = 0.01
) -> list[tuple[float, float]]:
    """(start, end) seconds of every pause of at least MIN_SILENCE, including leading and trailing ones."""
    activity = voice_activity(samples, sample_rate, hop=hop)
    duration = np.asarray(samples).size / sample_rate
    silences = []
    for start, end, voiced in _runs(activity):
        if not voiced and (end - start) * hop >= min_silence - 1e-9:
            silences.append((round(start * hop, 3), round(min(end * hop, duration), 3)))
    return silences
