"""The demo shop and its chat widget in headless Chromium (Debian's), against the running stack.

One browser, one stack, one shopper: browse three laptops (the page posts the views with its shopper
token, and they are stored), ask the chat for a recommendation without naming a category (laptops, from
that browsing), in Chinese (Chinese cards), compare two cards (a table), add one to the cart (the page's
cart changes and the cart event is stored), remove it on the cart page, lose and regain the connection,
reload (the same conversation continues on the server), and the browser never asks anything of a
machine other than this one. A new shopper, who browsed nothing, is asked with quick replies.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, List, Tuple
from urllib.parse import urlparse

import pytest
import requests
from playwright.sync_api import expect, sync_playwright

pytestmark = pytest.mark.e2e

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
BOT_SECONDS = 60_000
Events = List[Tuple[str, str]]


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def stored_events(api_url: str, api_token: str, shopper: str, until: Callable[[Events], bool], seconds: float = 20) -> Events:
    """The shopper's stored (type, product) events once ``until`` holds (the page posts them asynchronously)."""
    deadline = time.monotonic() + seconds
    while True:
        data = requests.get(f"{api_url}/v1/users/{shopper}/data", headers={"Authorization": f"Bearer {api_token}"}, timeout=30)
        events = [(e["type"], e["product_id"]) for e in data.json()["events"]]
        if until(events) or time.monotonic() > deadline:
            return events


def ask(page, text: str) -> None:
    answered = page.locator("#chat-log li.bot").count()
    page.fill("#chat-input", text)
    page.keyboard.press("Enter")  # Enter sends
    # The typing indicator shows while the answer is on its way (unless it is already here).
    assert page.evaluate("!document.getElementById('chat-typing').hidden") or page.locator("#chat-log li.bot").count() > answered


def test_shop_and_chat(browser, shop_api_url, rasa_url, api_token):
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    hosts = []
    page.on("request", lambda r: hosts.append(urlparse(r.url).hostname) if r.url.startswith(("http", "ws")) else None)
    page.goto(f"{shop_api_url}/?rasa={rasa_url}")

    # Browsing: three laptops, each view posted by the page with its shopper token and stored.
    page.select_option("#f-category", "laptop")
    expect(page.locator("#view .grid .card").first).to_be_visible()
    expect(page.locator("#view .grid .card:not([data-category='laptop'])")).to_have_count(0)  # the filtered grid is drawn
    browsed = page.locator("#view .grid .card").evaluate_all("cs => cs.slice(0, 3).map(c => c.dataset.id)")
    for i in range(3):
        page.locator("#view .grid .card a.open").nth(i).click()
        expect(page.locator("article.product")).to_be_visible()
        page.go_back()
    shopper = page.evaluate("Shop.state.shopper")
    assert page.evaluate("localStorage.getItem('daogou.session')").count(shopper) == 1
    views = stored_events(shop_api_url, api_token, shopper, lambda e: len(e) >= 3)
    assert sorted(views) == sorted(("view", p) for p in browsed)  # posted asynchronously: any order

    # The chat is the same shopper: asked without a category, it starts from the browsed laptops.
    page.click("#chat-toggle")
    ask(page, "what would you recommend for me?")
    cards = page.locator("#chat-log li.bot .card")
    expect(cards.first).to_be_visible(timeout=BOT_SECONDS)
    expect(page.locator("#chat-typing")).to_be_hidden()
    assert set(cards.evaluate_all("cs => cs.map(c => c.dataset.category)")) == {"laptop"}
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "shop-chat-en.png"))

    page.click("#lang")
    expect(page.locator("#chat-toggle")).to_have_text("问导购")
    ask(page, "推荐一款3000元以内的手机")
    expect(page.locator("#chat-log li.bot .text", has_text="3,000元以内的手机")).to_be_visible(timeout=BOT_SECONDS)
    last = page.locator("#chat-log li.bot .cards").last
    expect(last.locator(".add").first).to_have_text("加入购物车")
    assert set(last.locator(".card").evaluate_all("cs => cs.map(c => c.dataset.category)")) == {"phone"}
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in reason) for reason in last.locator(".reason").all_inner_texts())
    page.screenshot(path=str(SCREENSHOTS / "shop-chat-zh.png"))

    last.locator(".card button.compare").nth(0).click()
    last.locator(".card button.compare").nth(1).click()
    expect(page.locator("#chat-log table.comparison")).to_be_visible(timeout=BOT_SECONDS)

    # "Add to cart" on a chat card: the page's cart changes and the cart event is stored.
    product = last.locator(".card").first.get_attribute("data-id")
    expect(page.locator("#cart")).to_have_text("购物车: 0")
    last.locator(".card button.add").first.click()
    expect(page.locator("#cart")).to_have_text("购物车: 1")
    events = stored_events(shop_api_url, api_token, shopper, lambda e: ("cart", product) in e)
    assert ("cart", product) in events
    page.click("#cart")
    page.locator("#view .card button.remove").first.click()
    expect(page.locator("#cart")).to_have_text("购物车: 0")
    assert ("remove_from_cart", product) in stored_events(shop_api_url, api_token, shopper,
                                                          lambda e: ("remove_from_cart", product) in e)
    page.click("#home")

    # A lost connection says so and comes back by itself.
    context.set_offline(True)
    expect(page.locator("#chat-status")).to_have_text("连接已断开，正在重连…")
    context.set_offline(False)
    expect(page.locator("#chat-status")).to_have_text("", timeout=30_000)

    # Reload: the log is drawn again and the server's conversation continues (it recalls the phones).
    name = requests.get(f"{shop_api_url}/v1/products/{product}", timeout=30).json()["name"]["en"]
    shown = page.locator("#chat-log li").count()
    page.reload()
    page.click("#chat-toggle")
    assert page.locator("#chat-log li").count() >= shown
    recalled = page.locator("#chat-log li.bot .text", has_text="recommended last time")
    before = recalled.count()
    ask(page, "what did you recommend?")
    expect(recalled).to_have_count(before + 1, timeout=BOT_SECONDS)
    assert name.split(" (")[0].lower() in recalled.last.inner_text().lower()
    assert page.evaluate("document.getElementById('chat-log').scrollTop") > 0  # the list scrolls to the newest

    # Phone width: the chat fits the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    box = page.locator("#chat-panel").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    page.screenshot(path=str(SCREENSHOTS / "shop-chat-phone.png"))

    # Text is text: markup typed by the shopper is shown, never run.
    ask(page, '<img src="x" onerror="window.pwned = 1">')
    expect(page.locator("#chat-log li.user .text").last).to_have_text('<img src="x" onerror="window.pwned = 1">')
    assert page.locator("#chat-log img[src='x']").count() == 0 and page.evaluate("window.pwned") is None
    context.close()
    assert hosts and set(hosts) <= {"127.0.0.1", "localhost"}, hosts


def test_a_new_shopper_is_asked_with_quick_replies(browser, shop_api_url, rasa_url):
    """Nothing browsed, no category said: the form asks, with a button per category, and a click answers."""
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.goto(f"{shop_api_url}/?rasa={rasa_url}")
    page.click("#chat-toggle")
    ask(page, "recommend something")
    headphones = page.locator("#chat-log li.bot .quick button", has_text="headphones")
    expect(headphones).to_be_visible(timeout=BOT_SECONDS)
    headphones.click()
    expect(page.locator("#chat-log li.user .text").last).to_have_text(headphones.inner_text())
    expect(page.locator("#chat-log li.bot .text", has_text="budget for headphones")).to_be_visible(timeout=BOT_SECONDS)
    context.close()
