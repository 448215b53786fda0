"""The ``no_codecs`` fixture: every compressed TIFF takes the Pillow path, as without imagecodecs
(so tests check that fallback whether or not imagecodecs is installed here). Import it into a
test module: ``from tiff_codecs import no_codecs  # noqa: F401``."""
import pytest

from mutualfuse import image_io


@pytest.fixture
def no_codecs(monkeypatch):
    real = image_io._missing_codec

    def missing(tifffile_mod, page):
        got = real(tifffile_mod, page)
        if got is None and int(page.compression) != 1:
            return page.compression.name
        return got

    monkeypatch.setattr(image_io, "_missing_codec", missing)
