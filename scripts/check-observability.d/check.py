#!/usr/bin/env python3
"""The checks of scripts/check-observability, against a Prometheus that scrapes
a live cibridge and has deploy/prometheus/alerts.yaml loaded.

    check.py --prometheus URL --job JOB --instance HOST:PORT \
             --alerts deploy/prometheus/alerts.yaml --dashboard deploy/grafana/cibridge.json \
             [--rate-interval 15s] [--deadline 40] [--redis-outage]

Waits (at most --deadline seconds) until Prometheus has scraped enough, then:
  dashboard  the JSON is an importable dashboard: __inputs declares DS_PROMETHEUS,
             __requires, every panel and variable uses ${DS_PROMETHEUS}, units set
  rules      Prometheus loaded every rule of alerts.yaml and evaluates it without error
  a. alert   every alert expression evaluates without error through /api/v1/query
  b. metric  every metric name those expressions (and the panels) use exists in Prometheus
  c. panel   every panel query returns data (Grafana variables replaced by concrete values)
  variable   every template variable query finds this job / instance
  outage     (--redis-outage) Prometheus saw the Redis sink disconnected, retries, and
             the sink connected again
Query checks that fail are tried again until the deadline (the data may not be
there yet); then one line per check is printed and the exit status is 1 if any failed.
"""
import argparse
import json
import math
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import yaml

args = None
known_names = set()


def api(path, **params):
    """GET Prometheus's HTTP API; returns (data, error text)."""
    query = urllib.parse.urlencode(params, doseq=True)
    url = f"{args.prometheus}{path}" + (f"?{query}" if query else "")
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            body = json.load(response)
    except urllib.error.HTTPError as error:
        try:
            body = json.load(error)
        except ValueError:
            return None, f"HTTP {error.code}"
    except (urllib.error.URLError, OSError, ValueError) as error:
        return None, str(error)
    if body.get("status") != "success":
        return None, f"{body.get('errorType', 'error')}: {body.get('error', body)}"
    return body["data"], None


def query(expr):
    data, error = api("/api/v1/query", query=expr)
    if error:
        return None, error
    return data, None


def scalar(expr):
    """The first value of an instant query, or None."""
    data, _ = query(expr)
    if not data or not data.get("result"):
        return None
    result = data["result"]
    value = result[1] if data["resultType"] == "scalar" else result[0]["value"][1]
    return float(value)


# --- PromQL metric names ------------------------------------------------------

KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left",
            "group_right", "offset", "bool", "inf", "nan", "atan2", "start", "end"}


def metric_names(expr):
    """Metric names a PromQL expression selects (a light parse, enough for
    dashboards and rule files: selectors, functions, aggregations, binary ops)."""
    names = set(re.findall(r'__name__\s*=\s*"([^"]+)"', expr))
    text = re.sub(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    for match in re.finditer(r"(?<![\w.:])[a-zA-Z_:][\w:]*", text):
        word = match.group(0)
        rest = text[match.end():]
        if word.lower() in KEYWORDS or re.match(r"\s*\(", rest):
            continue
        names.add(word)
    return names


def name_problem(name):
    if name in known_names:
        return None
    for suffix in ("_bucket", "_sum", "_count"):
        if name + suffix in known_names:
            return f"{name} is a histogram: select {name}_bucket, _sum or _count"
    if name.endswith(("_bucket", "_sum", "_count")):
        base = name.rsplit("_", 1)[0]
        if any(n.startswith(base + "_") for n in known_names):
            return f"{name} does not exist (the histogram {base} has {sorted(n for n in known_names if n.startswith(base + '_'))})"
    return f"{name} does not exist in Prometheus (cibridge does not export it, or not yet)"


# --- Grafana variables ----------------------------------------------------------

def substitute(expr, values):
    """Replaces $var, ${var}, ${var:format} and [[var]] by concrete values."""
    missing = []

    def one(match):
        name = match.group(1) or match.group(2) or match.group(3)
        if name not in values:
            missing.append(name)
            return match.group(0)
        return values[name]

    text = re.sub(r"\$\{(\w+)(?::[^}]*)?\}|\$(\w+)|\[\[(\w+)(?::[^\]]*)?\]\]", one, expr)
    return text, missing


# --- checks ---------------------------------------------------------------------

def check_dashboard(dashboard):
    """Static checks of the dashboard JSON; returns [(ok, line)]."""
    results = []
    inputs = [i for i in dashboard.get("__inputs", []) if i.get("name") == "DS_PROMETHEUS"]
    results.append((bool(inputs) and inputs[0].get("pluginId") == "prometheus" and inputs[0].get("type") == "datasource",
                    "dashboard: __inputs declares DS_PROMETHEUS (a prometheus datasource)"))
    requires = {r.get("id") for r in dashboard.get("__requires", [])}
    results.append(({"grafana", "prometheus"} <= requires, f"dashboard: __requires lists grafana and prometheus ({sorted(requires)})"))
    schema = dashboard.get("schemaVersion", 0)
    results.append((isinstance(schema, int) and 36 <= schema <= 41, f"dashboard: schemaVersion {schema}"))
    wrong = []
    units = []
    rows = []
    for panel in dashboard.get("panels", []):
        if panel.get("type") == "row":
            rows.append(panel.get("title"))
            continue
        sources = [panel.get("datasource")] + [t.get("datasource") for t in panel.get("targets", [])]
        if any(s != {"type": "prometheus", "uid": "${DS_PROMETHEUS}"} for s in sources):
            wrong.append(panel.get("title"))
        if not panel.get("fieldConfig", {}).get("defaults", {}).get("unit"):
            units.append(panel.get("title"))
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") == "query" and variable.get("datasource") != {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}:
            wrong.append(f"variable {variable.get('name')}")
    results.append((not wrong, "dashboard: every panel, query and variable uses ${DS_PROMETHEUS}"
                    + (f"; not: {wrong}" if wrong else "")))
    results.append((not units, "dashboard: every panel sets a unit" + (f"; not: {units}" if units else "")))
    results.append((bool(rows), f"dashboard: rows {rows}"))
    return results


def check_rules(alerts):
    """Prometheus loaded every alert of the file and evaluated it without error."""
    data, error = api("/api/v1/rules")
    if error:
        return [(False, f"rules: /api/v1/rules failed: {error}")]
    loaded = {r["name"]: r for g in data["groups"] for r in g["rules"]}
    results = []
    for alert in alerts:
        rule = loaded.get(alert["alert"])
        if rule is None:
            results.append((False, f"rules: {alert['alert']} is not loaded by Prometheus"))
        elif rule.get("health") != "ok":
            results.append((False, f"rules: {alert['alert']} health {rule.get('health')}: {rule.get('lastError', '')}"))
        else:
            results.append((True, f"rules: {alert['alert']} loaded, evaluated by Prometheus, health ok, state {rule.get('state')}"))
    return results


def check_alert_exprs(alerts):
    results = []
    for alert in alerts:
        expr = str(alert["expr"]).strip()
        data, error = query(expr)
        if error:
            results.append((False, f"a. alert {alert['alert']}: `{expr}` fails: {error}"))
        else:
            results.append((True, f"a. alert {alert['alert']}: `{expr}` evaluates ({len(data['result'])} series now)"))
    return results


def check_names(exprs, prefix):
    """b: every metric name the expressions use exists; exprs: [(label, expr)]."""
    used = {}
    for label, expr in exprs:
        for name in metric_names(expr):
            used.setdefault(name, []).append(label)
    results = []
    for name in sorted(used):
        problem = name_problem(name)
        where = ", ".join(sorted(set(used[name])))
        results.append((problem is None, f"{prefix} {name}: " + ("exists" if problem is None else problem) + f" (used by {where})"))
    return results


def has_data(data):
    result = data["result"]
    if data["resultType"] in ("scalar", "string"):
        return [result[1]]
    return [s["value"][1] for s in result] if data["resultType"] == "vector" else \
        [v[1] for s in result for v in s["values"]]


def check_panels(dashboard, values):
    results = []
    for panel in dashboard.get("panels", []):
        for target in panel.get("targets", []):
            expr, missing = substitute(target.get("expr", ""), values)
            label = f"c. panel \"{panel['title']}\" {target.get('refId')}"
            if missing:
                results.append((False, f"{label}: unknown variable(s) {missing} in `{target['expr']}`"))
                continue
            data, error = query(expr)
            if error:
                results.append((False, f"{label}: `{expr}` fails: {error}"))
                continue
            samples = has_data(data)
            numbers = [float(v) for v in samples]
            if not samples:
                results.append((False, f"{label}: no data from `{expr}`"))
            elif all(math.isnan(n) for n in numbers):
                results.append((False, f"{label}: only NaN from `{expr}` (no observations in the window)"))
            else:
                shown = ", ".join(f"{n:.4g}" for n in numbers[:4]) + (" …" if len(numbers) > 4 else "")
                results.append((True, f"{label}: {len(samples)} series ({shown})"))
    return results


def check_variables(dashboard, values, expected):
    results = []
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") != "query":
            continue
        definition = variable.get("definition") or (variable.get("query") or {}).get("query", "")
        name = variable["name"]
        match = re.fullmatch(r"\s*label_values\((.*),\s*(\w+)\)\s*", definition)
        if not match:
            results.append((False, f"variable {name}: cannot check `{definition}` (only label_values(selector, label))"))
            continue
        selector, _ = substitute(match.group(1), values)
        data, error = api(f"/api/v1/label/{match.group(2)}/values", **{"match[]": selector})
        if error:
            results.append((False, f"variable {name}: `{definition}` fails: {error}"))
        elif expected.get(name) not in data:
            results.append((False, f"variable {name}: `{definition}` gives {data}, not {expected.get(name)}"))
        else:
            results.append((True, f"variable {name}: `{definition}` gives {data}"))
    return results


def check_outage(job):
    sel = f'job="{job}", sink="redis"'
    seen_down = scalar(f"min_over_time(cibridge_sink_connected{{{sel}}}[2m])")
    retries = scalar(f"max_over_time(cibridge_sink_retried_total{{{sel}}}[2m])")
    now = scalar(f"cibridge_sink_connected{{{sel}}}")
    pending = scalar(f"cibridge_sink_pending{{{sel}}}")
    return [
        (seen_down == 0, f"outage: Prometheus saw cibridge_sink_connected{{sink=\"redis\"}} at 0 (min over 2m: {seen_down})"),
        (retries is not None and retries > 0, f"outage: cibridge_sink_retried_total{{sink=\"redis\"}} counted retries ({retries})"),
        (now == 1, f"outage: the Redis sink is connected again (cibridge_sink_connected {now}, pending now {pending})"),
    ]


def check_expected_alerts(alerts):
    """Each --expect-alert must be pending or firing: the traffic sent refusals it
    watches for. When one is not, the line names the likely cause: a series never
    sampled at 0 (exported only from its first increment), which increase() misses.
    cibridge exports every callback result and refusal reason at 0 from the start
    for exactly this reason (this check found it)."""
    data, error = api("/api/v1/alerts")
    active = {}
    for alert in (data or {}).get("alerts", []):
        active.setdefault(alert["labels"].get("alertname"), []).append(alert)
    exprs = {a["alert"]: str(a["expr"]) for a in alerts}
    results = []
    for name in args.expect_alert:
        if name not in exprs:
            results.append((False, f"alert {name}: not in {args.alerts}"))
            continue
        if name in active:
            states = "; ".join(
                a["state"] + " (" + ", ".join(f"{k}={v}" for k, v in a["labels"].items()
                                              if k not in ("alertname", "job", "instance")) + ")"
                for a in active[name])
            results.append((True, f"alert {name} fired after the traffic that should fire it: {states}"))
            continue
        never_zero = []
        for metric in sorted(metric_names(exprs[name])):
            # the alert's own matchers for this metric, if any: only the series it looks at
            matchers = re.search(re.escape(metric) + r"\{([^}]*)\}", exprs[name])
            selector = (matchers.group(1) + ", " if matchers else "") + f'job="{args.job}"'
            result, _ = query(f"min_over_time({metric}{{{selector}}}[5m])")
            for series in (result or {}).get("result", []):
                if float(series["value"][1]) > 0:
                    labels = ",".join(f'{k}="{v}"' for k, v in series["metric"].items() if k not in ("job", "instance"))
                    never_zero.append(f"{metric}{{{labels}}} (lowest sample {series['value'][1]})")
        results.append((False, f"alert {name} did not fire although the traffic should have made it: `{exprs[name]}`"
                        + ("; these series were never sampled at 0, so increase() misses their first step: "
                           + "; ".join(never_zero) if never_zero else "")))
    return results


def main():
    global args, known_names
    parser = argparse.ArgumentParser()
    parser.add_argument("--prometheus", required=True)
    parser.add_argument("--job", required=True)
    parser.add_argument("--instance", required=True)
    parser.add_argument("--alerts", required=True)
    parser.add_argument("--dashboard", required=True)
    parser.add_argument("--rate-interval", default="15s")
    parser.add_argument("--deadline", type=float, default=40)
    parser.add_argument("--redis-outage", action="store_true")
    parser.add_argument("--expect-alert", action="append", default=[],
                        help="an alert the traffic should have made pending or firing (a failure when not)")
    args = parser.parse_args()
    deadline = time.monotonic() + args.deadline

    with open(args.dashboard) as file:
        dashboard = json.load(file)
    with open(args.alerts) as file:
        rules = yaml.safe_load(file)
    alerts = [r for g in rules["groups"] for r in g["rules"] if "alert" in r]
    values = {
        "__rate_interval": args.rate_interval, "__interval": "1s", "__interval_ms": "1000",
        "__range": "1m", "__range_s": "60", "__range_ms": "60000",
        # As Grafana puts a variable into a PromQL regex matcher: regex-escaped, then
        # the backslashes doubled for the PromQL string literal.
        "job": re.escape(args.job).replace("\\", "\\\\"),
        "instance": re.escape(args.instance).replace("\\", "\\\\"),
    }

    # Enough scraped: the target is up and the rate windows hold several samples.
    window = args.rate_interval
    while True:
        up = scalar(f'up{{job="{args.job}"}}')
        samples = scalar(f'count_over_time(up{{job="{args.job}"}}[{window}])')
        if up == 1 and samples is not None and samples >= 3:
            break
        if time.monotonic() > deadline:
            print(f"check-observability: Prometheus has not scraped {args.job} enough within {args.deadline:.0f}s "
                  f"(up {up}, samples in [{window}] {samples})", file=sys.stderr)
            return 1
        time.sleep(0.5)
    print(f"scrape: up{{job=\"{args.job}\"}} is 1, {samples:.0f} samples in [{window}]")

    while True:
        names, error = api("/api/v1/label/__name__/values")
        known_names = set(names or [])
        results = check_dashboard(dashboard)
        results += check_rules(alerts)
        results += check_alert_exprs(alerts)
        results += check_names([(a["alert"], str(a["expr"])) for a in alerts], "b. metric")
        panel_exprs = [(f"panel \"{p['title']}\"", t.get("expr", "")) for p in dashboard.get("panels", [])
                       for t in p.get("targets", [])]
        results += check_names(panel_exprs, "metric (dashboard)")
        results += check_panels(dashboard, values)
        results += check_variables(dashboard, values, {"job": args.job, "instance": args.instance})
        if args.redis_outage:
            results += check_outage(args.job)
        results += check_expected_alerts(alerts)
        if all(ok for ok, _ in results) or time.monotonic() > deadline:
            break
        time.sleep(1)

    for ok, line in results:
        print(("ok    " if ok else "FAIL  ") + line)
    failed = [line for ok, line in results if not ok]
    if failed:
        print(f"check-observability: {len(failed)} check(s) failed:", file=sys.stderr)
        for line in failed:
            print("  " + line, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
