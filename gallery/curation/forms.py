from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from catalogue.models import Event, Painting, Passage
from catalogue.selectors import figure_label


class DateInput(forms.DateInput):
    input_type = "date"


class EventForm(forms.ModelForm):
    moderators = forms.ModelMultipleChoiceField(
        label=_("Moderators"),
        queryset=User.objects.filter(groups__name="moderators").order_by("display_name", "username"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only these moderators review this festival's readings; with none, readings wait."),
    )
    curators = forms.ModelMultipleChoiceField(
        label=_("Curators"),
        queryset=User.objects.filter(groups__name="curators", is_active=True).order_by("display_name", "username"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only these curators edit this festival and see its unpublished films; you stay one of them."),
    )

    class Meta:
        model = Event
        fields = (
            "title",
            "title_en",
            "slug",
            "description",
            "description_en",
            "starts_on",
            "ends_on",
            "publish_mode",
            "is_open",
            "moderators",
            "curators",
        )
        labels = {"slug": _("Web address"), "publish_mode": _("Publishing")}
        # Help texts are rendered as HTML: no angle brackets (a placeholder once showed as "/events/ /").
        help_texts = {"slug": _("Letters, digits and hyphens, as in /events/spring-reading/")}
        widgets = {
            "starts_on": DateInput(),
            "ends_on": DateInput(),
            "description": forms.Textarea(attrs={"rows": 3}),
            "description_en": forms.Textarea(attrs={"rows": 3}),
        }


class PaintingForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    title_en = forms.CharField(label=_("Title in English"), max_length=200, required=False)
    artist = forms.CharField(label=_("Artist"), max_length=200, required=False)
    era = forms.CharField(label=_("Era"), max_length=100, required=False)
    source = forms.CharField(label=_("Source and licence"), max_length=300, required=False)
    # The story is the curators' introduction to the painting (issue 26): the painting's page and every
    # film of it show it, in both languages.
    story = forms.CharField(
        label=_("Story"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("The curators' introduction to the painting, shown on its page and beside each of its films."),
    )
    story_en = forms.CharField(label=_("Story in English"), required=False, widget=forms.Textarea(attrs={"rows": 4}))

    # A plain FileField: Pillow's checks are the service's, with messages that say what to change.
    image = forms.FileField(
        label=_("Image of the painting"),
        help_text=_("JPEG, PNG or WebP, at least 256 pixels a side."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )


class PaintingStoryForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    title_en = forms.CharField(label=_("Title in English"), max_length=200, required=False)
    artist = forms.CharField(label=_("Artist"), max_length=200, required=False)
    era = forms.CharField(label=_("Era"), max_length=100, required=False)
    source = forms.CharField(label=_("Source and licence"), max_length=300, required=False)
    # The story is the curators' introduction to the painting (issue 26): the painting's page and every
    # film of it show it, in both languages.
    story = forms.CharField(
        label=_("Story"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("The curators' introduction to the painting, shown on its page and beside each of its films."),
    )
    story_en = forms.CharField(label=_("Story in English"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    head_motion = forms.ChoiceField(
        label=_("Head movement"),
        choices=Painting._meta.get_field("head_motion").choices,
        initial="full",
        required=False,
        help_text=_("How far the figures' heads turn in every film of this painting; make a new test film to see it."),
    )

    def clean_head_motion(self):
        return self.cleaned_data.get("head_motion") or "full"


LANGUAGE_CHOICES = [("zh", "中文 (zh)"), ("en", "English (en)")]


class PassageForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    title_en = forms.CharField(label=_("Title in English"), max_length=200, required=False)
    kind = forms.ChoiceField(
        label=_("Kind"), choices=Passage.Kind.choices, initial=Passage.Kind.READING, required=False
    )
    text = forms.CharField(
        label=_("Text"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("For a dialogue, one line per line of dialogue: the role's name, a colon, what it says (宝玉：…)."),
    )
    language = forms.ChoiceField(label=_("Language of the text"), choices=LANGUAGE_CHOICES)
    translation = forms.CharField(
        label=_("Translation"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Shown beside the text on the film page: English for a Chinese text, Chinese for an English one."),
    )
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    note_en = forms.CharField(label=_("Note in English"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    max_seconds = forms.IntegerField(label=_("Longest recording in seconds"), min_value=3, max_value=300, initial=60)
    figure = forms.ChoiceField(
        label=_("Figure that speaks"),
        required=False,
        help_text=_("Name the figures on the painting's page first: they are listed here by number and name."),
    )
    aspect = forms.ChoiceField(
        label=_("Framing of the film"), required=False, choices=Passage._meta.get_field("aspect").choices
    )
    push_in = forms.BooleanField(label=_("Open on the whole scene, then move in to the speaker"), required=False)
    camera = forms.ChoiceField(
        label=_("Camera in a dialogue"),
        choices=Passage._meta.get_field("camera").choices,
        initial="cut",
        required=False,
    )

    def __init__(self, *args, figures: list | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.figures = {str(figure.id): figure for figure in figures or []}
        self.fields["figure"].choices = [("", _("The first figure that may speak"))] + [
            (key, figure_label(figure)) for key, figure in self.figures.items()
        ]

    def clean_kind(self):
        return self.cleaned_data.get("kind") or Passage.Kind.READING

    def clean_camera(self):
        return self.cleaned_data.get("camera") or "cut"

    def clean_figure(self):
        return self.figures.get(self.cleaned_data.get("figure") or "")


class FigureForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    name_en = forms.CharField(label=_("Name in English"), max_length=100, required=False)
    hidden = forms.BooleanField(label=_("Never speaks"), required=False)


class PreviewForm(forms.Form):
    sample_voice = forms.FileField(
        label=_("Sample voice"),
        help_text=_("A recording of the passage read aloud (any audio file)."),
        widget=forms.ClearableFileInput(attrs={"accept": "audio/*"}),
    )


class FestivalTimeInput(forms.DateTimeInput):
    """A date and time picker; the time is the festival's (settings.TIME_ZONE), as visitors read it."""

    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class ProgrammeItemForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    title_en = forms.CharField(label=_("Title in English"), max_length=200, required=False)
    venue = forms.CharField(
        label=_("Venue"), max_length=200, help_text=_("The reading room, as visitors find it in the library.")
    )
    venue_en = forms.CharField(label=_("Venue in English"), max_length=200, required=False)
    starts_at = forms.DateTimeField(label=_("Starts at"), widget=FestivalTimeInput())
    ends_at = forms.DateTimeField(label=_("Ends at"), required=False, widget=FestivalTimeInput())
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    description_en = forms.CharField(
        label=_("Description in English"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    paintings = forms.ModelMultipleChoiceField(
        label=_("Paintings read there"), queryset=Painting.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    passages = forms.ModelMultipleChoiceField(
        label=_("Passages read there"), queryset=Passage.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip

    def __init__(self, *args, event, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["paintings"].queryset = Painting.objects.filter(event=event).order_by("title")
        self.fields["passages"].queryset = Passage.objects.filter(event=event).order_by("painting__title", "title")

    def clean(self):
        cleaned = super().clean()
        starts_at, ends_at = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts_at and ends_at and ends_at < starts_at:
            self.add_error("ends_at", _("The item ends before it starts."))
        return cleaned


class FeaturedFilmForm(forms.Form):
    note = forms.CharField(label=_("Curator's note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    note_en = forms.CharField(
        label=_("Curator's note in English"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
