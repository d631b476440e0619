"""Downloads served by a loopback HTTP server: a good file, a checksum mismatch, a transfer cut short (with or
without a length from the server) then resumed, an archive with a `../` entry or that unpacks far beyond its size, a
download name that leaves the folder, a pre-staged copy, the checksum lock, HTTP errors, and no network."""

import copy
import dataclasses
import hashlib
import http.server
import io
import os
import re
import socket
import tarfile
import threading
import zipfile

import pytest
import yaml
from conftest import SCHEMA
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from faceaudit.data.download import ArchiveLimits, DownloadError, install_dataset

LABELS_CSV = b"file,gender\ntrain/1.jpg,Female\n" * 2000


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def zip_bytes(entries: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def tar_bytes(entries: dict[str, bytes], mode: str = "w:gz") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as archive:
        for name, data in entries.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


class Server:
    """Serves `files` on 127.0.0.1 with HTTP Range support. `cut_next` cuts the next response short and closes the
    connection; `length_headers` are the length headers it sends; `statuses` answers a path with an error status."""

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.requests: list[dict] = []
        self.cut_next: int | None = None
        self.content_type = "application/octet-stream"
        self.length_headers = {"Content-Length", "Content-Range"}
        self.statuses: dict[str, int] = {}
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append({"path": self.path, "range": self.headers.get("Range")})
                data = server.files.get(self.path)
                if self.path in server.statuses or data is None:
                    self.send_error(server.statuses.get(self.path, 404))
                    return
                start = int(self.headers["Range"].split("=")[1].rstrip("-")) if self.headers.get("Range") else 0
                if start >= len(data) and start:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.end_headers()
                    return
                self.send_response(206 if start else 200)
                self.send_header("Content-Type", server.content_type)
                if "Content-Length" in server.length_headers:
                    self.send_header("Content-Length", str(len(data) - start))
                if start and "Content-Range" in server.length_headers:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                self.end_headers()
                body = data[start:]
                if server.cut_next is not None:
                    body, server.cut_next = body[: server.cut_next], None
                    self.close_connection = True
                self.wfile.write(body)

            def log_message(self, *arguments):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}/{name}"


@pytest.fixture
def server():
    server = Server()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


@pytest.fixture
def places(tmp_path) -> dict:
    return {
        "downloads": tmp_path / "downloads",
        "destination": tmp_path / "data",
        "lock_path": tmp_path / "checksums.lock.yaml",
    }


def test_good_files_are_checked_extracted_and_copied(server, places):
    archive = zip_bytes({"train/1.jpg": b"jpeg one", "val/2.jpg": b"jpeg two"})
    server.files = {"/faces.zip": archive, "/labels.csv": LABELS_CSV}
    entries = [
        {"url": server.url("faces.zip"), "sha256": sha256(archive)},
        {"url": server.url("labels.csv"), "sha256": sha256(LABELS_CSV)},
    ]

    install_dataset("faces", entries, **places)

    data = places["destination"]
    assert (data / "train/1.jpg").read_bytes() == b"jpeg one"
    assert (data / "val/2.jpg").read_bytes() == b"jpeg two"
    assert (data / "labels.csv").read_bytes() == LABELS_CSV
    assert (places["downloads"] / "faces.zip").read_bytes() == archive
    assert not list(places["downloads"].glob("*.part"))
    assert not places["lock_path"].exists()  # published checksums are not recorded


def test_checksum_mismatch_fails_naming_both_sums_and_keeps_nothing(server, places):
    server.files = {"/labels.csv": LABELS_CSV}
    wrong = "0" * 64

    with pytest.raises(DownloadError) as error:
        install_dataset("faces", [{"url": server.url("labels.csv"), "sha256": wrong}], **places)

    message = str(error.value)
    assert server.url("labels.csv") in message
    assert sha256(LABELS_CSV) in message and wrong in message
    assert "given as `sha256:` in the config" in message and "update its `sha256:` in the config" in message
    assert str(places["lock_path"]) not in message
    assert not list(places["downloads"].iterdir())
    assert not places["destination"].exists()
    assert not places["destination"].with_name("data.partial").exists()


@pytest.mark.parametrize("published", [True, False], ids=["published_sha256", "no_sha256"])
def test_interrupted_transfer_is_resumed_with_a_range_request(server, places, published):
    server.files = {"/labels.csv": LABELS_CSV}
    server.cut_next = 10_000
    entry = (
        {"url": server.url("labels.csv"), "sha256": sha256(LABELS_CSV)}
        if published
        else {"url": server.url("labels.csv")}
    )

    with pytest.raises(DownloadError, match=f"interrupted after 10000 of {len(LABELS_CSV)} bytes.*run again to resume"):
        install_dataset("faces", [entry], **places)
    assert (places["downloads"] / "labels.csv.part").stat().st_size == 10_000
    assert not (places["downloads"] / "labels.csv").exists()
    assert not places["lock_path"].exists()

    install_dataset("faces", [entry], **places)

    assert server.requests[-1]["range"] == "bytes=10000-"
    assert (places["destination"] / "labels.csv").read_bytes() == LABELS_CSV
    assert not (places["downloads"] / "labels.csv.part").exists()
    if not published:
        assert yaml.safe_load(places["lock_path"].read_text()) == {"faces": {"labels.csv": sha256(LABELS_CSV)}}


def test_a_resumed_transfer_cut_short_again_is_caught_from_its_content_range(server, places):
    server.files = {"/labels.csv": LABELS_CSV}
    entry = {"url": server.url("labels.csv")}
    server.cut_next = 10_000
    with pytest.raises(DownloadError, match="interrupted after 10000 of"):
        install_dataset("faces", [entry], **places)

    server.length_headers = {"Content-Range"}  # the resumed answer tells the whole length only in Content-Range
    server.cut_next = 5_000
    with pytest.raises(DownloadError, match=f"interrupted after 15000 of {len(LABELS_CSV)} bytes"):
        install_dataset("faces", [entry], **places)
    assert server.requests[-1]["range"] == "bytes=10000-"
    assert (places["downloads"] / "labels.csv.part").stat().st_size == 15_000
    assert not places["lock_path"].exists()

    install_dataset("faces", [entry], **places)

    assert server.requests[-1]["range"] == "bytes=15000-"
    assert (places["destination"] / "labels.csv").read_bytes() == LABELS_CSV
    assert yaml.safe_load(places["lock_path"].read_text()) == {"faces": {"labels.csv": sha256(LABELS_CSV)}}


def files_cut_short() -> list:
    """(name, whole file, bytes the server sends before closing): each cut where no length would reveal it."""
    small_tar = tar_bytes({"UTKFace/1.jpg": os.urandom(1000)}, mode="w")
    with tarfile.open(fileobj=io.BytesIO(small_tar)) as opened:
        member = opened.getmembers()[-1]
        end_of_last_member = member.offset_data + -(-member.size // tarfile.BLOCKSIZE) * tarfile.BLOCKSIZE
    images = {f"train/{number}.jpg": os.urandom(3000) for number in range(5)}
    return [
        pytest.param("faces.zip", zip_bytes(images), 9000, id="zip"),
        pytest.param("faces.tar.gz", tar_bytes(images), 9000, id="tar.gz"),
        pytest.param("faces.tar", small_tar, end_of_last_member, id="tar_without_its_end_blocks"),
        pytest.param("labels.csv", LABELS_CSV, 10_005, id="csv_mid_row"),
    ]


@pytest.mark.parametrize("name, whole, sent", files_cut_short())
def test_a_file_cut_short_without_any_length_is_refused_unrecorded_then_resumed(server, places, name, whole, sent):
    server.files = {f"/{name}": whole}
    server.length_headers = set()  # neither Content-Length nor Content-Range: the close looks like the end
    server.cut_next = sent
    entry = {"url": server.url(name)}

    with pytest.raises(DownloadError) as error:
        install_dataset("faces", [entry], **places)

    message = str(error.value)
    assert "the server sent no length" in message and f"'{name}' looks cut short" in message
    assert f"its sha256 was not recorded in {places['lock_path']}" in message
    assert (places["downloads"] / f"{name}.part").stat().st_size == sent
    assert not places["lock_path"].exists()
    assert not places["destination"].exists()

    with pytest.raises(DownloadError, match="nothing can tell the whole file from one cut short"):
        install_dataset("faces", [entry], **places)  # resumed to its end, but still nothing proves it whole

    assert server.requests[-1]["range"] == f"bytes={sent}-"
    assert (places["downloads"] / f"{name}.part").read_bytes() == whole
    assert not places["lock_path"].exists() and not places["destination"].exists()


def test_a_csv_cut_at_a_line_end_without_length_or_sha256_is_neither_used_nor_locked(server, places):
    """Issue 25, bug 2: the cut parses like a whole CSV; it was accepted, its hash locked, and the study trained on
    half the rows. Now nothing unverifiable is used or recorded, and the message says how to pin the hash."""
    server.files = {"/labels.csv": LABELS_CSV}
    server.length_headers = set()
    server.cut_next = len(LABELS_CSV) // 2  # the file repeats a two-line block: half of it ends at a line end
    entry = {"url": server.url("labels.csv")}

    with pytest.raises(DownloadError) as error:
        install_dataset("faces", [entry], **places)

    cut = (places["downloads"] / "labels.csv.part").read_bytes()
    assert cut.endswith(b"\n") and len(cut) < len(LABELS_CSV)
    message = str(error.value)
    assert f"sha256 {sha256(cut)}" in message and f"give `sha256: {sha256(cut)}`" in message
    assert "its sha256 was not recorded" in message
    assert not places["lock_path"].exists() and not places["destination"].exists()

    # The user checks the file against the publisher's count, finds it short, and pins the published hash: the
    # download resumes to the end and the whole file is used.
    install_dataset("faces", [entry | {"sha256": sha256(LABELS_CSV)}], **places)

    assert (places["destination"] / "labels.csv").read_bytes() == LABELS_CSV


def test_a_whole_partial_download_is_accepted_when_the_server_answers_416(server, places):
    server.files = {"/labels.csv": LABELS_CSV}
    places["downloads"].mkdir()
    (places["downloads"] / "labels.csv.part").write_bytes(LABELS_CSV)

    install_dataset("faces", [{"url": server.url("labels.csv")}], **places)

    assert server.requests[-1]["range"] == f"bytes={len(LABELS_CSV)}-"
    assert (places["destination"] / "labels.csv").read_bytes() == LABELS_CSV
    assert yaml.safe_load(places["lock_path"].read_text()) == {"faces": {"labels.csv": sha256(LABELS_CSV)}}


def test_a_partial_download_longer_than_the_file_is_deleted(server, places):
    server.files = {"/labels.csv": LABELS_CSV}
    places["downloads"].mkdir()
    (places["downloads"] / "labels.csv.part").write_bytes(LABELS_CSV + b"junk\n")

    with pytest.raises(DownloadError, match=f"has {len(LABELS_CSV) + 5} bytes but the file has {len(LABELS_CSV)}"):
        install_dataset("faces", [{"url": server.url("labels.csv")}], **places)

    assert not (places["downloads"] / "labels.csv.part").exists()
    assert not places["lock_path"].exists()


def test_a_mismatch_with_the_lock_file_names_it_and_how_to_re_record(server, places):
    server.files = {"/labels.csv": LABELS_CSV}
    entry = {"url": server.url("labels.csv")}
    install_dataset("faces", [entry], **places)
    recorded = places["lock_path"].read_text()
    (places["downloads"] / "labels.csv").unlink()
    changed = LABELS_CSV + b"train/2.jpg,Male\n"
    server.files = {"/labels.csv": changed}  # the publisher changed the file

    with pytest.raises(DownloadError) as error:
        install_dataset("faces", [entry], **places)

    message = str(error.value)
    assert f"sha256 {sha256(changed)} does not match the expected {sha256(LABELS_CSV)}" in message
    assert f"recorded in the lock file {places['lock_path']}" in message
    assert f"delete the entry 'labels.csv' under 'faces' in {places['lock_path']}" in message
    assert "in the config" not in message
    assert places["lock_path"].read_text() == recorded
    assert not list(places["downloads"].iterdir())


@pytest.mark.parametrize("make_archive, name", [(zip_bytes, "evil.zip"), (tar_bytes, "evil.tar.gz")])
def test_archive_with_an_entry_outside_the_folder_is_refused(server, places, make_archive, name):
    archive = make_archive({"train/1.jpg": b"fine", "../escaped.txt": b"outside"})
    server.files = {f"/{name}": archive}

    with pytest.raises(ValueError, match=r"entry '\.\./escaped\.txt' would be written outside"):
        install_dataset("faces", [{"url": server.url(name), "sha256": sha256(archive)}], **places)

    assert not (places["destination"].parent / "escaped.txt").exists()
    assert not places["destination"].exists()


def test_offline_error_names_the_url_and_how_to_pre_stage(places):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    url = f"http://127.0.0.1:{port}/faces.zip"  # nothing listens there

    with pytest.raises(DownloadError) as error:
        install_dataset("faces", [{"url": url}], **places)

    message = str(error.value)
    assert f"cannot download {url}" in message
    assert "pre-stage the file" in message
    assert str(places["downloads"] / "faces.zip") in message and "`path:`" in message


def test_first_download_records_the_checksum_and_later_copies_are_checked(server, places, tmp_path):
    server.files = {"/labels.csv": LABELS_CSV}
    install_dataset("faces", [{"url": server.url("labels.csv")}], **places)

    assert yaml.safe_load(places["lock_path"].read_text()) == {"faces": {"labels.csv": sha256(LABELS_CSV)}}

    # A pre-staged copy that differs from what was recorded is refused, naming the lock file.
    (places["downloads"] / "labels.csv").unlink()
    staged = tmp_path / "staged.csv"
    staged.write_bytes(LABELS_CSV + b"tampered\n")
    with pytest.raises(DownloadError, match=f"pre-staged copy {staged}: sha256 .* does not match.*checksums.lock.yaml"):
        install_dataset("faces", [{"url": server.url("labels.csv"), "path": str(staged)}], **places)

    # The same bytes, pre-staged, are accepted without touching the network.
    staged.write_bytes(LABELS_CSV)
    requests_before = len(server.requests)
    install_dataset("faces", [{"url": server.url("labels.csv"), "path": str(staged)}], **places)
    assert len(server.requests) == requests_before
    assert (places["destination"] / "labels.csv").read_bytes() == LABELS_CSV


def test_pre_staged_file_without_url_that_is_missing_says_where_to_put_it(places):
    with pytest.raises(DownloadError) as error:
        install_dataset("faces", [{"name": "img_align_celeba.zip"}], **places)

    message = str(error.value)
    assert "'img_align_celeba.zip' is not at" in message
    assert str(places["downloads"] / "img_align_celeba.zip") in message


def test_html_page_instead_of_the_file_is_refused(server, places):
    server.files = {"/big.zip": b"<html>confirm download</html>"}
    server.content_type = "text/html; charset=utf-8"

    with pytest.raises(DownloadError, match="answered with an HTML page"):
        install_dataset("faces", [{"url": server.url("big.zip")}], **places)

    assert not places["lock_path"].exists()


@pytest.mark.parametrize(
    "name, archive",
    [
        ("bomb.zip", zip_bytes({"zeros.bin": bytes(5_000_000)}, zipfile.ZIP_DEFLATED)),
        ("bomb.tar.gz", tar_bytes({"zeros.bin": bytes(5_000_000)})),
    ],
    ids=["zip", "tar.gz"],
)
def test_an_archive_that_unpacks_far_beyond_its_size_is_refused(server, places, name, archive):
    server.files = {f"/{name}": archive}
    assert len(archive) < 10_000  # 5 MB of zeros, a few KB packed

    with pytest.raises(DownloadError) as error:
        install_dataset("faces", [{"url": server.url(name)}], **places)

    message = str(error.value)
    assert str(places["downloads"] / name) in message
    assert f"({len(archive) / 1000:.1f} KB) unpacks to 5.0 MB" in message
    assert "archive_limits.max_compression_ratio = 100" in message
    assert "raise `archive_limits: max_compression_ratio:` in the config" in message
    assert not places["destination"].exists()
    assert not places["destination"].with_name("data.partial").exists()


def test_an_archive_larger_than_the_unpacked_limit_is_refused_and_passes_under_the_default(server, places):
    images = {f"train/{number}.jpg": os.urandom(500_000) for number in range(4)}  # JPEG-like: does not compress
    archive = zip_bytes(images, zipfile.ZIP_DEFLATED)
    server.files = {"/faces.zip": archive}
    entries = [{"url": server.url("faces.zip")}]

    with pytest.raises(DownloadError) as error:
        install_dataset("faces", entries, **places, limits=ArchiveLimits(max_unpacked_gb=0.001))

    message = str(error.value)
    assert (
        f"({len(archive) / 1e6:.1f} MB) unpacks to 2.0 MB, more than archive_limits.max_unpacked_gb = 0.001" in message
    )
    assert "raise `archive_limits: max_unpacked_gb:` in the config" in message
    assert not places["destination"].exists()

    install_dataset("faces", entries, **places)

    assert (places["destination"] / "train/3.jpg").read_bytes() == images["train/3.jpg"]


@pytest.mark.parametrize("name", ["../escaped.csv", "/tmp/escaped.csv", "sub/escaped.csv", "..", "back\\slash.csv"])
def test_a_download_name_that_is_not_a_plain_file_name_is_refused(server, places, tmp_path, name):
    server.files = {"/labels.csv": LABELS_CSV}

    with pytest.raises(DownloadError, match=f"'{re.escape(name)}' is not a plain file name.*set `name:`"):
        install_dataset("faces", [{"url": server.url("labels.csv"), "name": name}], **places)

    assert server.requests == []
    assert not (tmp_path / "escaped.csv").exists()
    assert not places["destination"].exists()


def download_study(download: list[dict]) -> dict:
    return {
        "datasets": {
            "utk": {"layout": "utkface_names", "labels": {"gender": ["Male", "Female"]}, "download": download}
        },
        "experiments": {"gender": {"dataset": "utk", "targets": ["gender"], "model": "mlp"}},
    }


@pytest.mark.parametrize("name", ["../UTKFace.tar.gz", "/tmp/UTKFace.tar.gz", "sub/UTKFace.tar.gz", "..", "a\\b"])
def test_the_schema_refuses_a_download_name_that_is_not_a_plain_file_name(name):
    with pytest.raises(WorkflowError) as error:
        validate(download_study([{"name": name}]), SCHEMA, set_default=True)

    assert "does not match" in str(error.value) and "['download'][0]['name']" in str(error.value)


def test_the_schema_fills_the_archive_limits_the_library_defaults_to():
    config = copy.deepcopy(download_study([{"name": "UTKFace.tar.gz"}]))

    validate(config, SCHEMA, set_default=True)

    assert config["archive_limits"] == dataclasses.asdict(ArchiveLimits())


@pytest.mark.parametrize("status", [404, 410])
def test_a_missing_file_says_not_found_and_to_check_the_url(server, places, status):
    server.files = {"/faces.zip": b"gone"}
    server.statuses = {"/faces.zip": status}

    with pytest.raises(DownloadError) as error:
        install_dataset("faces", [{"url": server.url("faces.zip")}], **places)

    message = str(error.value)
    assert f"not found (HTTP {status}): check the URL {server.url('faces.zip')}" in message
    assert "internet" not in message and "pre-stage" not in message


def test_another_http_error_names_its_status_without_offline_advice(server, places):
    server.files = {"/faces.zip": b"busy"}
    server.statuses = {"/faces.zip": 503}

    with pytest.raises(DownloadError) as error:
        install_dataset("faces", [{"url": server.url("faces.zip")}], **places)

    message = str(error.value)
    assert f"cannot download {server.url('faces.zip')}: the server answered HTTP 503" in message
    assert "internet" not in message and "pre-stage" not in message
