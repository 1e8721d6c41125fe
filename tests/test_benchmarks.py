"""`make bench`'s harness (benchmarks/) measures what it says: the load generator counts every delivery
exactly against the raw server, reports the losses of a server that drops messages, and the report
writer turns a small result set into JSON and markdown with the right medians and ratios."""

import json
import sys
from pathlib import Path

import pytest

# benchmarks/ is not part of the installed package: importable from the repository's root (python -m pytest
# puts it on the path; the pytest script does not).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import load, procstat, report  # noqa: E402
from benchmarks.servers import raw_server  # noqa: E402
from coursekit.timing import scaled  # noqa: E402

ROOMS = ["one"] * 5 + ["two"] * 3  # two rooms of different sizes: a copy in the wrong room would show


@pytest.fixture
def raw(tmp_path):
    with raw_server(tmp_path) as server:
        yield server


@pytest.fixture
def lossy(tmp_path):
    """The raw server leaving out every 10th frame it receives."""
    with raw_server(tmp_path, drop_every=10) as server:
        yield server


async def join(server, rooms: list[str], drain: float) -> load.Crowd:
    origin = f"http://127.0.0.1:{server.port}"
    seats = [load.Seat(f"ws://127.0.0.1:{server.port}/rooms/{room}/", room, origin) for room in rooms]
    return await load.Crowd.join(seats, load.RAW, load.Limits(open_timeout=scaled(10), drain=drain))


@pytest.mark.timeout(60)
async def test_saturation_against_the_raw_server_counts_each_delivery_once(raw):
    crowd = await join(raw, ROOMS, drain=scaled(5))
    try:
        figures = await load.saturation(crowd, "sat-", 0.2, 1.0, lambda: procstat.total_cpu([raw.pid]))
    finally:
        await crowd.close()
    assert figures["sent"] > 0 and figures["deliveries_per_s"] > 0, figures
    # Each message goes to every member of its room, the sender included: 5 or 3 copies.
    assert 3 * figures["sent"] <= figures["expected"] <= 5 * figures["sent"], figures
    assert (figures["delivered"], figures["lost"], figures["duplicated"], figures["misrouted"]) == (
        figures["expected"], 0, 0, 0), figures
    assert figures["acknowledged"] == figures["sent"], "every sender got its own copy back"
    assert 0 < figures["p50_ms"] <= figures["p99_ms"] <= figures["max_ms"], figures
    assert figures["cpu_us_per_delivery"] is not None and figures["cpu_us_per_delivery"] >= 0


@pytest.mark.timeout(60)
async def test_a_fixed_load_sends_on_schedule_and_every_copy_arrives(raw):
    crowd = await join(raw, ROOMS, drain=scaled(5))
    try:
        figures = await load.fixed_load(crowd, "fix-", 20.0, 0.0, 1.0, lambda: 0.0)
    finally:
        await crowd.close()
    # 20 messages, the senders in turn with the rooms interleaved (one, two, one, two, one, two, one, one):
    # 12 to room one (5 members), 8 to room two (3 members).
    assert figures["sent"] == 20, figures
    assert figures["expected"] == 12 * 5 + 8 * 3, figures
    assert (figures["delivered"], figures["lost"], figures["duplicated"]) == (84, 0, 0), figures
    assert figures["drained"], figures


@pytest.mark.timeout(60)
async def test_a_server_that_drops_every_tenth_message_is_reported_with_its_losses(lossy, tmp_path):
    crowd = await join(lossy, ["one"] * 5, drain=1.0)
    try:
        figures = await load.fixed_load(crowd, "drop-", 30.0, 0.0, 1.0, lambda: 0.0)
    finally:
        await crowd.close()
    # The server dropped frames 10, 20 and 30: three messages, none of their 5 copies arrived.
    assert figures["sent"] == 30, figures
    assert (figures["lost"], figures["delivered"], figures["duplicated"]) == (15, 135, 0), figures
    assert not figures["drained"], "the missing copies never came: the drain ran into its deadline"

    results = report.summarize({"runs": {"raw": [{"repeat": 1, "scenarios": {"A-fixed": figures}}]}})
    written = report.write_all(results, tmp_path / "report", with_charts=False)
    assert any("lost 15" in problem for problem in results["problems"]), results["problems"]
    row = next(line for line in written["markdown"].read_text().splitlines() if line.startswith("| raw | A-fixed"))
    assert "| 15 (not drained) |" in row, row


def scenario(deliveries: float, lost: int = 0, errors: int = 0) -> dict:
    return {"mode": "saturation", "deliveries_per_s": deliveries, "messages_per_s": deliveries / 50,
            "p50_ms": 10.0, "p99_ms": 20.0, "max_ms": 30.0, "cpu_us_per_delivery": 50.0, "client_cpu": 0.5,
            "lost": lost, "duplicated": 0, "misrouted": 0, "sent": 100, "log_errors": errors,
            "log_error_lines": ["ERROR boom"] if errors else [], "drained": True}


@pytest.mark.timeout(30)
def test_the_report_gives_medians_ratios_and_the_problems_in_json_and_markdown(tmp_path):
    runs = {
        "raw": [{"repeat": n, "scenarios": {"A-sat": scenario(value)}} for n, value in enumerate([90e3, 100e3, 95e3])],
        "tutorial-daphne-memory": [{"repeat": n, "scenarios": {"A-sat": scenario(value)}}
                                   for n, value in enumerate([4000, 5000, 6000])],
        "chat-daphne-memory": [{"repeat": 1, "scenarios": {"A-sat": scenario(9000, lost=2)}},
                               {"repeat": 2, "scenarios": {"A-sat": scenario(10000, errors=1)}},
                               {"repeat": 3, "problem": "LoadError: 3 of 50 clients could not join", "scenarios": {}}],
    }
    setups = {name: {"describe": name.replace("-", " / "), "processes": 1} for name in runs}
    results = report.summarize({"environment": {"repeats": 3}, "setups": setups, "runs": runs})
    written = report.write_all(results, tmp_path, with_charts=False)

    stored = json.loads(written["json"].read_text())
    chat = stored["summary"]["chat-daphne-memory"]["A-sat"]
    assert stored["summary"]["raw"]["A-sat"]["deliveries_per_s"] == 95e3
    assert (chat["deliveries_per_s"], chat["repeats"], chat["lost"], chat["log_errors"]) == (9500, 2, 2, 1)
    assert stored["ratios"]["chat-daphne-memory"]["A-sat"] == {"x_raw": 0.1, "x_tutorial": 1.9}
    assert stored["runs"]["chat-daphne-memory"][2]["problem"].startswith("LoadError")
    problems = "\n".join(stored["problems"])
    assert "lost 2" in problems and "ERROR boom" in problems and "could not join" in problems, problems

    table = written["markdown"].read_text()
    assert "| server | scenario | deliveries/s | x raw | x tutorial |" in table
    assert "| chat / daphne / memory | A-sat | 9,500 | 0.100 | 1.90 | 190 |" in table, table
