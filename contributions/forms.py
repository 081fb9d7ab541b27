from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from contributions.models import Recording


class SignupForm(UserCreationForm):
    display_name = forms.CharField(label=_("Name shown with your readings"), max_length=80)
    email = forms.EmailField(label=_("Email"), help_text=_("Only used to reset your password."))

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "display_name", "email")


class AccountDeleteForm(forms.Form):
    """Leaving asks for the password again: a session left open on a library computer cannot do it."""

    password = forms.CharField(label=_("Your password"), widget=forms.PasswordInput, strip=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("That is not your password."))
        return password


class ConsentForm(forms.Form):
    """Each label is a whole sentence: no ":" after it (in Chinese it read "。：")."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    public_animation = forms.BooleanField(
        required=True,
        label=_(
            "I agree that my recorded voice is used in a public animation of the painting in the festival "
            "gallery, shown with my display name. I can withdraw it at any time, and it is then deleted."
        ),
    )
    # No general "open dataset" box any more (issue 26): each reading is given to it, or not, on its own
    # (UploadForm.open_dataset, Recording.open_dataset); the page says so under the form.


class UploadForm(forms.Form):
    """VIDEO_KEPT_FOR_REVIEW (services.video_kept_for_review()): the consent says how long the video is kept."""

    audio = forms.FileField(label=_("Recording file"))
    video_consent = forms.BooleanField(
        required=False,
        label=_(
            "I agree that my camera video is used to move the figure. Only the movements are kept: the video "
            "is deleted once they are measured, and nobody but the festival's moderators can see it before that."
        ),
    )

    # The reading's own opt-in for the open dataset (issue 26), apart from the film. Drawn once on the
    # record page, outside the upload form (form="upload-form"), so that the recorder reads the same box.
    open_dataset = forms.BooleanField(
        required=False,
        label=_(
            "Also give this reading to the festival's open speech dataset: its sound, text and timings are "
            "published for anyone to use (licence %(licence)s), without your name or any account. You can take "
            "it out later: later releases leave it out, but copies already downloaded cannot be recalled."
        ),
        widget=forms.CheckboxInput(attrs={"form": "upload-form", "id": "dataset-optin"}),
    )

    def __init__(self, *args, video_kept_for_review: bool = False, dataset_licence: str = "CC0-1.0", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["open_dataset"].label = self.fields["open_dataset"].label % {"licence": dataset_licence}
        if video_kept_for_review:
            self.fields["video_consent"].label = _(
                "I agree that my camera video is used to move the figure. Only the movements are kept for good: "
                "the video is kept until a moderator has decided on the reading (only the festival's moderators "
                "can watch it), then deleted."
            )

    def get_context(self):
        """The form as written (as_p) leaves out the opt-in: the page draws it once, above the recorder."""
        context = super().get_context()
        context["fields"] = [(field, errors) for field, errors in context["fields"] if field.name != "open_dataset"]
        return context


class RejectForm(forms.Form):
    reason = forms.ChoiceField(choices=Recording.RejectionReason.choices, label=_("Reason"))
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), label=_("Note"))
