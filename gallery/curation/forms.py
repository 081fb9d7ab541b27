from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from catalogue.models import Event


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
    story = forms.CharField(label=_("Story"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
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
    story = forms.CharField(label=_("Story"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    story_en = forms.CharField(label=_("Story in English"), required=False, widget=forms.Textarea(attrs={"rows": 4}))


LANGUAGE_CHOICES = [("zh", "中文 (zh)"), ("en", "English (en)")]


class PassageForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    title_en = forms.CharField(label=_("Title in English"), max_length=200, required=False)
    text = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 5}))
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
    speaking_face = forms.TypedChoiceField(label=_("Face that speaks"), coerce=int, choices=[(0, "1")], initial=0)

    def __init__(self, *args, face_count: int = 1, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["speaking_face"].choices = [(index, str(index + 1)) for index in range(max(1, face_count))]


class PreviewForm(forms.Form):
    sample_voice = forms.FileField(
        label=_("Sample voice"),
        help_text=_("A recording of the passage read aloud (any audio file)."),
        widget=forms.ClearableFileInput(attrs={"accept": "audio/*"}),
    )
