"""Decoding, converting and measuring audio with the real ffmpeg binary."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from animation.engine import audio
from animation.engine.errors import EngineInputError

REPOSITORY = Path(__file__).resolve().parents[2]
POEM = REPOSITORY / "demo/speech/chinese_poem1.flac"
RADIO = REPOSITORY / "demo/speech/english_radio.flac"


def tone(seconds: float, *, amplitude: float = 0.5, frequency: float = 220.0, sample_rate: int = 16000) -> np.ndarray:
    times = np.arange(int(seconds * sample_rate)) / sample_rate
    return (amplitude * np.sin(2 * np.pi * frequency * times)).astype(np.float32)


def test_it_probes_a_flac_recording_by_its_content(tmp_path):
    disguised = tmp_path / "poem.mp3"  # wrong extension on purpose: the content decides
    disguised.write_bytes(POEM.read_bytes())
    probe = audio.probe_audio(disguised)
    assert probe.codec == "flac"
    assert probe.format_name == "flac"
    assert probe.sample_rate == 24000
    assert probe.channels == 1
    assert probe.duration_seconds == pytest.approx(5.47, abs=0.03)


def test_it_decodes_to_mono_float_at_the_requested_rate():
    samples = audio.decode_audio(RADIO, sample_rate=8000, max_seconds=2.5)
    assert samples.dtype == np.float32
    assert samples.ndim == 1
    assert samples.size == pytest.approx(2.5 * 8000, abs=80)
    assert 0.1 < np.abs(samples).max() <= 1.0


def test_it_rejects_a_file_that_is_not_audio(tmp_path):
    fake = tmp_path / "recording.wav"
    fake.write_text("this is a shopping list, not a recording\n" * 50)
    with pytest.raises(EngineInputError, match=r"recording\.wav"):
        audio.probe_audio(fake)
    with pytest.raises(EngineInputError, match=r"recording\.wav"):
        audio.decode_audio(fake)


def test_it_rejects_missing_and_empty_files(tmp_path):
    with pytest.raises(EngineInputError, match="not found"):
        audio.decode_audio(tmp_path / "nowhere.flac")
    empty = tmp_path / "empty.ogg"
    empty.write_bytes(b"")
    with pytest.raises(EngineInputError, match="empty"):
        audio.probe_audio(empty)


def test_it_rejects_a_video_without_a_sound_track(tmp_path):
    video = tmp_path / "silent_film.avi"
    subprocess.run(
        [
            audio.ffmpeg_executable(),
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=64x64:rate=5",
            "-t",
            "1",
            "-c:v",
            "mjpeg",
            str(video),
        ],
        check=True,
    )
    with pytest.raises(EngineInputError, match="no audio track"):
        audio.probe_audio(video)
    with pytest.raises(EngineInputError, match="no audio track"):
        audio.decode_audio(video)


def test_write_wav_round_trips_and_leaves_no_temporary_file(tmp_path):
    samples = tone(0.5, amplitude=0.25)
    destination = tmp_path / "nested" / "tone.wav"
    audio.write_wav(destination, samples, 16000)
    with wave.open(str(destination)) as reader:
        assert (reader.getnchannels(), reader.getsampwidth(), reader.getframerate()) == (1, 2, 16000)
    assert np.allclose(audio.decode_audio(destination), samples, atol=2e-4)
    assert [path.name for path in destination.parent.iterdir()] == ["tone.wav"]


def test_convert_for_speech_writes_16k_mono_pcm(tmp_path):
    destination = tmp_path / "speech16k.wav"
    audio.convert_for_speech(POEM, destination)
    probe = audio.probe_audio(destination)
    assert (probe.codec, probe.sample_rate, probe.channels) == ("pcm_s16le", 16000, 1)
    assert probe.duration_seconds == pytest.approx(5.47, abs=0.03)


def test_convert_for_voice_normalises_a_quiet_recording_to_about_minus_16_lufs(tmp_path):
    original = audio.measure_audio(audio.decode_audio(POEM, sample_rate=48000), 48000)
    assert original.loudness_lufs < -24  # the poem is recorded quietly: the test must move it
    destination = tmp_path / "voice48k.wav"
    stats = audio.convert_for_voice(POEM, destination)
    probe = audio.probe_audio(destination)
    assert (probe.codec, probe.sample_rate, probe.channels) == ("pcm_s16le", 48000, 1)
    assert stats.loudness_lufs == pytest.approx(-16, abs=1.5)
    assert stats.peak_dbfs <= -1.0


def test_measure_audio_reports_levels_of_a_known_signal():
    signal = np.concatenate([tone(1.0, amplitude=0.5), np.zeros(16000, np.float32)])
    stats = audio.measure_audio(signal, 16000)
    assert stats.duration_seconds == pytest.approx(2.0)
    assert stats.peak_dbfs == pytest.approx(-6.02, abs=0.05)
    assert stats.rms_dbfs == pytest.approx(-9.03 - 3.01, abs=0.1)  # sine rms, halved power
    assert stats.silence_ratio == pytest.approx(0.5, abs=0.05)
    assert stats.clipped_ratio == 0.0
    assert set(stats.to_dict()) == {
        "duration_seconds",
        "peak_dbfs",
        "rms_dbfs",
        "loudness_lufs",
        "clipped_ratio",
        "silence_ratio",
    }


def test_it_rejects_silent_recordings_but_not_speech():
    rng = np.random.default_rng(0)
    room_noise = rng.normal(0, 10 ** (-65 / 20), 16000 * 4).astype(np.float32)
    assert audio.is_mostly_silent(audio.measure_audio(room_noise, 16000))
    assert audio.is_mostly_silent(audio.measure_audio(np.zeros(16000 * 3, np.float32), 16000))
    speech = audio.decode_audio(RADIO)
    assert not audio.is_mostly_silent(audio.measure_audio(speech, 16000))


def test_find_silences_locates_the_pauses_in_a_recitation():
    samples = audio.decode_audio(POEM)
    silences = audio.find_silences(samples, 16000, min_silence=0.12)
    # Pauses measured by hand in the poem's energy plot (10 ms frames): after 光, 霜, 月 and at the end.
    expected = [(1.08, 1.27), (2.22, 2.91), (3.71, 3.94), (4.91, 5.47)]
    for start, end in expected:
        assert any(abs(found[0] - start) < 0.05 and abs(found[1] - end) < 0.05 for found in silences), (
            start,
            end,
            silences,
        )


def test_voice_activity_adapts_to_a_noise_floor():
    rng = np.random.default_rng(1)
    signal = np.concatenate([np.zeros(8000, np.float32), tone(1.0, amplitude=0.3), np.zeros(8000, np.float32)])
    signal += rng.normal(0, 0.01, signal.size).astype(np.float32)  # -40 dBFS hiss, well above silence
    activity = audio.voice_activity(signal, 16000, hop=0.01)
    assert activity.size == 200
    assert not activity[:45].any()
    assert activity[55:145].all()
    assert not activity[155:].any()


def test_loudness_envelope_has_one_value_per_frame_and_follows_the_voice():
    samples = audio.decode_audio(POEM)
    envelope = audio.loudness_envelope(samples, 16000, fps=25)
    assert envelope.shape == (int(np.ceil(5.472 * 25)),)
    assert envelope.min() >= 0.0 and envelope.max() <= 1.0
    assert envelope[int(2.6 * 25)] < 0.1  # the long pause after 霜
    assert envelope[int(0.5 * 25) : int(0.9 * 25)].mean() > 0.6  # 明月光
