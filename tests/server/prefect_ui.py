"""Drive Prefect's own UI in headless Chromium (Playwright) as a coordinator does: Run ▸ Custom run, fill, submit.

Shared by tests/server/test_ui_forms.py and scripts/screenshots. Playwright drives the system's Chromium
(``executable_path``): its own browser download is neither needed nor wanted. Fields are found by the title the
deployment's parameter schema gives them (the label the coordinator reads), looked up from the parameter's name,
so a reworded title does not break the tests. Every wait has a deadline.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx

#: Per action (click, fill, navigation): the UI is a single-page app on a busy two-core machine.
ACTION_TIMEOUT_MS = 60_000
#: How long a submitted run may take to reach a final state.
FINAL_STATE_TIMEOUT_S = 420.0
FINAL_STATES = frozenset({"COMPLETED", "FAILED", "CRASHED", "CANCELLED"})
VIEWPORT = {"width": 1400, "height": 900}
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]


def chromium_path() -> str | None:
    """The system Chromium (Debian's ``chromium``), or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    return None


@contextlib.contextmanager
def browser_page(executable: str, viewport: dict[str, int] | None = None) -> Iterator[Any]:
    """A Playwright page in a fresh headless Chromium, closed however the block ends."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"])
        try:
            page = browser.new_page(viewport=viewport or VIEWPORT)
            page.set_default_timeout(ACTION_TIMEOUT_MS)
            yield page
        finally:
            browser.close()


class PrefectUI:
    """One page of Prefect's UI at ``ui_url`` (``http://127.0.0.1:PORT``), with the API beside it for lookups."""

    def __init__(self, page: Any, ui_url: str) -> None:
        self.page = page
        self.ui_url = ui_url.rstrip("/")
        self.api = f"{self.ui_url}/api"
        self._schema: dict[str, Any] = {}
        #: Why the last ``submit`` was refused (the form's errors or the server's answer); empty if it was not.
        self.refusal = ""

    # -- lookups through the API (what the page shows is checked through the page) ---------------------------

    def deployment(self, full_name: str) -> dict[str, Any]:
        """The deployment ``flow-name/deployment-name`` as the API returns it."""
        flow_name, name = full_name.split("/", 1)
        response = httpx.get(f"{self.api}/deployments/name/{flow_name}/{name}", timeout=30)
        response.raise_for_status()
        return response.json()

    def flow_run(self, run_id: str) -> dict[str, Any]:
        response = httpx.get(f"{self.api}/flow_runs/{run_id}", timeout=30)
        response.raise_for_status()
        return response.json()

    def wait_final(self, run_id: str, timeout: float = FINAL_STATE_TIMEOUT_S) -> dict[str, Any]:
        """Poll the run until Completed, Failed, Crashed or Cancelled; ``TimeoutError`` after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.flow_run(run_id)
            if (run.get("state") or {}).get("type") in FINAL_STATES:
                return run
            if time.monotonic() > deadline:
                raise TimeoutError(f"flow run {run_id} not final within {timeout:.0f} s: {run.get('state')}")
            time.sleep(1)

    # -- the form ----------------------------------------------------------------------------------------------

    def open_custom_run(self, full_name: str) -> None:
        """The deployment's page, then "Run" ▸ "Custom run", as a coordinator clicks through it."""
        deployment = self.deployment(full_name)
        self._schema = deployment.get("parameter_openapi_schema") or {}
        self.page.goto(f"{self.ui_url}/deployments/deployment/{deployment['id']}")
        self.page.get_by_role("button", name="Run", exact=True).click()
        self.page.get_by_text("Custom run", exact=True).click()
        self.page.wait_for_url(re.compile(r"/deployments/deployment/[^/]+/run"))
        self.page.locator("form .schema-input").wait_for()

    def title(self, parameter: str) -> str:
        """The label the form shows for ``parameter`` (its schema title; Prefect's default is the name)."""
        return str(self._schema.get("properties", {}).get(parameter, {}).get("title") or parameter)

    def field(self, parameter: str) -> Any:
        """The form's block for one parameter (label, description, control)."""
        title = re.escape(self.title(parameter))
        label = self.page.locator(".schema-form-property__label").filter(
            has_text=re.compile(rf"^\s*{title}(\s*\(Optional\))?\s*$"))
        return label.locator(
            "xpath=ancestor::div[contains(concat(' ', normalize-space(@class), ' '), ' schema-form-property ')][1]")

    def fill(self, values: dict[str, Any]) -> None:
        """Type or choose each value, by parameter name, the way its control wants it."""
        for parameter, value in values.items():
            self._fill_one(parameter, value)

    def _fill_one(self, parameter: str, value: Any) -> None:
        field = self.field(parameter)
        field.wait_for()
        if field.locator(".p-date-input").count():
            self._pick_date(field, value if isinstance(value, date) else date.fromisoformat(str(value)))
        elif field.locator(".p-select").count():
            self._choose(field, str(value))
        else:
            field.locator("textarea, input").first.fill(str(value))

    def _choose(self, field: Any, option: str) -> None:
        control = field.locator("button.p-select-button__control")
        control.focus()
        # The select opens on the keyboard; a synthetic click is taken as open-then-close.
        control.press("ArrowDown")
        self.page.get_by_role("option", name=option, exact=True).click()

    def _pick_date(self, field: Any, day: date) -> None:
        """Open the calendar, step to the month, click the day, Apply (typing is what the issue found unreliable)."""
        field.locator("button.p-date-button__control").click()
        picker = self.page.locator(".p-pop-over-content .p-date-picker")
        picker.wait_for()
        shown_month = MONTHS.index(picker.locator(".p-date-picker__title-month").inner_text().strip()) + 1
        shown_year = int(picker.locator(".p-date-picker__title-year").inner_text().strip())
        steps = (day.year - shown_year) * 12 + (day.month - shown_month)
        arrow = picker.locator(".p-calendar-header__after button" if steps > 0 else ".p-calendar-header__before button")
        for _ in range(abs(steps)):
            arrow.click()
        picker.locator(".p-calendar-date-picker__date--in-month").filter(
            has_text=re.compile(rf"^\s*{day.day}\s*$")).click()
        picker.get_by_role("button", name="Apply", exact=True).click()
        picker.wait_for(state="detached")

    def use_json(self, parameters: dict[str, Any]) -> None:
        """Parameters ▸ ⋮ ▸ "Use JSON input", then replace the editor's text with ``parameters``."""
        self.page.locator(".flow-run-create-form-v2__header button").click()
        self.page.get_by_text("Use JSON input", exact=True).click()
        editor = self.page.locator(".schema-form-property-kind-json textarea")
        editor.fill(json.dumps(parameters, ensure_ascii=False, indent=2))

    def validate_parameters(self, on: bool) -> None:
        """Tick or untick "Validate parameters" (ticked by default)."""
        self.page.get_by_label("Validate parameters").set_checked(on)

    def submit(self, timeout: float = 60.0, busy_retries: int = 3) -> str | None:
        """Press Submit; the new run's id, or None if the form or the server refused it (``refusal`` says why).

        The server's refusal (HTTP 409 when a value fails the deployment's schema) is read from the network: the
        UI of Prefect 3.8 shows nothing when that happens. HTTP 503 is not a refusal: Prefect's server answers it
        when its SQLite database was busy (``is_client_retryable_exception``; nothing was created), and Prefect's
        own client retries it, but the UI only shows "Service Unavailable", so a coordinator presses Submit again:
        so does this, up to ``busy_retries`` times, a second apart.
        """
        answers: list[Any] = []

        def on_response(response: Any) -> None:
            if response.request.method == "POST" and response.url.endswith("/create_flow_run"):
                answers.append(response)

        self.refusal = ""
        self.page.on("response", on_response)
        try:
            for attempt in range(busy_retries + 1):
                answers.clear()
                shown = set(self.form_errors().splitlines())  # the last attempt's "Service Unavailable" toast
                self._press_submit()
                answer = self._answer(answers, timeout, shown)
                if answer is None or answer.status != 503 or attempt == busy_retries:
                    break
                self.page.wait_for_timeout(1000)
            if answer is None:
                self.refusal = self.form_errors()
                return None
            if answer.ok:
                return str(answer.json()["id"])
            self.refusal = f"HTTP {answer.status}: {answer.text()}"
            return None
        finally:
            self.page.remove_listener("response", on_response)

    def _press_submit(self) -> None:
        """Click Submit; if something lies over it (the UI's toasts stack up in its corner when the server is busy,
        each answer of its own polling adding one), send the button the click directly instead."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        button = self.page.get_by_role("button", name="Submit", exact=True)
        try:
            button.click(timeout=10_000)
        except PlaywrightTimeout:
            button.dispatch_event("click")

    def _answer(self, answers: list[Any], timeout: float, shown: set[str]) -> Any | None:
        """The server's answer to Submit, or None when the form showed errors (beyond ``shown``) instead."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if answers:
                return answers[0]
            if set(self.form_errors().splitlines()) - shown:
                return None
            self.page.wait_for_timeout(250)
        raise TimeoutError(f"Submit: neither a new run nor a refusal within {timeout:.0f} s")

    def form_errors(self) -> str:
        """The errors the form shows: under its fields, and the server's answer in a toast."""
        errors = self.page.locator(".p-label__message, .p-toast").all_inner_texts()
        return "\n".join(e.strip() for e in errors if e.strip())

    def screenshot(self, path: str, full_form: bool = False) -> None:
        """A picture of the page; ``full_form``: the whole form, however long (the page scrolls inside itself)."""
        if full_form:
            height = self.page.evaluate(
                "() => Math.max(...[...document.querySelectorAll('*')].map(e => e.scrollHeight))")
            self.page.set_viewport_size({"width": VIEWPORT["width"], "height": min(int(height) + 40, 6000)})
        self.page.screenshot(path=path)
        self.page.set_viewport_size(VIEWPORT)
