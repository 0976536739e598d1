"""Monitoring as code: Prometheus's config, the alert rules and their unit tests, Grafana's
provisioning and dashboard. Neither Prometheus nor Grafana runs here, so promtool (Debian's
prometheus package) checks what Prometheus would load, and the dashboard is checked for
what Grafana needs to draw it: every query parses and reads only metrics the services
export."""

import asyncio
import json
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from roadmap_shared.metrics import MetricsMiddleware
from roadmap_shared.testing.tools import required_program

MONITORING = Path(__file__).parents[2] / "monitoring"
ALERTS = MONITORING / "alerts.yml"
ALERTS_TESTS = MONITORING / "alerts_test.yml"
RUNBOOK = MONITORING.parent / "README.md"
GRAFANA = MONITORING / "grafana"
DASHBOARD = GRAFANA / "dashboards/fintech.json"
DATASOURCES = GRAFANA / "provisioning/datasources/prometheus.yml"
# The monorepo's compose file, or a fork's (at the stage's root): the same service names.
COMPOSE = next(
    path
    for path in (
        MONITORING.parent / "docker-compose.yml",
        MONITORING.parents[1] / "docker-compose.yml",
    )
    if path.exists()
)

# The metrics the services export, as Prometheus stores them (a histogram is read through
# its _bucket series). alerts.yml states the same contract with each metric's labels.
CONTRACT = frozenset(
    {
        "up",  # written by Prometheus itself for every target
        "ledger_transfers_total",
        "ledger_pending_transfers",
        "ledger_imbalance",
        "ledger_transaction_retries_total",
        "grpc_server_handled_total",
        "grpc_server_handling_seconds_bucket",
        "http_requests_total",
        "http_request_duration_seconds_bucket",
        "outbox_unpublished_events",
        "messages_dead_lettered_total",
        "payments_reviews_overdue",
    }
)
SEVERITIES = {"critical", "warning"}


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def alert_rules() -> list[dict[str, Any]]:
    return [rule for group in load_yaml(ALERTS)["groups"] for rule in group["rules"]]


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def dashboard_queries() -> dict[str, str]:
    """Every query of the dashboard, by `panel<id>_<refId>`."""
    return {
        f"panel{panel['id']}_{target['refId']}": target["expr"]
        for panel in dashboard()["panels"]
        for target in panel["targets"]
    }


# --- which metrics a PromQL expression reads ----------------------------------------------
# After promtool has parsed an expression, what is left once strings, label matchers,
# durations and label lists are removed is metric names, function names (followed by a
# parenthesis), keywords and numbers.
STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
LABEL_MATCHERS = re.compile(r"\{[^}]*\}")
DURATIONS = re.compile(r"\[[^\]]*\]")
LABEL_LISTS = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
# A word not inside a number (1e3, 5m) and not a function call.
NAME = re.compile(r"(?<![\w.])[a-zA-Z_:][\w:]*(?![\w:]|\s*\()")
KEYWORDS = {"and", "or", "unless", "bool", "offset", "atan2", "group_left", "group_right"}
NUMBERS = {"inf", "nan"}
# Grafana replaces its variables before sending a query; a valid stand-in lets it parse.
GRAFANA_VARIABLE = re.compile(r"\$__\w+")


def metric_names(expr: str) -> set[str]:
    for pattern in (STRING, LABEL_MATCHERS, DURATIONS, LABEL_LISTS):
        expr = pattern.sub(" ", expr)
    return {
        name for name in NAME.findall(expr) if name not in KEYWORDS and name.lower() not in NUMBERS
    }


def as_promql(grafana_expr: str) -> str:
    return GRAFANA_VARIABLE.sub("5m", grafana_expr)


def test_metric_names_are_read_through_functions_matchers_and_label_lists() -> None:
    expr = (
        'histogram_quantile(0.99, sum by (job, le) (rate(a_bucket{le="+Inf", x=~"y|z"}[5m])))'
        " / on (job) group_left (route) b_total offset 1m > bool 1e3 and c:recorded or Inf"
    )
    assert metric_names(expr) == {"a_bucket", "b_total", "c:recorded"}


# --- promtool -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def promtool() -> str:
    return required_program("promtool", "apt-get install prometheus")


def run_promtool(promtool: str, *arguments: str, cwd: Path = MONITORING) -> None:
    result = subprocess.run(  # noqa: S603
        [promtool, *arguments], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_prometheus_accepts_its_config(promtool: str) -> None:
    run_promtool(promtool, "check", "config", "prometheus.yml")


def test_prometheus_accepts_the_alert_rules(promtool: str) -> None:
    run_promtool(promtool, "check", "rules", ALERTS.name)


def test_the_alerts_pass_their_unit_tests(promtool: str) -> None:
    run_promtool(promtool, "test", "rules", ALERTS_TESTS.name)


def test_every_dashboard_query_parses(promtool: str, tmp_path: Path) -> None:
    # promtool parses a recording rule's expression as Prometheus would: one rule per query.
    rules = [
        {"record": f"dashboard:{key}", "expr": as_promql(expr)}
        for key, expr in dashboard_queries().items()
    ]
    (tmp_path / "dashboard_queries.yml").write_text(
        yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]})
    )
    run_promtool(promtool, "check", "rules", "dashboard_queries.yml", cwd=tmp_path)


def test_the_query_check_catches_a_query_that_does_not_parse(promtool: str, tmp_path: Path) -> None:
    broken = {"record": "dashboard:broken", "expr": "sum by (job (rate(up[5m]))"}
    (tmp_path / "broken.yml").write_text(
        yaml.safe_dump({"groups": [{"name": "dashboard", "rules": [broken]}]})
    )
    with pytest.raises(AssertionError, match="parse error"):
        run_promtool(promtool, "check", "rules", "broken.yml", cwd=tmp_path)


# --- alerts -------------------------------------------------------------------------------


def scrape_jobs() -> set[str]:
    return {job["job_name"] for job in load_yaml(MONITORING / "prometheus.yml")["scrape_configs"]}


def test_prometheus_scrapes_every_process_and_loads_the_alerts() -> None:
    assert load_yaml(MONITORING / "prometheus.yml")["rule_files"] == [ALERTS.name]
    assert scrape_jobs() == set(JOB_PROCESSES)
    assert load_yaml(ALERTS_TESTS)["rule_files"] == [ALERTS.name]


def test_every_alert_is_shown_both_firing_and_silent() -> None:
    outcomes: dict[str, set[bool]] = defaultdict(set)
    for case in load_yaml(ALERTS_TESTS)["tests"]:
        for check in case["alert_rule_test"]:
            outcomes[check["alertname"]].add(bool(check["exp_alerts"]))
    assert {rule["alert"]: outcomes[rule["alert"]] for rule in alert_rules()} == {
        rule["alert"]: {True, False} for rule in alert_rules()
    }


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda rule: rule["alert"])
def test_every_alert_says_how_bad_what_and_where_the_runbook_is(rule: dict[str, Any]) -> None:
    assert rule["labels"]["severity"] in SEVERITIES
    assert rule["annotations"]["summary"]
    assert rule["annotations"]["description"]
    assert rule["annotations"]["runbook_url"] == f"README.md#runbook-{rule['alert'].lower()}"


def github_anchor(heading: str) -> str:
    """The id GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_the_runbook_has_one_section_per_alert() -> None:
    headings = re.findall(r"^#+ (.+)$", RUNBOOK.read_text(), re.MULTILINE)
    sections = {anchor for anchor in map(github_anchor, headings) if anchor.startswith("runbook-")}
    links = {rule["annotations"]["runbook_url"].partition("#")[2] for rule in alert_rules()}
    assert sections == links


# --- the metrics contract -------------------------------------------------------------------


def test_the_alerts_read_only_metrics_of_the_contract() -> None:
    used = {name for rule in alert_rules() for name in metric_names(rule["expr"])}
    assert used <= CONTRACT, f"not exported by any service: {sorted(used - CONTRACT)}"


def test_the_dashboard_shows_every_metric_of_the_contract_and_no_other() -> None:
    used = {name for expr in dashboard_queries().values() for name in metric_names(expr)}
    assert used == CONTRACT


# What each scrape job targets: the module its process runs. A process registers its
# metrics as it imports its code, so a fresh interpreter that imports the module registers
# what the process will serve (its samples appear as it works).
JOB_PROCESSES = {
    "ledger": "ledger.main",
    "payments": "payments.main",
    "payments-worker": "payments.worker",
    "audit": "audit.main",
}
# Prints the names Prometheus stores for every metric registered, as JSON.
REGISTERED_NAMES = """
import importlib, json, sys
from prometheus_client import REGISTRY
importlib.import_module(sys.argv[1])
SUFFIXES = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"]}
print(json.dumps(sorted(
    family.name + suffix
    for family in REGISTRY.collect()
    for suffix in SUFFIXES.get(family.type, [""])
)))
"""


def registered_names(module: str) -> set[str]:
    result = subprocess.run(  # noqa: S603  (our own interpreter and code)
        [sys.executable, "-c", REGISTERED_NAMES, module],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    names: list[str] = json.loads(result.stdout)
    return set(names)


def listening_ports(service: dict[str, Any]) -> set[int]:
    """The ports a compose service's process listens on: those it publishes (the container
    side) and those its settings name (`*_PORT`)."""
    published = {int(str(mapping).rpartition(":")[2]) for mapping in service.get("ports", [])}
    environment = service.get("environment", {})
    named = {int(value) for key, value in environment.items() if key.endswith("_PORT")}
    return published | named


def test_every_target_is_a_compose_service_on_a_port_it_listens_on() -> None:
    services = load_yaml(COMPOSE)["services"]
    for job in load_yaml(MONITORING / "prometheus.yml")["scrape_configs"]:
        for config in job["static_configs"]:
            for target in config["targets"]:
                host, _, port = target.partition(":")
                assert host in services, f"{job['job_name']}: no compose service {host}"
                assert int(port) in listening_ports(services[host]), target


def test_every_metric_an_alert_reads_comes_from_a_scraped_process() -> None:
    """An alert on a metric that no scraped process serves is silent forever, however bad
    things get: the worker's metrics, before it served them on a port of its own."""
    scraped = set().union(*(registered_names(JOB_PROCESSES[job]) for job in scrape_jobs()))
    read = {name for rule in alert_rules() for name in metric_names(rule["expr"])} - {"up"}
    assert read <= scraped, f"no scraped process serves {sorted(read - scraped)}"


def test_the_shared_http_metrics_keep_the_names_of_the_contract() -> None:
    app = FastAPI()

    @app.get("/probe")
    def probe() -> dict[str, str]:
        return {}

    app.add_middleware(MetricsMiddleware)

    async def request_once() -> None:
        async with AsyncClient(transport=ASGITransport(app), base_url="http://test") as client:
            await client.get("/probe")

    asyncio.run(request_once())
    exported = {
        sample.name
        for family in text_string_to_metric_families(generate_latest().decode())
        for sample in family.samples
    }
    assert {"http_requests_total", "http_request_duration_seconds_bucket"} <= exported


# --- Grafana ------------------------------------------------------------------------------


def test_the_dashboard_has_what_grafana_needs_to_load_it() -> None:
    board = dashboard()
    assert board["uid"] == "fintech"
    assert board["title"]
    assert isinstance(board["schemaVersion"], int)
    panels = board["panels"]
    assert panels
    assert len({panel["id"] for panel in panels}) == len(panels), "panel ids must be unique"
    for panel in panels:
        assert panel["type"] in {"stat", "timeseries"}
        assert panel["title"]
        assert panel["targets"]
        ref_ids = [target["refId"] for target in panel["targets"]]
        assert len(set(ref_ids)) == len(ref_ids), panel["title"]


def cells(panel: dict[str, Any]) -> set[tuple[int, int]]:
    grid = panel["gridPos"]
    return {
        (column, row)
        for column in range(grid["x"], grid["x"] + grid["w"])
        for row in range(grid["y"], grid["y"] + grid["h"])
    }


def test_the_panels_fit_the_grid_without_overlapping() -> None:
    taken: dict[tuple[int, int], str] = {}
    for panel in dashboard()["panels"]:
        grid = panel["gridPos"]
        assert all(isinstance(grid[key], int) for key in "xywh"), panel["title"]
        assert min(grid["x"], grid["y"]) >= 0, panel["title"]
        assert min(grid["w"], grid["h"]) > 0, panel["title"]
        assert grid["x"] + grid["w"] <= 24, f"{panel['title']} is wider than the grid"
        for cell in cells(panel):
            assert cell not in taken, f"{panel['title']} overlaps {taken[cell]}"
            taken[cell] = panel["title"]


def test_every_panel_queries_the_provisioned_datasource() -> None:
    (datasource,) = load_yaml(DATASOURCES)["datasources"]
    expected = {"type": datasource["type"], "uid": datasource["uid"]}
    for panel in dashboard()["panels"]:
        assert panel["datasource"] == expected, panel["title"]
        assert all(target["datasource"] == expected for target in panel["targets"])


def test_grafana_loads_dashboards_from_files_it_may_not_edit() -> None:
    (provider,) = load_yaml(GRAFANA / "provisioning/dashboards/dashboards.yml")["providers"]
    assert provider["type"] == "file"
    assert provider["allowUiUpdates"] is False
    assert provider["options"]["path"]
