"""What the trainer feeds the network (the data audit of 2026-12-06): user pairs read as
``mutualfuse fuse`` reads them; crops, flips, swaps, blackout and the synthetic multi-focus pairs
drawn as documented (probabilities within binomial bounds over a few hundred samples, σ in its
range, masks in [0, 1], the truth the sharp crop, both sources cut from the same window, every
window position reachable); the same samples with data workers as without.

Statistical checks use fixed seeds and bounds of about 5 standard deviations, so they are
deterministic and far from their edge (the measured values are in the comments)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from scipy import ndimage

from mutualfuse.image_io import read_image, rgb_to_y
from mutualfuse.train.data import PairCrops, disc_blur, find_pairs, smooth_mask

from tolerance import assert_close


def _stub(images, crop, seed=0, **kw) -> PairCrops:
    """A :class:`PairCrops` over in-memory float32 pairs (no files)."""
    ds = PairCrops([], crop, seed, **kw)
    ds.images = list(images)
    ds.names = [f"{i:02d}" for i in range(len(ds.images))]
    return ds


def _images(n=4, h=70, w=75, seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.random((h, w), dtype=np.float32),
             ndimage.gaussian_filter(rng.random((h, w)), 1.0).astype(np.float32)) for _ in range(n)]


def _window(img, crop_, c):
    """(y, x, flipped) of ``crop_`` (c×c) in ``img``; exactly one match required."""
    hits = [(y, x, f) for y in range(img.shape[0] - c + 1) for x in range(img.shape[1] - c + 1)
            for f in (False, True) if np.array_equal(img[y:y + c, x:x + c][:, ::-1] if f else img[y:y + c, x:x + c], crop_)]
    assert len(hits) == 1, hits
    return hits[0]


def _within(k, n, p, sd=5.0):
    return abs(k - n * p) <= sd * np.sqrt(n * p * (1 - p))


def test_user_pairs_are_read_as_fuse_reads_them(tmp_path):
    """16-bit gray PNG with a colour JPEG turned by its EXIF orientation, a 16-bit colour TIFF with
    a BMP (different suffixes per side pair by name): each image is ``read_image``'s (as ``fuse``
    reads it: EXIF applied, 16 bits scaled by their percentiles) in BT.601 luma, float32."""
    import tifffile

    rng = np.random.default_rng(0)
    (tmp_path / "ir").mkdir()
    (tmp_path / "vis").mkdir()
    Image.fromarray((rng.random((40, 64)) * 4000 + 1000).astype(np.uint16)).save(tmp_path / "ir" / "p1.png")
    exif = Image.Exif()
    exif[0x0112] = 6  # stored 64 high, 40 wide: read 40 high, 64 wide
    Image.fromarray((rng.random((64, 40, 3)) * 255).astype(np.uint8)).save(tmp_path / "vis" / "p1.jpg",
                                                                           exif=exif.tobytes(), quality=95)
    tifffile.imwrite(tmp_path / "ir" / "p2.tif", (rng.random((48, 50, 3)) * 65535).astype(np.uint16), photometric="rgb")
    Image.fromarray((rng.random((48, 50)) * 255).astype(np.uint8)).save(tmp_path / "vis" / "p2.bmp")
    pairs = find_pairs(tmp_path)
    assert [(a.name, b.name) for a, b in pairs] == [("p1.png", "p1.jpg"), ("p2.tif", "p2.bmp")]
    ds = PairCrops(pairs, 32, 0)
    for (a, b), got in zip(pairs, ds.images):
        for path, x in zip((a, b), got):
            ref, _ = read_image(path)
            ref = rgb_to_y(ref) if ref.ndim == 3 else ref
            assert x.dtype == np.float32 and x.shape == ref.shape
            assert_close(x, ref, dtype=np.float32)
    assert ds.images[0][0].shape == (40, 64)
    assert ds.images[0][0].min() == 0.0 and ds.images[0][0].max() == 1.0  # the 16-bit percentile scaling


def test_crops_reach_every_window_position_and_cut_both_sources_alike():
    """A 128² crop of a 130×133 pair: y in 0..2 and x in 0..5 all drawn, about equally (300 draws:
    y 89/107/104, x 47–53 each, measured); the two sources are cut at the same window and flipped
    together, flips with probability 1/2 (143 of 300 measured)."""
    rng = np.random.default_rng(0)
    a = rng.random((130, 133), dtype=np.float32)
    ds = _stub([(a, a[::-1].copy())], 128, hflip=True)
    ys, xs, flips, n = np.zeros(3, int), np.zeros(6, int), 0, 300
    for e in range(n):
        pa, pb = (t[0].numpy() for t in ds[(e, 0)])
        y, x, f = _window(a, pa, 128)
        ref_b = a[::-1][y:y + 128, x:x + 128]
        assert np.array_equal(pb, ref_b[:, ::-1] if f else ref_b)
        ys[y] += 1
        xs[x] += 1
        flips += f
    assert (ys > n / 3 / 2).all() and (xs > n / 6 / 2).all(), (ys, xs)  # every position, none starved
    assert _within(flips, n, 0.5), flips


def test_augmentation_probabilities_sigma_truth_and_blackout():
    """multifocus 0.3, swap 0.5, blackout 0.3, hflip, over 600 samples: the rates are within
    binomial bounds (measured: multi-focus 186, swaps 297, blackout 127 of the 414 non-multi-focus
    samples, the first source 69 of those; on RoadScene crops: flips 0.52, multi-focus 0.28,
    swaps 0.49, blackout 0.30, first source 0.51); a multi-focus sample's truth is the second
    source's crop exactly and a + b − truth is that crop's Gaussian blur with the σ drawn, in
    [1, 4] and spread over it; a blacked-out source equals its crop or is exactly 0."""
    images = _images()
    kw = dict(hflip=True, multifocus=0.3, with_truth=True, swap=0.5, blackout=0.3)
    ds, plain = _stub(images, 48, seed=7, **kw), _stub(images, 48, seed=7, hflip=True)
    sigmas, n, mf, swaps, dark, dark_a = [], 0, 0, 0, 0, 0
    for e in range(150):
        for i in range(len(images)):
            a, b, truth, is_truth = ds[(e, i)]
            ca, cb = (t[0].numpy() for t in plain[(e, i)])
            a, b, truth = a[0].numpy(), b[0].numpy(), truth[0].numpy()
            assert a.dtype == np.float32 and a.shape == (48, 48)
            assert 0.0 <= min(a.min(), b.min()) and max(a.max(), b.max()) <= 1.0
            n += 1
            if np.random.default_rng([7, e, i, 2]).random() < 0.5:
                a, b = b, a
                swaps += 1
            if float(is_truth):
                mf += 1
                assert np.array_equal(truth, cb)
                draws = np.random.default_rng([7, e, i, 1])  # the sample's multi-focus stream, as drawn:
                draws.random()                                # the choice, the mask, then σ
                smooth_mask(truth.shape, draws)
                s = draws.uniform(1.0, 4.0)
                assert_close(a + b - truth, ndimage.gaussian_filter(truth, s, mode="reflect"), dtype=np.float32)
                sigmas.append(s)
                continue
            assert not truth.any()
            if np.array_equal(a, ca) and np.array_equal(b, cb):
                continue
            dark += 1
            if not np.array_equal(a, ca):
                dark_a += 1
                assert np.array_equal(b, cb) and np.all((a == ca) | (a == 0))
            else:
                assert np.all((b == cb) | (b == 0))
    assert _within(mf, n, 0.3) and _within(swaps, n, 0.5), (mf, swaps, n)
    assert _within(dark, n - mf, 0.3) and _within(dark_a, dark, 0.5), (dark, dark_a, n - mf)
    assert 1.0 <= min(sigmas) < 1.5 and 3.5 < max(sigmas) <= 4.0, (min(sigmas), max(sigmas))


def test_focus_masks_are_smooth_in_range_and_cover_20_to_80_percent():
    """:func:`smooth_mask` over 300 draws: values in [0, 1] (both reached), float32 of the asked
    shape (odd shapes too), the area above 1/2 in [0.2, 0.8] (measured 0.200–0.797), at most one
    step of 0.8 between neighbours (σ ≥ 0.5 softening; measured 0.78), a few regions only (≤ 7)."""
    lo, hi = 1.0, 0.0
    for k in range(300):
        m = smooth_mask((64, 64), np.random.default_rng([3, k]))
        assert m.dtype == np.float32 and m.shape == (64, 64)
        lo, hi = min(lo, m.min()), max(hi, m.max())
        assert 0.19 <= (m > 0.5).mean() <= 0.81
        assert max(np.abs(np.diff(m, axis=0)).max(), np.abs(np.diff(m, axis=1)).max()) <= 0.8
        assert ndimage.label(m > 0.5)[1] + ndimage.label(m <= 0.5)[1] <= 12
    assert lo == 0.0 and hi == 1.0
    for shape in [(8, 8), (17, 300), (255, 13)]:
        assert smooth_mask(shape, np.random.default_rng(1)).shape == shape


def test_disc_psf_sums_to_one_and_mixed_is_half_and_half():
    """The pillbox keeps a flat image flat; ``mixed`` picks the disc for about half the pairs
    (97 of 200 measured)."""
    assert_close(disc_blur(np.full((20, 20), 0.5, np.float32), 2.6), np.full((20, 20), 0.5), dtype=np.float32)
    images = _images(1, 60, 60)
    ds = _stub(images, 40, multifocus=1.0, multifocus_psf="mixed", with_truth=True)
    gauss = _stub(images, 40, multifocus=1.0, with_truth=True)
    n = 200
    discs = sum(not torch.equal(ds[(e, 0)][0], gauss[(e, 0)][0]) for e in range(n))
    assert _within(discs, n, 0.5), discs


def test_samples_are_the_same_with_data_workers_and_differ_by_seed():
    """Every augmentation on (mixed psf, breathing, blackout, swap, flips): two data workers give
    the samples of the main process bit for bit; another seed gives other samples."""
    from torch.utils.data import DataLoader

    kw = dict(hflip=True, multifocus=0.4, multifocus_psf="mixed", multifocus_breathing=(0.01, 0.05),
              with_truth=True, swap=0.5, blackout=0.5)
    images = _images(6, 40, 44)
    keys = [[(e, i), (e, (i + 1) % 6)] for e in range(3) for i in range(0, 6, 2)]

    def draw(seed, workers):
        return [tuple(t.clone() for t in b)
                for b in DataLoader(_stub(images, 32, seed, **kw), batch_sampler=keys, num_workers=workers)]

    main, two = draw(5, 0), draw(5, 2)
    assert len(main) == len(two) == len(keys)
    assert all(torch.equal(x, y) for bm, bw in zip(main, two) for x, y in zip(bm, bw))
    other = draw(6, 0)
    assert all(not torch.equal(bm[0], bo[0]) for bm, bo in zip(main, other))


@pytest.mark.parametrize("size", [(20, 150), (8, 8)])
def test_an_image_smaller_than_the_crop_is_reflect_padded(size):
    a = np.random.default_rng(1).random(size, dtype=np.float32)
    ds = _stub([(a, a)], 64, hflip=True)
    pa, pb = ds[(0, 0)]
    assert pa.shape == (1, 64, 64) and torch.equal(pa, pb)
