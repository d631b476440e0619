"""Fetch a dataset's files: URL or pre-staged copy, sha256-checked, resumable, written atomically, safely extracted."""

import csv
import hashlib
import http.client
import lzma
import os
import re
import shutil
import tarfile
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

from faceaudit.data import checksums

CHUNK_BYTES = 1 << 20
TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
ARCHIVE_SUFFIXES = (".zip", *TAR_SUFFIXES)
CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
UNSATISFIED_RANGE = re.compile(r"bytes \*/(\d+)")


class DownloadError(RuntimeError):
    pass


@dataclass(frozen=True)
class ArchiveLimits:
    """What one archive may unpack to (the config's `archive_limits`); image archives unpack to about their size."""

    max_unpacked_gb: float = 100.0
    max_compression_ratio: float = 100.0


@dataclass(frozen=True)
class ExpectedSha256:
    value: str
    origin: str  # "config" (a published `sha256:`) or "lock" (recorded by the first download)


def file_name(entry: dict) -> str:
    """The name a download entry is stored under: `name`, else the last part of its URL or path; a plain file name."""
    if entry.get("name"):
        name = entry["name"]
    elif entry.get("url"):
        name = PurePosixPath(urlparse(entry["url"]).path).name
    elif entry.get("path"):
        name = Path(entry["path"]).name
    else:
        raise ValueError(f"download entry {entry} has neither url, path nor name")
    if name in ("", ".", "..") or any(separator in name for separator in ("/", "\\", "\0")):
        raise DownloadError(
            f"download entry {entry}: '{name}' is not a plain file name (it is stored as downloads/<name>, so it "
            "may not be empty, '.', '..' or contain '/' or '\\'); set `name:` to a file name such as faces.zip"
        )
    return name


def install_dataset(
    dataset: str,
    entries: list[dict],
    downloads: Path,
    destination: Path,
    lock_path: Path,
    limits: ArchiveLimits = ArchiveLimits(),
) -> None:
    """Fetch and check every file, then extract archives (or copy other files) into `destination`, all or nothing."""
    staging = destination.with_name(destination.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        for entry in entries:
            install_file(dataset, entry, Path(downloads), Path(lock_path), staging, limits)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(destination, ignore_errors=True)
    staging.rename(destination)


def install_file(
    dataset: str, entry: dict, downloads: Path, lock_path: Path, staging: Path, limits: ArchiveLimits
) -> None:
    path = fetch_checked(dataset, entry, downloads, lock_path)
    if entry.get("extract", True) and path.name.endswith(ARCHIVE_SUFFIXES):
        print(f"extracting {path}")
        extract_archive(path, staging, limits)
    else:
        link_or_copy(path, staging / file_name(entry))


def fetch_checked(dataset: str, entry: dict, downloads: Path, lock_path: Path) -> Path:
    """A local, checksum-verified copy of one file: already downloaded, pre-staged at `path:`, or downloaded now."""
    name = file_name(entry)
    expected = expected_sha256(dataset, entry, name, lock_path)
    local = downloads / name
    if local.is_file():
        source, where = local, f"{local} (already downloaded or pre-staged)"
    elif entry.get("path") and Path(entry["path"]).is_file():
        source, where = Path(entry["path"]), f"pre-staged copy {entry['path']}"
    elif entry.get("url"):
        return fetch_from_url(dataset, entry["url"], local, expected, lock_path)
    else:
        raise DownloadError(missing_file_message(dataset, entry, local))
    actual = sha256_of(source)
    if expected and actual != expected.value:
        fix = mismatch_fix(expected, dataset, name, lock_path)
        raise DownloadError(
            f"{mismatch_message(where, actual, expected, dataset, name, lock_path)} Delete {source} to fetch it "
            f"again, or, {fix}."
        )
    if not expected:
        record_sha256(lock_path, dataset, name, actual)
    print(f"{name}: sha256 ok ({where})")
    return source


def expected_sha256(dataset: str, entry: dict, name: str, lock_path: Path) -> ExpectedSha256 | None:
    if entry.get("sha256"):
        return ExpectedSha256(entry["sha256"], "config")
    recorded = checksums.recorded(lock_path, dataset, name)
    return ExpectedSha256(recorded, "lock") if recorded else None


def fetch_from_url(dataset: str, url: str, local: Path, expected: ExpectedSha256 | None, lock_path: Path) -> Path:
    """Download `url` to `local`, complete (by its length, or by parsing it when the server sent none) and checked."""
    partial, length_known = download(url, local)
    actual = sha256_of(partial)
    if expected and actual != expected.value:
        partial.unlink()
        fix = mismatch_fix(expected, dataset, local.name, lock_path)
        raise DownloadError(
            f"{mismatch_message(url, actual, expected, dataset, local.name, lock_path)} The downloaded file was "
            f"deleted: run again to download it anew, or, {fix}."
        )
    if not expected and not length_known:
        refuse_if_cut_short(url, partial, local.name, lock_path)  # the specific message where the cut shows
        refuse_unverifiable(url, partial, dataset, local.name, actual, lock_path)
    partial.rename(local)
    if not expected:
        record_sha256(lock_path, dataset, local.name, actual)
    print(f"{local.name}: sha256 ok ({url})")
    return local


def record_sha256(lock_path: Path, dataset: str, name: str, sha256: str) -> None:
    checksums.record(lock_path, dataset, name, sha256)
    print(f"recorded sha256 {sha256} of '{name}' in {lock_path}")


def mismatch_message(
    where: str, actual: str, expected: ExpectedSha256, dataset: str, name: str, lock_path: Path
) -> str:
    origin = (
        "given as `sha256:` in the config"
        if expected.origin == "config"
        else f"recorded in the lock file {lock_path} by the first download"
    )
    return (
        f"{where}: sha256 {actual} does not match the expected {expected.value} ({origin}) "
        f"for '{name}' of dataset '{dataset}'."
    )


def mismatch_fix(expected: ExpectedSha256, dataset: str, name: str, lock_path: Path) -> str:
    if expected.origin == "config":
        return f"if the publisher changed the file on purpose, update its `sha256:` in the config (dataset '{dataset}')"
    return (
        f"if the publisher changed the file on purpose (or a bad copy was recorded), delete the entry '{name}' under "
        f"'{dataset}' in {lock_path} so that the next download records it anew"
    )


def missing_file_message(dataset: str, entry: dict, local: Path) -> str:
    staged = f" and the pre-staged copy {entry['path']} does not exist" if entry.get("path") else ""
    return (
        f"dataset '{dataset}': '{file_name(entry)}' is not at {local}{staged}, "
        "and no url is configured to download it. "
        f"Download it by hand (see the dataset's homepage in the config) and copy it to {local}, "
        f"or set `path:` for this file in the config."
    )


def download(url: str, target: Path) -> tuple[Path, bool]:
    """Download to `<target>.part`, resuming a partial one with an HTTP Range request; return that file and whether
    the server told the file's length (then a transfer cut short has already been refused)."""
    partial = target.with_name(target.name + ".part")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        length_known = transfer(url, partial)
    except urllib.error.HTTPError as error:
        raise DownloadError(http_error_message(url, error)) from error
    except (urllib.error.URLError, OSError) as error:
        raise DownloadError(offline_message(url, target, error)) from error
    return partial, length_known


def http_error_message(url: str, error: urllib.error.HTTPError) -> str:
    if error.code in (404, 410):
        return f"cannot download {url}: not found (HTTP {error.code}): check the URL {url} in the config"
    hint = ""
    if error.code in (401, 403):
        hint = "; the publisher may require a login or a form (see the dataset's homepage)"
    elif error.code >= 500:
        hint = "; a server error: run again later"
    return f"cannot download {url}: the server answered HTTP {error.code} ({error.reason}){hint}"


def offline_message(url: str, target: Path, error: Exception) -> str:
    return (
        f"cannot download {url} ({error}). If this machine has no internet, pre-stage the file: download it "
        f"elsewhere and copy it to {target} (or set `path:` for this file in the config), then run again; "
        f"a partial download is kept in {target}.part and resumed."
    )


def transfer(url: str, partial: Path) -> bool:
    """Append the rest of `url` to `partial`; raise DownloadError when it stops short of the length the server told.
    Return whether the server told the length."""
    have = partial.stat().st_size if partial.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        response = urllib.request.urlopen(request, timeout=60)
    except urllib.error.HTTPError as error:
        if error.code == 416 and have:  # nothing left to send: the partial file may already be whole
            return partial_is_whole(url, partial, have, error.headers.get("Content-Range"))
        raise
    with response:
        refuse_html(url, partial, response)
        if have and response.status != 206:
            print(f"{url}: server ignored the Range request, downloading from the start")
            have = 0
        total = expected_total(url, partial, response, have)
        print(f"downloading {url}" + (f", resuming at byte {have}" if have else ""))
        with open(partial, "ab" if have else "wb") as file:
            copy_stream(response, file, have, total, url)
    return total is not None


def partial_is_whole(url: str, partial: Path, have: int, content_range: str | None) -> bool:
    """After HTTP 416 (range not satisfiable): True when the server says the file has exactly `have` bytes, False when
    it says nothing; a partial file longer than the file is junk and deleted."""
    match = UNSATISFIED_RANGE.fullmatch((content_range or "").strip())
    if match is None:
        return False
    if int(match[1]) != have:
        partial.unlink()
        raise DownloadError(
            f"{url}: the partial download {partial} has {have} bytes but the file has {match[1]}; "
            "it was deleted: run again to download the file anew"
        )
    return True


def refuse_html(url: str, partial: Path, response) -> None:
    """A login, consent or 'large file' page is not the dataset: refuse it before it is checksummed and recorded."""
    if "text/html" in response.headers.get("Content-Type", "") and not partial.name.endswith(
        (".html.part", ".htm.part")
    ):
        raise DownloadError(
            f"{url} answered with an HTML page, not the file (a login or confirmation page?). "
            f"Download it in a browser and pre-stage it at {partial.with_suffix('')}."
        )


def expected_total(url: str, partial: Path, response, have: int) -> int | None:
    """The file's length once this response is appended: from Content-Range on a resumed request, else from
    Content-Length; None when the server tells neither."""
    content_range = response.headers.get("Content-Range")
    if response.status == 206 and content_range:
        match = CONTENT_RANGE.fullmatch(content_range.strip())
        if match is None or int(match[1]) != have:
            raise DownloadError(
                f"{url}: asked to resume at byte {have}, the server sent 'Content-Range: {content_range}'; "
                f"delete {partial} and run again to download the file from the start"
            )
        return int(match[3]) if match[3] != "*" else int(match[2]) + 1
    length = response.headers.get("Content-Length")
    return have + int(length) if length is not None else None


def copy_stream(response, file, have: int, total: int | None, url: str) -> None:
    received = have
    next_report = 0.0
    try:
        while chunk := response.read(CHUNK_BYTES):
            file.write(chunk)
            received += len(chunk)
            if total and received / total >= next_report:
                print(f"  {received / 1e6:.1f} of {total / 1e6:.1f} MB")
                next_report += 0.1
    except (OSError, http.client.HTTPException) as error:  # connection reset, IncompleteRead
        raise DownloadError(interrupted_message(url, received, total, error)) from error
    if total is not None and received < total:
        raise DownloadError(interrupted_message(url, received, total, "connection closed"))


def interrupted_message(url: str, received: int, total: int | None, reason) -> str:
    of_total = f" of {total}" if total is not None else ""
    return f"{url}: transfer interrupted after {received}{of_total} bytes ({reason}); run again to resume it"


def refuse_if_cut_short(url: str, partial: Path, name: str, lock_path: Path) -> None:
    """Without a length from the server, a connection closed early looks like a finished download: refuse an archive
    or CSV that does not parse to its end, before its sha256 is recorded."""
    problem = cut_short_problem(partial, name)
    if problem is None:
        return
    raise DownloadError(
        f"{url}: the server sent no length (neither Content-Length nor Content-Range) and '{name}' looks cut short: "
        f"{problem}. It is kept as {partial} and its sha256 was not recorded in {lock_path}: run again to resume the "
        f"download, or delete it to start over; if you know it is whole, rename it to {partial.with_suffix('')} (it "
        "is then taken as pre-staged) or give its published `sha256:` in the config."
    )


def refuse_unverifiable(url: str, partial: Path, dataset: str, name: str, actual: str, lock_path: Path) -> None:
    """Without a length from the server and without a published sha256, nothing proves the file whole: a CSV cut at
    a line end, or an archive cut between members, parses like a whole one. Such a file is neither used nor recorded
    as verified until the user, having checked it, pins its sha256 (or takes it as pre-staged)."""
    raise DownloadError(
        f"{url}: the server sent no length (neither Content-Length nor Content-Range) and the config gives no "
        f"`sha256:` for '{name}', so nothing can tell the whole file from one cut short (at a line end, between "
        f"archive members). It was not used, its sha256 was not recorded in {lock_path}, and it is kept as {partial} "
        f"({partial.stat().st_size:,} bytes, sha256 {actual}). Check it against what the publisher states (size, "
        f"rows, a published checksum), then give `sha256: {actual}` to this file of dataset '{dataset}' in the "
        f"config and run again; or rename it to {partial.with_suffix('')} to take it as pre-staged."
    )


def cut_short_problem(path: Path, name: str) -> str | None:
    """Why a zip, tar or CSV file is incomplete; None when it parses to its end (or is of another kind)."""
    lowered = name.lower()
    if lowered.endswith(".zip"):
        return zip_problem(path)
    if lowered.endswith(TAR_SUFFIXES):
        return tar_problem(path)
    if lowered.endswith(".csv"):
        return csv_problem(path)
    return None


def zip_problem(path: Path) -> str | None:
    try:  # a zip's directory is its very last part
        with zipfile.ZipFile(path) as opened:
            opened.infolist()
    except (zipfile.BadZipFile, OSError) as error:
        return f"it is not a complete zip archive ({error})"
    return None


def tar_problem(path: Path) -> str | None:
    """A tar ends with two zero blocks after its last member; a compressed stream with its own end marker."""
    try:
        with tarfile.open(path) as opened:
            for _ in opened:
                pass
            opened.fileobj.seek(opened.offset)
            end = opened.fileobj.read(2 * tarfile.BLOCKSIZE)
            while opened.fileobj.read(CHUNK_BYTES):  # a cut compressed stream raises EOFError here
                pass
    except (tarfile.TarError, EOFError, OSError, zlib.error, lzma.LZMAError) as error:
        return f"it is not a complete tar archive ({error or type(error).__name__})"
    if end != bytes(2 * tarfile.BLOCKSIZE):
        return "it is not a complete tar archive (it stops before the end-of-archive blocks)"
    return None


def csv_problem(path: Path) -> str | None:
    """A CSV cut short ends without its final newline, inside a quoted field, or in a row shorter than the header."""
    with open(path, "rb") as file:
        if file.seek(0, os.SEEK_END) == 0:
            return "it is empty"
        file.seek(-1, os.SEEK_END)
        if file.read(1) not in (b"\n", b"\r"):
            return "it does not end with a newline, so its last row may be cut"
    with open(path, newline="", encoding="utf-8", errors="replace") as file:
        reader = csv.reader(file, strict=True)
        try:
            header = next(reader)
            for row in reader:
                if row and len(row) != len(header):
                    return f"line {reader.line_num} has {len(row)} fields, the header {len(header)}"
        except csv.Error as error:
            return f"it does not parse as CSV at line {reader.line_num} ({error})"
    return None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def extract_archive(archive: Path, destination: Path, limits: ArchiveLimits = ArchiveLimits()) -> None:
    """Extract a zip or tar archive, refusing it whole if any entry would land outside `destination` or it would
    unpack to more than `limits` allow."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as opened:
            check_entries(archive, opened.namelist(), destination)
            check_unpacked_size(archive, [sum(info.file_size for info in opened.infolist())], limits)
            opened.extractall(destination)
    elif tarfile.is_tarfile(archive):
        with tarfile.open(archive) as opened:
            check_unpacked_size(archive, (member.size for member in opened), limits)
            members = opened.getmembers()
            check_entries(archive, [member.name for member in members], destination)
            links = [member.name for member in members if member.issym() or member.islnk()]
            if links:
                raise ValueError(f"{archive}: refusing an archive with links ({links[:3]})")
            opened.extractall(destination, filter="data")
    else:
        raise ValueError(f"{archive}: not a zip or tar archive")


def check_entries(archive: Path, names: list[str], destination: Path) -> None:
    root = destination.resolve()
    for name in names:
        target = (root / name).resolve()
        if os.path.isabs(name) or (target != root and root not in target.parents):
            raise ValueError(f"{archive}: entry '{name}' would be written outside {destination}; refusing the archive")


def check_unpacked_size(archive: Path, sizes: Iterable[int], limits: ArchiveLimits) -> None:
    """Refuse a zip bomb before anything is written; `sizes` may be lazy (a tar's members are read as they are counted),
    so counting stops as soon as a limit is passed."""
    sizes = iter(sizes)
    packed = archive.stat().st_size
    max_bytes = limits.max_unpacked_gb * 1e9
    max_bytes_by_ratio = limits.max_compression_ratio * max(packed, 1)
    unpacked = 0
    for size in sizes:
        unpacked += size
        if unpacked > min(max_bytes, max_bytes_by_ratio):
            break
    else:
        return
    counted = size_text(unpacked) if next(sizes, None) is None else f"at least {size_text(unpacked)}"
    if unpacked > max_bytes:
        reason = f"more than archive_limits.max_unpacked_gb = {limits.max_unpacked_gb:g}"
        setting = "max_unpacked_gb"
    else:
        reason = (
            f"a compression ratio of more than archive_limits.max_compression_ratio = {limits.max_compression_ratio:g}"
            " (image archives are near 1; a zip bomb?)"
        )
        setting = "max_compression_ratio"
    raise DownloadError(
        f"{archive} ({size_text(packed)}) unpacks to {counted}, {reason}; refusing to extract "
        f"it. If the archive is genuine, raise `archive_limits: {setting}:` in the config."
    )


def size_text(size: float) -> str:
    units = ["bytes", "KB", "MB", "GB"]
    while size >= 1000 and len(units) > 1:
        size /= 1000
        units.pop(0)
    return f"{size:.0f} bytes" if units[0] == "bytes" else f"{size:.1f} {units[0]}"


def link_or_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
