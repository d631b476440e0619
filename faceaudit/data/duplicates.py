"""Exact and near-duplicate images within and across splits, from each image's content digest and perceptual hash.

Counting works on distinct hashes, not on image pairs, so a thousand copies of one blank image cost nothing."""

import numpy as np

from faceaudit.data.hashing import close_pairs, hamming_distances
from faceaudit.labels import SPLITS

# Within each split, then each held-out split against the ones before it: train/val, train/test, val/test.
SPLIT_PAIRS = [(split, split) for split in SPLITS] + [
    (first, second) for index, first in enumerate(SPLITS) for second in SPLITS[index + 1 :]
]
SEARCHED_FOR_EXAMPLES = 200  # images looked at for example pairs at most, per split pair and kind


def split_counts_per_code(codes: np.ndarray, splits: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(index of each image's code among the distinct codes, (distinct codes, splits) image counts, the distinct
    codes)."""
    distinct, inverse = np.unique(codes, return_inverse=True)
    counts = np.zeros((len(distinct), len(SPLITS)), dtype=np.int64)
    np.add.at(counts, (inverse, splits), 1)
    return inverse, counts, distinct


def neighbour_counts(distinct: np.ndarray, counts: np.ndarray, max_distance: int) -> np.ndarray:
    """Per distinct hash and split: the images of that split whose hash is another one within max_distance."""
    pairs = close_pairs(distinct, max_distance)
    neighbours = np.zeros_like(counts)
    np.add.at(neighbours, pairs[:, 0], counts[pairs[:, 1]])
    np.add.at(neighbours, pairs[:, 1], counts[pairs[:, 0]])
    return neighbours


def find_duplicates(
    hashes: np.ndarray, digests: np.ndarray, splits: np.ndarray, max_distance: int, n_examples: int
) -> list[dict]:
    """Per split pair (SPLIT_PAIRS): exact and near-duplicate pair counts, the images of the second split with an
    exact copy, with a near copy (different pixels), and with a near copy only, in the first (another image, for a
    split with itself), and example pairs as (split index, row index in its split, Hamming distance)."""
    hash_index, hash_counts, distinct_hashes = split_counts_per_code(hashes, splits)
    digest_index, digest_counts, _ = split_counts_per_code(digests, splits)
    near_hash_counts = neighbour_counts(distinct_hashes, hash_counts, max_distance)
    rows = split_row_numbers(splits)
    summaries = []
    for first, second in SPLIT_PAIRS:
        a, b = SPLITS.index(first), SPLITS.index(second)
        in_second = splits == b
        itself = int(a == b)
        close = hash_counts[hash_index[in_second], a] - itself + near_hash_counts[hash_index[in_second], a]
        exact = digest_counts[digest_index[in_second], a] - itself
        pairs_per = 2 if a == b else 1
        with_exact, with_near = exact > 0, (close > exact)
        summary = {
            "splits": [first, second],
            "images": int(in_second.sum()),
            "exact_pairs": int(exact.sum()) // pairs_per,
            "near_pairs": int((close - exact).sum()) // pairs_per,
            "images_with_exact_copy": int(with_exact.sum()),
            "images_with_near_copy": int(with_near.sum()),
            "images_with_near_copy_only": int((with_near & ~with_exact).sum()),
        }
        candidates = np.flatnonzero(in_second)
        summary["examples"] = {
            "exact": example_pairs(candidates[with_exact], splits == a, digests, hashes, 0, n_examples, rows),
            "near": example_pairs(candidates[with_near], splits == a, digests, hashes, max_distance, n_examples, rows),
        }
        summaries.append(summary)
    return summaries


def split_row_numbers(splits: np.ndarray) -> np.ndarray:
    """Each image's row number within its own split (the audit concatenates the splits in SPLITS order)."""
    rows = np.zeros(len(splits), dtype=np.int64)
    for index in range(len(SPLITS)):
        members = splits == index
        rows[members] = np.arange(members.sum())
    return rows


def example_pairs(
    images: np.ndarray,
    in_first: np.ndarray,
    digests: np.ndarray,
    hashes: np.ndarray,
    max_distance: int,
    n_examples: int,
    rows: np.ndarray,
) -> list[dict]:
    """The first few pairs (image of the second split, its closest copy in the first): exact copies when
    max_distance is 0, else near copies (different bytes, hash within max_distance). Each pair is listed once."""
    first_indices = np.flatnonzero(in_first)
    examples, seen = [], set()
    for image in images[:SEARCHED_FOR_EXAMPLES]:
        if len(examples) >= n_examples:
            break
        distances = hamming_distances(hashes[first_indices], hashes[image])
        same_bytes = digests[first_indices] == digests[image]
        matches = same_bytes if max_distance == 0 else (~same_bytes & (distances <= max_distance))
        matches &= first_indices != image
        if not matches.any():
            continue
        partner = int(first_indices[matches][np.argmin(distances[matches])])
        if frozenset((partner, int(image))) in seen:
            continue
        seen.add(frozenset((partner, int(image))))
        distance = int(hamming_distances(hashes[partner], hashes[image]))
        examples.append({"first_row": int(rows[partner]), "second_row": int(rows[image]), "distance": distance})
    return examples
