"""What contributions announces to the layers above it (animation, the live gallery); they listen.

Contributions never imports those layers (tests/test_layers.py). Each signal is sent inside the
caller's transaction, so what a receiver writes commits or rolls back with the decision that caused it.
A receiver that cannot do its part raises, and the decision fails with it.
"""

from django.dispatch import Signal

# recording_id: a reading was kept and handed to the workers; the layers above may start on it early.
recording_received = Signal()
# recording: approved (or a rejection reversed), its film is to be made.
recording_approved = Signal()
# recording: an approval was undone or reversed; its films and their files go, the voice stays.
recording_approval_taken_back = Signal()
# recording: a moderator rejected it; anything made from it ahead of the decision (a film) goes.
recording_rejected = Signal()
# recording_id: something made from a reading on arrival was kept (its 48 kHz voice copy, a camera
# reading's motion curves); work that waits for it may start.
recording_prepared = Signal()
# recording_id: a withdrawn recording is being erased; everything made from the voice goes.
recording_erasing = Signal()
# recording_id: the reader took the reading out of the open dataset; releases holding it are retired.
recording_left_open_dataset = Signal()
# event_id: a reading arrived, was decided or withdrawn; moderators' consoles refresh.
moderation_queue_changed = Signal()
# decision: a moderator undid a decision about a film; the film returns to review (or raises UndoRefused).
film_decision_undone = Signal()
# decision, to_reject, reason, note: a curator reversed a decision about a film (or raises InvalidTransition).
film_decision_reversed = Signal()


def send_to_the_one_listener(signal: Signal, **arguments) -> None:
    """Send SIGNAL to the receiver that does the work; none at all is a wiring error, never a silent
    success (a film decision nobody carried out would be recorded as done)."""
    if not signal.has_listeners():
        raise RuntimeError(f"nothing listens to {signal!r}: is the animation app installed?")
    signal.send(sender=None, **arguments)
