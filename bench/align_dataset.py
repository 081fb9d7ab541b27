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
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import tempfile
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

    @property
    def audio_path(self) -> Path:
        return _folder(self.split) / f"{self.name}.wav"


def _folder(split: str) -> Path:
    return OUT if split == "test" else OUT.with_name(f"{OUT.name}_{split}")


def _trimmed(samples: np.ndarray) -> np.ndarray:
    """The synthesised unit without its leading and trailing silence (the true boundaries)."""
    frame = SAMPLE_RATE // 200  # 5 ms
    count = samples.size // frame
    levels = 10 * np.log10(np.mean(samples[: count * frame].reshape(count, frame) ** 2, axis=1) + 1e-12)
    voiced = np.flatnonzero(levels > levels.max() - 40)
    return samples[voiced[0] * frame : (voiced[-1] + 1) * frame]


def _synthesise(spoken: str, voice: str, folder: Path) -> np.ndarray:
    wav = folder / "unit.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", "160", "-w", str(wav), spoken], check=True)
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
    manifest = folder / "manifest.json"
    if manifest.is_file():
        data = json.loads(manifest.read_text())
        if data.get("version") == SET_VERSION and all((folder / f"{u['name']}.wav").is_file() for u in data["items"]):
            return [Utterance(**{"split": split, **item}) for item in data["items"]]
    folder.mkdir(parents=True, exist_ok=True)
    if split == "test":
        rng = np.random.default_rng(20240601)
        utterances = _build("en", ENGLISH_SENTENCES, rng, split) + _build("zh", CHINESE_SENTENCES, rng, split)
    else:
        rng = np.random.default_rng(7130)
        utterances = _build("en", TRAIN_ENGLISH_SENTENCES, rng, split) + _build(
            "zh", TRAIN_CHINESE_SENTENCES, rng, split
        )
    manifest.write_text(
        json.dumps({"version": SET_VERSION, "items": [dataclasses.asdict(u) for u in utterances]}, ensure_ascii=False)
    )
    return utterances
