"""gtk_bench.py - the measurements of tests/bench/gtk.sh (run it through
that script): dangan-gtk against a running dangand, with DANGAN_GTK_BENCH
set so the app prints its measuring points (client/gtk/bench.c).

    gtk_bench.py BUILD CONFIG_DIR RUNS KEY_TRIALS
"""
import os
import re
import select
import statistics
import subprocess
import sys
import time

import pyatspi

BUILD, CONFIG, RUNS, TRIALS = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])


def app(mode):
    env = dict(os.environ, DANGAN_CONFIG_DIR=CONFIG, DANGAN_GTK_BENCH=mode, LC_ALL="C.UTF-8")
    t0 = time.monotonic()
    p = subprocess.Popen([os.path.join(BUILD, "dangan-gtk")], env=env, stderr=subprocess.PIPE,
                         text=True, bufsize=1)
    return p, t0


def read_until(p, name, timeout):
    """The value of the next `bench NAME VALUE` line (None on timeout); the
    other bench lines on the way are returned too."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r, _, _ = select.select([p.stderr], [], [], 0.5)
        if not r:
            continue
        line = p.stderr.readline()
        if not line:
            return None, seen
        m = re.match(r"bench (\S+) (\S+)", line)
        if m:
            seen.append((m.group(1), float(m.group(2))))
            if m.group(1) == name:
                return float(m.group(2)), seen
    return None, seen


def stop(p):
    p.terminate()
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def find(top, role, name):
    q = [top]
    while q:
        a = q.pop(0)
        if a is None:
            continue
        if a.getRole() == role and a.name == name:
            return a
        if a.getRole() in (pyatspi.ROLE_TABLE, pyatspi.ROLE_TREE_TABLE):
            continue
        q.extend(a.getChildAtIndex(i) for i in range(a.childCount))
    return None


def acc_of(p):
    for _ in range(300):
        d = pyatspi.Registry.getDesktop(0)
        for i in range(d.childCount):
            a = d.getChildAtIndex(i)
            if a is not None and a.get_process_id() == p.pid:
                return a
        time.sleep(0.1)
    raise SystemExit("dangan-gtk not in the accessibility tree")


ONLY = os.environ.get("GTK_BENCH_ONLY", "")  # "scroll": the scroll only

# 1. process start -> first frame painted with Customers rows
starts = []
for _ in range(0 if ONLY else RUNS):
    p, t0 = app("1")
    t, _ = read_until(p, "first-rows", 120)
    stop(p)
    if t is None:
        raise SystemExit("no first-rows line")
    starts.append((t / 1e6 - t0) * 1000)
if starts:
  print("start-to-usable ms: runs %s median %.0f" % (
    " ".join("%.0f" % s for s in starts), statistics.median(starts)))

# 2. the last of two keystrokes typed into the search -> results drawn
if ONLY:
    TRIALS = 0
p, t0 = app("1")
read_until(p, "first-rows", 120)
entry = None
a = acc_of(p)
for _ in range(100):
    entry = find(a, pyatspi.ROLE_TEXT, "Search customers") or find(
        a, pyatspi.ROLE_ENTRY, "Search customers")
    if entry:
        break
    time.sleep(0.1)
lat = []
# Ctrl+F puts the keyboard focus in the search entry (X keycodes: Control_L 37, f 41)
pyatspi.Registry.generateKeyboardEvent(37, None, pyatspi.KEY_PRESS)
pyatspi.Registry.generateKeyboardEvent(41, None, pyatspi.KEY_PRESSRELEASE)
pyatspi.Registry.generateKeyboardEvent(37, None, pyatspi.KEY_RELEASE)
time.sleep(1)
for i in range(TRIALS):
    for ch in "13":
        pyatspi.Registry.generateKeyboardEvent(ord(ch), None, pyatspi.KEY_SYM)
        time.sleep(0.05)
    v, _ = read_until(p, "key-to-drawn", 60)
    if v is not None:
        lat.append(v)
    for _ in range(2):  # BackSpace twice: back to the whole list
        pyatspi.Registry.generateKeyboardEvent(22, None, pyatspi.KEY_PRESSRELEASE)
        time.sleep(0.05)
    read_until(p, "key-to-drawn", 60)  # the whole list is back
    read_until(p, "none", 0.7)  # and any other line (a search for "1" under load) is read
stop(p)
if lat:
    print("keystroke-to-drawn ms (search \"13\", %d trials): "
          "median %.1f p95 %.1f min %.1f" % (len(lat), statistics.median(lat), pct(lat, 0.95),
                                             min(lat)))
else:
    print("keystroke-to-drawn: no measurement (keystrokes did not reach the window)")

# 3. scrolling the whole list a screen a frame
p, t0 = app("scroll")
_, seen = read_until(p, "scroll-done", float(os.environ.get("GTK_BENCH_SCROLL_S", "900")))
stop(p)
frames = [v for k, v in seen if k == "frame"]
work = [v for k, v in seen if k == "work"]
rss = [v for k, v in seen if k == "rss-kb"]
rows = [v for k, v in seen if k == "rows"]
if frames:
    print("scroll frames: %d, interval ms median %.2f p95 %.2f max %.2f; rows %s; "
          "RSS kB before %s after %s" % (len(frames), statistics.median(frames),
                                         pct(frames, 0.95), max(frames),
                                         "%d" % rows[-1] if rows else "?",
                                         "%d" % rss[0] if rss else "?",
                                         "%d" % rss[-1] if len(rss) > 1 else "?"))
if work:
    print("scroll frame work ms (first phase to after-paint): median %.2f p95 %.2f max %.2f; "
          "over 16 ms: %d of %d" % (statistics.median(work), pct(work, 0.95), max(work),
                                    sum(1 for w in work if w >= 16), len(work)))
