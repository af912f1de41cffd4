"""App mode: Voilà renders an explorer notebook with no code cells, and its sliders work."""

import time

from .test_jupyterlab import canvas_pixels, wait_until

from .conftest import SCREENSHOTS


def test_voila_page_has_no_code_and_a_working_slider(voila, page):
    page.goto(f"{voila['url']}/voila/render/01_feature_maps.ipynb", timeout=180_000)
    wait_until(lambda: canvas_pixels(page), 180)
    assert page.locator("text=ConvExplorer(").count() == 0  # no code shown
    assert page.locator("text=Error displaying widget").count() == 0
    figure = page.locator(".jupyter-matplotlib-figure").first
    figure.scroll_into_view_if_needed()
    time.sleep(1)
    before = canvas_pixels(page)
    handle = page.locator(".rfmaps-range input[type=range]").first
    handle.focus()
    handle.press("ArrowRight")
    wait_until(lambda: canvas_pixels(page) not in (None, before), 60)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "voila-01_feature_maps.png"))
