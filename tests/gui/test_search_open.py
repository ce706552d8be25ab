"""Customers: the list pages (the pages of the first screen and two ahead
of it, not everything, until the view scrolls),
a search for 科技 as you type shows matching customers, and opening one
shows its dossier with that customer's name. The session comes from the
CLI's login, in the config directory the two share."""
import os
import re
import subprocess

import pyatspi

import dgui


def test(build, root):
    srv = dgui.Server(build, root, customers=1000)
    dgui.at_end(srv.stop)
    config = os.path.join(root, "config")
    env = dict(os.environ, DANGAN_CONFIG_DIR=config)
    cli = os.path.join(build, "dangan")
    subprocess.run([cli, "connect", srv.addr, "--fingerprint", "SHA256:" + srv.fingerprint],
                   env=env, check=True, capture_output=True)
    subprocess.run([cli, "login", "--user", "li.na", "--password-stdin"], env=env, check=True,
                   input=srv.passwords["li.na"], text=True, capture_output=True)

    app = dgui.App(build, config)
    dgui.at_end(app.quit)
    app.entry("Search customers")  # straight into the main window
    # 1,000 customers: three pages of 200 are loaded (the screen's and the
    # two ahead of it), not everything
    app.wait_label("600 customers shown; more load as you scroll")

    app.type("Search customers", "科技")
    status = app.wait_label(" customers", exact=False)
    poll_status = lambda: re.fullmatch(r"(\d+) customers?", status.name)
    count = int(dgui.poll("the search's count", poll_status).group(1))
    assert 0 < count < 600, status.name
    table = app.find(pyatspi.ROLE_TREE_TABLE, "Customers")
    hit = app.find(pyatspi.ROLE_PUSH_BUTTON, "科技", exact=False, within=table)
    name = hit.name
    app.click(hit)
    # the dossier's heading is the customer's name; its code is shown
    app.wait_label(name)
    dgui.poll("the dossier's code", lambda: dgui.search(
        app.acc, lambda a: a.getRole() == pyatspi.ROLE_LABEL and
        re.fullmatch(r"C-\d{6}", a.name or "")))
    # the line under it in words, as the list says them, not the stored codes
    app.wait_label_re(r"C-\d{6} · owner \S+ · tier [ABC] · (Potential|Active|Dormant|Lost) · .+")


dgui.run(test, "gui_search_open")
