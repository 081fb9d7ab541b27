"""The whole site in English and Simplified Chinese: every template string has a translation, and
every page renders in both languages (browser language by default, the switcher overrides it)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template import engines
from django.templatetags.i18n import BlockTranslateNode, TranslateNode
from django.test import Client
from django.utils import translation

REPO = Path(settings.BASE_DIR)
PO_FILE = REPO / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def template_files() -> list[Path]:
    folders = [REPO / "templates", *(REPO / app / "templates" for app in ("gallery", "contributions", "accounts"))]
    return sorted(path for folder in folders if folder.exists() for path in folder.rglob("*.html"))


def template_messages(path: Path) -> list[tuple[str, str | None, str | None]]:
    """(msgid, plural, context) of every {% trans %} and {% blocktrans %} in the template."""
    template = engines["django"].from_string(path.read_text(encoding="utf-8")).template
    found = []
    for node in template.nodelist.get_nodes_by_type(TranslateNode):
        if node.filter_expression.var.literal is not None:
            context = node.message_context.var if node.message_context else None
            found.append((str(node.filter_expression.var.literal), None, context))
    for node in template.nodelist.get_nodes_by_type(BlockTranslateNode):
        singular, _ = node.render_token_list(node.singular)
        plural = node.render_token_list(node.plural)[0] if node.plural else None
        context = node.message_context.var if node.message_context else None
        found.append((singular, plural, context))
    return found


def untranslated(msgid: str, plural: str | None, context: str | None) -> bool:
    with translation.override("zh-hans"):
        if plural is not None:
            return (
                translation.npgettext(context, msgid, plural, 2) in (msgid, plural)
                if context
                else (translation.ngettext(msgid, plural, 2) in (msgid, plural))
            )
        return (translation.pgettext(context, msgid) if context else translation.gettext(msgid)) == msgid


def test_every_template_string_has_a_chinese_translation():
    files = template_files()
    assert len(files) >= 20
    missing = [
        f"{path.relative_to(REPO)}: {msgid!r}"
        for path in files
        for msgid, plural, context in template_messages(path)
        if untranslated(msgid, plural, context)
    ]
    assert not missing, "untranslated (run makemessages, translate, compilemessages):\n" + "\n".join(missing)


def _translation_of(entry: str) -> str:
    """The msgstr of one catalogue entry, its continuation lines joined (a long one starts with "")."""
    block = re.search(r'^msgstr(?:\[0\])? ((?:".*"\s*)+)', entry, re.M)
    return "".join(re.findall(r'"(.*)"', block.group(1))) if block else ""


def test_the_catalogue_has_no_empty_or_fuzzy_entry():
    catalogue = PO_FILE.read_text(encoding="utf-8")
    entries = catalogue.split("\n\n")[1:]
    fuzzy = [entry for entry in entries if "#, fuzzy" in entry or re.search(r"^#,.*fuzzy", entry, re.M)]
    empty = [entry for entry in entries if not _translation_of(entry)]
    assert not fuzzy, fuzzy[:3]
    assert not empty, empty[:3]
    # The compiled catalogue is what Django reads (a fresh checkout's mtimes say nothing): sample it.
    assert PO_FILE.with_suffix(".mo").exists(), "run compilemessages"
    with translation.override("zh-hans"):
        assert translation.gettext("Wall mode") == "展墙模式", "django.mo is older than django.po: compilemessages"


@pytest.fixture
def site(festival, resident, groups):
    """A published film and a curator, so that every page has something to show."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from accounts.models import User
    from animation.models import Animation
    from contributions.services import recording_submit
    from testkit.media import CHINESE_POEM

    recording = recording_submit(
        contributor=resident,
        passage=festival["chinese"],
        upload=SimpleUploadedFile("take.flac", CHINESE_POEM.read_bytes()),
    )
    animation = Animation.objects.create(
        recording=recording, event=festival["event"], status=Animation.Status.PUBLISHED, published_at=timezone.now()
    )
    curator = User.objects.create_user("curator", password="curator-pass-1")
    curator.groups.add(groups["curators"])
    festival["event"].curators.add(curator)
    return {**festival, "animation": animation, "curator": curator}


def pages(site) -> list[tuple[str, bool]]:
    """(url, needs a curator) of every page the festival work uses."""
    event, painting, passage = site["event"], site["painting"], site["chinese"]
    return [
        ("/", False),
        (f"/events/{event.slug}/", False),
        (f"/events/{event.slug}/wall/", False),
        (f"/animations/{site['animation'].id}/", False),
        (f"/paintings/{painting.id}/", False),
        ("/accounts/login/", False),
        ("/accounts/signup/", False),
        ("/curation/", True),
        ("/curation/events/new/", True),
        (f"/curation/events/{event.slug}/", True),
        (f"/curation/paintings/{painting.id}/", True),
        (f"/curation/paintings/{painting.id}/landmarks/", True),
        (f"/curation/passages/{passage.id}/", True),
        (f"/curation/events/{event.slug}/dataset/", True),
    ]


@pytest.mark.django_db
def test_every_page_renders_in_both_languages_following_the_browser(site):
    template_english = {
        msgid
        for path in template_files()
        for msgid, plural, _ in template_messages(path)
        if plural is None and " " in msgid and "%(" not in msgid
    }
    for url, needs_curator in pages(site):
        for accept, lang, marker in (
            ("en-GB,en;q=0.9", "en", "Skip to content"),
            ("zh-CN,zh;q=0.9", "zh-hans", "跳到正文"),
        ):
            client = Client(HTTP_ACCEPT_LANGUAGE=accept)
            if needs_curator:
                client.force_login(site["curator"])
            response = client.get(url)
            assert response.status_code == 200, url
            html = response.content.decode()
            assert f'<html lang="{lang}">' in html, (url, accept)
            assert marker in html, (url, accept)
            if lang == "zh-hans":
                visible = re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S))
                leftovers = sorted(msgid for msgid in template_english if msgid in visible)
                assert not leftovers, (url, leftovers)


@pytest.mark.django_db
def test_the_language_switcher_overrides_the_browser(site):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": f"/events/{site['event'].slug}/"})
    assert response.status_code == 302
    page = client.get(f"/events/{site['event'].slug}/").content.decode()
    assert '<html lang="zh-hans">' in page and "正在制作的动画" in page
    # The passage keeps its own language whatever the page language.
    film = client.get(f"/animations/{site['animation'].id}/").content.decode()
    assert 'lang="zh"' in film
