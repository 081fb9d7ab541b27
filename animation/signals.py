"""What the animation layer announces to the live public gallery above it, which listens and pushes.

Animation never imports the gallery (tests/test_layers.py). Signals are sent inside the caller's
transaction; the gallery's receivers send to the sockets only after the commit.
"""

from django.dispatch import Signal

# animation: a job moved (queued, aligning, rendering, ready, published, failed) or its progress changed.
animation_progress = Signal()
# animation: a film went into the public gallery.
animation_published = Signal()
# animation_id, event_id: a public film left the gallery (withdrawn, unpublished, held back).
animation_removed = Signal()
# event_id: the number of films being made for the event changed.
event_progress_changed = Signal()
