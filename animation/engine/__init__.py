"""Shuohua's portrait animation engine.

Plain Python, numpy, OpenCV and torch: nothing here imports Django, so every stage can be
tested and benchmarked on its own. Stages, one module each:

audio     decode anything ffmpeg reads; normalise; loudness envelope; silences
align     Whisper transcript + known-text alignment -> units, phrases, WebVTT
faces     faces and landmarks on a painting
visemes   text + timings -> mouth-shape track
motion    blinks, brows, head pose, breathing, smile -> smoothed per-frame controls
render    controls + painting + landmarks -> frames (OpenCV remap / torch grid_sample)
encode    frames + voice -> film.mp4, poster.jpg
cli       python -m animation.engine {faces, align, animate}
"""
