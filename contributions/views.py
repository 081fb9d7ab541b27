"""Pages for residents and moderators: thin, over the same services as the API."""

from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from catalogue import selectors as catalogue_selectors
from catalogue.models import Passage
from contributions import selectors, services
from contributions.forms import AccountDeleteForm, ConsentForm, SignupForm, UploadForm
from contributions.models import Recording
from core.media import storage_file_response


def signup(request):
    form = SignupForm(request.POST or None)
    # The page the visitor came from (a passage they chose) survives sign-up and the consent page.
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect(f"/consent/?next={quote(next_url)}" if next_url else "consent")
    return render(request, "registration/signup.html", {"form": form, "next": next_url})


@login_required
def consent(request):
    current = selectors.consent_current(user=request.user)
    # What the resident agreed to stays ticked when they come back to the page.
    initial = {"public_animation": current.public_animation} if current else {}
    form = ConsentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.consent_give(user=request.user, **form.cleaned_data)
        messages.success(request, _("Thank you. You can now record."))
        next_url = request.GET.get("next", "")
        if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
            next_url = "passages"
        return redirect(next_url)
    return render(
        request,
        "contributions/consent.html",
        {"form": form, "current": current, "next": request.GET.get("next", "")},
    )


@login_required
@require_POST
def consent_withdraw(request):
    count = services.consent_withdraw(user=request.user)
    messages.success(
        request,
        ngettext(
            "Your consent is withdrawn and your %(count)d recording has been deleted.",
            "Your consent is withdrawn and your %(count)d recordings have been deleted.",
            count,
        )
        % {"count": count},
    )
    return redirect("consent")


def passages(request):
    return render(request, "contributions/passages.html", {"passages": selectors.passages_open()})


@login_required
def record(request, passage_id):
    passage = get_object_or_404(selectors.passages_open(), id=passage_id)
    if selectors.consent_current(user=request.user) is None:
        return redirect(f"/consent/?next=/record/{passage.id}/")
    video_kept_for_review = services.video_kept_for_review()
    roles = list(passage.roles.select_related("figure")) if passage.kind == Passage.Kind.DIALOGUE else []
    chosen = request.POST.get("role") or request.GET.get("role") or ""
    role = next((choice for choice in roles if str(choice.id) == chosen), None)
    form = UploadForm(
        request.POST or None,
        request.FILES or None,
        video_kept_for_review=video_kept_for_review,
        dataset_licence=settings.DATASET_LICENSE,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.recording_submit(
                contributor=request.user,
                passage=passage,
                upload=form.cleaned_data["audio"],
                video_consent=form.cleaned_data["video_consent"],
                role=role,
                open_dataset=form.cleaned_data["open_dataset"],
            )
        except services.RecordingRejected as rejection:
            form.add_error("audio", rejection.message)
        else:
            messages.success(request, _("Thank you! A moderator will listen to your reading soon."))
            return redirect("my-recordings")
    return render(
        request,
        "contributions/record.html",
        {
            "passage": passage,
            "speaker": (role.figure if role else None)
            if roles
            else catalogue_selectors.speaking_figure(passage=passage),
            "roles": roles,
            "role": role,
            "lines": passage.lines.select_related("role") if roles else [],
            "form": form,
            "video_kept_for_review": video_kept_for_review,
        },
    )


@login_required
def my_recordings(request):
    return render(
        request, "contributions/my_recordings.html", {"recordings": selectors.recordings_of(user=request.user)}
    )


@login_required
def account(request):
    """The resident's account: download everything kept about them, or leave for good."""
    form = AccountDeleteForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        count = services.account_delete(user=request.user)
        logout(request)
        messages.success(
            request,
            ngettext(
                "Your account is deleted, with your %(count)d recording and everything made from it.",
                "Your account is deleted, with your %(count)d recordings and everything made from them.",
                count,
            )
            % {"count": count},
        )
        return redirect("home")
    return render(request, "contributions/account.html", {"form": form})


@login_required
def account_download(request):
    """A zip of everything kept about the resident: data.json and the audio of each reading kept."""
    archive = services.account_archive(user=request.user)
    return FileResponse(archive, as_attachment=True, filename="shuohua-my-data.zip", content_type="application/zip")


@login_required
@require_POST
def withdraw(request, recording_id):
    recording = get_object_or_404(selectors.recordings_of(user=request.user), id=recording_id)
    services.recording_withdraw(recording=recording)
    messages.success(request, _("Your recording and everything made from it have been deleted."))
    return redirect("my-recordings")


@login_required
@require_POST
def recording_open_dataset(request, recording_id):
    """The reader opts one reading in (open_dataset=1) or out of the open dataset's later releases."""
    recording = get_object_or_404(selectors.recordings_of(user=request.user), id=recording_id)
    wanted = request.POST.get("open_dataset") == "1"
    if services.recording_set_open_dataset(recording=recording, open_dataset=wanted):
        messages.success(
            request,
            _("This reading will be in the next releases of the open dataset.")
            if wanted
            else _("This reading will be left out of every later release of the open dataset."),
        )
    return redirect("my-recordings")


@login_required
def recording_audio(request, recording_id):
    """A reading's audio: only for its owner and for moderators of its event, never public.

    The 48 kHz voice copy when it exists: a browser's MediaRecorder WebM carries no duration, so a
    player shows none and cannot seek; the WAV copy has both. The original only until the copy is made.
    """
    recording = get_object_or_404(Recording.objects.select_related("passage__event"), id=recording_id)
    is_owner = recording.contributor_id == request.user.pk
    if not is_owner and not selectors.moderator_may_review(moderator=request.user, recording=recording):
        raise Http404
    for stored in (recording.voice_wav, recording.original):
        if stored and stored.storage.exists(stored.name):
            return storage_file_response(request, stored.name, storage=stored.storage)
    raise Http404


@login_required
def recording_video(request, recording_id):
    """A reading's camera video: only for the moderators of its event, only while it waits for review
    (it is what will move the figure). Not for the public, not even for the reader once uploaded."""
    recording = get_object_or_404(
        Recording.objects.select_related("passage__event").exclude(video=""),
        id=recording_id,
        status=Recording.Status.PENDING,
    )
    if not selectors.moderator_may_review(moderator=request.user, recording=recording):
        raise Http404
    if not recording.video.storage.exists(recording.video.name):
        raise Http404
    return storage_file_response(request, recording.video.name, storage=recording.video.storage)
