"""dgui.py - end-to-end tests of dangan-gtk: a real dangand with demo data on
an ephemeral port over real TLS, the real window under Xvfb, driven through
the accessibility tree (AT-SPI, pyatspi) as a person would.

Run a test as ctest does (tests/tests.cmake):
    xvfb-run -a -s '-screen 0 1280x800x24 -noreset' dbus-run-session -- \\
        /usr/bin/python3 tests/gui/test_first_run.py BUILD_DIR

Every test saves a PNG of the screen (X root window) under
BUILD_DIR/gui-shots/ when it ends, passed or failed.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

try:
    import pyatspi
except ImportError:  # a missing package is a failure, never a skip
    pyatspi = None

DEFAULT_TIMEOUT = 30.0  # generous: a loaded machine, a sanitizer build
_t0 = time.monotonic()


class Fail(Exception):
    pass


def need_tools():
    """Fails, naming them, when the tools a GUI test needs are missing."""
    missing = []
    if pyatspi is None:
        missing.append("python3-pyatspi (import pyatspi)")
    for tool in ("import", "Xvfb", "dbus-daemon"):
        if not shutil.which(tool):
            missing.append(tool)
    if not os.environ.get("DISPLAY"):
        missing.append("an X display (run under xvfb-run)")
    if missing:
        raise Fail("missing for the GUI tests: " + ", ".join(missing) +
                   " (deploy/dev.sh installs them)")


def poll(what, fn, timeout=DEFAULT_TIMEOUT):
    """Calls fn every 0.1 s until it returns something true; returns it."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            got = fn()
        except Exception:  # the tree changes under us while the app works
            got = None
        if got:
            if os.environ.get("DGUI_VERBOSE"):
                print("%6.2f s  %s" % (time.monotonic() - _t0, what), flush=True)
            return got
        if time.monotonic() > deadline:
            raise Fail("timed out waiting for " + what)
        time.sleep(0.1)


class Server:
    """dangand init + demo-data + serve on 127.0.0.1:0 in a temp dir."""

    def __init__(self, build, root, customers=300):
        self.build = build
        self.root = root
        self.data = os.path.join(root, "data")
        self.log = os.path.join(root, "server.log")
        dangand = os.path.join(build, "dangand")
        out = subprocess.run([dangand, "init", "--data", self.data], check=True,
                             capture_output=True, text=True).stdout
        self.admin_password = re.search(r"admin password:\s+(\S+)", out).group(1)
        self.fingerprint = re.search(r"fingerprint:\s+SHA256:(\S+)", out).group(1)
        out = subprocess.run([dangand, "demo-data", "--data", self.data, "--customers",
                              str(customers)], check=True, capture_output=True,
                             text=True).stdout
        self.passwords = dict(re.findall(r"^\s+(\S+)\s+\S+\s+\d+ customers\s+password:\s+(\S+)",
                                         out, re.M))
        self.proc = None
        self.addr = None
        self.start()

    def start(self, port=0):
        start = os.path.getsize(self.log) if os.path.exists(self.log) else 0
        conf = os.path.join(self.root, "test.conf")
        open(conf, "a").close()
        self.proc = subprocess.Popen(
            [os.path.join(self.build, "dangand"), "serve", "--data", self.data, "--config",
             conf, "--listen", "127.0.0.1:%d" % port],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=open(self.log, "a"))

        def listening():
            with open(self.log) as f:
                f.seek(start)
                m = re.search(r'msg="listening" addr=(127\.0\.0\.1:\d+)', f.read())
            if self.proc.poll() is not None:
                raise Fail("dangand serve exited:\n" + open(self.log).read())
            return m and m.group(1)

        self.addr = poll("dangand to listen", listening, 20)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


class App:
    """dangan-gtk with its own config dir, found over AT-SPI by its pid."""

    def __init__(self, build, config_dir, lang="C.UTF-8", stderr=None, debug=None):
        """stderr: a file for its output (stdout too: GLib prints debug there)."""
        env = dict(os.environ)
        env["DANGAN_CONFIG_DIR"] = config_dir
        env["LANG"] = lang
        env["LC_ALL"] = lang
        env.pop("GTK_A11Y", None)
        if debug:  # GLib log domains to print (G_MESSAGES_DEBUG)
            env["G_MESSAGES_DEBUG"] = debug
        self.proc = subprocess.Popen([os.path.join(build, "dangan-gtk")], env=env, stdout=stderr, stderr=stderr)
        self.acc = poll("dangan-gtk in the accessibility tree", self._find_app, 60)

    def _find_app(self):
        if self.proc.poll() is not None:
            raise SystemExit("dangan-gtk exited with %d" % self.proc.returncode)
        desktop = pyatspi.Registry.getDesktop(0)
        for i in range(desktop.childCount):
            a = desktop.getChildAtIndex(i)
            if a is not None and a.get_process_id() == self.proc.pid:
                return a
        return None

    def find(self, role, name, timeout=DEFAULT_TIMEOUT, exact=True, within=None):
        """The first widget of `role` (pyatspi.ROLE_*, or None: any) whose
        name is `name` (or contains it when exact is False), searched
        breadth first under `within` (default: the application). Tables
        (the column views) are entered only when they are `within`: each
        of their cells is a round trip on the bus."""
        def match(a):
            if role is not None and a.getRole() != role:
                return False
            return a.name == name if exact else name in (a.name or "")

        what = "%s %r" % (pyatspi.Atspi.role_get_name(role) if role is not None else
                          "widget", name)
        return poll(what, lambda: search(within or self.acc, match), timeout)

    def exists(self, role, name):
        return search(self.acc, lambda a: a.getRole() == role and a.name == name)

    def entry(self, name, timeout=DEFAULT_TIMEOUT):
        """An editable text field by accessible name (entries, password fields)."""
        def match(a):
            return (a.name == name and
                    a.getRole() in (pyatspi.ROLE_TEXT, pyatspi.ROLE_ENTRY,
                                    pyatspi.ROLE_PASSWORD_TEXT) and is_shown(a))

        return poll("entry %r" % name, lambda: search(self.acc, match), timeout)

    def type(self, name, text):
        e = self.entry(name)
        e.queryEditableText().setTextContents(text)
        poll("%r to hold the text" % name, lambda: text_of(e) == text or
             e.getRole() == pyatspi.ROLE_PASSWORD_TEXT)

    def click(self, name, role=pyatspi.ROLE_PUSH_BUTTON if pyatspi else None):
        """Clicks the button named `name`, or the accessible `name` itself."""
        if isinstance(name, str):
            kind = pyatspi.Atspi.role_get_name(role) if role is not None else "widget"
            b = poll("%s %r shown" % (kind, name),
                     lambda: search(self.acc, lambda a: (role is None or a.getRole() == role) and
                                    a.name == name and is_shown(a)))
        else:
            b = name
        name = b.name
        poll("%r to be enabled" % name,
             lambda: b.getState().contains(pyatspi.STATE_SENSITIVE))
        act = b.queryAction()
        for i in range(act.nActions):
            if act.getName(i) in ("click", "activate", "press"):
                act.doAction(i)
                return b
        raise Fail("%r has no click action" % name)

    def wait_label(self, text, exact=True, timeout=DEFAULT_TIMEOUT):
        return self.find(pyatspi.ROLE_LABEL, text, timeout, exact)

    def wait_label_re(self, pattern, timeout=DEFAULT_TIMEOUT):
        """A label whose whole text matches the regular expression `pattern`."""
        return poll("a label matching %r" % pattern, lambda: search(
            self.acc, lambda a: a.getRole() == pyatspi.ROLE_LABEL and
            re.fullmatch(pattern, a.name or "")), timeout)

    def quit(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


_TABLES = ("ROLE_TABLE", "ROLE_TREE_TABLE")


def search(top, match):
    """Breadth-first search under `top` (included) for an accessible that
    `match`es; tables below `top` are not entered."""
    tables = {getattr(pyatspi, r) for r in _TABLES}
    queue = [top]
    while queue:
        a = queue.pop(0)
        if a is None:
            continue
        if match(a):
            return a
        if a is not top and a.getRole() in tables:
            continue
        queue.extend(a.getChildAtIndex(i) for i in range(a.childCount))
    return None


def is_shown(acc):
    """Whether a person could see `acc`: it and every widget above it is
    visible (a page a stack does not show is hidden). Only for what is typed
    into or clicked; checks of what the window holds look everywhere."""
    a = acc
    while a is not None and a.getRole() != pyatspi.ROLE_APPLICATION:
        if not a.getState().contains(pyatspi.STATE_VISIBLE):
            return False
        a = a.parent
    return True


def text_of(acc):
    t = acc.queryText()
    return t.getText(0, t.characterCount)


def screenshot(build, name):
    shots = os.path.join(build, "gui-shots")
    os.makedirs(shots, exist_ok=True)
    path = os.path.join(shots, name + ".png")
    subprocess.run(["import", "-window", "root", path], check=False)
    print("screenshot:", path)
    return path


def run(test, name):
    """Runs test(build, root) with a temp dir; saves a screenshot at the end
    and exits 0 on success, 1 on failure."""
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
    root = tempfile.mkdtemp(prefix="dgui-")
    ok = False
    try:
        need_tools()
        test(build, root)
        ok = True
    except BaseException:
        traceback.print_exc()
    finally:
        if os.environ.get("DISPLAY") and shutil.which("import"):
            screenshot(build, name + ("" if ok else "-failed"))
        for p in _cleanup:
            try:
                p()
            except Exception:
                traceback.print_exc()
        if ok:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print("kept for a look:", root)
    print("%s: %s" % (name, "ok" if ok else "FAILED"))
    sys.exit(0 if ok else 1)


_cleanup = []


def at_end(fn):
    """Runs fn when the test ends (last added, first run)."""
    _cleanup.insert(0, fn)
