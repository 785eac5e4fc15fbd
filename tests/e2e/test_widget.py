"""The demo shop and its chat widget in headless Chromium (Debian's), against the running stack.

Browse three phones, chat in English and in Chinese, compare two cards, add one to the
cart, reload; and the browser never asks anything of a machine other than this one.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect, sync_playwright

pytestmark = pytest.mark.e2e

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def test_shop_and_chat(browser, shop_api_url, rasa_url):
    hosts = []
    page = browser.new_page(locale="en-US", viewport={"width": 1280, "height": 900})
    page.on("request", lambda r: hosts.append(urlparse(r.url).hostname) if r.url.startswith("http") else None)
    page.goto(f"{shop_api_url}/?rasa={rasa_url}")
    page.select_option("#f-category", "phone")
    expect(page.locator("#view .card").first).to_be_visible()
    for i in range(3):
        page.locator("#view .grid .card a.open").nth(i).click()
        expect(page.locator("article.product")).to_be_visible()
        page.go_back()
    page.click("#chat-toggle")
    page.fill("#chat-input", "recommend me a phone under 3000")
    page.keyboard.press("Enter")
    cards = page.locator("#chat-log li.bot .card")
    expect(cards.first).to_be_visible(timeout=60_000)
    assert all(c == "phone" for c in cards.evaluate_all("cs => cs.map(c => c.dataset.category)"))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "shop-chat-en.png"))

    page.click("#lang")
    expect(page.locator("#chat-toggle")).to_have_text("问导购")
    page.fill("#chat-input", "推荐一款3000元以内的手机")
    page.keyboard.press("Enter")
    expect(page.locator("#chat-log li.bot .text", has_text="为你推荐")).to_be_visible(timeout=60_000)
    expect(page.locator("#chat-log li.bot .cards").last.locator(".add").first).to_have_text("加入购物车")
    page.screenshot(path=str(SCREENSHOTS / "shop-chat-zh.png"))

    last = page.locator("#chat-log li.bot .cards").last
    last.locator(".card button.compare").nth(0).click()
    last.locator(".card button.compare").nth(1).click()
    expect(page.locator("#chat-log table.comparison")).to_be_visible(timeout=60_000)

    before = page.locator("#cart").inner_text()
    last.locator(".card button.add").first.click()
    expect(page.locator("#cart")).not_to_have_text(before)

    shown = page.locator("#chat-log li").count()
    page.reload()
    page.click("#chat-toggle")
    assert page.locator("#chat-log li").count() >= shown
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SCREENSHOTS / "shop-chat-phone.png"))
    assert set(hosts) <= {"127.0.0.1", "localhost"}, hosts
