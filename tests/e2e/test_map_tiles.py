"""The ticket map over a configured tile server: Leaflet fetches tiles from it and draws the tickets.

A tiny HTTP server on 127.0.0.1 answers every path with one generated 256×256 PNG and records
what was asked; the setting is overridden for the live server, which reads it per request.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import Site
from .test_ticket_journey import _world, open_tickets

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _tile_png() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (256, 256), (226, 236, 228))
    draw = ImageDraw.Draw(image)
    for offset in range(0, 256, 64):
        draw.line([(offset, 0), (offset, 255)], fill=(200, 210, 200))
        draw.line([(0, offset), (255, offset)], fill=(200, 210, 200))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


class TileServer:
    def __init__(self) -> None:
        png = _tile_png()
        self.paths: list[str] = []
        paths = self.paths

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                paths.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(png)))
                self.end_headers()
                self.wfile.write(png)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/tiles/{{z}}/{{x}}/{{y}}.png"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> TileServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def tile_server() -> Iterator[TileServer]:
    with TileServer() as server:
        yield server


def test_the_map_draws_tickets_over_the_configured_tiles(
    site: Site, tile_server: TileServer, settings: Any
) -> None:
    settings.TICKET_MAP_TILES = tile_server.url
    settings.TICKET_MAP_TILE_ATTRIBUTION = "测试瓦片 <script>"
    world = _world()
    open_tickets(world)
    tree = world["tree"]
    # One real boundary: grid A as a polygon; grid B stays a square around its point.
    tree.grid_a.boundary = {
        "type": "Polygon",
        "coordinates": [
            [
                [116.8250, 35.5533],
                [116.8275, 35.5533],
                [116.8275, 35.5550],
                [116.8250, 35.5550],
                [116.8250, 35.5533],
            ]
        ],
    }
    tree.grid_a.save(update_fields=["boundary"])
    page = site.page

    site.login(world["staff"].username)
    site.goto(f"/tickets/map/?node={tree.community.pk}")
    page.wait_for_function(
        "() => document.querySelectorAll('#ticket-map img.leaflet-tile-loaded').length > 0"
    )
    markers = page.locator(
        "#ticket-map path.leaflet-interactive[fill='#1d5fa8'], #ticket-map path.leaflet-interactive[fill='#b3261e']"
    )
    expect(markers).to_have_count(2)
    assert tile_server.paths, "no tile request reached the tile server"
    assert all(path.startswith("/tiles/") and path.endswith(".png") for path in tile_server.paths)
    expect(page.locator("#ticket-map .leaflet-control-attribution")).to_contain_text("测试瓦片 <script>")
    assert page.locator("script[src*='echarts']").count() == 0
    expect(page.locator("#ticket-map .leaflet-control-zoom-in")).to_have_attribute("aria-label", "放大")

    # A marker's popup links to its ticket.
    markers.first.click()
    popup_link = page.locator("#ticket-map .leaflet-popup-content a")
    expect(popup_link).to_be_visible()
    assert "/tickets/" in (popup_link.get_attribute("href") or "")
    close = page.locator("#ticket-map .leaflet-popup-close-button")
    # "Close" alone is 结案 (closing a case) in the catalogue: the popup's button has its own context.
    expect(close).to_have_attribute("aria-label", "关闭")
    close.click()
    expect(popup_link).to_have_count(0)

    # The table under the map stays for screen readers.
    expect(page.locator("table[aria-labelledby=table-heading] tbody tr")).to_have_count(2)
    site.assert_accessible("ticket map with tiles")
    site.screenshot("tickets-map-tiles")
