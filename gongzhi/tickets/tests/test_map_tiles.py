"""The ticket map over a configured tile server (Leaflet), and the setting that configures it."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from gongzhi.tickets.tests.factories import World, make_world, submit

ROOT = Path(__file__).resolve().parents[3]
TILES = "https://tiles.example.gov.cn/{z}/{x}/{y}.png"


@pytest.fixture
def world() -> World:
    world = make_world()
    type(world.tree.household_a1).objects.filter(pk=world.tree.household_a1.pk).update(
        latitude=Decimal("35.555"), longitude=Decimal("116.805")
    )
    return world


def _map_page(world: World) -> str:
    client = Client()
    client.force_login(world.community_staff)
    response = client.get(f"/tickets/map/?node={world.tree.community.pk}", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_a_configured_tile_server_draws_the_map_with_leaflet(world: World, settings: Any) -> None:
    settings.TICKET_MAP_TILES = TILES
    settings.TICKET_MAP_TILE_ATTRIBUTION = "© 天地图 <b>x</b>"
    ticket = submit(world.tree)

    page = _map_page(world)

    assert '<script id="map-tiles" type="application/json">' in page
    assert TILES in page
    assert "vendor/leaflet/leaflet.js" in page
    assert "vendor/leaflet/leaflet.css" in page
    assert "echarts" not in page
    assert "<b>x</b>" not in page  # escaped inside the JSON
    assert ticket.number in page  # the table stays under the map
    assert 'role="region"' in page


@pytest.mark.django_db
def test_without_tiles_the_map_is_echarts_as_before(world: World, settings: Any) -> None:
    settings.TICKET_MAP_TILES = ""
    submit(world.tree)

    page = _map_page(world)

    assert "vendor/echarts/echarts.min.js" in page
    assert "leaflet" not in page
    assert "map-tiles" not in page
    assert "No map tiles are used" in page


def _import_settings(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith("GONGZHI_") and k != "DJANGO_SETTINGS_MODULE"
    }
    clean.update({"GONGZHI_DEBUG": "1", "GONGZHI_VAR_DIR": "/tmp/gongzhi-map-tiles-test", **env})
    code = "import gongzhi.config.settings as s; print(repr(s.TICKET_MAP_TILES), repr(s.TICKET_MAP_TILE_ATTRIBUTION))"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    "bad",
    [
        "tiles.example.gov.cn/{z}/{x}/{y}.png",
        "ftp://tiles.example.gov.cn/{z}/{x}/{y}.png",
        "https://tiles.example.gov.cn/{z}/{x}.png",
        "https://tiles.example.gov.cn/tile.png",
    ],
)
def test_a_bad_tile_template_refuses_to_start(bad: str) -> None:
    result = _import_settings(GONGZHI_MAP_TILE_URL=bad)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "GONGZHI_MAP_TILE_URL" in result.stderr


def test_tile_settings_are_read_from_the_environment() -> None:
    result = _import_settings(GONGZHI_MAP_TILE_URL=TILES, GONGZHI_MAP_TILE_ATTRIBUTION="© 测绘局")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{TILES!r} '© 测绘局'"
    unset = _import_settings()
    assert unset.returncode == 0, unset.stderr
    assert unset.stdout.strip() == "'' ''"
