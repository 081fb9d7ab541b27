"""What the catalogue announces to the layers above it, which listen (it imports none of them)."""

from django.dispatch import Signal

# passage: its text, language or speaking face changed; test films made before no longer vouch for it.
passage_needs_new_test_film = Signal()

# painting_id: the painting's smaller copies or deep-zoom tiles were kept (a row update no post_save
# announces); pages showing the painting are out of date.
painting_images_made = Signal()

# painting_id: the painting is being deleted, inside the transaction that deletes it (its passages are
# still there); the layers above delete what they stored for it once that transaction commits.
painting_deleting = Signal()
