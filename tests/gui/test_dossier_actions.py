"""Quick actions from the dossier, two clicks each: log a call (it shows in
the timeline at once, and the CLI sees it), add a task and mark it done
(one click). Live: a colleague's change to the open dossier shows in it;
archived by a colleague, the dossier closes saying why."""
import pyatspi

import dgui
import dossier_common as dc


def test(build, root):
    srv, cli, app, cust = dc.setup(build, root)
    colleague = dc.Cli(build, srv, root + "/chen.jing", "chen.jing")
    dc.open_dossier(app, cust)

    app.click("Log a call")
    app.click("Save")  # the summary is required: said before sending
    app.wait_label("required")
    app.type("Summary", "电话沟通了报价单")
    app.click("Save")
    app.wait_label("电话沟通了报价单")  # in the timeline
    app.wait_label("Call · li.na · ", exact=False)
    notes = cli.json("customer", "show", cust["code"])["dossier"]["recent_interactions"]
    assert notes[0]["summary"] == "电话沟通了报价单", notes[0]

    app.click("Add a task")
    app.type("Title", "寄样品给客户")
    app.type("Due", "2030-01-15 10:00")
    app.click("Save")
    app.wait_label("寄样品给客户")
    app.wait_label("due 2030-01-15 10:00 · li.na", exact=False)
    app.click("Done: 寄样品给客户")
    app.wait_label(" · done", exact=False)
    dgui.screenshot(app.build, "gui_dossier_actions-timeline")

    # a colleague's change shows in the open dossier
    colleague.run("customer", "edit", cust["code"], "--set", "website=https://live.example")
    dc.fact_value(app, "https://live.example")
    # archived by the colleague: the dossier closes and says why
    colleague.run("customer", "archive", cust["code"])
    app.wait_label("This dossier was closed")
    app.wait_label("archived", exact=False)


dgui.run(test, "gui_dossier_actions")
