"""Today: a sales rep's Today page shows the demo data's sections with the
same counts and first lines as `dangan today --json` for the same user, and
activating a line opens that customer's dossier."""
import re

import pyatspi

import dgui
import pages

TITLES = {"overdue_tasks": "Overdue tasks", "tasks_today": "Tasks due today",
          "calls_due": "Calls due", "visits_due": "Visits due", "follow_ups": "Follow-ups",
          "contracts": "Contracts expiring", "turning_dormant": "Turning dormant"}


def test(build, root):
    srv = dgui.Server(build, root)
    dgui.at_end(srv.stop)
    cli = pages.Cli(build, root, srv, "config")
    cli.login("li.na", srv.passwords["li.na"])
    want = cli.json("today")
    sections = want["lists"][0]["sections"]

    app = dgui.App(build, cli.config)
    dgui.at_end(app.quit)
    pages.sidebar(app, "Today")
    for s in sections:  # every section, with the CLI's total
        head = "%s (%d%s)" % (TITLES[s["name"]], s["total"], "+" if s.get("more") else "")
        app.find(None, head)
    full = [s for s in sections if s["items"]]
    assert full, "the demo data gives li.na something to do today"
    # the first line of each non-empty section names the customer and its code
    for s in full:
        it = s["items"][0]
        app.find(None, "%s  %s — " % (it["customer_name"], it["customer_code"]), exact=False)
    calls = [s for s in sections if s["name"] in ("calls_due", "visits_due") and s["items"]]
    if calls:  # the cadence and the days past it, as the CLI gives them
        it = calls[0]["items"][0]
        line = app.find(None, "%s  %s — " % (it["customer_name"], it["customer_code"]),
                        exact=False)
        assert "every %d days" % it["cadence_days"] in line.name, line.name
    dgui.screenshot(build, "gui_today-page")
    it = full[0]["items"][0]
    row = app.find(pyatspi.ROLE_PUSH_BUTTON, "%s  %s — " % (it["customer_name"], it["customer_code"]),
                   exact=False)
    app.click(row)
    app.wait_label(it["customer_name"])  # the dossier's heading
    app.wait_label(it["customer_code"])


dgui.run(test, "gui_today")
