"""Photos over the pixel budget are refused from their header, before any pixel is decoded."""

from __future__ import annotations

import struct
import zlib

import pytest
from PIL import ImageFile

from deliberation.core import uploads
from deliberation.core.errors import DomainError
from tests.proposals.factories import jpeg_bytes, png_bytes


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width × height pixels but whose data is a few bytes."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 16))
            + chunk(b"IEND", b""))


@pytest.fixture
def decodes(monkeypatch):
    """Counts every decode of pixel data (Pillow's ImageFile.load)."""
    calls = []
    original = ImageFile.ImageFile.load

    def spy(self):
        calls.append(self.size)
        return original(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    return calls


@pytest.mark.parametrize("size", [(6000, 6000), (30000, 30000), (1, 40_000_000)])
def test_images_over_the_pixel_budget_are_refused_without_decoding(app, decodes, size):
    data = png_header_only(*size)
    assert len(data) < 100
    with app.test_request_context("/"):
        with pytest.raises(DomainError) as refused:
            uploads.clean_image(data)
        assert refused.value.status_code == 422
        assert "像素过多" in str(refused.value.message) and "24" in str(refused.value.message)
    assert decodes == []


def test_the_refusal_is_translated(app):
    with app.test_request_context("/"):
        from flask import session

        session["locale"] = "en"
        with pytest.raises(DomainError) as refused:
            uploads.clean_image(png_header_only(6000, 6000))
        assert "too many pixels" in str(refused.value.message)


def test_ordinary_photos_are_still_accepted(app, decodes):
    with app.test_request_context("/"):
        assert uploads.clean_image(jpeg_bytes((3000, 2000))).width == uploads.MAX_SIDE
        assert uploads.clean_image(png_bytes()).content_type == "image/png"
    assert decodes  # these are decoded, as they must be to be cleaned
