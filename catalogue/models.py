"""The festival's catalogue: its events, their paintings and the passages residents read beside them.

The layer under contributions, animation and the public gallery: it imports none of them. The tables
keep the names they had before these models moved here (gallery_event, gallery_painting,
contributions_passage): the move changed Django's state, not the data.
"""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


def painting_image_path(painting: "Painting", filename: str) -> str:
    # Never keep the uploaded name: it is user input and may collide or leak.
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "jpg"
    return f"paintings/{painting.id}/image.{extension}"


class Event(models.Model):
    """A festival: its paintings, passages and the public gallery of animations."""

    class PublishMode(models.TextChoices):
        AUTO = "auto", _("Publish as soon as the animation is ready")
        REVIEW = "review", _("A moderator reviews the animation first")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    slug = models.SlugField(unique=True)
    title = models.CharField(_("title"), max_length=200)
    # Every text a visitor reads comes in both languages (issue 26): the main field first (Chinese for
    # this festival), its English companion beside it; an empty companion shows the main text alone.
    title_en = models.CharField(_("title in English"), max_length=200, blank=True, db_default="")
    description = models.TextField(_("description"), blank=True)
    description_en = models.TextField(_("description in English"), blank=True, db_default="")
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    publish_mode = models.CharField(max_length=10, choices=PublishMode.choices, default=PublishMode.AUTO)
    is_open = models.BooleanField(_("open for recordings"), default=True)
    moderators = models.ManyToManyField(
        "accounts.User",
        blank=True,
        related_name="moderated_events",
        help_text=_("Only these moderators review the festival's readings; with none, readings wait."),
    )
    # Curators are per festival, as moderators are: a curator edits, and sees the unpublished films and
    # decisions of, the festivals they curate only (the one who creates a festival curates it).
    curators = models.ManyToManyField(
        "accounts.User",
        blank=True,
        related_name="curated_events",
        help_text=_("Only these curators edit the festival and see its unpublished films."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "gallery_event"  # the table from before the model moved to this app
        ordering = ["-starts_on", "title"]

    def __str__(self) -> str:
        return self.title


class Painting(models.Model):
    class FaceStatus(models.TextChoices):
        PENDING = "pending", _("Not looked for yet")
        FOUND = "found", _("Faces found")
        NONE = "none", _("No face found: place the key points by hand")
        MANUAL = "manual", _("Placed by hand")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="paintings")
    title = models.CharField(_("title"), max_length=200)
    title_en = models.CharField(_("title in English"), max_length=200, blank=True, db_default="")
    artist = models.CharField(_("artist"), max_length=200, blank=True)
    era = models.CharField(_("era"), max_length=100, blank=True)
    source = models.CharField(_("source and licence"), max_length=300, blank=True)
    story = models.TextField(_("story"), blank=True)
    story_en = models.TextField(_("story in English"), blank=True, db_default="")
    image = models.ImageField(upload_to=painting_image_path, width_field="width", height_field="height")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    # Smaller copies for pages (catalogue.images): [{"width", "height", "name"}], narrowest first.
    renditions = models.JSONField(default=list, blank=True)
    # Its deep-zoom tiles (catalogue.images.make_tiles), under paintings/<id>/tiles/: the descriptor
    # ({"width", "height", "tile_size", "format", "levels", "prefix"}), empty until they are made.
    tiles = models.JSONField(default=dict, blank=True)
    face_status = models.CharField(max_length=10, choices=FaceStatus.choices, default=FaceStatus.PENDING)
    faces = models.JSONField(default=list, blank=True, help_text="Detected faces, as the engine reports them.")
    face_error = models.TextField(blank=True, help_text="Why detection found nothing or failed, for the curator.")
    # How far its figures' heads may turn (issue 23): a stiff court portrait or a tall headdress that
    # would tear may be kept gentler or still (the mouth, eyes and brows move whatever this says).
    head_motion = models.CharField(
        _("head movement"),
        max_length=8,
        default="full",
        db_default="full",
        choices=[
            ("full", _("Turns and nods as a reader does")),
            ("gentle", _("Gentle: half as far")),
            ("still", _("Still: the head does not turn")),
        ],
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "gallery_painting"
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    # Degrees either way (yaw, pitch, roll) for each head_motion; "full" is the engine's own range.
    HEAD_RANGES = {"full": None, "gentle": (7.5, 5.0, 4.0), "still": (0.0, 0.0, 0.0)}

    def head_range(self) -> tuple[float, float, float] | None:
        """The head range the engine gets for this painting's films (None: the engine's defaults)."""
        return self.HEAD_RANGES.get(self.head_motion)

    def figure_order_is_horizontal(self) -> bool:
        """Figures are numbered left to right on a wide painting (a handscroll), top to bottom on a
        tall one (a hanging scroll), as an eye reads across it."""
        return self.width >= self.height


class Figure(models.Model):
    """A figure of a painting that can speak: a face detection found or a curator placed by hand,
    named, possibly corrected or hidden by the curator, and cast to passages (issue 22).

    ``face`` is a face as the engine reports it ({"box": [x, y, w, h], "score", "landmarks"}): the key
    points a film of this figure is rendered from. Looking for faces again updates a figure the curator
    has not touched and never removes one that is named, corrected, placed or cast.
    """

    class Origin(models.TextChoices):
        DETECTED = "detected", _("Found by detection")
        PLACED = "placed", _("Placed by hand")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    painting = models.ForeignKey(Painting, on_delete=models.CASCADE, related_name="figures")
    name = models.CharField(_("name"), max_length=100, blank=True, db_default="")
    name_en = models.CharField(_("name in English"), max_length=100, blank=True, db_default="")
    face = models.JSONField()
    origin = models.CharField(max_length=10, choices=Origin.choices, default=Origin.DETECTED)
    corrected = models.BooleanField(default=False, help_text="A curator moved its key points.")
    hidden = models.BooleanField(_("never speaks"), default=False)
    # Where the figure stands along the painting's reading direction (0 to 1): its number comes from it.
    position = models.FloatField(default=0.0)
    # A small crop around the face for the curator's strip and the record page (a stored name).
    thumbnail = models.CharField(max_length=300, blank=True, db_default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["painting", "position", "created_at"]

    def __str__(self) -> str:
        return self.name or f"figure {self.id}"

    @property
    def box(self) -> list[float]:
        return list(self.face.get("box") or [0, 0, 0, 0])

    @property
    def score(self) -> float:
        return float(self.face.get("score") or 0.0)

    @property
    def view(self) -> str:
        """The view of the face, read off the key points: "frontal", "three-quarter" or "profile", by where
        the nose tip lies between the two eyes (half-way on a frontal face, near or past one eye on a profile)."""
        points = self.face.get("landmarks") or {}
        try:
            left = sum(x for x, _y in points["left_eye"]) / len(points["left_eye"])
            right = sum(x for x, _y in points["right_eye"]) / len(points["right_eye"])
            nose = points["nose_tip"][0][0]
        except (KeyError, IndexError, TypeError, ZeroDivisionError):
            return ""
        span = abs(left - right)
        if span < 1e-6:
            return "profile"
        where = (nose - min(left, right)) / span
        if 0.3 <= where <= 0.7:
            return "frontal"
        if -0.1 <= where <= 1.1:
            return "three-quarter"
        return "profile"


class Passage(models.Model):
    """A text residents read aloud beside a painting: a poem, a line of a classic, or a dialogue whose
    lines are spoken by several figures (``kind`` DIALOGUE: its ``roles`` and ``lines``)."""

    class Kind(models.TextChoices):
        READING = "reading", _("One voice reads the whole text")
        DIALOGUE = "dialogue", _("A dialogue: each role is read by its own voice and spoken by its own figure")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.READING, db_default="reading")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="passages")
    painting = models.ForeignKey(Painting, on_delete=models.CASCADE, related_name="passages")
    title = models.CharField(_("title"), max_length=200)
    title_en = models.CharField(_("title in English"), max_length=200, blank=True, db_default="")
    text = models.TextField(_("text"))
    language = models.CharField(_("language"), max_length=16, help_text="BCP-47 code, e.g. zh or en")
    # Beside a Chinese poem on the film page: its English translation (or, for an English text, a
    # Chinese one), and the curator's note on it, in both languages.
    translation = models.TextField(_("translation"), blank=True, db_default="")
    note = models.TextField(_("note"), blank=True, db_default="")
    note_en = models.TextField(_("note in English"), blank=True, db_default="")
    # Who speaks it (issue 22): a figure of the painting; with none, the painting's first figure that
    # may speak. How the film frames it: the painting's own framing or a screen's, opening on the scene.
    figure = models.ForeignKey(
        Figure,
        verbose_name=_("figure that speaks"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="passages",
    )
    aspect = models.CharField(
        _("framing"),
        max_length=8,
        blank=True,
        db_default="",
        choices=[
            ("", _("The painting's own shape")),
            ("16:9", _("Wide screen (16:9)")),
            ("9:16", _("Phone, upright (9:16)")),
            ("1:1", _("Square (1:1)")),
        ],
    )
    push_in = models.BooleanField(_("open on the scene, then move in to the speaker"), default=False, db_default=False)
    # A dialogue's camera: cut to whoever speaks, pan between them, or hold the scene with both.
    camera = models.CharField(
        _("camera in a dialogue"),
        max_length=8,
        default="cut",
        db_default="cut",
        choices=[("cut", _("Cut to the speaker")), ("pan", _("Pan to the speaker")), ("wide", _("Show both"))],
    )
    max_seconds = models.PositiveSmallIntegerField(_("longest recording in seconds"), default=60)
    is_open = models.BooleanField(_("open for recordings"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "contributions_passage"
        ordering = ["painting__title", "title"]

    def __str__(self) -> str:
        return self.title


class DialogueRole(models.Model):
    """One voice of a dialogue passage (宝玉, 黛玉; the question, the answer), cast to a figure."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    passage = models.ForeignKey(Passage, on_delete=models.CASCADE, related_name="roles")
    name = models.CharField(_("role"), max_length=100)
    name_en = models.CharField(_("role in English"), max_length=100, blank=True, db_default="")
    figure = models.ForeignKey(
        Figure,
        verbose_name=_("figure that speaks"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="roles",
    )
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["passage", "order"]
        constraints = [models.UniqueConstraint(fields=["passage", "name"], name="one_role_per_name")]

    def __str__(self) -> str:
        return self.name

    def text(self) -> str:
        """What a reader of this role reads: its lines, one per line, in the dialogue's order."""
        return "\n".join(line.text for line in self.lines.all())


class DialogueLine(models.Model):
    """A line of a dialogue: who says it and what."""

    passage = models.ForeignKey(Passage, on_delete=models.CASCADE, related_name="lines")
    role = models.ForeignKey(DialogueRole, on_delete=models.CASCADE, related_name="lines")
    order = models.PositiveSmallIntegerField()
    text = models.TextField()

    class Meta:
        ordering = ["passage", "order"]

    def __str__(self) -> str:
        return f"{self.role.name}: {self.text}"
