"""dossier_common.py - what the dossier's GUI tests share: CLI sessions for
li.na (the GUI's user) and a colleague, one of li.na's customers, and
opening its dossier in the window by searching its name."""
import json
import os
import re
import subprocess

import pyatspi

import dgui


class Cli:
    def __init__(self, build, srv, config, user):
        self.cli = os.path.join(build, "dangan")
        self.env = dict(os.environ, DANGAN_CONFIG_DIR=config)
        self.run("connect", srv.addr, "--fingerprint", "SHA256:" + srv.fingerprint)
        subprocess.run([self.cli, "login", "--user", user, "--password-stdin"], env=self.env,
                       check=True, input=srv.passwords[user], text=True, capture_output=True)

    def run(self, *args):
        p = subprocess.run([self.cli] + list(args), env=self.env, capture_output=True, text=True)
        if p.returncode != 0:
            raise dgui.Fail("dangan %s: exit %d\n%s%s" % (" ".join(args), p.returncode,
                                                           p.stdout, p.stderr))
        return p.stdout

    def json(self, *args):
        return json.loads(self.run(*(list(args) + ["--json"])))

    def customer(self, code):
        return self.json("customer", "show", code)["record"]["customer"]


def setup(build, root, customers=40):
    """The server, li.na's CLI and window, and one of her customers (a dict)."""
    srv = dgui.Server(build, root, customers=customers)
    dgui.at_end(srv.stop)
    mine = os.path.join(root, "li.na")
    cli = Cli(build, srv, mine, "li.na")
    cust = cli.json("customer", "list", "--owner", "me", "--limit", "1")["records"][0]["customer"]
    app = dgui.App(build, mine)
    app.build = build  # for the screenshots taken on the way
    dgui.at_end(app.quit)
    return srv, cli, app, cust


def open_dossier(app, cust):
    """Searches the customer's name and opens its dossier."""
    app.entry("Search customers")
    app.type("Search customers", cust["name"])
    table = app.find(pyatspi.ROLE_TREE_TABLE, "Customers")
    app.click(app.find(pyatspi.ROLE_PUSH_BUTTON, cust["name"], within=table))
    app.wait_label(cust["code"])  # the Code fact
    app.find(pyatspi.ROLE_PUSH_BUTTON, "Edit")


def fact_value(app, text):
    return dgui.poll("a label %r" % text, lambda: dgui.search(
        app.acc, lambda a: a.getRole() == pyatspi.ROLE_LABEL and a.name == text))
