"""Losing the server: the banner says the connection is lost and that it is
reconnecting; a colleague changes a customer while the window is cut off;
when the server is back on the same address the window reconnects by itself
(a toast says so) with the same session, the change-feed subscription
resumes where it stopped and brings the missed change (no gap), and a
search typed while it was away is answered then without typing it again."""
import json
import os
import re
import subprocess

import pyatspi

import dgui


def login(build, config, addr, fingerprint, user, password):
    env = dict(os.environ, DANGAN_CONFIG_DIR=config)
    cli = os.path.join(build, "dangan")
    subprocess.run([cli, "connect", addr, "--fingerprint", "SHA256:" + fingerprint],
                   env=env, check=True, capture_output=True)
    subprocess.run([cli, "login", "--user", user, "--password-stdin"], env=env, check=True,
                   input=password, text=True, capture_output=True)
    return env


def test(build, root):
    srv = dgui.Server(build, root, customers=60)
    dgui.at_end(srv.stop)
    config = os.path.join(root, "config")
    cli = os.path.join(build, "dangan")
    login(build, config, srv.addr, srv.fingerprint, "li.na", srv.passwords["li.na"])
    log = os.path.join(root, "app.log")
    app = dgui.App(build, config, stderr=open(log, "w"), debug="dangan-live")
    dgui.at_end(app.quit)
    before = app.wait_label_re(r"[1-9]\d* customers?").name

    port = int(srv.addr.rsplit(":", 1)[1])
    srv.stop()
    banner = app.wait_label("Reconnecting", exact=False)
    assert srv.addr in banner.name, banner.name

    # while the window is cut off, a colleague renames a customer: the
    # server runs for a moment on another port the window does not know
    srv.start(0)
    colleague = login(build, os.path.join(root, "chen.jing"), srv.addr, srv.fingerprint,
                      "chen.jing", srv.passwords["chen.jing"])
    theirs = json.loads(subprocess.run(
        [cli, "customer", "list", "--owner", "me", "--limit", "1", "--json"], env=colleague,
        check=True, capture_output=True, text=True).stdout)["records"][0]["customer"]
    subprocess.run([cli, "customer", "edit", theirs["code"], "--set", "name=断线期间改名科技有限公司"],
                   env=colleague, check=True, capture_output=True)
    srv.stop()

    # a search typed while the server is away fails, and is not lost
    app.type("Search customers", "科技")
    app.wait_label("The list could not be loaded", exact=False)
    assert "customer %s updated" % theirs["id"] not in open(log).read()
    srv.start(port)
    app.wait_label("Connected again.")
    # the subscription resumed after its last event: the missed change comes
    dgui.poll("the missed change", lambda: re.search(
        r"customer %s updated at" % theirs["id"], open(log).read()))
    # back: the failed search is sent again by itself, and shows the rename
    found = app.wait_label_re(r"[1-9]\d* customers?")
    dgui.poll("the search's answer", lambda: found.name != before)
    table = app.find(pyatspi.ROLE_TREE_TABLE, "Customers")
    app.find(pyatspi.ROLE_PUSH_BUTTON, "断线期间改名科技有限公司", within=table)

dgui.run(test, "gui_reconnect")
