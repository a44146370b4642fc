"""Render a run's results as ``RESULTS.md`` (tables, targets, machine) and PNG plots (matplotlib Agg)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.ticker import NullFormatter

from .stats import ratio

GB = 1024.0  # MB per GB

# Issue #2 / #6 targets: (key, description).
TARGETS = {
    "startup_csv": "25M: start-up from CSV < 30 s",
    "startup_cache": "25M: start-up from the cached columnar copy < 5 s",
    "memory": "25M: resident memory < 1.5 GB (PSS, master + workers)",
    "latency": "25M: median latency of a 1,000-record page < 5 ms",
    "ratio_inprocess": "1M: >= 50x faster per page than the seed approach: the server's per-page work, "
    "in-process (every limit)",
    "ratio_http": "1M: the same over HTTP (for information: no server can beat the seed approach by more "
    "than seed latency / HTTP floor)",
    "hook": "Hook within 1.5x of one request (best batch size)",
    "hook_default": "Hook's default (batch_size=None, growing pages) within 1.3x of one request",
    "operator": "Operator: flat, < 100 MB above baseline at 5M",
    "load": "Load: zero errors (10/50/100 clients)",
}


def _n(size: int | str) -> str:
    size = int(size)
    if size >= 1_000_000 and size % 1_000_000 == 0:
        return f"{size // 1_000_000}M"
    if size >= 1_000 and size % 1_000 == 0:
        return f"{size // 1_000}k"
    return f"{size:,}"


def _approx(count: int) -> str:
    """138k, 1.02M: a record count at a glance."""
    return f"{count / 1e6:.3g}M" if count >= 1_000_000 else f"{count / 1e3:.3g}k"


def _f(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _row(*cells: object) -> str:
    """One markdown table row."""
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _ratio_figure(limits: dict[str, Any]) -> str:
    """``limit 100: 20x, ...``: the seed-to-reference ratio at every page size."""
    return ", ".join(f"limit {int(lim):,}: {e.get('ratio', math.nan):.0f}x" for lim, e in limits.items())


def _http_ceiling(entry: dict[str, Any], floor: float | None) -> float | None:
    """The highest ratio HTTP allows at one limit: seed median / HTTP floor (None if either is missing)."""
    return ratio(entry["base_median_ms"], floor) if floor and "base_median_ms" in entry else None


def _verdict(ok: bool | None, figure: str) -> str:
    if ok is None:
        return f"not measured{': ' + figure if figure else ''}"
    return f"{'**met**' if ok else '**NOT met**'}: {figure}"


MEMORY_STATES = {
    "after CSV start": ("startup", "memory_after_csv_start"),
    "after cache start": ("startup", "memory_after_cache_start"),
    "after latency runs": (None, "memory"),
    "after CSV start + reading every page": ("startup", "memory_after_reading_all"),
}


def _memory_states(size_entry: dict[str, Any]) -> dict[str, dict[str, float]]:
    out = {}
    for state, (parent, key) in MEMORY_STATES.items():
        holder = size_entry.get(parent, {}) if parent else size_entry
        if holder.get(key):
            out[state] = holder[key]
    return out


def peak_memory(size_entry: dict[str, Any]) -> tuple[str, dict[str, float]]:
    """The state (after CSV start, cache start, latency runs) with the highest PSS, and its figures."""
    states = _memory_states(size_entry)
    if not states:
        return "not measured", {"pss_mb": math.nan, "rss_mb": math.nan}
    state = max(states, key=lambda k: states[k]["pss_mb"])
    return state, states[state]


def targets(results: dict[str, Any]) -> list[tuple[str, str]]:
    """Each issue target with met / not met / not measured and the figure behind it."""
    rows: list[tuple[str, str]] = []
    server = results.get("server", {}).get("sizes", {})
    big = server.get("25000000")
    if big:
        su = big["startup"]
        rows.append((TARGETS["startup_csv"], _verdict(su["csv_s"] < 30, f"{su['csv_s']:.1f} s")))
        rows.append((TARGETS["startup_cache"], _verdict(su["cache_s"] < 5, f"{su['cache_s']:.1f} s")))
        state, mem = peak_memory(big)
        pss, rss = mem["pss_mb"] / GB, mem["rss_mb"] / GB
        figure = f"PSS {pss:.2f} GB (RSS sum {rss:.2f} GB), highest {state}"
        rows.append((TARGETS["memory"], _verdict(pss < 1.5, figure)))
        lat = big["limits"].get("1000", {}).get("ref_median_ms", math.nan)
        rows.append((TARGETS["latency"], _verdict(lat < 5, f"{lat:.2f} ms")))
    else:
        for key in ("startup_csv", "startup_cache", "memory", "latency"):
            rows.append((TARGETS[key], _verdict(None, "the 25M size is not part of this profile")))
    one_m = server.get("1000000") or {}
    no_1m = _verdict(None, "1M with the baseline is not part of this run")
    inproc = (one_m.get("inprocess") or {}).get("limits")
    if inproc:
        met = min(e.get("ratio", math.nan) for e in inproc.values()) >= 50
        rows.append((TARGETS["ratio_inprocess"], _verdict(met, _ratio_figure(inproc))))
    else:
        rows.append((TARGETS["ratio_inprocess"], no_1m))
    http, floor = one_m.get("limits"), one_m.get("http_floor_ms")
    if http and floor:
        ceilings = ", ".join(f"{_f(_http_ceiling(e, floor), 0)}x" for e in http.values())
        rows.append((TARGETS["ratio_http"], f"{_ratio_figure(http)} (at most {ceilings} possible)"))
    else:
        rows.append((TARGETS["ratio_http"], _ratio_figure(http) if http else no_1m))
    hook = results.get("hook")
    if hook and "hook_vs_bound" in hook:
        rows.append(
            (
                TARGETS["hook"],
                _verdict(
                    hook["hook_vs_bound"] <= 1.5,
                    f"{hook['hook_vs_bound']:.2f}x at batch {hook['best_batch']:,}",
                ),
            )
        )
    if hook and "default_vs_bound" in hook:
        pages = hook.get("default", {}).get("pages", [])
        rows.append(
            (
                TARGETS["hook_default"],
                _verdict(
                    hook["default_vs_bound"] <= 1.3,
                    f"{hook['default_vs_bound']:.2f}x in {len(pages)} pages",
                ),
            )
        )
    op = results.get("operator", {}).get("counts", {})
    if "5000000" in op:
        growth = [op[k]["operator_growth_mb"] for k in sorted(op, key=int)]
        figure = (
            " / ".join(f"{g:.0f}" for g in growth)
            + " MB at "
            + " / ".join(_n(k) for k in sorted(op, key=int))
        )
        rows.append((TARGETS["operator"], _verdict(max(growth) < 100, figure)))
    else:
        rows.append((TARGETS["operator"], _verdict(None, "5M is not part of this profile")))
    load = results.get("load", {}).get("levels")
    if load:
        errors = sum(level["errors"] for level in load)
        rows.append(
            (
                TARGETS["load"],
                _verdict(errors == 0, f"{errors} errors in {sum(lv['requests'] for lv in load):,} requests"),
            )
        )
    return rows


def _machine(facts: dict[str, Any], results: dict[str, Any]) -> list[str]:
    pk = ", ".join(f"{k} {v}" for k, v in facts["packages"].items())
    return [
        "| | |",
        "| --- | --- |",
        f"| Date | {facts['date']} |",
        f"| CPU | {facts['cpu']} |",
        f"| Cores | {facts['cores_logical']} logical / {facts['cores_physical']} physical |",
        f"| RAM | {facts['ram_gb']} GB |",
        f"| OS | {facts['os']} |",
        f"| Python | {facts['python']} |",
        f"| Packages | {pk} |",
        f"| Commit | {facts['commit']} |",
        f"| Load average (1/5/15 min) | at start {results.get('load_average_start', '?')}, "
        f"at end {facts.get('load_average', '?')} |",
        f"| Profile | `{results['profile']}`, wall time {results['seconds'] / 60:.1f} min |",
    ]


def _server_tables(server: dict[str, Any]) -> list[str]:
    out = [
        "### Server: start-up and memory (PSS, with the RSS sum in brackets, of master + workers)",
        "",
        _row(
            "ratings",
            "generate",
            "start-up from CSV",
            "start-up from cache",
            *MEMORY_STATES,
            "seed baseline: start-up, PSS",
        ),
        _row(*["---:"] * (5 + len(MEMORY_STATES))),
    ]
    for size, s in server["sizes"].items():
        su = s["startup"]
        states = _memory_states(s)
        mems = [
            f"{states[k]['pss_mb']:,.0f} MB ({states[k]['rss_mb']:,.0f} MB)" if k in states else "-"
            for k in MEMORY_STATES
        ]
        bm = s.get("baseline_memory")
        base = f"{s['baseline_startup_s']:.1f} s, {bm['pss_mb']:,.0f} MB" if bm else "-"
        gen = f"{s['generate_s']:.1f} s" if s["generate_s"] else "reused"
        out.append(_row(_n(size), gen, f"{su['csv_s']:.2f} s", f"{su['cache_s']:.2f} s", *mems, base))
    out += [
        "",
        "### Server: page latency over HTTP (reference vs seed approach, same queries, same run)",
        "",
        _row(
            "ratings",
            "limit",
            "reference median",
            "reference p99",
            "seed median",
            "seed p99",
            "ratio (median of per-repetition ratios)",
            "highest ratio HTTP allows (seed median / HTTP floor)",
        ),
        _row(*["---:"] * 8),
    ]
    for size, s in server["sizes"].items():
        floor = s.get("http_floor_ms")
        for limit, e in s["limits"].items():
            ceiling = _http_ceiling(e, floor)
            out.append(
                f"| {_n(size)} | {int(limit):,} | {_f(e['ref_median_ms'])} ms | {_f(e['ref_p99_ms'])} ms "
                f"| {_f(e.get('base_median_ms'))}{' ms' if 'base_median_ms' in e else ''} "
                f"| {_f(e.get('base_p99_ms'))}{' ms' if 'base_p99_ms' in e else ''} "
                f"| {_f(e.get('ratio'), 1)}{'x' if 'ratio' in e else ''} "
                f"| {_f(ceiling, 1)}{'x' if ceiling is not None else ''} |"
            )
    floors = {size: s["http_floor_ms"] for size, s in server["sizes"].items() if s.get("http_floor_ms")}
    if floors:
        out += [
            "",
            "HTTP floor (median latency of an empty page, `start_date == end_date`, on the reference "
            "server: client, loopback and HTTP parsing, no records): "
            + ", ".join(f"{_n(size)}: {_f(ms, 3)} ms" for size, ms in floors.items())
            + ". No server can answer a page faster than that over HTTP on this machine.",
        ]
    inproc = {size: s["inprocess"] for size, s in server["sizes"].items() if s.get("inprocess")}
    if inproc:
        out += [
            "",
            "### Server: per-request work in-process (WSGI app called directly, no sockets)",
            "",
            "| ratings | limit | reference median | seed median | ratio |",
            "| ---: | ---: | ---: | ---: | ---: |",
        ]
        for size, ip in inproc.items():
            if "error" in ip:
                out.append(f"| {_n(size)} | - | {ip['error']} | | |")
                continue
            for limit, e in ip["limits"].items():
                out.append(
                    _row(
                        _n(size),
                        f"{int(limit):,}",
                        f"{_f(e['ref_median_ms'], 3)} ms",
                        f"{_f(e['base_median_ms'], 3)} ms",
                        f"{_f(e['ratio'], 1)}x",
                    )
                )
    identical = {
        size: s.get("pages_identical") for size, s in server["sizes"].items() if "pages_identical" in s
    }
    if identical:
        out += [
            "",
            "Pages identical between reference and seed baseline: "
            + ", ".join(f"{_n(k)}: {'yes' if v else 'NO'}" for k, v in identical.items())
            + ".",
        ]
    return out


def _hook_table(hook: dict[str, Any]) -> list[str]:
    w = hook["window"]
    out = [
        f"### Hook: fetching {w['total']:,} ratings ({w['start']} to {w['end']}, {_n(hook['size'])} dataset)",
        "",
        _row(
            "batch size",
            "MovielensHook",
            "seed loop",
            "one request",
            "hook time / one request",
            "hook time / seed loop",
        ),
        _row(*["---:"] * 6),
    ]
    bound = hook["one_request_rps"]
    # The ratio column is the median of per-repetition ratios when the run recorded them.
    default = hook.get("default")
    if default:
        out.append(
            _row(
                "default (growing)",
                f"{default['hook_rps']:,.0f} rec/s",
                "-",
                f"{bound:,.0f} rec/s",
                f"{default.get('vs_one_request', bound / default['hook_rps']):.2f}x",
                "-",
            )
        )
    for batch, b in hook["batches"].items():
        out.append(
            _row(
                f"{int(batch):,}",
                f"{b['hook_rps']:,.0f} rec/s",
                f"{b['naive_rps']:,.0f} rec/s",
                f"{bound:,.0f} rec/s",
                f"{b.get('vs_one_request', bound / b['hook_rps']):.2f}x",
                f"{b['naive_rps'] / b['hook_rps']:.2f}x",
            )
        )
    if default and default.get("pages"):
        out += [
            "",
            "The default (`batch_size=None`) fetched the window in pages of "
            + ", ".join(f"{n:,}" for n in default["pages"])
            + " records.",
        ]
    fastest = max(max(b["hook_rps"], b["naive_rps"]) for b in hook["batches"].values())
    fastest = max(fastest, default["hook_rps"] if default else 0.0)
    if fastest > bound:
        out += [
            "",
            "A paged client beat the single request in this run: one response holding the whole window "
            "costs more per record (one huge body and list to allocate on both ends) than pages of "
            "thousands, so the single request is a reference point here, not a strict lower bound.",
        ]
    if hook.get("mismatches"):
        out += ["", "Record-count mismatches: " + "; ".join(hook["mismatches"])]
    return out


def _operator_table(op: dict[str, Any]) -> list[str]:
    out = [
        "### Operator: peak resident memory above the interpreter + imports baseline "
        f"(batch size {op['batch_size']:,})",
        "",
        _row(
            "records",
            "operator growth",
            "seed growth",
            "operator time",
            "seed time",
            "baseline (operator / seed)",
            "JSON output",
        ),
        _row(*["---:"] * 7),
    ]
    for _, c in sorted(op["counts"].items(), key=lambda kv: int(kv[0])):
        out.append(
            _row(
                f"{c['records']:,}",
                f"{c['operator_growth_mb']:,.1f} MB",
                f"{c['seed_growth_mb']:,.1f} MB",
                f"{c['operator_seconds']:.1f} s",
                f"{c['seed_seconds']:.1f} s",
                f"{c['operator_baseline_mb']:,.0f} / {c['seed_baseline_mb']:,.0f} MB",
                f"{c['operator_output_mb']:,.0f} MB",
            )
        )
    methods = sorted({c.get("method", "") for c in op["counts"].values()} - {""})
    if methods:
        out += ["", f"Peak read as: {', '.join(methods)}."]
    if op.get("errors"):
        out += ["", "Errors: " + "; ".join(op["errors"])]
    return out


def _load_table(load: dict[str, Any]) -> list[str]:
    out = [
        f"### Load: concurrent clients, pages of {load['limit']:,} on the {_n(load['size'])} dataset, "
        f"{load['workers']} workers",
        "",
        "| clients | duration | requests | throughput | records/s | median | p99 | errors |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for lv in load["levels"]:
        kinds = ", ".join(f"{k}: {v}" for k, v in lv["error_kinds"].items())
        out.append(
            _row(
                lv["clients"],
                f"{lv['seconds']:.1f} s",
                f"{lv['requests']:,}",
                f"{lv['throughput_rps']:,.0f} req/s",
                f"{lv['records_per_s']:,.0f}",
                f"{lv['median_ms']:.1f} ms",
                f"{lv['p99_ms']:.1f} ms",
                f"{lv['errors']}{' (' + kinds + ')' if kinds else ''}",
            )
        )
    return out


def plot(results: dict[str, Any], out: Path) -> list[str]:
    """Write the PNGs for the sections present; return their file names."""
    written: list[str] = []
    server = results.get("server", {}).get("sizes")
    if server:
        fig, axes = plt.subplots(1, 2, figsize=(10, 4.5), sharey=True)
        for ax, stat in zip(axes, ("median", "p99"), strict=True):
            for size, s in server.items():
                limits = [int(x) for x in s["limits"]]
                line = ax.plot(
                    limits,
                    [e[f"ref_{stat}_ms"] for e in s["limits"].values()],
                    "o-",
                    label=f"reference, {_n(size)} ratings",
                )[0]
                if any(f"base_{stat}_ms" in e for e in s["limits"].values()):
                    ax.plot(
                        limits,
                        [e.get(f"base_{stat}_ms", math.nan) for e in s["limits"].values()],
                        "s--",
                        color=line.get_color(),
                        label=f"seed approach, {_n(size)} ratings",
                    )
            ax.set(xscale="log", yscale="log", xlabel="page size (records)", title=f"{stat} latency")
            ax.grid(True, which="both", alpha=0.3)
        axes[0].set_ylabel("ms per GET /ratings page (loopback HTTP)")
        axes[0].legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(out / "server_latency.png", dpi=110)
        plt.close(fig)
        written.append("server_latency.png")

        sizes = list(server)
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 4))
        x = range(len(sizes))
        a1.bar([i - 0.2 for i in x], [server[s]["startup"]["csv_s"] for s in sizes], 0.4, label="from CSV")
        a1.bar(
            [i + 0.2 for i in x], [server[s]["startup"]["cache_s"] for s in sizes], 0.4, label="from cache"
        )
        a1.set(
            xticks=list(x),
            xticklabels=[_n(s) for s in sizes],
            ylabel="seconds",
            title="start-up to /health 200",
        )
        a1.axhline(30, color="C0", linestyle=":", linewidth=1, label="CSV target at 25M (30 s)")
        a1.axhline(5, color="C1", linestyle=":", linewidth=1, label="cache target at 25M (5 s)")
        a1.legend(fontsize=8)
        width = 0.8 / len(MEMORY_STATES)
        for j, state in enumerate(MEMORY_STATES):
            values = [_memory_states(server[s]).get(state, {}).get("pss_mb", math.nan) for s in sizes]
            a2.bar([i - 0.4 + width * (j + 0.5) for i in x], values, width, label=f"PSS {state}")
        a2.set(
            xticks=list(x),
            xticklabels=[_n(s) for s in sizes],
            ylabel="MB",
            title="server memory (master + workers)",
        )
        a2.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out / "server_startup_memory.png", dpi=110)
        plt.close(fig)
        written.append("server_startup_memory.png")

    hook = results.get("hook")
    if hook and "batches" in hook:
        batches = list(hook["batches"])
        default = hook.get("default")
        fig, ax = plt.subplots(figsize=(7, 4))
        x = range(len(batches))
        ax.bar(
            [i - 0.2 for i in x],
            [hook["batches"][b]["hook_rps"] for b in batches],
            0.4,
            label="MovielensHook",
        )
        ax.bar(
            [i + 0.2 for i in x], [hook["batches"][b]["naive_rps"] for b in batches], 0.4, label="seed loop"
        )
        labels = [f"{int(b):,}" for b in batches]
        if default:  # the default path: one more group, the hook alone (the seed had no such mode)
            ax.bar([len(batches)], [default["hook_rps"]], 0.4, color="C2", label="MovielensHook default")
            labels.append("default\n(growing)")
        ax.axhline(hook["one_request_rps"], color="k", linestyle="--", label="one request (whole window)")
        ax.set(
            xticks=list(range(len(labels))),
            xticklabels=labels,
            xlabel="batch size",
            ylabel="records / s",
            title=f"fetching {hook['window']['total']:,} ratings",
        )
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out / "hook_throughput.png", dpi=110)
        plt.close(fig)
        written.append("hook_throughput.png")

    op = results.get("operator", {}).get("counts")
    if op:
        rows = sorted(op.values(), key=lambda c: c["records"])
        fig, ax = plt.subplots(figsize=(7, 4))
        n = [c["records"] for c in rows]
        ax.plot(n, [c["operator_growth_mb"] for c in rows], "o-", label="MovielensFetchRatingsOperator")
        ax.plot(n, [c["seed_growth_mb"] for c in rows], "s--", label="seed (list + json.dump)")
        ax.axhline(100, color="grey", linestyle=":", label="100 MB target")
        ax.set(
            xscale="log",
            yscale="log",
            xlabel="records written",
            ylabel="peak RSS above baseline (MB)",
            title="fetch-to-file memory",
        )
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xticks(n, [_approx(v) for v in n])
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out / "operator_memory.png", dpi=110)
        plt.close(fig)
        written.append("operator_memory.png")

    load = results.get("load", {}).get("levels")
    if load:
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 4))
        clients = [lv["clients"] for lv in load]
        a1.plot(clients, [lv["throughput_rps"] for lv in load], "o-")
        a1.set(xlabel="concurrent clients", ylabel="requests / s", title="throughput", ylim=(0, None))
        a2.plot(clients, [lv["p99_ms"] for lv in load], "o-", label="p99")
        a2.plot(clients, [lv["median_ms"] for lv in load], "s--", label="median")
        for lv in load:
            a2.annotate(f"{lv['errors']} err", (lv["clients"], lv["p99_ms"]), fontsize=7)
        a2.set(xlabel="concurrent clients", ylabel="ms", title="latency under load")
        a2.legend(fontsize=8)
        for a in (a1, a2):
            a.grid(True, alpha=0.3)
        fig.tight_layout()
        fig.savefig(out / "load.png", dpi=110)
        plt.close(fig)
        written.append("load.png")
    return written


def _footer(name: str, section: dict[str, Any]) -> str:
    text = f"({name} section: {section['seconds']:.0f} s"
    contention = section.get("contention")
    if contention:
        text += (
            f"; other processes used {100 * contention['other_share']:.0f}% of the CPUs meanwhile"
            f", hypervisor steal {100 * contention['steal_share']:.0f}%"
        )
    return text + ")"


def markdown(results: dict[str, Any], facts: dict[str, Any], pngs: list[str]) -> str:
    """The whole ``RESULTS.md``."""
    lines = [
        f"# Benchmark results ({results['profile']} run)",
        "",
        "Written by `python -m bench"
        + (" --quick" if results["profile"] == "quick" else "")
        + "`; how each figure is measured and what it means is in [../README.md](../README.md).",
        "Figures are medians over repetitions; ratios are taken per repetition, in the same run.",
        "",
        "## Targets",
        "",
        "| target | result |",
        "| --- | --- |",
        *(f"| {name} | {verdict} |" for name, verdict in targets(results)),
        "",
        "## Machine",
        "",
        *_machine(facts, results),
        "",
        "## Figures",
        "",
    ]
    for name, render in (
        ("server", _server_tables),
        ("hook", _hook_table),
        ("operator", _operator_table),
        ("load", _load_table),
    ):
        section = results.get(name)
        if section is None:
            continue
        if "error" in section:
            lines += [f"### {name}: failed", "", "```", section["error"], "```", ""]
            continue
        lines += [*render(section), "", _footer(name, section), ""]
    if pngs:
        lines += ["## Plots", ""] + [f"![{p}]({p})" for p in pngs] + [""]
    return "\n".join(lines)
