"""Fetch a dataset's files: URL or pre-staged copy, sha256-checked, resumable, written atomically, safely extracted."""

import hashlib
import http.client
import os
import shutil
import tarfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

from faceaudit.data import checksums

CHUNK_BYTES = 1 << 20
ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")


class DownloadError(RuntimeError):
    pass


def file_name(entry: dict) -> str:
    """The name a download entry is stored under: `name`, else the last part of its URL or path."""
    if entry.get("name"):
        return entry["name"]
    if entry.get("url"):
        return PurePosixPath(urlparse(entry["url"]).path).name
    if entry.get("path"):
        return Path(entry["path"]).name
    raise ValueError(f"download entry {entry} has neither url, path nor name")


def install_dataset(dataset: str, entries: list[dict], downloads: Path, destination: Path, lock_path: Path) -> None:
    """Fetch and check every file, then extract archives (or copy other files) into `destination`, all or nothing."""
    staging = destination.with_name(destination.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for entry in entries:
        path = fetch_checked(dataset, entry, Path(downloads), Path(lock_path))
        if entry.get("extract", True) and path.name.endswith(ARCHIVE_SUFFIXES):
            print(f"extracting {path}")
            extract_archive(path, staging)
        else:
            link_or_copy(path, staging / file_name(entry))
    shutil.rmtree(destination, ignore_errors=True)
    staging.rename(destination)


def fetch_checked(dataset: str, entry: dict, downloads: Path, lock_path: Path) -> Path:
    """A local, checksum-verified copy of one file: already downloaded, pre-staged at `path:`, or downloaded now."""
    name = file_name(entry)
    expected = entry.get("sha256") or checksums.recorded(lock_path, dataset, name)
    local = downloads / name
    if local.is_file():
        source, where = local, f"{local} (already downloaded or pre-staged)"
    elif entry.get("path") and Path(entry["path"]).is_file():
        source, where = Path(entry["path"]), f"pre-staged copy {entry['path']}"
    elif entry.get("url"):
        source, where = download(entry["url"], local, expected), entry["url"]
    else:
        raise DownloadError(missing_file_message(dataset, entry, local))
    actual = sha256_of(source)
    if expected and actual != expected:
        raise DownloadError(
            f"{where}: sha256 {actual} does not match the expected {expected} for '{name}' of dataset '{dataset}'. "
            f"Delete the file to fetch it again, or, if the publisher changed it on purpose, update the sha256 "
            f"(in the config, or in {lock_path})."
        )
    if not expected:
        checksums.record(lock_path, dataset, name, actual)
        print(f"recorded sha256 {actual} of '{name}' in {lock_path}")
    print(f"{name}: sha256 ok ({where})")
    return source


def missing_file_message(dataset: str, entry: dict, local: Path) -> str:
    staged = f" and the pre-staged copy {entry['path']} does not exist" if entry.get("path") else ""
    return (
        f"dataset '{dataset}': '{file_name(entry)}' is not at {local}{staged}, "
        "and no url is configured to download it. "
        f"Download it by hand (see the dataset's homepage in the config) and copy it to {local}, "
        f"or set `path:` for this file in the config."
    )


def download(url: str, target: Path, expected_sha256: str | None) -> Path:
    """Download to `<target>.part` (resuming a partial one with an HTTP Range request), check, rename to `target`."""
    partial = target.with_name(target.name + ".part")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        transfer(url, partial)
    except (urllib.error.URLError, OSError) as error:
        raise DownloadError(offline_message(url, target, error)) from error
    actual = sha256_of(partial)
    if expected_sha256 and actual != expected_sha256:
        partial.unlink()
        raise DownloadError(
            f"{url}: downloaded file has sha256 {actual}, expected {expected_sha256}; it was deleted. "
            f"Run again to download it anew, or fix the sha256 in the config if the publisher changed the file."
        )
    partial.rename(target)
    return target


def offline_message(url: str, target: Path, error: Exception) -> str:
    return (
        f"cannot download {url} ({error}). If this machine has no internet, pre-stage the file: download it "
        f"elsewhere and copy it to {target} (or set `path:` for this file in the config), then run again; "
        f"a partial download is kept in {target}.part and resumed."
    )


def transfer(url: str, partial: Path) -> None:
    """Append the rest of `url` to `partial`; raise DownloadError when the transfer stops short."""
    have = partial.stat().st_size if partial.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        response = urllib.request.urlopen(request, timeout=60)
    except urllib.error.HTTPError as error:
        if error.code == 416 and have:  # the partial file is already whole
            return
        raise
    with response:
        refuse_html(url, partial, response)
        if have and response.status != 206:
            print(f"{url}: server ignored the Range request, downloading from the start")
            have = 0
        total = expected_total(response, have)
        print(f"downloading {url}" + (f", resuming at byte {have}" if have else ""))
        with open(partial, "ab" if have else "wb") as file:
            copy_stream(response, file, have, total, url)


def refuse_html(url: str, partial: Path, response) -> None:
    """A login, consent or 'large file' page is not the dataset: refuse it before it is checksummed and recorded."""
    if "text/html" in response.headers.get("Content-Type", "") and not partial.name.endswith(
        (".html.part", ".htm.part")
    ):
        raise DownloadError(
            f"{url} answered with an HTML page, not the file (a login or confirmation page?). "
            f"Download it in a browser and pre-stage it at {partial.with_suffix('')}."
        )


def expected_total(response, have: int) -> int | None:
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
    return f"{url}: transfer interrupted after {received} of {total} bytes ({reason}); run again to resume it"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def extract_archive(archive: Path, destination: Path) -> None:
    """Extract a zip or tar archive, refusing it whole if any entry would land outside `destination`."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as opened:
            check_entries(archive, opened.namelist(), destination)
            opened.extractall(destination)
    elif tarfile.is_tarfile(archive):
        with tarfile.open(archive) as opened:
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


def link_or_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
