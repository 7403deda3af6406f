"""Rasterize a PDF and decode its QR codes with the same tools a print shop check would use."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

TOOLS_MISSING = not (shutil.which("pdftoppm") and shutil.which("zbarimg"))
needs_qr_tools = pytest.mark.skipif(
    TOOLS_MISSING,
    reason="pdftoppm (poppler-utils) and zbarimg (zbar-tools) are needed to decode printed QR codes",
)


def decode_pdf(pdf: bytes, folder: Path, *, dpi: int = 150) -> list[str]:
    """Every QR code on every page, one decoded text per code."""
    source = folder / "plates.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(source), str(folder / "page")], check=True)
    decoded: list[str] = []
    for page in sorted(folder.glob("page-*.png")):
        result = subprocess.run(["zbarimg", "--raw", "-q", str(page)], capture_output=True, text=True)
        # zbarimg exits 4 when a page holds no code: that page then adds nothing (and the
        # count check of the caller fails).
        assert result.returncode in (0, 4), result.stderr
        decoded.extend(line for line in result.stdout.splitlines() if line)
    return decoded
