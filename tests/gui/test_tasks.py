"""The Tasks page: my open tasks with their due time in the team's zone (the
app runs in another machine zone); "Done" marks one done
with the version the row showed (the CLI then lists one fewer); a task
marked done elsewhere leaves the page (the change feed reloads it);
"Customer" opens the task's customer."""
import datetime
import json
import os
import re
import subprocess
import zoneinfo

import pyatspi

import dgui


def test(build, root):
    srv = dgui.Server(build, root, customers=60)
    dgui.at_end(srv.stop)
    config = os.path.join(root, "li.na")
    env = dict(os.environ, DANGAN_CONFIG_DIR=config)
    cli = os.path.join(build, "dangan")
    run = lambda *a: subprocess.run([cli] + list(a), env=env, check=True, capture_output=True,
                                    text=True).stdout
    run("connect", srv.addr, "--fingerprint", "SHA256:" + srv.fingerprint)
    subprocess.run([cli, "login", "--user", "li.na", "--password-stdin"], env=env, check=True,
                   input=srv.passwords["li.na"], text=True, capture_output=True)
    mine = lambda: json.loads(run("task", "list", "--mine", "--json"))["records"]
    before = mine()
    assert len(before) >= 2, before

    zone = re.search(r"^time_zone\s+(\S+)", run("settings", "show"), re.M).group(1)
    # the machine's zone is not the team's: times must still be the team's
    os.environ["TZ"] = "America/New_York" if zone != "America/New_York" else "Asia/Tokyo"
    app = dgui.App(build, config)
    dgui.at_end(app.quit)
    app.wait_label_re(r"[1-9]\d* customers?")
    sections = app.find(None, "Sections")
    names = [sections.getChildAtIndex(i).name for i in range(sections.childCount)]
    sections.querySelection().selectChild(names.index("Tasks"))
    app.wait_label("%d open tasks" % len(before))
    title = before[0]["task"]["title"]
    app.find(None, title)
    app.wait_label_re(r"(Overdue: was due|Due) \d{4}-\d\d-\d\d \d\d:\d\d")
    due = int(before[0]["task"]["due_at_ms"])
    when = datetime.datetime.fromtimestamp(due / 1000, zoneinfo.ZoneInfo(zone))
    app.wait_label_re(r"(Overdue: was due|Due) %s" % when.strftime("%Y-%m-%d %H:%M"))

    # done, with the version shown: one fewer, for the CLI too
    app.click("Mark “%s” done" % title)
    app.wait_label("%d open tasks" % (len(before) - 1))
    dgui.poll("the CLI to see it done", lambda: len(mine()) == len(before) - 1)

    # one marked done with the CLI leaves the page (the change feed reloads it)
    other = mine()[0]["task"]
    run("task", "done", str(other["id"]))
    app.wait_label("%d open tasks" % (len(before) - 2))

    dgui.screenshot(build, "gui_tasks-page")  # the page itself; the end shows the dossier
    # the customer of a task
    app.click(app.find(pyatspi.ROLE_PUSH_BUTTON, "Open the task's customer"))
    app.wait_label_re(r"C-\d{6}")


dgui.run(test, "gui_tasks")
