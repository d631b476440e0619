"""Per-image fingerprints for the data audit: a content digest (exact copies) and a 63-bit perceptual hash (near
copies: resized, brightness-shifted or recompressed), plus the search for hashes within a Hamming distance."""

import hashlib

import numpy as np

HASH_SIDE = 8  # the 8x8 lowest spatial frequencies; the constant one (brightness) is left out: 63 bits
HASH_BITS = HASH_SIDE * HASH_SIDE - 1
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R 601-2, as Pillow's RGB -> L conversion


def gray(images: np.ndarray) -> np.ndarray:
    """(n, side, side, 1 or 3) uint8 -> (n, side, side) float32 luminance in 0..255."""
    if images.shape[-1] == 1:
        return images[..., 0].astype(np.float32)
    return images.astype(np.float32) @ LUMA


def low_frequency_basis(side: int) -> np.ndarray:
    """The first HASH_SIDE rows of the orthonormal DCT-II matrix for `side` pixels. Its frequencies are in cycles per
    image, so the same picture at another size (a resized copy) gets nearly the same coefficients."""
    if side < HASH_SIDE:
        raise ValueError(f"images of {side}x{side} pixels are too small for a perceptual hash (at least {HASH_SIDE})")
    frequency = np.arange(HASH_SIDE)[:, None]
    position = np.arange(side)[None, :]
    basis = np.cos(np.pi * (2 * position + 1) * frequency / (2 * side)) * np.sqrt(2 / side)
    basis[0] /= np.sqrt(2)
    return basis.astype(np.float32)


def perceptual_hashes(luminance: np.ndarray) -> np.ndarray:
    """pHash of each (side, side) image as uint64: bit k says whether the k-th low-frequency DCT coefficient (DC left
    out) is above the median of the 63."""
    basis = low_frequency_basis(luminance.shape[-1])
    coefficients = (basis @ luminance @ basis.T).reshape(len(luminance), -1)[:, 1:]
    bits = coefficients > np.median(coefficients, axis=1, keepdims=True)
    return np.packbits(bits, axis=1, bitorder="little").view("<u8")[:, 0] if len(bits) else np.zeros(0, np.uint64)


def content_digests(images: np.ndarray) -> np.ndarray:
    """A 64-bit BLAKE2 digest of each image's bytes (equal images, equal digests; a collision among 10^5 distinct
    images has odds of about 10^-9)."""
    contiguous = np.ascontiguousarray(images)
    digests = [hashlib.blake2b(image, digest_size=8).digest() for image in contiguous]
    return np.frombuffer(b"".join(digests), dtype="<u8").copy()


def hamming_distances(codes: np.ndarray, other: np.ndarray | int) -> np.ndarray:
    return np.bitwise_count(np.bitwise_xor(codes, other)).astype(np.int64)


def hash_pieces(max_distance: int) -> list[tuple[int, int]]:
    """(shift, width) of max_distance + 1 pieces covering the hash's 63 bits."""
    n_pieces = max_distance + 1
    bounds = np.linspace(0, HASH_BITS, n_pieces + 1).round().astype(int)
    return [(int(start), int(end - start)) for start, end in zip(bounds[:-1], bounds[1:], strict=True)]


def close_pairs(codes: np.ndarray, max_distance: int) -> np.ndarray:
    """(m, 2) index pairs i < j of the distinct `codes` whose Hamming distance is at most `max_distance`.

    Multi-index hashing: cut the bits into max_distance + 1 pieces; two codes that differ in at most max_distance
    bits agree exactly on at least one piece (pigeonhole), so only codes sharing a piece are compared."""
    if max_distance <= 0 or len(codes) < 2:
        return np.zeros((0, 2), dtype=np.int64)
    found = [np.zeros((0, 2), dtype=np.int64)]
    for shift, width in hash_pieces(max_distance):
        keys = (codes >> np.uint64(shift)) & np.uint64((1 << width) - 1)
        found.extend(pairs_sharing_a_key(codes, keys, max_distance))
    pairs = np.concatenate(found)
    return np.unique(pairs, axis=0) if len(pairs) else pairs


def pairs_sharing_a_key(codes: np.ndarray, keys: np.ndarray, max_distance: int):
    """Compare every code with the others of its key: offset by offset within runs of equal sorted keys, so the
    work is the number of pairs compared, whatever the run lengths."""
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    run_ends = np.repeat(np.r_[starts[1:], len(keys)], np.diff(np.r_[starts, len(keys)]))
    active, offset = np.arange(len(keys)), 1
    while True:
        active = active[run_ends[active] > active + offset]
        if not active.size:
            return
        first, second = order[active], order[active + offset]
        close = hamming_distances(codes[first], codes[second]) <= max_distance
        yield np.column_stack([np.minimum(first, second)[close], np.maximum(first, second)[close]])
        offset += 1
