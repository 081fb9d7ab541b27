"""What alignment and transcription return: units with times, phrases, the whole result, a transcript."""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True)
class Unit:
    text: str
    start: float
    end: float
    confidence: float
    # Not read: the reader skipped it. It keeps its place in the text with no time (start == end,
    # where the reading passed over it), so the mouth rests and the karaoke marks it as not read.
    skipped: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "confidence": round(self.confidence, 3),
            "skipped": self.skipped,
        }


@dataclasses.dataclass(frozen=True)
class Phrase:
    start: float
    end: float

    def to_dict(self) -> dict[str, float]:
        return {"start": round(self.start, 3), "end": round(self.end, 3)}


@dataclasses.dataclass(frozen=True)
class AlignmentResult:
    language: str
    transcript: str  # what Whisper heard, for the moderators
    match: float  # 0..1 agreement of the transcript with the passage
    units: list[Unit]
    phrases: list[Phrase]
    seconds: float  # length of the audio

    def to_dict(self) -> dict[str, Any]:
        return {
            "language": self.language,
            "transcript": self.transcript,
            "match": round(self.match, 3),
            "units": [unit.to_dict() for unit in self.units],
            "phrases": [phrase.to_dict() for phrase in self.phrases],
            "seconds": round(self.seconds, 3),
        }


@dataclasses.dataclass(frozen=True)
class Transcript:
    text: str
    language: str
    language_probability: float
    duration_seconds: float

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
