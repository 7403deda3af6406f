"""Copy the README's screenshots from the last `make e2e` run into docs/screenshots, made small.

Run by `make screenshots` (after `make e2e`): 128-colour PNGs, about a third of the originals,
long pages cut to their first screenfuls.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent.parent
SOURCE = ROOT / "test-artifacts" / "screenshots"
TARGET = ROOT / "docs" / "screenshots"
# e2e screenshot → name used in README.md
PICKS = {
    "home-grid-worker-1280": "home-1280",
    "node-grid-375": "node-375",
    "person-revealed-1280": "person-1280",
    "people-search-375": "search-375",
    "import-errors-1280": "import-errors-1280",
    "resident-doorplate-375": "resident-doorplate-375",
    "resident-ticket-submitted-375": "resident-submitted-375",
    "journey-8-rating-375": "resident-ticket-375",
    "journey-16-confirmed-1280": "ticket-detail-1280",
    "insight-subdistrict-dashboard-history-1280": "dashboard-1280",
    "insight-public-board-375": "board-375",
    "vote-tally-passed-1280": "vote-tally-1280",
    "meetings-detail-1280": "meeting-1280",
}
# Long pages are cut to their first screenfuls (pixels) for the README.
HEIGHTS = {"dashboard-1280": 1500, "board-375": 1450, "meeting-1280": 1100}


def main() -> int:
    TARGET.mkdir(parents=True, exist_ok=True)
    for source_name, target_name in PICKS.items():
        source = SOURCE / f"{source_name}.png"
        if not source.exists():
            print(f"missing {source}: run `make e2e` first", file=sys.stderr)
            return 1
        image = Image.open(source).convert("RGB")
        height = HEIGHTS.get(target_name)
        if height is not None and image.height > height:
            image = image.crop((0, 0, image.width, height))
        small = image.quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        target = TARGET / f"{target_name}.png"
        small.save(target, optimize=True)
        print(f"{target.relative_to(ROOT)}: {target.stat().st_size // 1024} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
