"""A labelled alignment set whose true word boundaries are known by construction.

Each word (English) or character (Mandarin, spoken from its pypinyin TONE3 spelling with espeak-ng's
cmn-latn-pinyin voice) is synthesised alone, its leading and trailing silence trimmed, and the pieces
are concatenated. Where each piece lands is its true start and end. Two layouts:

- ``pauses``: a random pause (50-450 ms) after every unit;
- ``phrases``: units abut inside a phrase (no pause at all), phrases are separated by 300-700 ms.

A little white noise (about 35 dB below the speech) is mixed in. Everything is cached under
bench/out/align_set/ and rebuilt only when this file's SET_VERSION changes.

Two splits with no sentence in common and different random layouts:

- ``test`` (the default, bench/out/align_set/): the held-out set the benchmark reports;
- ``train`` (bench/out/align_set_train/): the only set any constant of the aligner may be fitted
  on, so that the figures reported on ``test`` are not tuned to it.

``load_varied_set`` varies what recordings from other people vary (one voice, rate, pitch and level
per reading; pauses of 80-600 ms at the comma and at random places between units; light noise at
30 dB SNR), in three splits: ``train`` and ``test`` (two-clause passages made of the sentences
above) and ``holdout``, sentences of its own that no constant may ever be chosen on.
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from animation.engine.audio import decode_audio, write_wav

SET_VERSION = 3
SAMPLE_RATE = 16000
OUT = Path(__file__).resolve().parent / "out" / "align_set"
SPLITS = ("test", "train")

ENGLISH_SENTENCES = [
    "The birch canoe slid on the smooth planks",
    "Glue the sheet to the dark blue background",
    "It is easy to tell the depth of a well",
    "These days a chicken leg is a rare dish",
    "Rice is often served in round bowls",
    "The juice of lemons makes fine punch",
    "The box was thrown beside the parked truck",
    "Four hours of steady work faced us",
    "A large size in stockings is hard to sell",
    "The boy was there when the sun rose",
    "A rod is used to catch pink salmon",
    "The source of the huge river is the clear spring",
    "Kick the ball straight and follow through",
    "Help the woman get back to her feet",
    "A pot of tea helps to pass the evening",
    "Smoky fires lack flame and heat",
    "The soft cushion broke the man's fall",
    "The salt breeze came across from the sea",
    "The girl at the booth sold fifty bonds",
    "The small pup gnawed a hole in the sock",
    "The fish twisted and turned on the bent hook",
    "Press the pants and sew a button on the vest",
    "The swan dive was far short of perfect",
    "The beauty of the view stunned the young boy",
]

# Training split: other sentences (everyday English, not the Harvard lists above), another seed.
TRAIN_ENGLISH_SENTENCES = [
    "Open the window and let the fresh air in",
    "The old man walked slowly down the hill",
    "She found a yellow pencil under the desk",
    "We waited for the bus in the cold rain",
    "The children played games in the garden",
    "A bright moon rose above the quiet town",
    "He poured hot coffee into a green mug",
    "The cat jumped over the wooden fence",
    "Bring me the red book from the kitchen table",
    "The train leaves at seven every morning",
    "My sister painted a picture of the lake",
    "The farmer sold apples at the market",
    "Dark clouds gathered over the distant mountains",
    "Please close the door when you leave",
    "The dog slept beside the warm fire",
    "They built a small house near the river",
    "The teacher wrote the answer on the board",
    "A cold wind blew through the empty street",
    "The baker makes fresh bread every day",
    "We heard music coming from the next room",
    "The ship sailed across the calm blue sea",
    "She tied a ribbon around the gift box",
    "The pilot landed the plane on the short runway",
    "Fresh snow covered the roofs of the village",
]

TRAIN_CHINESE_SENTENCES = [
    "我们明天早上出发",
    "弟弟在房间里看书",
    "今天的晚饭很好吃",
    "外面下着小雨",
    "他骑自行车去上班",
    "图书馆里非常安静",
    "我想买一件新衣服",
    "小鸟在树上唱歌",
    "周末我们去爬山",
    "奶奶种了很多花",
    "这条路通向海边",
    "学生们在操场上跑步",
    "请给我一杯热水",
    "我的朋友住在北京",
    "他们正在开会",
    "桌子上有一个红苹果",
]

CHINESE_SENTENCES = [
    "今天天气很好",
    "我们一起去公园散步",
    "妈妈在厨房做饭",
    "春天来了花都开了",
    "请把窗户打开",
    "他每天早上跑步",
    "这本书非常有意思",
    "小猫在沙发上睡觉",
    "明天我们去看电影",
    "老师讲的故事很好听",
    "我喜欢喝绿茶",
    "山上的风景很美",
    "孩子们在院子里玩",
    "爷爷喜欢下象棋",
    "晚上的月亮又大又圆",
    "我们要好好学习",
    "火车马上就要开了",
    "她唱歌唱得很好",
    "秋天的树叶变黄了",
    "大家一起包饺子",
    "河边有很多柳树",
    "他把信寄给了朋友",
    "冬天下了一场大雪",
    "这个苹果又红又甜",
]


@dataclasses.dataclass
class Utterance:
    name: str
    language: str
    layout: str
    text: str
    units: list[str]
    starts: list[float]
    ends: list[float]
    split: str = "test"
    # Sets derived from this one (load_noisy_set, load_spliced_set) live in their own folders.
    kind: str = ""
    # Spliced readings: whether each unit of the text was read (False: skipped; it has no time).
    read: list[bool] | None = None
    variant: str = ""
    # Varied readings: the silence in front of each unit (seconds; 0 where it abuts the one before)
    # and the espeak-ng voice, rate and pitch it was said with.
    pauses_before: list[float] | None = None
    voice: str = ""

    @property
    def audio_path(self) -> Path:
        return _folder(self.split, self.kind) / f"{self.name}.wav"


def _folder(split: str, kind: str = "") -> Path:
    name = OUT.name if split == "test" else f"{OUT.name}_{split}"
    return OUT.with_name(f"{name}_{kind}" if kind else name)


def _cached(folder: Path, version: int, **fields: str) -> list[Utterance] | None:
    """The set kept in FOLDER when it is of VERSION and all its recordings are still there (FIELDS fill
    what its manifest leaves out), else None: the set is made again."""
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        return None
    data = json.loads(manifest.read_text())
    if data.get("version") != version or not all((folder / f"{u['name']}.wav").is_file() for u in data["items"]):
        return None
    return [Utterance(**{**fields, **item}) for item in data["items"]]


def _keep(folder: Path, version: int, utterances: list[Utterance]) -> None:
    """Write the manifest that _cached reads back."""
    data = {"version": version, "items": [dataclasses.asdict(u) for u in utterances]}
    (folder / "manifest.json").write_text(json.dumps(data, ensure_ascii=False))


def _trimmed(samples: np.ndarray) -> np.ndarray:
    """The synthesised unit without its leading and trailing silence (the true boundaries)."""
    frame = SAMPLE_RATE // 200  # 5 ms
    count = samples.size // frame
    levels = 10 * np.log10(np.mean(samples[: count * frame].reshape(count, frame) ** 2, axis=1) + 1e-12)
    voiced = np.flatnonzero(levels > levels.max() - 40)
    return samples[voiced[0] * frame : (voiced[-1] + 1) * frame]


def _synthesise(spoken: str, voice: str, folder: Path, *, rate: int = 160, pitch: int = 50) -> np.ndarray:
    wav = folder / "unit.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate), "-p", str(pitch), "-w", str(wav), spoken], check=True)
    return _trimmed(decode_audio(wav, sample_rate=SAMPLE_RATE))


def _units_of(sentence: str, language: str) -> tuple[list[str], list[str], str]:
    """(units as written, what espeak says for each, voice)."""
    if language == "zh":
        from pypinyin import Style, lazy_pinyin

        characters = list(sentence)
        return (
            characters,
            lazy_pinyin(characters, style=Style.TONE3, neutral_tone_with_five=True),
            "cmn-latn-pinyin",
        )
    words = sentence.split()
    return words, words, "en"


def _build(language: str, sentences: list[str], rng: np.random.Generator, split: str) -> list[Utterance]:
    utterances = []
    cache: dict[tuple[str, str], np.ndarray] = {}
    with tempfile.TemporaryDirectory() as folder:
        for layout in ("pauses", "phrases"):
            for index, sentence in enumerate(sentences):
                units, spoken, voice = _units_of(sentence, language)
                pieces = []
                for unit_spoken in spoken:
                    key = (voice, unit_spoken)
                    if key not in cache:
                        cache[key] = _synthesise(unit_spoken, voice, Path(folder))
                    pieces.append(cache[key])
                phrase_break = int(rng.integers(2, len(units) - 1)) if layout == "phrases" else -1
                chunks = [np.zeros(int(rng.uniform(0.2, 0.6) * SAMPLE_RATE), np.float32)]
                cursor = chunks[0].size
                starts, ends = [], []
                for position, piece in enumerate(pieces):
                    starts.append(cursor / SAMPLE_RATE)
                    chunks.append(piece)
                    cursor += piece.size
                    ends.append(cursor / SAMPLE_RATE)
                    if layout == "pauses":
                        gap = rng.uniform(0.05, 0.45)
                    elif position == phrase_break:
                        gap = rng.uniform(0.3, 0.7)
                    else:
                        gap = 0.0
                    if position == len(pieces) - 1:
                        gap = 0.4
                    silence = np.zeros(int(gap * SAMPLE_RATE), np.float32)
                    chunks.append(silence)
                    cursor += silence.size
                samples = np.concatenate(chunks)
                samples *= 0.5 / np.max(np.abs(samples))
                speech_rms = float(np.sqrt(np.mean(samples[samples != 0] ** 2)))
                samples += rng.normal(0, speech_rms * 10 ** (-35 / 20), samples.size).astype(np.float32)
                text = sentence + ("。" if language == "zh" else ".")
                utterance = Utterance(
                    f"{language}_{layout}_{index:02d}", language, layout, text, units, starts, ends, split
                )
                write_wav(utterance.audio_path, samples, SAMPLE_RATE)
                utterances.append(utterance)
    return utterances


def load_set(split: str = "test") -> list[Utterance]:
    """The labelled SPLIT ('test', held out, or 'train'), built on first use (about a minute) and cached."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}: use one of {SPLITS}")
    folder = _folder(split)
    if (cached := _cached(folder, SET_VERSION, split=split)) is not None:
        return cached
    folder.mkdir(parents=True, exist_ok=True)
    if split == "test":
        rng = np.random.default_rng(20240601)
        utterances = _build("en", ENGLISH_SENTENCES, rng, split) + _build("zh", CHINESE_SENTENCES, rng, split)
    else:
        rng = np.random.default_rng(7130)
        utterances = _build("en", TRAIN_ENGLISH_SENTENCES, rng, split) + _build(
            "zh", TRAIN_CHINESE_SENTENCES, rng, split
        )
    _keep(folder, SET_VERSION, utterances)
    return utterances


# ---------------------------------------------------------------------------------------------
# Noise and rooms: the same utterances in a kitchen or among other voices, in a reverberant room.

NOISY_VERSION = 1
NOISE_SNR_DB = 10.0


def _room_impulse(rng: np.random.Generator) -> np.ndarray:
    """A small room's impulse response: the direct sound, then an exponentially decaying diffuse tail
    (RT60 0.3-0.6 s) starting a few milliseconds later, about as loud in total as the direct sound."""
    rt60 = rng.uniform(0.3, 0.6)
    length = int(0.6 * SAMPLE_RATE)
    times = np.arange(length) / SAMPLE_RATE
    tail = rng.normal(0, 1, length) * np.exp(-6.9 * times / rt60)
    tail[: int(0.004 * SAMPLE_RATE)] = 0.0  # first reflections arrive after the direct path
    tail *= rng.uniform(0.7, 1.2) / np.sqrt(np.sum(tail**2))
    tail[0] = 1.0
    return tail.astype(np.float32)


def _babble(others: list[np.ndarray], size: int, rng: np.random.Generator) -> np.ndarray:
    """Five other voices talking at once (other utterances of the set, looped and shifted)."""
    babble = np.zeros(size, np.float32)
    for _ in range(5):
        voice = others[int(rng.integers(len(others)))]
        voice = voice[voice != 0] if np.any(voice != 0) else voice
        looped = np.tile(voice, size // max(voice.size, 1) + 2)
        shift = int(rng.integers(voice.size))
        babble += looped[shift : shift + size] * rng.uniform(0.5, 1.0)
    return babble


def _kitchen(size: int, rng: np.random.Generator) -> np.ndarray:
    """A kitchen: fridge hum, pink-ish noise (a fan, running water) and clatter (short bright bursts)."""
    from scipy import signal

    times = np.arange(size) / SAMPLE_RATE
    hum = sum(np.sin(2 * np.pi * 50 * harmonic * times) / harmonic for harmonic in (1, 2, 3))
    pink = signal.lfilter(
        [0.049922035, -0.095993537, 0.050612699, -0.004408786],
        [1, -2.494956002, 2.017265875, -0.522189400],
        rng.normal(0, 1, size),
    )
    kitchen = 0.2 * hum + pink / (np.std(pink) + 1e-12)
    for _ in range(int(rng.integers(3, 8)) * max(1, size // (SAMPLE_RATE * 4))):
        at = int(rng.integers(size))
        burst = int(rng.uniform(0.02, 0.12) * SAMPLE_RATE)
        clatter = rng.normal(0, 1, burst) * np.exp(-np.arange(burst) / (burst / 4))
        clatter = signal.lfilter([1, -0.95], [1], clatter) * rng.uniform(2, 6)
        kitchen[at : at + burst] += clatter[: size - at]
    return kitchen.astype(np.float32)


def load_noisy_set(split: str = "test") -> list[Utterance]:
    """The clean SPLIT with babble (even items) or kitchen noise (odd) at 10 dB SNR, in a reverberant room.

    Onsets keep their truth (the direct sound arrives first); offsets are smeared by the room's tail.
    SPLIT 'holdout' takes the quiet readings of the varied holdout set (never tuned on).
    """
    if split == "holdout":
        clean = [item for item in load_varied_set("holdout") if item.variant.endswith(" clean")]
    else:
        clean = load_set(split)
    folder = _folder(split, "noisy")
    if (cached := _cached(folder, NOISY_VERSION)) is not None:
        return cached
    from scipy import signal

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng({"test": 31337, "train": 4242, "holdout": 27182}[split])
    voices = {item.name: decode_audio(item.audio_path, sample_rate=SAMPLE_RATE) for item in clean}
    noisy = []
    for position, item in enumerate(clean):
        samples = voices[item.name]
        room = signal.fftconvolve(samples, _room_impulse(rng))[: samples.size].astype(np.float32)
        if position % 2 == 0:
            others = [voice for name, voice in voices.items() if name != item.name]
            noise, condition = _babble(others, samples.size, rng), "babble"
        else:
            noise, condition = _kitchen(samples.size, rng), "kitchen"
        speech = np.concatenate(
            [
                samples[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)]
                for start, end in zip(item.starts, item.ends, strict=True)
            ]
        )
        speech_power = float(np.mean(speech**2))
        noise *= np.sqrt(speech_power / (float(np.mean(noise**2)) + 1e-20) * 10 ** (-NOISE_SNR_DB / 10))
        mixed = room + noise
        mixed *= 0.7 / float(np.max(np.abs(mixed)))
        copy = dataclasses.replace(item, name=f"{item.name}_{condition}", kind="noisy", variant=condition)
        write_wav(copy.audio_path, mixed, SAMPLE_RATE)
        noisy.append(copy)
    _keep(folder, NOISY_VERSION, noisy)
    return noisy


# ---------------------------------------------------------------------------------------------
# Readings that differ from the text, spliced from the same synthetic units so the truth is known.

SPLICED_VERSION = 1
VARIANTS = ("skip_line", "skip_words", "repeat", "insert_change")
ENGLISH_EXTRAS = ["well", "um", "really", "very", "oh", "you know"]
CHINESE_EXTRAS = ["啊", "嗯", "那个", "就是", "哦"]


def load_spliced_set(split: str = "test") -> list[Utterance]:
    """Three-line passages read with a line skipped, a few words skipped, a phrase repeated, or words
    added and changed. Truth: each unit of the text is read (start, end of what was said for it, a
    changed word included) or skipped (start = end = 0 and read False). A repeated phrase counts
    from its second reading, which flows on into the text. SPLIT 'holdout' takes its lines from the
    clauses of the holdout passages (never tuned on)."""
    folder = _folder(split, "spliced")
    if (cached := _cached(folder, SPLICED_VERSION)) is not None:
        return cached
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng({"test": 99, "train": 12, "holdout": 31337}[split])
    items = []
    with tempfile.TemporaryDirectory() as scratch:
        cache: dict[tuple[str, str], np.ndarray] = {}

        def said(spoken: str, voice: str) -> np.ndarray:
            if (voice, spoken) not in cache:
                cache[(voice, spoken)] = _synthesise(spoken, voice, Path(scratch))
            return cache[(voice, spoken)]

        for language in ("en", "zh"):
            if split == "holdout":
                sentences = _holdout_clauses(language)
            else:
                sentences = {
                    ("test", "en"): ENGLISH_SENTENCES,
                    ("test", "zh"): CHINESE_SENTENCES,
                    ("train", "en"): TRAIN_ENGLISH_SENTENCES,
                    ("train", "zh"): TRAIN_CHINESE_SENTENCES,
                }[(split, language)]
            for index in range(len(sentences)):
                lines = [sentences[(index + offset) % len(sentences)] for offset in range(3)]
                variant = VARIANTS[index % len(VARIANTS)]
                items.append(_spliced(language, lines, variant, f"{language}_{variant}_{index:02d}", split, said, rng))
    _keep(folder, SPLICED_VERSION, items)
    return items


def _holdout_clauses(language: str) -> list[str]:
    """The holdout passages cut at their commas: lines for the holdout split's spliced readings."""
    passages = HOLDOUT_ENGLISH_PASSAGES if language == "en" else HOLDOUT_CHINESE_PASSAGES
    return [clause.strip() for passage in passages for clause in re.split("[,，]", passage) if clause.strip()]


def _spliced(
    language: str,
    lines: list[str],
    variant: str,
    name: str,
    split: str,
    said: Callable[[str, str], np.ndarray],
    rng: np.random.Generator,
) -> Utterance:
    per_line = [_units_of(line, language) for line in lines]
    voice = per_line[0][2]
    units = [unit for written, _, _ in per_line for unit in written]
    spoken = [sound for _, sounds, _ in per_line for sound in sounds]
    line_of = [number for number, (written, _, _) in enumerate(per_line) for _ in written]
    count = len(units)
    # The script: (unit index or None for an extra word, what to say), in reading order.
    script: list[tuple[int | None, str]] = [(position, spoken[position]) for position in range(count)]
    if variant == "skip_line":
        script = [step for step in script if line_of[step[0]] != 1]  # type: ignore[index]
    elif variant == "skip_words":
        line = int(rng.integers(3))
        members = [position for position in range(count) if line_of[position] == line]
        length = int(rng.integers(1, 3))
        first = int(rng.integers(members[0] + 1, members[-1] - length + 1))
        script = [step for step in script if not first <= step[0] < first + length]  # type: ignore[operator]
    elif variant == "repeat":
        line = int(rng.integers(3))
        members = [position for position in range(count) if line_of[position] == line]
        length = int(rng.integers(2, 4))
        first = int(rng.integers(members[0], members[-1] - length + 2))
        again = [(None, spoken[position]) for position in range(first, first + length)]
        cut = first + length  # said once (an extra), then again from the start of the phrase
        script = script[:first] + again + script[first:cut] + script[cut:]
    else:
        extras = ENGLISH_EXTRAS if language == "en" else CHINESE_EXTRAS
        at = int(rng.integers(1, count - 1))
        extra = extras[int(rng.integers(len(extras)))]
        extra_sounds = _units_of(extra, language)[1] if language == "zh" else extra.split()
        changed = int(rng.integers(1, count - 1))
        while changed == at:
            changed = int(rng.integers(1, count - 1))
        pool = [
            s
            for s in (
                ENGLISH_SENTENCES + TRAIN_ENGLISH_SENTENCES
                if language == "en"
                else CHINESE_SENTENCES + TRAIN_CHINESE_SENTENCES
            )
            if s not in lines
        ]
        replacement_line = _units_of(pool[int(rng.integers(len(pool)))], language)[1]
        replacement = replacement_line[int(rng.integers(len(replacement_line)))]
        rebuilt: list[tuple[int | None, str]] = []
        for position, sound in script:
            if position == at:
                rebuilt += [(None, extra_sound) for extra_sound in extra_sounds]
            rebuilt.append((position, replacement if position == changed else sound))
        script = rebuilt
    chunks = [np.zeros(int(rng.uniform(0.2, 0.5) * SAMPLE_RATE), np.float32)]
    cursor = chunks[0].size
    starts, ends = [0.0] * count, [0.0] * count
    read = [False] * count
    for step, (position, sound) in enumerate(script):
        piece = said(sound, voice)
        if position is not None:
            starts[position], ends[position], read[position] = (
                cursor / SAMPLE_RATE,
                (cursor + piece.size) / SAMPLE_RATE,
                True,
            )
        chunks.append(piece)
        cursor += piece.size
        following = script[step + 1][0] if step + 1 < len(script) else None
        if step == len(script) - 1:
            gap = 0.4
        elif position is not None and following is not None and line_of[following] != line_of[position]:
            gap = rng.uniform(0.3, 0.7)  # between lines
        elif position is None or following is None:
            gap = rng.uniform(0.05, 0.3)  # around a stumble
        else:
            gap = rng.choice([0.0, 0.0, rng.uniform(0.03, 0.15)])
        chunks.append(np.zeros(int(gap * SAMPLE_RATE), np.float32))
        cursor += int(gap * SAMPLE_RATE)
    samples = np.concatenate(chunks)
    samples *= 0.5 / np.max(np.abs(samples))
    speech_rms = float(np.sqrt(np.mean(samples[samples != 0] ** 2)))
    samples += rng.normal(0, speech_rms * 10 ** (-35 / 20), samples.size).astype(np.float32)
    text = "，".join(lines[:2]) + "。" + lines[2] + "。" if language == "zh" else ", ".join(lines) + "."
    utterance = Utterance(
        name, language, "passage", text, units, starts, ends, split, kind="spliced", read=read, variant=variant
    )
    write_wav(utterance.audio_path, samples, SAMPLE_RATE)
    return utterance


# ---------------------------------------------------------------------------------------------
# Varied readings: what other people's recordings vary, so that figures carry over to them.

VARIED_VERSION = 1
VARIED_SPLITS = ("train", "test", "holdout")
VARIED_LAYOUTS = ("connected", "pauses")
VARIED_NOISE = ("clean", "noise30")
# A pause is this long, at the comma and at random places between units (where a reader breathes,
# hesitates or stresses a word); the comma always gets one in the "pauses" layout.
PAUSE_SECONDS = (0.08, 0.6)
RANDOM_PAUSE_CHANCE = 0.2
NOISY_SNR_DB = 30.0
# "clean" recordings still have a room: white noise this far below the speech.
CLEAN_SNR_DB = 50.0
ENGLISH_VOICES = ("en-us", "en-gb", "en-gb-x-rp", "en-gb-scotland", "en-029")
CHINESE_VOICES = ("cmn-latn-pinyin",)  # cmn reads tone digits aloud: never use it for pinyin
VOICE_VARIANTS = ("", "+m3", "+m5", "+f2", "+f3", "+f4", "+klatt2")

# Never-tuned split: sentences of its own (two clauses, so that a comma sits inside each reading).
HOLDOUT_ENGLISH_PASSAGES = [
    "The lanterns glowed along the river, and the boats drifted slowly home",
    "My grandfather kept a small garden, where he grew beans and tall sunflowers",
    "When the rain stopped at noon, we walked to the old stone bridge",
    "She folded the letter twice, then hid it inside her winter coat",
    "The painter mixed a deep green, and the mountains appeared on the silk",
    "After the concert ended, the crowd poured out into the bright square",
    "A heron stood in the shallow pond, waiting for a fish to pass",
    "The bell rang three times, and the students hurried to their seats",
    "We shared a bowl of noodles, while the wind howled outside the door",
    "Every autumn the geese fly south, crossing the valley in long lines",
    "He tuned the old violin carefully, before playing a gentle song",
    "The market opens before dawn, so the farmers arrive in the dark",
    "Light snow fell on the temple roof, and the courtyard turned white",
    "The child counted the stars aloud, until she finally fell asleep",
    "Our neighbour baked a plum cake, and the whole street smelled sweet",
    "The scholar closed his book, and gazed at the moon over the lake",
]
HOLDOUT_CHINESE_PASSAGES = [
    "船在河上慢慢地走，两岸的灯火亮了",
    "爷爷有一个小花园，里面种满了向日葵",
    "雨停了以后，我们走到那座石桥上",
    "她把信折好，放进了冬天的大衣里",
    "画家调出深绿色，远山就出现在纸上",
    "音乐会结束了，人们走进明亮的广场",
    "一只白鹭站在池塘边，等着小鱼游过",
    "钟声响了三下，学生们跑回座位",
    "我们分吃一碗面条，门外刮着大风",
    "每年秋天大雁南飞，排成长长的队伍",
    "他慢慢调好琴弦，弹了一首温柔的曲子",
    "集市天亮前就开了，农民摸黑赶来",
    "小雪落在寺庙的屋顶上，院子变白了",
    "孩子大声数着星星，后来终于睡着了",
    "邻居做了一个李子蛋糕，整条街都很香",
    "先生合上书本，望着湖上的月亮",
]


def _passages(split: str, language: str) -> list[str]:
    """Two-clause passages for SPLIT: the holdout split's own, or pairs of the split's sentences."""
    if split == "holdout":
        return HOLDOUT_ENGLISH_PASSAGES if language == "en" else HOLDOUT_CHINESE_PASSAGES
    sentences = {
        ("test", "en"): ENGLISH_SENTENCES,
        ("test", "zh"): CHINESE_SENTENCES,
        ("train", "en"): TRAIN_ENGLISH_SENTENCES,
        ("train", "zh"): TRAIN_CHINESE_SENTENCES,
    }[(split, language)]
    comma = "，" if language == "zh" else ", "
    pairs = [
        sentences[index] + comma + sentences[index + 1][0].lower() + sentences[index + 1][1:]
        for index in range(0, len(sentences) - 1, 2)
    ]
    return pairs[:16]


def _noise(size: int, rng: np.random.Generator, *, pink: bool) -> np.ndarray:
    white = rng.normal(0, 1, size)
    if not pink:
        return white.astype(np.float32)
    from scipy import signal

    coloured = signal.lfilter(
        [0.049922035, -0.095993537, 0.050612699, -0.004408786],
        [1, -2.494956002, 2.017265875, -0.522189400],
        white,
    )
    return (coloured / (np.std(coloured) + 1e-12)).astype(np.float32)


def _varied_reading(
    language: str,
    passage: str,
    *,
    layout: str,
    noise: str,
    name: str,
    split: str,
    rng: np.random.Generator,
    folder: Path,
) -> Utterance:
    written: list[str] = []
    spoken: list[str] = []
    clause_ends = set()
    for clause in re.split("[,，]", passage):
        clause_written, clause_spoken, _ = _units_of(clause.strip(), language)
        written += clause_written
        spoken += clause_spoken
        clause_ends.add(len(written) - 1)
    voices = ENGLISH_VOICES if language == "en" else CHINESE_VOICES
    voice = voices[int(rng.integers(len(voices)))] + VOICE_VARIANTS[int(rng.integers(len(VOICE_VARIANTS)))]
    rate = int(rng.integers(130, 211)) if language == "en" else int(rng.integers(110, 191))
    pitch = int(rng.integers(25, 76))
    pieces = []
    for sound in spoken:
        piece = _synthesise(sound, voice, folder, rate=rate, pitch=pitch)
        # Readers stress some syllables and swallow others.
        pieces.append(piece * np.float32(10 ** (rng.uniform(-5.0, 1.0) / 20)))
    lead = rng.uniform(0.15, 0.6)
    chunks = [np.zeros(int(lead * SAMPLE_RATE), np.float32)]
    cursor = chunks[0].size
    starts, ends, pauses_before = [], [], []
    gap = lead
    for position, piece in enumerate(pieces):
        pauses_before.append(round(gap, 4))
        starts.append(cursor / SAMPLE_RATE)
        chunks.append(piece)
        cursor += piece.size
        ends.append(cursor / SAMPLE_RATE)
        if position == len(pieces) - 1:
            gap = rng.uniform(0.3, 0.6)
        elif layout == "pauses" and (position in clause_ends or rng.random() < RANDOM_PAUSE_CHANCE):
            gap = rng.uniform(*PAUSE_SECONDS)
        else:
            gap = 0.0
        silence = np.zeros(int(gap * SAMPLE_RATE), np.float32)
        gap = silence.size / SAMPLE_RATE
        chunks.append(silence)
        cursor += silence.size
    gain = 0.5 / max(float(np.max(np.abs(piece))) for piece in pieces)
    samples = np.concatenate(chunks) * np.float32(gain)
    speech_power = float(np.mean(np.concatenate(pieces) ** 2)) * gain**2
    snr = NOISY_SNR_DB if noise == "noise30" else CLEAN_SNR_DB
    background = _noise(samples.size, rng, pink=noise == "noise30" and rng.random() < 0.5)
    samples = samples + background * np.float32(np.sqrt(speech_power * 10 ** (-snr / 10)))
    text = passage + ("。" if language == "zh" else ".")
    utterance = Utterance(
        name,
        language,
        layout,
        text,
        written,
        starts,
        ends,
        split,
        kind="varied",
        variant=f"{layout} {noise}",
        pauses_before=pauses_before,
        voice=f"{voice} -s {rate} -p {pitch}",
    )
    write_wav(utterance.audio_path, samples.astype(np.float32), SAMPLE_RATE)
    return utterance


def load_varied_set(split: str = "holdout") -> list[Utterance]:
    """Two-clause passages for SPLIT ('train', 'test' or 'holdout'), each said by one random espeak-ng
    voice and variant at its own rate and pitch, with per-unit level changes. Each passage is read twice:
    connected (no pause at all) and with pauses (80-600 ms) at the comma and at random places between
    units; half the readings of each layout have pink or white noise at 30 dB SNR, the others a quiet
    room (50 dB). Seeded and cached like the other sets."""
    if split not in VARIED_SPLITS:
        raise ValueError(f"unknown split {split!r}: use one of {VARIED_SPLITS}")
    folder = _folder(split, "varied")
    if (cached := _cached(folder, VARIED_VERSION)) is not None:
        return cached
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng({"train": 5150, "test": 8086, "holdout": 60221}[split])
    items = []
    with tempfile.TemporaryDirectory() as scratch:
        for language in ("en", "zh"):
            for index, passage in enumerate(_passages(split, language)):
                # Each passage is read twice (two voices): connected and with pauses; noise alternates.
                for layout in VARIED_LAYOUTS:
                    noise = VARIED_NOISE[(index + VARIED_LAYOUTS.index(layout)) % 2]
                    name = f"{language}_{layout}_{noise}_{index:02d}"
                    items.append(
                        _varied_reading(
                            language,
                            passage,
                            layout=layout,
                            noise=noise,
                            name=name,
                            split=split,
                            rng=rng,
                            folder=Path(scratch),
                        )
                    )
    _keep(folder, VARIED_VERSION, items)
    return items
