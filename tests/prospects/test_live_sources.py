"""Live mode: the nflverse combine CSV downloaded through the retrying HTTP client from a
local server that answers like GitHub's release downloads (a redirect, then the file)."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import pytest

from assets.prospects.sample_data import build_files
from assets.prospects.sources import ProspectSource, SourceConfigError
from assets.prospects.staging import read_extract, staging_assets
from resources.http import SourceError
from resources.warehouse import DuckDBWarehouse

RELEASE = "/nflverse/nflverse-data/releases/download/combine/combine.csv"


def whole_history() -> bytes:
    """Every season in one file, as nflverse publishes it."""
    first, second = (build_files(y)["nfl"].decode().splitlines() for y in (2023, 2024))
    return ("\n".join(first + second[1:]) + "\n").encode()


class Server:
    def __init__(self, body: bytes):
        self.body, self.faults, self.paths = body, [], []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                outer.paths.append(self.path)
                if self.path == RELEASE:  # GitHub answers a release asset with a redirect
                    self.send_response(302)
                    self.send_header("Location", f"{outer.url}/objects/combine.csv")
                    self.end_headers()
                    return
                if outer.faults:
                    status = outer.faults.pop(0)
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if self.path != "/objects/combine.csv":
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(outer.body)))
                self.end_headers()
                self.wfile.write(outer.body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = Server(whole_history())
    yield s
    s.close()


def live(server, tmp_path, **kw) -> ProspectSource:
    return ProspectSource(
        source="nfl",
        mode="live",
        url=server.url + RELEASE,
        download_dir=str(tmp_path / "downloads"),
        backoff_s=0.0,
        **kw,
    )


def test_download_keeps_the_seasons_rows_and_names_the_url(server, tmp_path):
    extract = live(server, tmp_path).extract(2024)
    assert extract.location == server.url + RELEASE and extract.whole_history
    assert extract.path.read_bytes() == server.body
    load = read_extract(extract)
    sample = read_extract(
        ProspectSource(source="nfl", sample_dir=str(tmp_path / "sample")).extract(2024)
    )
    assert len(load.rows) == len(sample.rows) and len(load.rejections) == len(sample.rejections)
    assert set(load.rows["season"]) == {2024}
    assert load.extract.extraction_id.startswith("nfl-2024-")


def test_transient_failures_are_retried(server, tmp_path):
    server.faults = [503, 502]
    extract = live(server, tmp_path).extract(2023)
    assert extract.size == len(server.body)
    assert server.paths.count("/objects/combine.csv") == 3


def test_a_missing_file_fails_in_one_line_naming_the_url(server, tmp_path):
    client = ProspectSource(
        source="nfl", mode="live", url=server.url + "/nope_{year}.csv", backoff_s=0.0,
        download_dir=str(tmp_path),
    )  # fmt: skip
    with pytest.raises(SourceError) as failed:
        client.extract(2024)
    message = str(failed.value)
    assert "\n" not in message and "404" in message and "/nope_2024.csv" in message


def test_live_mode_without_a_url_is_refused_at_once():
    with pytest.raises(SourceConfigError, match="prospects.urls.cfr"):
        ProspectSource(source="cfr", mode="live")


def test_staging_in_live_mode_records_the_url_it_read(server, tmp_path):
    [asset] = [a for a in staging_assets if a.key.path[-1] == "prospects_nfl"]
    result = dg.materialize(
        [asset],
        partition_key="2024",
        resources={
            "warehouse": DuckDBWarehouse(path=str(tmp_path / "wh.duckdb")),
            "prospects_nfl": live(server, tmp_path),
        },
    )
    [event] = result.get_asset_materialization_events()
    metadata = event.materialization.metadata
    assert metadata["read_from"].value == server.url + RELEASE
    assert metadata["source"].value == f"live {server.url + RELEASE}"
    assert (
        metadata["rows_in"].value
        == metadata["rows_loaded"].value + metadata["rows_quarantined"].value
    )
