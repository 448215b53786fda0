"""s24: the TIFF reader was chosen by the file's suffix alone. A 16-bit colour TIFF named ``.png``
went to Pillow, which read it at 8 bits without a word; a PNG or JPEG named ``.tif`` was
"truncated or corrupt TIFF (not a TIFF file: header=b'\\x89PNG')". A file's first bytes now
choose its reader (as Pillow already did for PNG/JPEG/BMP under each other's names); a ``.tif``
that is none of them still gets the TIFF reader's error."""
from __future__ import annotations

import numpy as np
import tifffile
from PIL import Image

from one_line_error import assert_one_line_error


def test_a_16bit_colour_tiff_named_png_is_read_at_16_bits(tmp_path):
    from mutualfuse.image_io import header_size, read_samples

    rng = np.random.default_rng(24)
    c16 = rng.integers(0, 65536, (20, 14, 3), dtype=np.uint16)
    tif = tmp_path / "c16.tif"
    tifffile.imwrite(tif, c16, photometric="rgb")
    named_png = tmp_path / "c16.png"
    named_png.write_bytes(tif.read_bytes())
    raw, depth, reader = read_samples(named_png)
    assert (depth, reader) == (16, "tiff")
    np.testing.assert_array_equal(raw, c16.astype(np.int32))
    assert header_size(named_png) == (14, 20)


def test_png_and_jpeg_named_tif_are_read_by_content(tmp_path, capsys):
    from mutualfuse.cli import main
    from mutualfuse.image_io import read_image

    rng = np.random.default_rng(5)
    g8 = rng.integers(0, 256, (18, 22), dtype=np.uint8)
    png, jpg = tmp_path / "g.png", tmp_path / "g.jpg"
    Image.fromarray(g8).save(png)
    Image.fromarray(g8).save(jpg, quality=90)
    for src in (png, jpg):
        named_tif = tmp_path / f"{src.stem}_{src.suffix[1:]}.tif"
        named_tif.write_bytes(src.read_bytes())
        np.testing.assert_array_equal(read_image(named_tif)[0], read_image(src)[0])
        out = tmp_path / f"f_{src.suffix[1:]}.png"
        assert main(["fuse", str(named_tif), str(png), "-o", str(out), "--method", "average"]) == 0
        assert out.exists()
    capsys.readouterr()
    junk = tmp_path / "junk.tif"
    junk.write_bytes(b"not an image at all")
    assert_one_line_error(capsys, ["fuse", str(junk), str(png), "-o", str(tmp_path / "x.png"), "--method", "average"],
                          f"{junk}: truncated or corrupt TIFF")
