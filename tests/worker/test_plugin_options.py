"""A plugin's declared options reach it in the worker: checked at submit, then set on the
instance the job runs (``Plugin.create``), under both the process and the thread executor."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from conftest import TEST_METADATA, Http, wait_until

from realtime_nb.plugins import Frame, Plugin, PluginContext
from realtime_nb.vision.plugins.registry import PluginRegistry

CLIP = "synthetic://match?seconds=0.5&fps=10&width=64&height=64&players_per_team=0&noise=0"


class LeveledOptions(msgspec.Struct, forbid_unknown_fields=True):
    level: int = 1


class Leveled(Plugin):
    """Returns the level it was given."""

    name = "leveled"
    metadata = TEST_METADATA
    Options = LeveledOptions

    def process(self, frame: Frame, ctx: PluginContext) -> dict[str, Any]:
        assert isinstance(self.options, LeveledOptions)
        return {"level": self.options.level}


def run(http: Http, options: dict[str, Any]) -> tuple[int, Any]:
    status, body = http.call(
        "POST", "/v1/jobs", {"source": CLIP, "plugins": ["leveled"], "options": options}
    )
    if status != 201:
        return status, body
    job_id = body["job_id"]
    wait_until(
        lambda: http.call("GET", f"/v1/jobs/{job_id}")[1]["status"] == "completed", 30, "job"
    )
    results = http.call("GET", f"/v1/jobs/{job_id}/results")[1]["results"]
    return status, [r["data"]["level"] for r in results]


@pytest.mark.parametrize("executor", ["process", "thread"])
def test_plugin_options_reach_the_plugin(server_factory: Any, executor: str) -> None:
    registry = PluginRegistry()
    registry.register(Leveled)
    server = server_factory(registry, executor=executor)
    http = Http(server.url, server.token)
    assert run(http, {"plugin_options": {"leveled": {"level": 7}}}) == (201, [7] * 5)
    assert run(http, {}) == (201, [1] * 5)  # the declared default
    status, body = run(http, {"plugin_options": {"leveled": {"level": "high"}}})
    assert status == 400 and body["error"]["code"] == "OPTION_INVALID"
    assert "level" in body["error"]["message"]
