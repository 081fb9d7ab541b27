"""Shuohua's portrait animation engine.

Plain Python, numpy, OpenCV and torch: nothing here imports Django, so every stage can be
tested and benchmarked on its own. A film is audio -> align -> motion -> render -> encode, with
pipeline putting them together. One line per module or package:

Stages
  audio           decode anything ffmpeg reads; normalise; measure; loudness envelope; silences
  align/          Whisper transcript + known-text alignment -> units, phrases, WebVTT (see its __init__)
  faces           load a painting; faces and landmarks on it (mediapipe mesh), manual landmarks
  face_paintings  small, brush-drawn faces on figure paintings; the curator's two clicks (fit_in_box)
  painted_faces   the trained second stage for painted faces (numpy CNN, off by default: see #21)
  painted_face_detector  our own CenterNet-sized face detector for paintings (torch; see #21)
  visemes         text + timings -> mouth-shape track (CMU dictionary, pinyin)
  motion          blinks, brows, head pose, breathing, smile -> smoothed per-frame controls
  capture         a resident's video -> motion curves of their face
  retarget        those motion curves -> the painting's controls
  framing         the film's crop of the painting, its aspect, the opening push-in
  render/         controls + painting + landmarks -> frames (OpenCV remap / torch grid_sample)
  encode          frames + voice -> film.mp4, poster.jpg
  pipeline        painting + voice + alignment -> film, poster, subtitles (what the render worker calls)
  dialogue        figures of one painting speaking in turn, each in its reader's voice -> one film
  dialogue_lines  a role's take cut at its lines (where each line of the script was read)

Shared pieces
  controls        the per-frame controls: the contract between motion and render
  compare         what was heard against what was written, by sound (pinyin for Mandarin)
  smoothing       springs and slow noise for control curves
  boxes           face boxes: overlap, same face
  whisper_models  where the Whisper models live and how they load (never downloaded)
  model_cache     the one process-wide cache every loaded model goes through
  ffmpeg          the ffmpeg binary and the one runner for inputs (time limit, container whitelist)
  video           a camera reading: find its picture stream, copy its sound out
  errors          EngineInputError: input a person can fix
  models/         data files the engine ships (the painted-face verifier's weights)

Command line
  cli             python -m animation.engine {faces, align, animate, motion} (all CLI code is here)
  __main__        runs cli.main
"""
