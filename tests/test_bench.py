"""The benchmarks at a tiny size, so the bench code cannot rot (timings are not judged here, only that each side
runs and that both sides agree). The daily-run benchmark needs Prefect's test server and is left to ``bench/run``;
the on-demand and fan-out benchmarks start real servers and are marked slow.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench import runner, sides
from bench.harness import head_csv, run_child
from missing_episodes.feedfiles import read_file
from missing_episodes.sources import RawRow


@pytest.fixture(scope="module")
def tiny_region(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from missing_episodes.synthetic import generate_region

    directory = tmp_path_factory.mktemp("region")
    generate_region(directory, 150, seed=3)
    return directory


def test_ingest_sides_store_the_same_rows(tiny_region: Path, tmp_path: Path) -> None:
    path = head_csv(tiny_region / "notifications.csv", 120, tmp_path / "head.csv")
    ours = run_child("bench.sides:ingest_ours", url=f"sqlite:///{tmp_path / 'a.db'}", path=str(path))
    reference = run_child("bench.sides:ingest_reference", url=f"sqlite:///{tmp_path / 'b.db'}", path=str(path))
    assert ours.result["new"] == reference.result["new"] == 120
    assert ours.rss_mib > 0 and reference.seconds > 0


def test_bulk_rules_agree_with_duckdb_and_the_worklist_with_plain_sql(tiny_region: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'big.db'}"
    built = run_child("bench.sides:build_database", url=url, region=str(tiny_region))
    assert built.result["actions"] > 0
    ours, reference = sides.rules_ours(url)[1], sides.rules_reference(url)[1]
    assert ours["actions"] > 0 and ours["hash"] == reference["hash"]
    listed = sides.worklist_ours(url, runner.AS_OF, str(tmp_path / "w.json"))[1]
    assert listed["rows"] == sides.worklist_reference(url, runner.AS_OF)[1]["rows"] > 0
    assert "worklist" in sides.explain(url, runner.AS_OF)[1]["plans"]


def test_bulk_path_and_first_load_sides_run(tiny_region: Path, tmp_path: Path, monkeypatch) -> None:
    url = f"sqlite:///{tmp_path / 'built.db'}"
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", url)  # the sides set it; restored after the test
    built = run_child("bench.sides:build_database", url=url, region=str(tiny_region))
    ours = sides.bulk_path_ours(url, str(tmp_path / "ours.db"))[1]
    floor = sides.bulk_path_reference(url, str(tmp_path / "floor.db"))[1]
    assert ours["actions"] == built.result["actions"] > 0  # the same rules again on the same facts, from nothing
    assert 0 < floor["actions"] < ours["actions"]  # the floor computes the reference rules only
    raw = sides.raw_load_reference(f"sqlite:///{tmp_path / 'raw.db'}", str(tiny_region))[1]
    lines = sum(len((tiny_region / f"{kind}.csv").read_text().splitlines()) - 1 for kind in sides.FEED_KEYS)
    assert raw["rows"] == lines


@pytest.mark.postgres
def test_first_load_sides_run_on_postgresql(tiny_region: Path, tmp_path: Path, pg_server) -> None:
    """Benchmark 1's PostgreSQL row: the product's first load on the production database stores the actions it
    stores on SQLite, and its floor (the files bulk-inserted; DuckDB's windows written with ``COPY`` into a copy
    of the built database) writes the reference rules' actions, as the SQLite floor does."""
    on_sqlite = run_child("bench.sides:build_database", url=f"sqlite:///{tmp_path / 'built.db'}",
                          region=str(tiny_region))
    sqlite_floor = sides.bulk_path_reference(f"sqlite:///{tmp_path / 'built.db'}", str(tmp_path / "floor.db"))[1]
    created: list[str] = []

    def database(template: str | None = None) -> str:
        created.append(pg_server.create_database(template=template, prefix="me_test_bench"))
        return pg_server.url_for(created[-1])

    try:
        url = database()
        built = run_child("bench.sides:build_database", url=url, region=str(tiny_region))
        assert built.result["actions"] == on_sqlite.result["actions"] > 0
        raw = run_child("bench.sides:raw_load_reference", url=database(), region=str(tiny_region))
        lines = sum(len((tiny_region / f"{kind}.csv").read_text().splitlines()) - 1 for kind in sides.FEED_KEYS)
        assert raw.result["rows"] == lines
        floor = run_child("bench.sides:bulk_path_reference_pg", url=database(template=created[0]))
        assert floor.result["actions"] == sqlite_floor["actions"] > 0
    finally:
        for name in created:  # each side ran in its own process, which has exited: nothing is connected
            pg_server.drop_database(name)


def test_briefing_sides_run(tmp_path: Path) -> None:
    feed = tmp_path / "open.csv"
    sides.write_open_feed(str(feed), 3, runner.DAY)
    url = f"sqlite:///{tmp_path / 'open.db'}"
    sides.build_open_database(url, str(feed))
    _seconds, ours = sides.briefing_ours(url, runner.DAY, str(tmp_path / "out"))
    assert ours["counts"]["missing_now"] == 3
    html = next(p for p in ours["files"] if p.endswith(".html"))
    assert sides.briefing_reference(html, str(tmp_path / "ref"))[1]["html_bytes"] > 0


def test_daily_feed_has_the_size_asked_for(tiny_region: Path, tmp_path: Path) -> None:
    path = tmp_path / "feed.csv"
    sides.write_daily_feed(str(path), str(tiny_region), runner.DAY, 20)
    rows = [r for r in read_file(path) if isinstance(r, RawRow)]
    assert len(rows) == 20 and not any(r.problem for r in rows)


@pytest.mark.slow
@pytest.mark.postgres
def test_ondemand_commands_run_against_a_real_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Benchmark 6 end to end at one repeat: a real Prefect server on PostgreSQL (the production recipe), each
    command and the floor as whole processes."""
    from bench import harness

    monkeypatch.setattr(runner, "WORK", tmp_path)
    monkeypatch.setattr(harness, "WORK", tmp_path)
    report = runner.Report(runner.SCALES["tiny"])
    with harness.databases() as dbs:
        runner.bench_ondemand(report, dbs)
    names = [row.benchmark for row in report.rows]
    assert all("(PostgreSQL)" in name for name in names if "on-demand" in name)
    assert [n for n in names if "form serious-notification" in n] and [n for n in names if "report board" in n]
    assert [n for n in names if "ingest" in n] and len(names) == 5
    assert all(row.ours and row.reference and row.note.startswith("CPU ") for row in report.rows)
    assert list((tmp_path / "ondemand" / "form").glob("serious-notification-EP-*.pdf"))
    assert list((tmp_path / "ondemand" / "board").glob("*.pdf"))


@pytest.mark.slow
@pytest.mark.postgres
def test_fanout_sides_leave_the_actions_as_they_were(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Benchmark 7 at the tiny size: a PostgreSQL-backed server per side, two workers then one; ``bench_fanout``
    itself fails unless each side leaves every stored action as the build left it, none twice, nobody flagged."""
    from bench import harness

    monkeypatch.setattr(runner, "WORK", tmp_path)
    monkeypatch.setattr(harness, "WORK", tmp_path)
    report = runner.Report(runner.SCALES["tiny"])
    with harness.databases() as dbs:
        runner.bench_fanout(report, dbs)
    (row,) = report.rows
    assert row.ours and row.reference and row.limit == 0.6
    assert "batches of 30" in row.note and "unchanged, none twice" in row.note



@pytest.mark.parametrize(("argv", "workdir_absent", "said"), [
    (["--fanout", "10000"], False, "argument --fanout: '10000' is not EPISODES,BATCH"),
    (["--fanout", "10000,x"], False, "argument --fanout: 'x' is not a whole number above zero"),
    (["--episodes", "0"], False, "argument --episodes: '0' is not a whole number above zero"),
    (["--firstload-on", "duckdb"], False, "argument --firstload-on: invalid choice: 'duckdb'"),
    (["firstload", "nothing"], False, "unknown benchmark(s) nothing"),
    # The throwaway PostgreSQL server's data folder (tests/pg.py) named but not there.
    (["firstload"], True, "MISSING_EPISODES_TEST_POSTGRES_DIR="),
])
def test_a_mistake_on_bench_run_s_command_line_is_its_last_line_and_exit_2(
        argv: list[str], workdir_absent: bool, said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from tests import pg

    monkeypatch.delenv(pg.WORKDIR_ENV, raising=False)
    if workdir_absent:
        monkeypatch.setenv(pg.WORKDIR_ENV, str(tmp_path / "absent"))
    output = tmp_path / "results.md"
    with pytest.raises(SystemExit) as exited:
        runner.main([*argv, "--output", str(output)])
    assert exited.value.code == 2
    assert said in capsys.readouterr().err.strip().splitlines()[-1]
    assert not output.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the server to another user")
def test_a_postgres_folder_the_server_s_user_cannot_enter_is_refused_before_anything_starts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run as root, the throwaway server runs as another user, who must pass through the named folder to its data
    folder inside; a folder closed to others (0700) used to pass the check and then fail in initdb."""
    from tests import pg

    folder = tmp_path / "pgdata"
    folder.mkdir(mode=0o700)
    monkeypatch.setenv(pg.WORKDIR_ENV, str(folder))
    assert f"chmod o+x {folder}" in (pg.workdir_problem() or "")
    folder.chmod(0o711)
    assert pg.workdir_problem() is None
