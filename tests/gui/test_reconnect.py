"""Losing the server: the banner says the connection is lost and that it is
reconnecting; when the server is back on the same address the window
reconnects by itself (a toast says so) with the same session, and a
search typed while it was away is answered then without typing it again."""
import os
import subprocess

import dgui


def test(build, root):
    srv = dgui.Server(build, root, customers=60)
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
    before = app.wait_label_re(r"[1-9]\d* customers?").name

    port = int(srv.addr.rsplit(":", 1)[1])
    srv.stop()
    banner = app.wait_label("Reconnecting", exact=False)
    assert srv.addr in banner.name, banner.name
    # a search typed while the server is away fails, and is not lost
    app.type("Search customers", "科技")
    app.wait_label("The list could not be loaded", exact=False)
    srv.start(port)
    app.wait_label("Connected again.")
    # back: the failed search is sent again by itself
    found = app.wait_label_re(r"[1-9]\d* customers?")
    dgui.poll("the search's answer", lambda: found.name != before)

dgui.run(test, "gui_reconnect")
