"""pages.py - what the Today, Audit, Users and New customer tests share:
sessions opened with the CLI in a config directory the app then uses."""
import json
import os
import subprocess

import pyatspi

import dgui

FRESH = "a much longer pass phrase 客户档案"
FIRST = "the first pass phrase of a new user"


class Cli:
    """The CLI with its own config directory (shared with the app)."""

    def __init__(self, build, root, srv, name):
        self.build = build
        self.config = os.path.join(root, name)
        self.env = dict(os.environ, DANGAN_CONFIG_DIR=self.config)
        self.run("connect", srv.addr, "--fingerprint", "SHA256:" + srv.fingerprint)

    def run(self, *args, input=None, check=True):
        p = subprocess.run([os.path.join(self.build, "dangan")] + list(args), env=self.env,
                           input=input, text=True, capture_output=True)
        if check and p.returncode != 0:
            raise dgui.Fail("dangan %s: %d\n%s%s" % (" ".join(args), p.returncode, p.stdout,
                                                     p.stderr))
        return p

    def json(self, *args):
        return json.loads(self.run(*args, "--json").stdout)

    def login(self, user, password, must_change=False):
        self.run("login", "--user", user, "--password-stdin", input=password + "\n")
        if must_change:
            self.run("passwd", "--password-stdin", input="%s\n%s\n" % (password, FRESH))


def admin(build, root, srv):
    cli = Cli(build, root, srv, "admin")
    cli.login("admin", srv.admin_password, must_change=True)
    return cli


def sidebar(app, name):
    """Opens a section of the sidebar by its name."""
    row = app.find(pyatspi.ROLE_LIST_ITEM, name)
    sel = row.parent.querySelection()
    for i in range(row.parent.childCount):
        if row.parent.getChildAtIndex(i) == row:
            sel.selectChild(i)
    act = row.queryAction()
    for i in range(act.nActions):
        if act.getName(i) in ("activate", "click", "press"):
            act.doAction(i)
    return row
