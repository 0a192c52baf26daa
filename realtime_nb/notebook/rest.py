"""The REST half of the client: blocking calls to the server's ``/v1`` API.

Example:
    >>> import realtime_nb as rt
    >>> with rt.connect() as client:
    ...     RestClient(client.url, client.token).health()["status"]
    'ok'
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from realtime_nb.core.protocol import ErrorCode
from realtime_nb.vision.plugins.registry import default_registry

__all__ = ["ApiError", "RestClient"]


class ApiError(RuntimeError):
    """A REST call failed. ``code`` is the server's error code, ``status`` the HTTP status
    (0 when the server could not be reached)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class RestClient:
    """Calls the server's REST API with its token.

    Args:
        url: ``http://host:port`` of the server.
        token: The server's token.
    """

    def __init__(self, url: str, token: str) -> None:
        self.url = url.rstrip("/")
        self.token = token

    def request(self, method: str, path: str, body: Any = None, timeout: float = 30) -> Any:
        """Call the REST API and return the decoded JSON.

        Raises:
            ApiError: Any 4xx/5xx answer, or the server could not be reached (status 0).
        """
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Authorization", f"token {self.token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with self._open(req, timeout) as resp:
            kind = resp.headers.get_content_type()
            if kind != "application/json":
                raise ApiError(
                    resp.status,
                    "NOT_JSON",
                    f"{path} answers {kind}, not JSON: fetch it with download() "
                    "(a job's video: job.video())",
                )
            return json.loads(resp.read() or b"null")

    def download(self, path: str, dest: Path, timeout: float = 300) -> Path:
        """GET a binary resource (a video) into ``dest``, streamed; returns ``dest``.

        The file appears whole or not at all: it is written next to ``dest`` and renamed.

        Raises:
            ApiError: As :meth:`request`.
        """
        req = urllib.request.Request(self.url + path)
        req.add_header("Authorization", f"token {self.token}")
        partial = dest.with_name(dest.name + ".part")
        try:
            with self._open(req, timeout) as resp, partial.open("wb") as out:
                shutil.copyfileobj(resp, out, 1 << 20)
            partial.replace(dest)
        finally:
            partial.unlink(missing_ok=True)
        return dest

    @contextlib.contextmanager
    def _open(self, req: urllib.request.Request, timeout: float) -> Iterator[Any]:
        """``urlopen`` with every failure turned into an :class:`ApiError`."""
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                yield resp
        except urllib.error.HTTPError as exc:
            try:
                with exc:
                    err = json.loads(exc.read())["error"]
                raise ApiError(exc.code, err["code"], err["message"]) from None
            except (ValueError, KeyError, TypeError):
                raise ApiError(exc.code, "HTTP_ERROR", str(exc)) from None
        except (urllib.error.URLError, OSError) as exc:
            # URLError for refused connections; a bare OSError (TimeoutError, a reset) when the
            # server stops answering mid-response.
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            raise ApiError(0, "CONNECTION_LOST", f"{self.url}: {reason}") from None

    def create_job(
        self, source: str, plugins: list[str], options: dict[str, Any]
    ) -> dict[str, Any]:
        """``POST /v1/jobs``: the new job's record.

        The request carries this process's working directory, so a relative path in
        ``source`` means the file a user sees from where they are (the notebook's folder, the
        shell's current directory).
        """
        body = {"source": source, "plugins": plugins, "options": options, "cwd": os.getcwd()}
        try:
            return dict(self.request("POST", "/v1/jobs", body))
        except ApiError as exc:
            if exc.code != ErrorCode.PLUGIN_UNKNOWN:
                raise
            local = set(default_registry.names())
            only_here = [name for name in plugins if name in local]
            missing = [name for name in only_here if name not in self._server_plugins()]
            if not missing:
                raise
            raise ApiError(
                exc.status,
                exc.code,
                f"plugin {missing[0]!r} is registered in this Python process but not on the "
                f"server at {self.url}: a server only runs plugins it loaded itself. Start it "
                f"with `realtime-nb serve --plugins-from your_plugins.py` (or install the "
                f"plugin's package there with a realtime_nb.plugins entry point). "
                f"The server said: {exc.message}",
            ) from None

    def _server_plugins(self) -> set[str]:
        try:
            return {p["name"] for p in self.plugins()}
        except ApiError:
            return set()

    def download_video(self, job_id: str, dest: Path, timeout: float = 600) -> Path:
        """``GET /v1/jobs/{id}/video`` into ``dest``: the annotated video (H.264 MP4). For an
        ended job not submitted with ``annotate_video`` the server draws it first, from the
        source and the stored results (a long job takes a while: ``timeout`` seconds at most).

        Raises:
            ApiError: JOB_NOT_FINISHED (409) while the job runs without ``annotate_video``;
                NOT_FOUND when it processed no frame or its source is gone; any failure of
                :meth:`download`.
        """
        return self.download(f"/v1/jobs/{quote(job_id)}/video", dest, timeout)

    def frame(self, job_id: str, index: int, timeout: float = 60) -> bytes:
        """``GET /v1/jobs/{id}/frames/{index}``: one processed frame as a binary preview (the
        undrawn JPEG and that frame's stored results), decoded again by the server.

        Raises:
            ApiError: NOT_FOUND when the job did not process that frame or its source is gone.
        """
        req = urllib.request.Request(f"{self.url}/v1/jobs/{quote(job_id)}/frames/{int(index)}")
        req.add_header("Authorization", f"token {self.token}")
        with self._open(req, timeout) as resp:
            return bytes(resp.read())

    def get_job(self, job_id: str) -> dict[str, Any]:
        """``GET /v1/jobs/{id}``: the job record."""
        return dict(self.request("GET", f"/v1/jobs/{quote(job_id)}"))

    def cancel_job(self, job_id: str) -> dict[str, Any]:
        """``DELETE /v1/jobs/{id}``: ask the server to stop the job."""
        return dict(self.request("DELETE", f"/v1/jobs/{quote(job_id)}"))

    def jobs(self, limit: int = 100) -> list[dict[str, Any]]:
        """``GET /v1/jobs``: the newest jobs, newest first."""
        return list(self.request("GET", f"/v1/jobs?limit={limit}")["jobs"])

    def results(self, job_id: str, plugin: str | None = None) -> list[dict[str, Any]]:
        """``GET /v1/jobs/{id}/results``: per-frame, per-plugin results."""
        path = f"/v1/jobs/{quote(job_id)}/results"
        if plugin:
            path += "?" + urlencode({"plugin": plugin})
        return list(self.request("GET", path)["results"])

    def events(self, job_id: str, since_seq: int, timeout: float = 30) -> list[Any]:
        """``GET /v1/jobs/{id}/events``: the stored events after ``since_seq``, as JSON."""
        path = f"/v1/jobs/{quote(job_id)}/events?since_seq={since_seq}"
        return list(self.request("GET", path, timeout=timeout)["events"])

    def plugins(self) -> list[dict[str, Any]]:
        """``GET /v1/plugins``: plugins the server offers, with metadata."""
        return list(self.request("GET", "/v1/plugins")["plugins"])

    def health(self) -> dict[str, Any]:
        """``GET /v1/health``: the server's health and delivery stats."""
        return dict(self.request("GET", "/v1/health"))
