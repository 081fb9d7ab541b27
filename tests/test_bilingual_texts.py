"""Titles, stories, descriptions and passage notes in both languages, Chinese first (issue 26)."""

from __future__ import annotations

import pytest
from django.test import Client

from testkit.browser import publish_still_film


def heading(page: str) -> str:
    return page.split("<h1", 1)[1].split("</h1>", 1)[0]


@pytest.mark.django_db(transaction=True)
def test_pages_show_both_languages_chinese_first_and_the_share_card_speaks_the_visitors(festival, resident):
    event, painting, passage = festival["event"], festival["painting"], festival["chinese"]
    event.title, event.title_en = "春之声", "Voices of Spring"
    event.description, event.description_en = "读一首诗，让画开口。", "Read a poem and the painting speaks."
    event.save()
    painting.title, painting.title_en = "仕女图", "Portrait of a Lady"
    painting.story, painting.story_en = "一幅<仕女>画。", "A portrait of a lady."
    painting.save()
    passage.title_en, passage.translation = "Quiet Night Thoughts", "Before my bed, the bright moonlight."
    passage.note, passage.note_en = "李白作于扬州。", "Li Bai wrote it in Yangzhou."
    passage.save()
    film = publish_still_film(festival=festival, resident=resident)

    english, chinese = Client(HTTP_ACCEPT_LANGUAGE="en"), Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    page = english.get(f"/animations/{film.id}/").content.decode()
    assert heading(page).index("静夜思") < heading(page).index("Quiet Night Thoughts")
    assert "<title>Quiet Night Thoughts · Portrait of a Lady" in page
    assert "Before my bed, the bright moonlight." in page and "Li Bai wrote it in Yangzhou." in page
    assert "一幅&lt;仕女&gt;画。" in page  # a story is text, never markup
    assert "<title>静夜思 · 仕女图" in chinese.get(f"/animations/{film.id}/").content.decode()

    page = english.get(f"/paintings/{painting.id}/").content.decode()
    assert heading(page).index("仕女图") < heading(page).index("Portrait of a Lady") and "A portrait of a lady." in page
    page = english.get(f"/events/{event.slug}/").content.decode()
    assert heading(page).index("春之声") < heading(page).index("Voices of Spring")
    assert "Read a poem and the painting speaks." in page
    assert 'content="Read a poem and the painting speaks."' in page
    assert 'content="读一首诗，让画开口。"' in chinese.get(f"/events/{event.slug}/").content.decode()
    # The gallery card (and the socket's payload, the same dict) carries both titles.
    assert "Quiet Night Thoughts" in english.get("/").content.decode()


@pytest.fixture
def curator(db, groups, festival):
    from accounts.models import User

    user = User.objects.create_user("curator", password="curator-pass-1", display_name="Zhang Wei")
    user.groups.add(groups["curators"])
    festival["event"].curators.add(user)  # curators are per festival
    return user


@pytest.mark.django_db(transaction=True)
def test_a_curator_writes_each_text_in_both_languages(festival, curator):
    client = Client()
    client.force_login(curator)
    painting = festival["painting"]
    response = client.post(
        f"/curation/paintings/{painting.id}/",
        {
            "action": "passage",
            "title": "春晓",
            "title_en": "Spring Dawn",
            "text": "春眠不觉晓，处处闻啼鸟。",
            "translation": "Asleep in spring, I missed the dawn.",
            "note": "孟浩然",
            "note_en": "by Meng Haoran",
            "language": "zh",
            "max_seconds": 30,
        },
    )
    assert response.status_code == 302, response.content[:2000]
    passage = painting.passages.get(title="春晓")
    assert (passage.title_en, passage.translation, passage.note_en) == (
        "Spring Dawn",
        "Asleep in spring, I missed the dawn.",
        "by Meng Haoran",
    )


def test_both_marks_the_main_text_with_its_language_and_adds_english_only_when_it_differs():
    from types import SimpleNamespace

    from django.template import Context, Template

    def title(passage) -> str:
        template = Template('{% load bilingual %}{% both passage "title" lang=passage.language %}')
        return template.render(Context({"passage": passage}))

    chinese = SimpleNamespace(title="静夜思", title_en="Quiet <Night> Thoughts", language="zh")
    assert (
        title(chinese)
        == '<span lang="zh">静夜思</span><span class="text-other" lang="en">Quiet &lt;Night&gt; Thoughts</span>'
    )
    assert title(SimpleNamespace(title="静夜思", title_en="", language="zh")) == '<span lang="zh">静夜思</span>'
    assert (
        title(SimpleNamespace(title="Holidays", title_en="Holidays", language="en"))
        == '<span lang="en">Holidays</span>'
    )
    assert title(SimpleNamespace(title="", title_en="Holidays", language="zh")) == '<span lang="en">Holidays</span>'
