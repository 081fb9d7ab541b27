"""What a dialogue film is made of, read from the catalogue: the figures who speak its roles and the
engine's turns, each line cut from the reading that holds it. Residents' films (``animation.tasks``) and
curators' test films (``gallery.tasks``, one sample voice reading every line) both start here.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from animation.engine.errors import EngineInputError

if TYPE_CHECKING:
    from animation.engine.dialogue import Turn
    from catalogue.models import DialogueLine, DialogueRole, Figure


@dataclasses.dataclass(frozen=True)
class Reading:
    """A voice file that reads LINES (some of a dialogue's, in their order) and its alignment to their
    text (``AlignmentResult.to_dict()``)."""

    audio_path: Path
    alignment: Mapping[str, Any]
    lines: Sequence[DialogueLine]


@dataclasses.dataclass(frozen=True)
class DialogueCast:
    figures: list[Figure]  # the film's faces, in the order the roles first name them
    speaker_of: dict[uuid.UUID, int]  # a figure's id -> its index among them (a Turn's speaker)

    @classmethod
    def of(cls, roles: Iterable[DialogueRole]) -> DialogueCast:
        """The figures cast for ROLES, each once. Raises EngineInputError for a role with no figure, or
        one whose figure is hidden (it may not speak): before any voice is fetched or aligned."""
        figures: list[Figure] = []
        speaker_of: dict[uuid.UUID, int] = {}
        for role in roles:
            figure = role.figure
            if figure is None or figure.hidden:
                raise EngineInputError(f"the role {role.name} is not cast to a figure that may speak")
            if figure.id not in speaker_of:
                speaker_of[figure.id] = len(figures)
                figures.append(figure)
        return cls(figures=figures, speaker_of=speaker_of)

    @property
    def faces(self) -> list[dict[str, Any]]:
        return [figure.face for figure in self.figures]

    def turns(self, lines: Iterable[DialogueLine], readings: Iterable[Reading], *, language: str) -> list[Turn]:
        """A turn for each of LINES (the dialogue's, in its order, their roles loaded): the line's part of
        the reading that holds it, said by its role's figure. Raises EngineInputError where a reading's
        words cannot be matched to its lines."""
        # The engine's dialogue modules load OpenCV: imported when a film is made, not with the tasks.
        from animation.engine.audio import probe_audio
        from animation.engine.dialogue import Turn
        from animation.engine.dialogue_lines import LineCut, line_cuts

        cut_of: dict[int, tuple[LineCut, Reading]] = {}
        for reading in readings:
            cuts = line_cuts(
                [line.text for line in reading.lines],
                reading.alignment,
                language=language,
                duration=probe_audio(reading.audio_path).duration_seconds,
            )
            for line, cut in zip(reading.lines, cuts, strict=True):
                cut_of[line.id] = (cut, reading)
        turns = []
        for line in lines:
            cut, reading = cut_of[line.id]
            turns.append(
                Turn(
                    speaker=self.speaker_of[line.role.figure_id],
                    audio_path=reading.audio_path,
                    alignment={
                        "units": cut.units,
                        "phrases": cut.phrases,
                        "language": reading.alignment.get("language", language),
                    },
                    start=cut.start,
                    end=cut.end,
                    text=line.text,
                    name=line.role.name,
                )
            )
        return turns
