#!/usr/bin/env python3
"""Times one sink's drain for scripts/bench, from inside a single process.

    drain.py PORT SINK FROM TARGET LIMIT SERVE_PID REDIS_PID

Polls cibridge's /metrics every 5 ms over one keep-alive connection until the
sink has delivered TARGET envelopes (published + duplicates), and prints
"seconds-to-first-delivery seconds-draining envelopes-drained cibridge-cores
redis-server-cores machine-busy" (CPU while draining, from /proc). Exits 1 after LIMIT
seconds. With DRAIN_TRACE=FILE, every poll's time and count are appended to
FILE (to see stalls). A shell loop of curl calls cost about half a core on this 2-core
machine, which the drain it was measuring then lacked.
"""
import http.client
import os
import sys
import time

port, sink = int(sys.argv[1]), sys.argv[2]
start_count, target, limit = int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
pids = sys.argv[6:8]
ticks = os.sysconf("SC_CLK_TCK")
names = (b'cibridge_sink_published_total{sink="%s"}' % sink.encode(),
         b'cibridge_sink_duplicates_total{sink="%s"}' % sink.encode())


def cpu(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks
    except OSError:
        return 0.0


def machine():
    """Busy and idle jiffies of the whole machine."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    return sum(values) - values[3] - values[4], values[3] + values[4]


connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)


def delivered():
    global connection
    try:
        connection.request("GET", "/metrics")
        body = connection.getresponse().read()
    except (OSError, http.client.HTTPException):
        connection.close()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        return -1
    total = 0
    for line in body.splitlines():
        for name in names:
            if line.startswith(name):
                total += int(float(line.split()[-1]))
    return total


trace = open(os.environ["DRAIN_TRACE"], "a") if os.environ.get("DRAIN_TRACE") else None
started = time.monotonic()
first = None
while True:
    value = delivered()
    now = time.monotonic()
    if trace:
        trace.write(f"{sink} {now - started:.3f} {value}\n")
    if first is None and value > start_count:
        first, first_count, cpu_first, machine_first = now, value, [cpu(p) for p in pids], machine()
    if value >= target:
        break
    if now - started > limit:
        print("-1 0 0 0 0 0")
        sys.exit(1)
    time.sleep(0.005)
seconds = max(now - first, 1e-9)
cores = [(cpu(p) - c) / seconds for p, c in zip(pids, cpu_first)]
busy, idle = (now - then for now, then in zip(machine(), machine_first))
print(f"{first - started:.2f} {seconds:.3f} {value - first_count} {cores[0]:.2f} {cores[1]:.2f} {100 * busy / max(busy + idle, 1):.0f}")
