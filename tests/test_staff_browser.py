"""The staff console in a real browser: headless Chromium (Debian's `chromium` and `chromium-driver`,
driven by Selenium; nothing is downloaded) against the real app served by uvicorn on both databases.
Log in, see a complaint, answer it (the answer reaches the customer's Telegram stand-in), and the Arabic
layout computed right-to-left; a screenshot of the queue in each language goes to var/screenshots/."""

from __future__ import annotations

import asyncio
import os
import re
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.support.wait import WebDriverWait

from actions.complaints.service import open_complaint
from bot.staff import auth
from bot.web import create_app
from dealerbot.bootstrap import App, compose
from nlu.commands import free_port
from tests.factories import make_customer
from tests.fakes import FakeNlu
from tests.test_scheduler import link, outbound, twilio_server  # noqa: F401 - twilio_server is a fixture
from tests.twilio_standin import TwilioStandIn

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOTS = Path(__file__).resolve().parents[1] / "var" / "screenshots"
PASSWORD = "correct horse battery"


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    assert Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists(), "make test installs chromium and chromium-driver"
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must not fetch anything
    options = Options()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.implicitly_wait(5)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def server(live_app: App) -> Iterator[str]:
    """The real ASGI app under uvicorn on a free port, in a thread of its own."""
    port = free_port()
    config = uvicorn.Config(create_app(compose(live_app, nlu=FakeNlu(), channels=[])), host="127.0.0.1", port=port,
                            log_config=None, access_log=False, lifespan="on")
    web = uvicorn.Server(config)
    thread = threading.Thread(target=web.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not web.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        web.should_exit = True
        thread.join(10)


def submit(browser: webdriver.Chrome, button: Any) -> None:
    """Click a form's button and wait for the page it loads (not the old page's elements).

    The old page is marked with a window property; the new document does not have it. (Waiting for the old
    <html> element to go stale raced with Chromium: mid-navigation it can answer "node does not belong to
    the document" instead of "stale element".) While the navigation is in progress a script may fail, so
    WebDriver errors are retried until the deadline."""
    browser.execute_script("window.__dealerbotOldPage = true;")
    button.click()
    WebDriverWait(browser, 15, ignored_exceptions=(WebDriverException,)).until(
        lambda driver: driver.execute_script(
            "return window.__dealerbotOldPage !== true && document.readyState === 'complete';"))


def log_in(browser: webdriver.Chrome, base: str, username: str) -> None:
    browser.get(f"{base}/staff/login")
    browser.find_element(By.ID, "username").send_keys(username)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    submit(browser, browser.find_element(By.CSS_SELECTOR, "form.login button[type=submit]"))
    browser.find_element(By.CSS_SELECTOR, "form.filters")  # waits for the queue page


def test_log_in_see_a_complaint_made_in_chat_answer_it_and_read_the_queue_in_arabic_right_to_left(
        live_app: App, server: str, browser: webdriver.Chrome, twilio_server: TwilioStandIn, backend: str) -> None:
    with live_app.transaction() as session:
        auth.add_staff(session, "layla", "manager", PASSWORD, live_app.clock.now())
        owner = make_customer(session, live_app.clock.now(), name="Browser Customer")
        owner_id = owner.id
    link(live_app, owner_id, "telegram", "5550202", timedelta(minutes=3))

    async def complain() -> str:
        """The customer complains in chat (the core and the complaints flow; the NLU faked at its edge)."""
        from actions.kit.types import InboundMessage
        from bot.core import Assistant
        from bot.metrics import Metrics
        from bot.serial import KeyedLocks
        from tests.fakes import DEFAULT_RULES

        nlu = FakeNlu(rules=((("complaint",), "complaint"), *DEFAULT_RULES))
        assistant = Assistant(transaction=live_app.transaction, settings=live_app.settings, clock=live_app.clock,
                              nlu=nlu, locks=KeyedLocks(), metrics=Metrics())
        replies = await assistant.handle(InboundMessage(
            "telegram", "5550202", "I have a complaint, I waited more than three hours at the branch, the car was "
            "not ready and nobody called me about the delay", received_at=live_app.clock.now()))
        said = " ".join(r.text for r in replies)
        found = re.search(r"\bC-\d+", said)
        assert found, said
        return found.group(0)

    ticket = asyncio.run(complain())
    log_in(browser, server, "layla")
    row = browser.find_element(By.CSS_SELECTOR, f'tr[data-ticket="{ticket}"]')
    assert "Browser Customer" in row.text
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / f"queue-en-{backend}.png"))
    submit(browser, row.find_element(By.LINK_TEXT, ticket))
    browser.find_element(By.CSS_SELECTOR, "form[action$='/answer'] textarea").send_keys(
        "We are sorry: bring it in tomorrow, the alignment is redone free.")
    submit(browser, browser.find_element(By.CSS_SELECTOR, "form[action$='/answer'] button"))
    assert "on its way" in browser.find_element(By.CSS_SELECTOR, "p.done").text

    async def deliver() -> list[str]:
        async with outbound(live_app, twilio_server) as out:
            await out.dispatch()
            return out.telegram.texts(5550202)

    texts = asyncio.run(deliver())
    assert any("the alignment is redone free" in t and ticket in t for t in texts), texts

    browser.get(f"{server}/staff/?lang=ar")
    assert browser.execute_script("return getComputedStyle(document.body).direction") == "rtl"
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("dir") == "rtl"
    header = browser.find_element(By.CSS_SELECTOR, "#queue th").text
    assert header == "التذكرة"
    first, last = (browser.find_elements(By.CSS_SELECTOR, "#queue thead th")[i] for i in (0, -1))
    assert first.location["x"] > last.location["x"]  # the first column is on the right
    browser.save_screenshot(str(SCREENSHOTS / f"queue-ar-{backend}.png"))
    assert (SCREENSHOTS / f"queue-ar-{backend}.png").stat().st_size > 10_000


def test_the_browser_is_sent_to_log_in_and_a_forged_form_is_refused(live_app: App, server: str,
                                                                    browser: webdriver.Chrome) -> None:
    browser.get(f"{server}/staff/")
    assert browser.current_url.endswith("/staff/login")
    with live_app.transaction() as session:
        auth.add_staff(session, "yusuf", "manager", PASSWORD, live_app.clock.now())
    browser.get(f"{server}/staff/login")
    browser.execute_script("document.querySelector('input[name=csrf_token]').value = 'forged'")
    browser.find_element(By.ID, "username").send_keys("yusuf")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    submit(browser, browser.find_element(By.CSS_SELECTOR, "form.login button[type=submit]"))
    assert "expired" in browser.find_element(By.CSS_SELECTOR, "p.error").text
    assert browser.get_cookie("staff_session") is None


def test_take_a_handoff_and_reply_approve_work_and_another_branchs_ticket_refused(
        live_app: App, server: str, browser: webdriver.Chrome, twilio_server: TwilioStandIn) -> None:
    from actions.handoff.service import open_handoff
    from actions.kit.types import InboundMessage
    from bot.core import Assistant
    from bot.metrics import Metrics
    from bot.serial import KeyedLocks
    from db.models import Branch, ChatMessage, Vehicle, WorkItem
    from sqlalchemy import select
    from tests.factories import make_appointment, make_vehicle

    with live_app.transaction() as session:
        now = live_app.clock.now()
        auth.add_staff(session, "kareem", "advisor", PASSWORD, now, "dubai")
        owner = make_customer(session, now, name="Browser Handoff")
        car = make_vehicle(session, now, owner)
        visit = make_appointment(session, now, session.get(Vehicle, car.id), starts_at=now + timedelta(minutes=20))
        far = make_customer(session, now, name="Sharjah Browser")
        far_car = make_vehicle(session, now, far)
        far_car.sold_by_branch_id = session.scalar(select(Branch.id).where(Branch.code == "sharjah"))
        session.flush()
        far_ticket = open_complaint(session, now, tz=live_app.settings.tz, response_hours=24, customer_id=far.id,
                                    vehicle_id=far_car.id, category="service", description="Sharjah only").ticket_id
        owner_id, visit_ref = owner.id, visit.reference
    identity = link(live_app, owner_id, "telegram", "5550606", timedelta(minutes=2))
    with live_app.transaction() as session:
        session.add(ChatMessage(channel_identity_id=identity, direction="in", text="Can a person call me?", media=[],
                                created_at=live_app.clock.now()))
        handoff_id = open_handoff(session, live_app.clock.now(), identity, owner_id, "a person").id
    log_in(browser, server, "kareem")

    # another branch's ticket: refused
    browser.get(f"{server}/staff/tickets/{far_ticket}")
    assert "another branch" in browser.find_element(By.CSS_SELECTOR, "p.error").text
    assert "Sharjah only" not in browser.page_source

    # a hand-off: take it, write, the customer's Telegram gets it
    browser.get(f"{server}/staff/handoffs")
    submit(browser, browser.find_element(By.CSS_SELECTOR, f'tr[data-handoff="{handoff_id}"] form button'))
    assert "yours" in browser.find_element(By.CSS_SELECTOR, "p.done").text
    assert "Can a person call me?" in browser.find_element(By.ID, "transcript").text
    browser.find_element(By.CSS_SELECTOR, "form[action$='/write'] textarea").send_keys("Kareem here: calling you now.")
    submit(browser, browser.find_element(By.CSS_SELECTOR, "form[action$='/write'] button"))
    assert "Sent" in browser.find_element(By.CSS_SELECTOR, "p.done").text
    submit(browser, browser.find_element(By.CSS_SELECTOR, "form[action$='/release'] button"))  # back to the assistant
    assert "again" in browser.find_element(By.CSS_SELECTOR, "p.done").text

    # work found during the visit, approved in chat, shown in the console's table
    day = (live_app.clock.now() + timedelta(minutes=20)).astimezone(live_app.settings.tz).date().isoformat()
    browser.get(f"{server}/staff/appointments?day={day}")
    row = browser.find_element(By.CSS_SELECTOR, f'tr[data-reference="{visit_ref}"]')
    row.find_element(By.NAME, "description").send_keys("Battery weak: replace")
    row.find_element(By.NAME, "price").send_keys("390")
    submit(browser, row.find_element(By.CSS_SELECTOR, "form[action$='/work'] button"))
    assert "approval" in browser.find_element(By.CSS_SELECTOR, "p.done").text

    async def deliver_and_answer() -> list[str]:
        async with outbound(live_app, twilio_server) as out:
            await out.dispatch()
            texts = out.telegram.texts(5550606)
        assistant = Assistant(transaction=live_app.transaction, settings=live_app.settings, clock=live_app.clock,
                              nlu=FakeNlu(), locks=KeyedLocks(), metrics=Metrics())
        with live_app.transaction() as session:
            item_id = session.scalar(select(WorkItem.id).where(WorkItem.description == "Battery weak: replace"))
        await assistant.handle(InboundMessage("telegram", "5550606", "", received_at=live_app.clock.now(),
                                              payload=f"intent:work_approval?item={item_id}&answer=yes"))
        return texts

    texts = asyncio.run(deliver_and_answer())
    assert "Kareem here: calling you now." in texts and any("Battery weak: replace" in t for t in texts)
    # the page left open shows the answer by itself (its table refreshes every few seconds)
    WebDriverWait(browser, 15).until(lambda b: b.find_elements(By.CSS_SELECTOR, "li.work-approved"))
