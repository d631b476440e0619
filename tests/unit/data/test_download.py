"""Downloads served by a loopback HTTP server: a good file, a checksum mismatch, a transfer cut short then resumed,
an archive with a `../` entry, a pre-staged copy, the checksum lock, and the message when there is no network."""

import hashlib
import http.server
import io
import socket
import tarfile
import threading
import zipfile

import pytest
import yaml

from faceaudit.data.download import DownloadError, install_dataset

LABELS_CSV = b"file,gender\ntrain/1.jpg,Female\n" * 2000


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def tar_bytes(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in entries.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


class Server:
    """Serves `files` on 127.0.0.1 with HTTP Range support; `cut_next` cuts the next response short."""

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.requests: list[dict] = []
        self.cut_next: int | None = None
        self.content_type = "application/octet-stream"
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append({"path": self.path, "range": self.headers.get("Range")})
                data = server.files.get(self.path)
                if data is None:
                    self.send_error(404)
                    return
                start = int(self.headers["Range"].split("=")[1].rstrip("-")) if self.headers.get("Range") else 0
                self.send_response(206 if start else 200)
                self.send_header("Content-Type", server.content_type)
                self.send_header("Content-Length", str(len(data) - start))
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
    assert not list(places["downloads"].iterdir())
    assert not places["destination"].exists()


def test_interrupted_transfer_is_resumed_with_a_range_request(server, places):
    server.files = {"/labels.csv": LABELS_CSV}
    server.cut_next = 10_000
    entry = {"url": server.url("labels.csv"), "sha256": sha256(LABELS_CSV)}

    with pytest.raises(DownloadError, match=f"interrupted after 10000 of {len(LABELS_CSV)} bytes.*run again to resume"):
        install_dataset("faces", [entry], **places)
    assert (places["downloads"] / "labels.csv.part").stat().st_size == 10_000
    assert not (places["downloads"] / "labels.csv").exists()

    install_dataset("faces", [entry], **places)

    assert server.requests[-1]["range"] == "bytes=10000-"
    assert (places["destination"] / "labels.csv").read_bytes() == LABELS_CSV
    assert not (places["downloads"] / "labels.csv.part").exists()


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
