"""End to end: the real server on 127.0.0.1, driven in headless Chromium with Playwright."""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import free_port, request_json

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@contextlib.contextmanager
def running(app):
    """``app`` served by uvicorn on a free port of 127.0.0.1, in a thread; its URL."""
    import uvicorn

    from whyrec.serve.app import server_config

    port = free_port()
    srv = uvicorn.Server(server_config(app, "127.0.0.1", port))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    assert srv.started, "server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


@contextlib.contextmanager
def page_listing_users(url: str, **options):
    """A new page of the service at ``url`` in Chromium (``options``: its viewport and so on), once it
    lists users: the bundles and the first users have been answered."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page(**options)
            page.goto(url + "/")
            page.wait_for_selector("#users li", timeout=30000)
            yield page
        finally:
            browser.close()


def launch_chromium(playwright):
    """Debian's Chromium, headless (skipped where it is missing; CI must have it)."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("CI must install Debian's chromium (see .ci/run)")
        pytest.skip("Debian chromium is not installed")
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"])


@pytest.fixture(scope="module")
def server(served_bundles, peter_bundle):
    from whyrec.serve.app import create_app
    from whyrec.serve.systems import ServedSystem

    mt_folder, bias_folder, split = served_bundles
    app = create_app([ServedSystem.from_folder(mt_folder), ServedSystem.from_folder(bias_folder),
                      ServedSystem.from_folder(peter_bundle)])
    with running(app) as url:
        yield url, split


def test_live_server_answers_malformed_requests_with_json(server):
    url, _ = server
    huge = "u" * (1 << 20)
    cases = [
        ("GET", f"/users/{huge}/recommendations", None, {}, 422),
        ("GET", "/users/u1/recommendations?k=1000000", None, {}, 422),
        ("POST", "/explain", b"{not json", {"content-type": "application/json"}, 422),
        ("POST", "/explain", ("{\"user\": \"" + huge + "\", \"item\": \"i1\"}").encode(),
         {"content-type": "application/json"}, 413),
        ("GET", "/users/nobody/recommendations", None, {}, 200),
    ]
    for method, path, body, headers, status in cases:
        got, payload = request_json(url, method, path, body, headers)
        assert got == status, (path[:40], got, payload)
        if status >= 400:
            assert "error" in payload
    assert request_json(url, "GET", "/health")[0] == 200


def search_user(page, user: str) -> None:
    """Type ``user`` into the page's user box and wait for the search's answer to list it: not for the
    list shown before, whose entry the answer replaces (a key pressed on that one would go nowhere)."""
    page.fill("#user-search", user)
    page.wait_for_function("(typed) => [...document.querySelectorAll('#users li[data-user]')].every("
                           "(li) => li.dataset.user.toLowerCase().includes(typed.toLowerCase()))", arg=user,
                           timeout=30000)
    page.wait_for_selector(f'#users li[data-user="{user}"]', timeout=30000)


def search_item(page, typed: str, item: str) -> None:
    """Type ``typed`` into the page's item box and wait for the search's answer to list ``item``: every
    entry then holds what was typed in its id or title (its tooltip names both), so the list shown
    before, which the answer replaces, is gone."""
    page.fill("#item-search", typed)
    page.wait_for_function("(typed) => [...document.querySelectorAll('#items li[data-item]')].every("
                           "(li) => li.title.toLowerCase().includes(typed.toLowerCase()))", arg=typed, timeout=30000)
    page.wait_for_selector(f'#items li[data-item="{item}"]', timeout=30000)


def test_page_shows_explanation_cards(server):
    from playwright.sync_api import sync_playwright

    url, split = server
    trained_items = list(dict.fromkeys(split.train.items))
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            console_errors = []  # e.g. a failed request: the /favicon.ico 404 was one
            page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
            page.goto(url + "/")
            page.wait_for_selector("#users li", timeout=30000)
            assert page.locator("#item-choice").is_hidden()  # no user chosen: no item to ask about for them
            # search narrows the list, then a click shows that user's recommendations
            user = split.train.users[0]
            search_user(page, user)
            page.focus(f'#users li[data-user="{user}"]')  # chosen from the keyboard, as by a click
            page.keyboard.press("Enter")
            page.wait_for_selector(".card .explanation", timeout=30000)
            cards = page.locator(".card")
            assert cards.count() >= 3
            assert page.locator(".card .explanation").first.inner_text().strip()
            # the explanation as the server joined it for reading, its features marked whatever their case
            label, shown = page.locator(".card .explanation").first.inner_text().split("\n", 1)
            every = request_json(url, "GET", f"/users/{user}/recommendations?k=9&explainer=all")[1]["items"][0]
            assert shown == next(e["readable"] for e in every["explanations"] if e["label"] == label)
            assert page.evaluate('highlight("Great strap, I love the sound", ["great", "sound"])') == \
                "<mark>Great</mark> strap, I love the <mark>sound</mark>"
            assert page.locator("#history li").count() >= 1
            assert "★" in page.locator(".card .stars").first.inner_text()
            # five stars out of the top of the scale: 4 of 5 and 8 of 10 both fill four
            assert page.evaluate("[stars(4), stars(8, 10), stars(12, 10), ratingText(4), ratingText(8, 10)]") == \
                ["★★★★☆", "★★★★☆", "★★★★★", "4★", "8/10"]
            first_why = page.locator(".card .why").first.inner_text()  # the rating's own split
            assert re.match(r"(score \d\.\d\d \(clipped to \d\.\d\d\) = )?item baseline ", first_why)
            split = {"baseline": 6.5, "rest": 0.01, "n_other": 0, "other_ratings": 0.0,
                     "because": [{"item": "i9", "title": None, "rating": 8, "contribution": 0.4}]}
            on_ten = page.evaluate("(s) => { const kept = state.bundle; state.bundle = {rating_scale: [1, 10]}; "
                                   "const html = whyRating(s); state.bundle = kept; return html; }", split)
            assert "item i9 8/10 +0.40" in on_ten and "★" not in on_ten  # the user's ratings on their own scale
            no_bias = page.evaluate("(s) => whyRating(s)", {**split, "baseline_label": "mean rating"})
            assert ">mean rating 6.50 · " in no_bias  # PMF's baseline is the mean rating, not the item's
            tiny = page.evaluate("(s) => whyRating(s)", {**split, "rest": -0.001})
            assert tiny.endswith("rest +0.00</div>") and "−0.00" not in tiny  # rounds to zero: no minus sign
            assert page.evaluate("(s) => whyRating(s)", {**split, "rest": -0.006}).endswith("rest −0.01</div>")
            # a sum past the scale's end is said to be clipped to the rating the stars show, as --why says it
            past_top = page.evaluate("(s) => whyRating(s, 5, 5)", {**split, "score": 5.0937})
            assert '">score 5.09 (clipped to 5.00) = baseline 6.50 · ' in past_top
            assert '">baseline 6.50 · ' in page.evaluate("(s) => whyRating(s, 5, 4.2)", {**split, "score": 4.2})
            # a rated item, clicked: the rating given beside the one predicted, and the explanation
            past = page.locator("#history li").first
            given = past.get_attribute("data-rating")
            past.click()
            page.wait_for_selector("#past .card .explanation", timeout=30000)
            assert page.locator("#past .given").inner_text() == f"rated {float(given):g}★ by {user}"
            assert page.locator("#past .card .stars .value").inner_text()  # the predicted rating
            assert page.locator("#history li.active").count() == 1
            if page.locator("#history li").count() >= 2:  # two clicks in a row: the card is the last one's
                first, last = page.locator("#history li").nth(0), page.locator("#history li").nth(1)
                first.click()
                last.click()
                wanted = last.get_attribute("data-item")
                page.wait_for_function(f"document.querySelector('#past .item-id')?.textContent === '{wanted}'",
                                       timeout=30000)
                page.wait_for_timeout(300)  # the first click's answer, if late, must not replace it
                assert page.locator("#past .item-id").inner_text() == wanted
            # any item, found in the item box by its title: one the user has not rated is explained for them
            assert page.locator("#item-choice").is_visible()
            rated = dict(page.evaluate("[...state.rated]"))
            assert rated == {li.get_attribute("data-item"): float(li.get_attribute("data-rating"))
                             for li in page.locator("#history li").all()}
            unrated = next(i for i in trained_items if i not in rated)
            found = request_json(url, "GET", f"/api/bundles/planted/items?query={unrated}")[1]
            title, count = next((i["title"], i["ratings"]) for i in found if i["item"] == unrated)
            search_item(page, title, unrated)
            # a title cut short in the narrow list is whole in the entry's tooltip, with its id and ratings
            assert page.get_attribute(f'#items li[data-item="{unrated}"]', "title") == \
                f"{title} ({unrated}): {count} rating{'' if count == 1 else 's'} in training"
            page.click(f'#items li[data-item="{unrated}"]')
            page.wait_for_function(f"document.querySelector('#past .item-id')?.textContent === '{unrated}'",
                                   timeout=30000)
            assert page.locator("#past .given").inner_text() == f"not rated by {user}"
            assert page.locator("#past .card .explanation").count() >= 1
            assert page.locator("#items li.active").count() == 1 and page.locator("#history li.active").count() == 0
            # one they rated, found by its id and chosen from the keyboard: the rating they gave, as from their history
            item, given = next(iter(rated.items()))
            search_item(page, item, item)
            page.focus(f'#items li[data-item="{item}"]')
            page.keyboard.press("Enter")
            page.wait_for_function(f"document.querySelector('#past .item-id')?.textContent === '{item}'", timeout=30000)
            assert page.locator("#past .given").inner_text() == f"rated {given:g}★ by {user}"
            page.fill("#item-search", "zzzz")
            page.wait_for_function("document.querySelector('#items li.note')?.textContent === "
                                   "'no item id or title holds that'", timeout=30000)
            page.fill("#item-search", "")
            # every explainer side by side
            page.select_option("#explainer", "all")
            page.wait_for_function("document.querySelectorAll('.card .explanations.side-by-side').length > 0",
                                   timeout=30000)
            assert page.locator(".card").first.locator(".explanation").count() == 3
            page.wait_for_function("document.getElementById('status').textContent.includes('recommendations for')",
                                   timeout=30000)
            page.screenshot(path=str(ARTIFACTS / "serve-page.png"), full_page=True)
            page.select_option("#explainer", "pair")  # another explainer: the user's answer again, the clicked card gone
            page.wait_for_function("document.querySelector('#past').children.length === 0", timeout=30000)
            # another decoding: the recommendations asked for again, with its settings
            asked = []
            page.on("request", lambda request: asked.append(request.url))
            for choice, wanted in (("beam", "method=beam&beam=4"), ("sample", "method=sample&temperature=0.7&top_p=0.9"),
                                   ("greedy", "method=greedy")):
                page.select_option("#decoding", choice)
                page.wait_for_function("document.getElementById('status').textContent.includes('recommendations for')",
                                       timeout=30000)
                assert any("/recommendations?" in u and u.endswith(wanted) for u in asked), (choice, asked)
                assert page.locator(".card .explanation").count() >= 3
                assert page.locator("#seed-choice").is_visible() == (choice == "sample")  # a seed steers sampling only
            # sampling with a seed typed: asked with it, and the same explanations each time
            with page.expect_response(lambda r: "/recommendations?" in r.url and r.url.endswith("top_p=0.9")):
                page.select_option("#decoding", "sample")
            drawn = []
            for _ in range(2):
                page.evaluate("document.getElementById('cards').innerHTML = ''")
                seeded = "top_p=0.9&seed=3"
                with page.expect_response(lambda r: "/recommendations?" in r.url and r.url.endswith(seeded)):
                    page.fill("#seed", "3")
                    page.dispatch_event("#seed", "change")
                page.wait_for_selector(".card .explanation", timeout=30000)
                drawn.append(page.locator(".card .explanation").all_inner_texts())
            assert drawn[0] == drawn[1] and len(drawn[0]) >= 3
            page.fill("#seed", "")
            # the fewest words typed: asked with each decoding, and capped at the bundle's max_words
            most = page.evaluate("state.bundle.max_words")
            for typed, wanted in (("2", "min_words=2"), (str(most + 5), f"min_words={most}")):
                with page.expect_response(lambda r: "/recommendations?" in r.url and r.url.endswith(wanted)):
                    page.fill("#min-words", typed)
                    page.dispatch_event("#min-words", "change")
                page.wait_for_selector(".card .explanation", timeout=30000)
                assert page.locator(".card .explanation").count() >= 3
            # written to the most words: each explanation marked as perhaps cut there
            page.wait_for_function("document.querySelectorAll('.card .explanation').length === "
                                   "document.querySelectorAll('.card .explanation .cut').length", timeout=30000)
            assert f"limit ({most} words" in page.locator(".card .explanation .cut").first.get_attribute("title")
            page.fill("#min-words", "")
            page.select_option("#decoding", "greedy")
            page.wait_for_function("document.getElementById('status').textContent.includes('recommendations for')",
                                   timeout=30000)
            # a bundle that writes no explanations says so instead of leaving the cards bare
            page.select_option("#bundle", "planted-bias")
            # the other bundle's cards, history and status are cleared, not left under this bundle's name
            page.wait_for_function("document.querySelectorAll('.card').length === 0", timeout=30000)
            assert page.locator("#history li").count() == 0
            # found by its role: a live region, which a screen reader reads out as it changes
            assert page.get_by_role("status").inner_text().startswith("Choose a user")
            assert page.locator("#item-choice").is_hidden()
            search_user(page, user)
            page.click(f'#users li[data-user="{user}"]')
            page.wait_for_function("document.getElementById('status').textContent.includes('rating model only')",
                                   timeout=30000)
            assert "writes no explanations" in page.locator("#status").inner_text()
            assert page.locator(".card .explanation").count() == 0
            # an item asked about: its predicted rating, and no word of whether the user rated it, which a
            # rating bundle served without its data does not know
            page.fill("#item-search", "")
            page.wait_for_selector("#items li[data-item]", timeout=30000)
            page.click("#items li[data-item] >> nth=0")
            page.wait_for_selector("#past .card .stars", timeout=30000)
            assert page.locator("#past .given").count() == 0 and page.evaluate("state.rated") is None
            assert page.locator("#feature-choice").is_hidden()  # only PETER+ is steered by a feature word
            # PETER+: each item's own feature word, or the one typed in
            page.select_option("#bundle", "planted-peter")
            assert page.locator("#feature-choice").is_visible()
            search_user(page, user)
            page.click(f'#users li[data-user="{user}"]')
            page.wait_for_selector(".card .explanation", timeout=30000)  # "explainer=peter+" once read as "peter "
            word = page.evaluate("state.bundle.feature_words[0]")
            page.fill("#feature-word", word)
            page.dispatch_event("#feature-word", "change")
            page.wait_for_function(f"[...document.querySelectorAll('.card .who')].every((e) => "
                                   f"e.textContent === 'PETER+ · about {word}')", timeout=30000)
            # the bundle menu's tooltip: the system, its data and the command that made it (its run.json)
            made = {"kind": "mt", "trained_on": "r.csv", "made_by": {"command": "whyrec train mt --data r.csv",
                                                                      "date": "2026-12-03T01:02:03+00:00"}}
            assert page.evaluate("(b) => bundleTitle(b)", made) == \
                "mt trained on r.csv; made by whyrec train mt --data r.csv on 2026-12-03"
            assert page.evaluate("(b) => bundleTitle(b)", {**made, "made_by": None}) == "mt trained on r.csv"
            assert page.locator("#bundle option").first.get_attribute("title").startswith("mt trained on ")
            # two searches answered out of order (the first held back): the list is the later one's
            assert page.evaluate("""async () => {
                const original = getJSON;
                let calls = 0;
                getJSON = async (url) => {
                    const first = calls++ === 0, answer = await original(url);
                    if (first) await new Promise((done) => setTimeout(done, 400));
                    return answer;
                };
                try {
                    $("user-search").value = "typed-first";
                    const first = searchUsers();
                    $("user-search").value = "typed-second";
                    await Promise.all([first, searchUsers()]);
                } finally { getJSON = original; }
                return [...document.querySelectorAll("#users li.new-user")].map((li) => li.dataset.user);
            }""") == ["typed-second"]
            # an id no user holds: close ids are offered, and the typed one can be tried as a new user
            page.select_option("#bundle", "planted")
            page.fill("#user-search", user + "x")
            page.wait_for_selector("#users li.new-user", timeout=30000)
            assert page.locator("#users li.note").inner_text().startswith("no user id holds that")
            assert page.locator(f'#users li.similar[data-user="{user}"]').count() == 1
            page.fill("#user-search", user.upper())  # held by a known id (any case), yet not one
            page.wait_for_selector(f'#users li.new-user[data-user="{user.upper()}"]', timeout=30000)
            page.click("#users li.new-user")
            page.wait_for_function("document.getElementById('status').textContent.includes('is new here')",
                                   timeout=30000)
            assert page.locator(".card").count() >= 3 and page.locator("#history li").count() == 0
            page.screenshot(path=str(ARTIFACTS / "serve-page-new-user.png"), full_page=True)
            # its answer names the known id it is most like; one click shows that user instead
            page.click(f'#status a.suggestion[data-user="{user}"]')
            page.wait_for_function(f"document.getElementById('status').textContent.includes('recommendations for "
                                   f"{user}.')", timeout=30000)
            assert page.locator("#history li").count() >= 1
            assert page.locator(f'#users li.active[data-user="{user}"]').count() == 1
            assert console_errors == []
        finally:
            browser.close()
    assert (ARTIFACTS / "serve-page.png").stat().st_size > 10000


def test_an_items_card_is_set_beside_another_bundles_for_the_same_user(server):
    """"Compare an item with": the item card shown (a rated item of the history, or one asked about)
    gets the chosen bundle's card for the same user and item beside it, every explainer of that
    bundle's own, each card headed by its bundle; "none" takes it away. The choice is in the address."""
    from playwright.sync_api import sync_playwright

    url, split = server
    user = split.train.users[0]
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(url + "/")
            page.wait_for_selector("#users li", timeout=30000)
            assert page.is_visible("#compare-choice")  # three bundles served: two to compare with
            assert [o.get_attribute("value") for o in page.locator("#compare option").all()] == \
                ["", "planted-bias", "planted-peter"]
            search_user(page, user)
            page.click(f'#users li[data-user="{user}"]')
            page.wait_for_selector(".card .explanation", timeout=30000)
            past = page.locator("#history li").first
            item, given = past.get_attribute("data-item"), float(past.get_attribute("data-rating"))
            past.click()
            page.wait_for_selector("#past .card .explanation", timeout=30000)
            assert page.locator("#past .card").count() == 1 and page.locator("#past .from").count() == 0
            page.select_option("#compare", "planted-peter")
            page.wait_for_selector("#past .compared", timeout=30000)
            cards = page.locator("#past .compared .card")
            assert cards.count() == 2
            # each card headed by its bundle (shown in capitals by the style sheet)
            assert [c.locator(".from").inner_text() for c in cards.all()] == ["PLANTED", "PLANTED-PETER"]
            assert [c.locator(".item-id").inner_text() for c in cards.all()] == [item, item]
            assert [c.locator(".given").inner_text() for c in cards.all()] == [f"rated {given:g}★ by {user}"] * 2
            assert [w.inner_text().split(" · ")[0] for w in cards.nth(1).locator(".who").all()] == ["PETER+"]
            assert cards.nth(0).locator(".who").count() == 3  # this bundle's explainers: all, side by side
            asked = {"user": user, "item": item, "bundle": "planted-peter", "explainer": "peter+"}
            peter = request_json(url, "POST", "/explain", json.dumps(asked).encode(),
                                 {"content-type": "application/json"})
            assert cards.nth(1).locator(".explanation").inner_text().split("\n", 1)[1] == \
                peter[1]["explanations"][0]["readable"]
            assert address(page)["compare"] == "planted-peter" and address(page)["item"] == item
            # a card is drawn on its own bundle's scale: another's on 1-10 is out of 10, whatever the one shown's
            answer = {"item": "i9", "title": None, "predicted_rating": 8.0, "explanations": []}
            assert "★★★★☆" in page.evaluate("(a) => cardHtml(a, '', '', {rating_scale: [1, 10]})", answer)
            assert "8.00 / 10" in page.evaluate("(a) => cardHtml(a, '', '', {rating_scale: [1, 10]})", answer)
            assert "★★★★★" in page.evaluate("(a) => cardHtml(a)", answer)  # on the shown one's 1-5
            # a rating bundle beside: its predicted rating, and why it writes no explanation
            page.select_option("#compare", "planted-bias")
            page.wait_for_function("document.querySelector('#past .compared .card:nth-child(2) .from')?.textContent "
                                   "=== 'planted-bias'", timeout=30000)
            assert page.locator("#past .compared .card").nth(1).locator(".stars .value").inner_text()
            assert "rating model only" in page.locator("#past .compared .card").nth(1).locator(".why").inner_text()
            page.select_option("#compare", "")
            page.wait_for_function("!document.querySelector('#past .compared') && "
                                   "document.querySelectorAll('#past .card').length === 1", timeout=30000)
            assert "compare" not in address(page)
        finally:
            browser.close()


def test_on_a_narrow_screen_the_choices_stand_above_the_answers(server):
    """A phone's width: the choices take the whole width above the answers, and two compared cards
    stand one above the other, not squeezed side by side."""
    from playwright.sync_api import sync_playwright

    url, split = server
    user = split.train.users[0]
    item = split.train.items[0]
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page(viewport={"width": 400, "height": 800})
            page.goto(url + f"/#bundle=planted&compare=planted-peter&user={user}&item={item}")
            page.wait_for_selector("#past .compared .card .explanation", timeout=30000)
            aside, section = page.locator("aside").bounding_box(), page.locator("section").bounding_box()
            assert section["y"] >= aside["y"] + aside["height"] and aside["width"] > 300
            first, second = (c.bounding_box() for c in page.locator("#past .compared .card").all())
            assert second["y"] >= first["y"] + first["height"] and first["width"] > 300
            assert page.evaluate("document.documentElement.scrollWidth") <= 400  # nothing wider than the screen
        finally:
            browser.close()


def test_enter_in_a_search_box_chooses_from_its_list(server):
    """Enter in the user box shows the user of the id typed, else the first that holds it, else the
    id typed as a new user (never a merely close one); in the item box, the item's card."""
    url, split = server
    users = sorted(set(split.train.users))
    user = users[0]
    shown = "document.getElementById('status').textContent"
    with page_listing_users(url) as page:
        page.fill("#user-search", user)
        page.press("#user-search", "Enter")  # without waiting for the list: Enter waits for its answer
        page.wait_for_function(f"{shown} === '9 recommendations for {user}.'", timeout=30000)
        other = next(u for u in users if u.lower() not in user.lower())
        page.fill("#user-search", other.upper())  # no id is that, some hold it (any case): the first of them
        page.press("#user-search", "Enter")
        page.wait_for_function(f"state.user !== '{user}' && {shown}.startsWith('9 recommendations for')",
                               timeout=30000)
        assert page.evaluate("state.user") in [u for u in users if other.lower() in u.lower()]
        page.fill("#user-search", f"{user}x")  # only close ids: the one typed, as a new user
        page.press("#user-search", "Enter")
        page.wait_for_function(f"{shown}.startsWith('{user}x is new here')", timeout=30000)
        item = sorted(set(split.train.items))[0]
        title = page.evaluate(f"fetch('api/bundles/planted/items?query={item}').then((r) => r.json())")[0]["title"]
        page.fill("#item-search", title.lower())
        page.press("#item-search", "Enter")
        page.wait_for_function(f"document.querySelector('#past .item-id')?.textContent === '{item}'",
                               timeout=30000)


def test_a_long_history_shows_its_first_ratings_and_a_chip_for_all(server):
    """A history longer than the page shows at first (60 ratings; 2 here) ends with a chip that
    shows them all; each, the last too, explains its item as the first ones do."""
    url, split = server
    counts = split.train.reviews["user"].value_counts()
    user, rated = counts.index[0], int(counts.iloc[0])
    assert rated > 2
    with page_listing_users(url) as page:
        page.evaluate("state.historyShown = 2")
        search_user(page, user)
        page.click(f'#users li[data-user="{user}"]')
        page.wait_for_selector("#history li.more", timeout=30000)
        assert page.locator("#history li[data-item]").count() == 2
        assert page.locator("#history li.more").inner_text() == f"all {rated} ratings ({rated - 2} more)"
        page.focus("#history li.more")
        page.keyboard.press("Enter")  # as a click
        page.wait_for_function(f"document.querySelectorAll('#history li[data-item]').length === {rated}",
                               timeout=30000)
        assert page.locator("#history li.more").count() == 0
        last = page.locator("#history li[data-item]").last
        item = last.get_attribute("data-item")
        last.click()
        page.wait_for_function(f"document.querySelector('#past .item-id')?.textContent === '{item}'",
                               timeout=30000)
        assert page.locator("#past .given").inner_text().startswith("rated ")
        assert "active" in last.get_attribute("class")


def address(page) -> dict[str, str]:
    """What the page's address (``#bundle=…&user=…``) says it shows."""
    from urllib.parse import parse_qs, urlsplit

    return {name: values[0] for name, values in parse_qs(urlsplit(page.url).fragment).items()}


def test_the_pages_address_says_what_it_shows_and_a_link_to_it_opens_the_same(server):
    """The bundle, explainer, user and item card shown are kept in the page's address (#…), so that
    a link copied from it opens them again; one naming what is not there opens what is."""
    from playwright.sync_api import sync_playwright

    url, split = server
    user = split.train.users[0]
    rated = {i for u, i in zip(split.train.users, split.train.items) if u == user}
    item = next(i for i in split.train.items if i not in rated)
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page()
            page.goto(url + "/")
            page.wait_for_selector("#users li", timeout=30000)
            # the user list is filled as the bundle is chosen, and the address written just after
            page.wait_for_function("() => window.location.hash.includes('bundle=')", timeout=30000)
            assert address(page) == {"bundle": "planted", "explainer": "all"}
            page.select_option("#explainer", "pair")
            search_user(page, user)
            page.click(f'#users li[data-user="{user}"]')
            page.wait_for_selector(".card .explanation", timeout=30000)
            assert address(page) == {"bundle": "planted", "explainer": "pair", "user": user}
            search_item(page, item, item)
            page.click(f'#items li[data-item="{item}"]')
            page.wait_for_selector("#past .card", timeout=30000)
            assert address(page) == {"bundle": "planted", "explainer": "pair", "user": user, "item": item}
            link = page.url
            # the link, opened in a new page: the same explainer, user and card
            other = browser.new_page()
            other.goto(link)
            other.wait_for_function(f"document.querySelector('#past .item-id')?.textContent === '{item}'",
                                    timeout=30000)
            assert other.locator("#past .given").inner_text() == f"not rated by {user}"
            assert other.locator(f'#users li.active[data-user="{user}"]').count() == 1
            assert other.input_value("#explainer") == "pair"
            assert [w.inner_text() for w in other.locator("#past .who").all()] == ["MT-P"]
            labelled = browser.new_page()  # a link naming the explainer by its label, as the API takes it
            labelled.goto(url + f"/#bundle=planted&explainer=mt-i&user={user}")
            labelled.wait_for_selector(".card .explanation", timeout=30000)
            assert labelled.input_value("#explainer") == "item" and address(labelled)["explainer"] == "item"
            labelled.close()
            # sampled with a seed and at least 3 words: the link draws the same explanations
            page.select_option("#decoding", "sample")
            page.fill("#seed", "3")
            page.fill("#min-words", "3")
            with page.expect_response(lambda r: "/recommendations?" in r.url and r.url.endswith("seed=3&min_words=3")):
                page.dispatch_event("#min-words", "change")
            page.wait_for_selector(".card .explanation", timeout=30000)
            assert address(page) == {"bundle": "planted", "explainer": "pair", "decoding": "sample", "seed": "3",
                                     "min_words": "3", "user": user}
            drawn = []  # the link opened twice, each time in a new page (one request each: no earlier answer to race)
            for _ in range(2):
                fresh = browser.new_page()
                fresh.goto(page.url)
                fresh.wait_for_selector(".card .explanation", timeout=30000)
                assert (fresh.input_value("#decoding"), fresh.input_value("#seed"), fresh.input_value("#min-words"),
                        fresh.is_visible("#seed")) == ("sample", "3", "3", True)
                drawn.append(fresh.locator(".card .explanation").all_inner_texts())
                fresh.close()
            assert drawn[0] == drawn[1] and len(drawn[0]) >= 3
            # another bundle's link (PETER+), pasted into the same page; then a new user named by one
            other.goto(url + f"/#bundle=planted-peter&user={user}")
            other.wait_for_function("document.getElementById('status').textContent.includes('recommendations for')"
                                    " && state.bundle.name === 'planted-peter'", timeout=30000)
            assert other.locator("#past .card").count() == 0 and other.input_value("#bundle") == "planted-peter"
            word = other.evaluate("state.bundle.feature_words[0]")  # PETER+ about a chosen feature word
            other.fill("#feature-word", word)
            other.dispatch_event("#feature-word", "change")
            other.wait_for_function(f"[...document.querySelectorAll('.card .who')].every((e) => "
                                    f"e.textContent === 'PETER+ · about {word}')", timeout=30000)
            assert address(other)["feature_word"] == word and address(other)["explainer"] == "peter+"
            linked = browser.new_page()
            linked.goto(other.url)
            linked.wait_for_function(f"document.querySelectorAll('.card .who').length > 0 && [...document."
                                     f"querySelectorAll('.card .who')].every((e) => e.textContent === "
                                     f"'PETER+ · about {word}')", timeout=30000)
            assert linked.input_value("#feature-word") == word
            other.goto(url + "/#bundle=no-such-bundle&explainer=nothing&decoding=constructor&user=somebody-new")
            other.wait_for_function("document.getElementById('status').textContent.includes('is new here')",
                                    timeout=30000)
            assert other.input_value("#bundle") == "planted-peter"  # no such bundle: the one shown stays
            assert other.input_value("#decoding") == "greedy"  # no such decoding (an object's own name too)
            assert address(other)["user"] == "somebody-new"
            # an address naming no user, pasted over one that did: no user is shown, nor kept in the address
            other.goto(url + "/#bundle=planted-peter")
            other.wait_for_function("document.getElementById('status').textContent.startsWith('Choose a user')",
                                    timeout=30000)
            assert other.locator(".card").count() == 0 and other.locator("#history li").count() == 0
            assert other.locator("#item-choice").is_hidden() and address(other) == {"bundle": "planted-peter",
                                                                                     "explainer": "peter+"}
            # choosing another bundle drops the user and the item from the address
            page.select_option("#bundle", "planted-bias")
            page.wait_for_function("!window.location.hash.includes('user=')", timeout=30000)
            assert address(page) == {"bundle": "planted-bias"}
        finally:
            browser.close()


def test_the_page_waits_out_a_busy_server_and_asks_again(served_bundles, monkeypatch):
    """Served with --max-in-flight 1 while another client's request holds the one place, the page's
    first requests are refused (503, Retry-After: 1); it waits and asks again, and loads."""
    from playwright.sync_api import sync_playwright

    from whyrec.serve.app import create_app
    from whyrec.serve.systems import ServedSystem

    served = ServedSystem.from_folder(served_bundles[0])
    held, release = threading.Event(), threading.Event()
    recommend = served.recommend

    def slow_for_the_blocker(user, k):
        if user == "blocker":
            held.set()
            release.wait(30)
        return recommend(user, k)

    monkeypatch.setattr(served, "recommend", slow_for_the_blocker)
    with running(create_app([served], max_in_flight=1)) as url, sync_playwright() as p:
        browser = launch_chromium(p)
        blocker = threading.Thread(target=request_json, args=(url, "GET", "/users/blocker/recommendations"))
        blocker.start()
        try:
            assert held.wait(30)
            threading.Timer(1.5, release.set).start()  # the place frees while the page is waiting to ask again
            page = browser.new_page()
            page.goto(url + "/")
            page.wait_for_selector("#users li", timeout=30000)  # the bundles and users, answered in the end
            assert not page.locator("#status").inner_text().startswith("Error")
        finally:
            release.set()
            blocker.join(30)
            browser.close()
        refused = request_json(url, "GET", "/metrics")[1]["routes"]["busy"]["requests"]
    assert refused >= 1  # the page was refused before it was answered


def behind_proxy(app, prefix: str):
    """``app`` as a reverse proxy serves it under ``prefix`` (nginx's ``location /lab/whyrec/ {
    proxy_pass http://127.0.0.1:8000/; }``, jupyter-server-proxy): a request under the prefix
    reaches it with the prefix taken off; any other gets the proxy's own 404."""

    async def proxy(scope, receive, send):
        if scope["type"] == "http":
            if not scope["path"].startswith(prefix + "/"):
                await send({"type": "http.response.start", "status": 404,
                            "headers": [(b"content-type", b"text/plain")]})
                await send({"type": "http.response.body", "body": b"not under the proxy's path"})
                return
            scope = {**scope, "path": scope["path"][len(prefix):], "raw_path": scope["raw_path"][len(prefix):]}
        await app(scope, receive, send)

    return proxy


def test_the_page_works_behind_a_proxy_that_serves_it_under_a_path(served_bundles):
    """Loaded at https://host/lab/whyrec/, the page asks for its files and the API under that path
    (relative URLs): the user list, a user's recommendations and explanations all load."""
    from playwright.sync_api import sync_playwright

    from whyrec.serve.app import create_app
    from whyrec.serve.systems import ServedSystem

    mt_folder, _, split = served_bundles
    prefix = "/lab/whyrec"
    app = create_app([ServedSystem.from_folder(mt_folder)])
    with running(behind_proxy(app, prefix)) as url, sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page()
            failed = []  # every answer outside the prefix is the proxy's 404
            page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
            page.goto(f"{url}{prefix}/")
            page.wait_for_selector("#users li", timeout=30000)
            user = split.train.users[0]
            search_user(page, user)
            page.click(f'#users li[data-user="{user}"]')
            page.wait_for_selector(".card .explanation", timeout=30000)
            page.locator("#history li").first.click()
            page.wait_for_selector("#past .card .explanation", timeout=30000)  # POST explain, under the prefix too
            assert page.evaluate("[...document.styleSheets].some((sheet) => sheet.cssRules.length > 0)")  # styled
        finally:
            browser.close()
    assert failed == []
