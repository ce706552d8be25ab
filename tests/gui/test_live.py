"""Colleagues' changes, live: the window subscribes to the change feed once
its session is open; a customer a colleague adds with the CLI shows as a
toast naming who added what, within seconds."""
import os
import subprocess

import dgui


def cli_login(build, srv, config, user):
    env = dict(os.environ, DANGAN_CONFIG_DIR=config)
    cli = os.path.join(build, "dangan")
    subprocess.run([cli, "connect", srv.addr, "--fingerprint", "SHA256:" + srv.fingerprint],
                   env=env, check=True, capture_output=True)
    subprocess.run([cli, "login", "--user", user, "--password-stdin"], env=env, check=True,
                   input=srv.passwords[user], text=True, capture_output=True)
    return env


def test(build, root):
    srv = dgui.Server(build, root, customers=60)
    dgui.at_end(srv.stop)
    mine = os.path.join(root, "li.na")
    cli_login(build, srv, mine, "li.na")
    app = dgui.App(build, mine)
    dgui.at_end(app.quit)
    app.wait_label_re(r"[1-9]\d* customers?")

    colleague = cli_login(build, srv, os.path.join(root, "chen.jing"), "chen.jing")
    subprocess.run([os.path.join(build, "dangan"), "customer", "add", "--name",
                    "杭州实时推送科技有限公司"], env=colleague, check=True, capture_output=True)
    toast = app.wait_label("杭州实时推送科技有限公司", exact=False)
    assert "added" in toast.name, toast.name


dgui.run(test, "gui_live")
