"""The report of a run: medians over the repeats, ratios, then JSON, a markdown table and PNG charts.

results.json keeps every repeat's figures (under "runs") beside the medians (under "summary"), so a
later reader can recompute anything. Counts that must be 0 (lost, duplicated, ERROR lines, failed
sockets) are summed over the repeats rather than taken as a median: one loss in one repeat shows.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

MEDIAN = ("deliveries_per_s", "messages_per_s", "p50_ms", "p99_ms", "max_ms", "cpu_us_per_delivery",
          "server_cpu_cores", "client_cpu", "generator_late_ms", "offered_deliveries_per_s", "drain_s",
          "all_welcomed_s", "last_welcomed_s", "welcome_p50_ms", "welcome_p99_ms",
          "rss_before_mib", "rss_after_mib", "rss_mib_per_1000")
SUMMED = ("lost", "duplicated", "misrouted", "ack_timeouts", "send_failures", "log_errors", "failures",
          "sent", "acknowledged", "expected", "delivered", "rows_stored", "welcomed", "sockets")
SATURATION, FIXED = ("A-sat", "B-sat"), ("A-fixed", "B-fixed")
CLIENT_BOUND = 0.9  # of a core: a load generator this busy limits the figure itself


# --- medians and ratios ----------------------------------------------------------------------------

def combine(repeats: list[dict]) -> dict:
    """One scenario's figures over its repeats: medians, sums, and what any repeat flagged."""
    combined: dict = {"repeats": len(repeats)}
    for key in MEDIAN:
        values = [figures[key] for figures in repeats if figures.get(key) is not None]
        if values:
            combined[key] = statistics.median(values)
            if len(values) > 1:
                combined[f"{key}_range"] = [min(values), max(values)]
    for key in SUMMED:
        if any(key in figures for figures in repeats):
            combined[key] = sum(figures.get(key) or 0 for figures in repeats)
    for key in ("mode", "rate_in"):
        if key in repeats[0]:
            combined[key] = repeats[0][key]
    combined["drained"] = all(figures.get("drained", True) for figures in repeats)
    errors: dict[str, int] = {}
    for figures in repeats:
        for code, count in (figures.get("error_frames") or {}).items():
            errors[code] = errors.get(code, 0) + count
    combined["error_frames"] = errors
    lines = [line for figures in repeats for line in figures.get("log_error_lines") or []]
    combined["log_error_lines"] = list(dict.fromkeys(lines))[:3]
    kinds = [kind for figures in repeats for kind in figures.get("failure_kinds") or {}]
    if kinds:
        combined["failure_kinds"] = list(dict.fromkeys(kinds))[:3]
    return combined


def summarize(results: dict) -> dict:
    """Adds "summary" (setup -> scenario -> combined figures), "ratios" and "problems" to the results."""
    summary: dict[str, dict[str, dict]] = {}
    for name, runs in results["runs"].items():
        by_scenario: dict[str, list[dict]] = {}
        for run in runs:
            for scenario, figures in (run.get("scenarios") or {}).items():
                by_scenario.setdefault(scenario, []).append(figures)
        summary[name] = {scenario: combine(repeats) for scenario, repeats in by_scenario.items()}
    results["summary"] = summary
    results["ratios"] = ratios(summary)
    results["problems"] = problems(results)
    return results


def figure(summary: dict, setup: str, scenario: str, key: str):
    return summary.get(setup, {}).get(scenario, {}).get(key)


def ratio(value, base):
    return value / base if value is not None and base else None


def tutorial_twin(setup: str) -> str | None:
    """chat-daphne-memory -> tutorial-daphne-memory: the stock consumer on the same server and layer."""
    return "tutorial-" + setup.removeprefix("chat-") if setup.startswith("chat-") else None


def ratios(summary: dict) -> dict:
    """Saturation deliveries/s against the raw limit and the tutorial consumer on the same server and layer;
    the scale-out against one process (A: deliveries/s, B: messages stored/s)."""
    found: dict[str, dict[str, dict]] = {}
    for setup, scenarios in summary.items():
        for scenario in SATURATION:
            if scenario not in scenarios:
                continue
            value = figure(summary, setup, scenario, "deliveries_per_s")
            entry = {"x_raw": ratio(value, figure(summary, "raw", scenario, "deliveries_per_s"))}
            twin = tutorial_twin(setup)
            if twin:
                entry["x_tutorial"] = ratio(value, figure(summary, twin, scenario, "deliveries_per_s"))
            if setup.startswith("scaleout-"):
                key = "deliveries_per_s" if scenario == "A-sat" else "messages_per_s"
                entry["x_one_process"] = ratio(figure(summary, setup, scenario, key),
                                               figure(summary, "scaleout-1p", scenario, key))
            found.setdefault(setup, {})[scenario] = entry
    return found


def problems(results: dict) -> list[str]:
    """Every figure that should be 0 and is not, every run that failed, every check that did not pass."""
    found = []
    login = results.get("login_check")
    if login and not login.get("ok"):
        found.append(f"login check failed: {login.get('detail')}")
    for setup, runs in results["runs"].items():
        for run in runs:
            if run.get("problem"):
                found.append(f"{setup}, repeat {run['repeat']}: {run['problem']}")
    for setup, scenarios in results["summary"].items():
        for scenario, figures in scenarios.items():
            where = f"{setup} {scenario}"
            for key in ("lost", "duplicated", "misrouted", "ack_timeouts", "send_failures", "failures"):
                if figures.get(key):
                    found.append(f"{where}: {key} {figures[key]}")
            if figures.get("log_errors"):
                found.append(f"{where}: {figures['log_errors']} ERROR/Traceback lines in the server logs, e.g. "
                             + " | ".join(line[:140] for line in figures["log_error_lines"]))
            if figures.get("error_frames"):
                found.append(f"{where}: error frames {figures['error_frames']}")
            if not figures.get("drained", True):
                found.append(f"{where}: deliveries still missing at the drain deadline (counted as lost)")
            if "rows_stored" in figures and "sent" in figures and figures["rows_stored"] != figures["sent"]:
                found.append(f"{where}: {figures['rows_stored']} rows stored for {figures.get('sent')} messages sent")
    return found


# --- the markdown ----------------------------------------------------------------------------------

def fmt(value, digits: int = 0, suffix: str = "") -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}{suffix}"


def describe(results: dict, setup: str) -> str:
    return results.get("setups", {}).get(setup, {}).get("describe", setup)


def zero_or(figures: dict, *keys: str) -> str:
    return fmt(sum(figures.get(key) or 0 for key in keys))


def table_head(columns: list[str], text_columns: int) -> list[str]:
    """A markdown table's header and alignment lines: the first `text_columns` left, the figures right."""
    aligns = ["---"] * text_columns + ["---:"] * (len(columns) - text_columns)
    return ["| " + " | ".join(columns) + " |", "|" + "|".join(aligns) + "|"]


def markdown(results: dict) -> str:
    env, summary, found_ratios = results.get("environment", {}), results["summary"], results.get("ratios", {})
    repeats = env.get("repeats", "?")
    lines = [
        "# The chat under load: `make bench`",
        "",
        f"{env.get('started', '')}: {env.get('cpus', '?')} cores, load average {env.get('load_average_before', '?')} "
        f"before the run; median of {repeats} repeat{'' if repeats == 1 else 's'} ({fmt(env.get('warmup_s'), 1)} s warm-up, "
        f"{fmt(env.get('window_s'), 1)} s measured); the chat from `{env.get('chat_project', '?')}` "
        f"({env.get('chat_commit') or 'no git'}). Lost, dup(licated) and ERROR lines are summed over the repeats.",
        "",
    ]
    saturation = [(setup, scenario) for setup in summary for scenario in SATURATION
                  if scenario in summary[setup] and not setup.startswith("scaleout-")]
    if saturation:
        lines += ["## Saturation: one message in flight per sender", "",
                  "A = 1 room x 50 clients, B = 10 rooms x 10 clients. msg/s: the senders' own copies back "
                  "(for the chat: stored and acknowledged).", "",
                  *table_head(["server", "scenario", "deliveries/s", "x raw", "x tutorial", "msg/s", "p50 ms", "p99 ms",
                               "max ms", "CPU us/delivery", "lost", "dup", "ERROR lines"], text_columns=2)]
        for setup, scenario in saturation:
            f = summary[setup][scenario]
            r = found_ratios.get(setup, {}).get(scenario, {})
            lines.append(f"| {describe(results, setup)} | {scenario} | {fmt(f.get('deliveries_per_s'))} | "
                         f"{fmt(r.get('x_raw'), 3)} | {fmt(r.get('x_tutorial'), 2)} | {fmt(f.get('messages_per_s'))} | "
                         f"{fmt(f.get('p50_ms'), 1)} | {fmt(f.get('p99_ms'), 1)} | {fmt(f.get('max_ms'), 1)} | "
                         f"{fmt(f.get('cpu_us_per_delivery'), 1)} | {zero_or(f, 'lost')} | "
                         f"{zero_or(f, 'duplicated', 'misrouted')} | {zero_or(f, 'log_errors')} |")
        lines.append("")
    fixed = [(setup, scenario) for setup in summary for scenario in FIXED if scenario in summary[setup]]
    if fixed:
        rates = env.get("fixed_rates_in", {"A": 50, "B": 200})
        lines += ["## Fixed load: an open loop on an even schedule", "",
                  f"A: {fmt(rates.get('A'))} messages/s in (x 50 = 2,500 deliveries/s); B: {fmt(rates.get('B'))} "
                  "messages/s in all (x 10 = 2,000 deliveries/s). Messages leave 1/rate apart, the senders in turn "
                  "(rooms interleaved); latency runs from each message's scheduled moment.", "",
                  *table_head(["server", "scenario", "offered/s", "deliveries/s", "p50 ms", "p99 ms", "max ms",
                               "CPU us/delivery", "lost", "dup", "ERROR lines"], text_columns=2)]
        for setup, scenario in fixed:
            f = summary[setup][scenario]
            lost = zero_or(f, "lost") + ("" if f.get("drained", True) else " (not drained)")
            lines.append(f"| {describe(results, setup)} | {scenario} | {fmt(f.get('offered_deliveries_per_s'))} | "
                         f"{fmt(f.get('deliveries_per_s'))} | {fmt(f.get('p50_ms'), 1)} | {fmt(f.get('p99_ms'), 1)} | "
                         f"{fmt(f.get('max_ms'), 1)} | {fmt(f.get('cpu_us_per_delivery'), 1)} | {lost} | "
                         f"{zero_or(f, 'duplicated', 'misrouted')} | {zero_or(f, 'log_errors')} |")
        lines.append("")
    storms = [setup for setup in summary if "storm" in summary[setup]]
    if storms:
        sockets = env.get("storm_sockets", 500)
        lines += [f"## Connection storm: {sockets} sockets at once (10 rooms), and idle memory", "",
                  "Welcomed: the chat's and the raw server's welcome frame, the tutorial's accepted handshake. "
                  "RSS: the server's resident memory with the sockets open and idle, minus before, per 1,000.", "",
                  *table_head(["server", "all welcomed s", "welcome p50 ms", "welcome p99 ms", "failed",
                               "RSS MiB per 1,000 idle sockets", "ERROR lines"], text_columns=1)]
        for setup in storms:
            f = summary[setup]["storm"]
            lines.append(f"| {describe(results, setup)} | {fmt(f.get('last_welcomed_s'), 2)} | "
                         f"{fmt(f.get('welcome_p50_ms'))} | {fmt(f.get('welcome_p99_ms'))} | {zero_or(f, 'failures')} | "
                         f"{fmt(f.get('rss_mib_per_1000'), 1)} | {zero_or(f, 'log_errors')} |")
        lines.append("")
    scaleout = sorted((setup for setup in summary if setup.startswith("scaleout-")),
                      key=lambda name: results.get("setups", {}).get(name, {}).get("processes", 0))
    if scaleout:
        first = results.get("setups", {}).get(scaleout[0], {})
        lines += ["## Scale-out: the chat on several processes behind Redis (pub/sub), on PostgreSQL", "",
                  f"{first.get('server', '?')} processes; client k on process k mod N, so every room spans them. "
                  "Saturation. A: deliveries/s; B: messages stored (acknowledged) per second.", "",
                  *table_head(["processes", "A deliveries/s", "x 1 process", "A p99 ms", "B stored/s", "x 1 process",
                               "B p99 ms", "CPU us/delivery (A)", "lost", "dup", "ERROR lines"], text_columns=0)]
        for setup in scaleout:
            a, b = summary[setup].get("A-sat", {}), summary[setup].get("B-sat", {})
            ra = found_ratios.get(setup, {}).get("A-sat", {})
            rb = found_ratios.get(setup, {}).get("B-sat", {})
            both = [a, b]
            lines.append(f"| {results['setups'][setup]['processes']} | {fmt(a.get('deliveries_per_s'))} | "
                         f"{fmt(ra.get('x_one_process'), 2)} | {fmt(a.get('p99_ms'), 1)} | "
                         f"{fmt(b.get('messages_per_s'))} | {fmt(rb.get('x_one_process'), 2)} | "
                         f"{fmt(b.get('p99_ms'), 1)} | {fmt(a.get('cpu_us_per_delivery'), 1)} | "
                         f"{fmt(sum(f.get('lost') or 0 for f in both))} | "
                         f"{fmt(sum((f.get('duplicated') or 0) + (f.get('misrouted') or 0) for f in both))} | "
                         f"{fmt(sum(f.get('log_errors') or 0 for f in both))} |")
        lines.append("")
    lines += checks(results)
    return "\n".join(lines) + "\n"


def checks(results: dict) -> list[str]:
    lines = ["## Checks", ""]
    login = results.get("login_check")
    if login:
        lines.append(f"- Real login through the form: {'ok' if login['ok'] else 'FAILED'} ({login['detail']}).")
    loads = {f"{setup} {scenario}": f.get("client_cpu") or 0
             for setup, scenarios in results["summary"].items() for scenario, f in scenarios.items()}
    busiest = max(loads.values(), default=0)
    limited = [name for name, share in loads.items() if share >= CLIENT_BOUND]
    lines.append(f"- The load generator (one process on the same machine) used up to {busiest:.0%} of a core"
                 + (f"; {CLIENT_BOUND:.0%} or more in {', '.join(limited)}: there the figure is the client's limit "
                    "as much as the server's." if limited else "."))
    found = results.get("problems") or []
    lines += [f"- {problem}" for problem in found] or ["- No loss, no duplicate, no ERROR line, no failed run."]
    charts = results.get("charts") or []
    if charts:
        lines += ["", "Charts: " + ", ".join(f"`{name}`" for name in charts)]
    return lines


# --- charts ----------------------------------------------------------------------------------------

def charts(results: dict, folder: Path) -> list[str]:
    """PNG charts beside the table; none (and no error) when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    summary, written = results["summary"], []

    def bars(filename: str, title: str, key: str, scenarios: tuple[str, ...], xlabel: str,
             keep=lambda setup: not setup.startswith("scaleout-")) -> None:
        setups = [setup for setup in summary if keep(setup) and any(s in summary[setup] for s in scenarios)]
        if not setups:
            return
        figure_, axes = plt.subplots(figsize=(9, 0.5 + 0.55 * len(setups) * len(scenarios) / 1.6))
        height = 0.8 / len(scenarios)
        for offset, scenario in enumerate(scenarios):
            values = [figure(summary, setup, scenario, key) or 0 for setup in setups]
            positions = [n + offset * height for n in range(len(setups))]
            axes.barh(positions, values, height=height, label=scenario)
            for position, value in zip(positions, values):
                if value:
                    axes.text(value, position, f" {value:,.0f}" if value >= 10 else f" {value:.1f}",
                              va="center", fontsize=7)
        axes.set_yticks([n + height * (len(scenarios) - 1) / 2 for n in range(len(setups))],
                        [describe(results, setup) for setup in setups], fontsize=8)
        axes.invert_yaxis()
        axes.set_xscale("log")
        axes.set_xlabel(xlabel)
        axes.set_title(title)
        axes.legend(fontsize=8)
        figure_.tight_layout()
        figure_.savefig(folder / filename, dpi=110)
        plt.close(figure_)
        written.append(filename)

    bars("saturation.png", "Saturation: deliveries per second (log scale)", "deliveries_per_s", SATURATION,
         "deliveries/s")
    bars("fixed_p99.png", "Fixed load (A 2,500/s, B 2,000/s): p99 send-to-delivery (log scale)", "p99_ms", FIXED,
         "p99 latency, ms")
    scaleout = sorted((setup for setup in summary if setup.startswith("scaleout-")),
                      key=lambda name: results["setups"][name]["processes"])
    if scaleout:
        processes = [results["setups"][setup]["processes"] for setup in scaleout]
        figure_, axes = plt.subplots(figsize=(6, 4))
        for scenario, key, label in (("A-sat", "deliveries_per_s", "A: deliveries/s"),
                                     ("B-sat", "messages_per_s", "B: messages stored/s")):
            values = [figure(summary, setup, scenario, key) for setup in scaleout]
            if values[0]:
                axes.plot(processes, [value / values[0] if value else None for value in values], marker="o",
                          label=label)
        axes.plot(processes, processes, linestyle=":", color="grey", label="linear")
        axes.set_xticks(processes)
        axes.set_xlabel("server processes")
        axes.set_ylabel("x one process")
        axes.set_title("Scale-out (PostgreSQL, Redis pub/sub)")
        axes.legend(fontsize=8)
        figure_.tight_layout()
        figure_.savefig(folder / "scaleout.png", dpi=110)
        plt.close(figure_)
        written.append("scaleout.png")
    return written


# --- writing ---------------------------------------------------------------------------------------

def write_all(results: dict, folder: Path, with_charts: bool = True) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    if with_charts:
        results["charts"] = charts(results, folder)
    paths = {"json": folder / "results.json", "markdown": folder / "results.md"}
    paths["json"].write_text(json.dumps(results, indent=2, default=str) + "\n")
    paths["markdown"].write_text(markdown(results))
    for name in results.get("charts") or []:
        paths[name] = folder / name
    return paths
