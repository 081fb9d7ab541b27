"""Per-frame animation controls: the contract between motion (which writes them) and render.

Every field is a float32 array with one value per video frame. Values are in the units named
below so that render can map them to pixels relative to the face's size.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

CONTROL_NAMES: tuple[str, ...] = (
    "mouth_open",  # 0 closed .. 1 widest jaw drop (about a third of the nose-to-chin distance)
    "mouth_width",  # -1 pursed .. 0 neutral .. 1 wide smile-like spread of the corners
    "mouth_round",  # 0 neutral .. 1 fully rounded lips (O/U)
    "lips_pressed",  # 0 neutral .. 1 lips pressed together (M/B/P)
    "teeth",  # 0 no teeth .. 1 upper teeth visible (F/V and wide vowels)
    "blink_left",  # 0 open .. 1 closed (the figure's left eye)
    "blink_right",  # 0 open .. 1 closed
    "brow_raise",  # 0 rest .. 1 raised
    "head_yaw",  # degrees, positive turns towards the image's right
    "head_pitch",  # degrees, positive nods down
    "head_roll",  # degrees, positive tilts clockwise
    "head_dx",  # fraction of the face width
    "head_dy",  # fraction of the face height
    "breath",  # 0 exhaled .. 1 inhaled (shoulders/chest rise slightly)
    "smile",  # 0 neutral .. 1 faint closed-mouth smile
)


@dataclasses.dataclass
class Controls:
    """All control tracks for one film; every array has length ``frame_count``."""

    fps: float
    frame_count: int
    tracks: dict[str, np.ndarray]

    @classmethod
    def neutral(cls, *, fps: float, frame_count: int) -> Controls:
        return cls(
            fps=fps,
            frame_count=frame_count,
            tracks={name: np.zeros(frame_count, dtype=np.float32) for name in CONTROL_NAMES},
        )

    def __post_init__(self) -> None:
        for name in CONTROL_NAMES:
            track = self.tracks.get(name)
            if track is None:
                track = np.zeros(self.frame_count, dtype=np.float32)
            track = np.asarray(track, dtype=np.float32)
            if track.shape != (self.frame_count,):
                raise ValueError(f"control {name!r} has shape {track.shape}, expected ({self.frame_count},)")
            self.tracks[name] = track
        unknown = set(self.tracks) - set(CONTROL_NAMES)
        if unknown:
            raise ValueError(f"unknown controls: {sorted(unknown)}")

    def __getitem__(self, name: str) -> np.ndarray:
        return self.tracks[name]

    def frame(self, index: int) -> dict[str, float]:
        return {name: float(track[index]) for name, track in self.tracks.items()}

    def to_dict(self) -> dict:
        return {
            "fps": self.fps,
            "frame_count": self.frame_count,
            "tracks": {name: [round(float(v), 4) for v in track] for name, track in self.tracks.items()},
        }

    def write_json(self, path: Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict()))
