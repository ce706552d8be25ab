"""The Activity page: colleagues' changes, live, as the sentences `dangan
watch` prints, newest on top; clicking one opens that customer's dossier."""
import json
import os
import subprocess

import pyatspi

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
    # the sidebar's Activity row, selected as assistive technologies do
    sections = app.find(None, "Sections")
    names = [sections.getChildAtIndex(i).name for i in range(sections.childCount)]
    sections.querySelection().selectChild(names.index("Activity"))
    app.wait_label("Colleagues' changes appear here as they happen.")

    colleague = cli_login(build, srv, os.path.join(root, "chen.jing"), "chen.jing")
    cli = os.path.join(build, "dangan")
    code = json.loads(subprocess.run(
        [cli, "customer", "add", "--name", "杭州动态科技有限公司", "--set", "tier=b", "--json"],
        env=colleague, check=True, capture_output=True, text=True).stdout)["record"]["customer"]["code"]
    subprocess.run([cli, "customer", "edit", code, "--set", "tier=c"],
                   env=colleague, check=True, capture_output=True)
    feed = app.find(None, "Colleagues' changes")
    changed = dgui.poll("the edit's sentence", lambda: feed.childCount >= 2 and
                        feed.getChildAtIndex(0))
    added = feed.getChildAtIndex(1)
    # the sentences dangan watch prints (its time aside), the values in the
    # words the Customers list shows (tier "B", not the stored "b")
    assert changed.name.endswith(" changed 杭州动态科技有限公司 (%s): tier B → C" % code), \
        changed.name
    assert added.name.endswith(" added customer 杭州动态科技有限公司 (%s): tier B" % code), \
        added.name
    app.click(app.find(pyatspi.ROLE_PUSH_BUTTON, changed.name, within=changed))
    app.wait_label("杭州动态科技有限公司")  # the dossier's heading


dgui.run(test, "gui_activity")
