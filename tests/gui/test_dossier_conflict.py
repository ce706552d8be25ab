"""The server's concurrency from the Edit form: a colleague changes the same
field with the CLI while the form is open; saving opens the conflict dialog
with their value and the user's; the choice (mine, then theirs) is what the
server then holds."""
import pyatspi

import dgui
import dossier_common as dc


def conflict(app, cli, cust, theirs, mine, keep):
    app.click("Edit")
    app.entry("Region")  # the form is open, based on the version shown
    cli.run("customer", "edit", cust["code"], "--set", "region=" + theirs)
    app.type("Region", mine)
    app.click("Save")
    app.wait_label("Theirs: " + theirs, exact=False)
    app.wait_label("Yours: " + mine, exact=False)
    dgui.screenshot(app.build, "gui_dossier_conflict-dialog-" + keep.split()[-1])
    app.click(app.find(None, keep + ": Region"))
    app.click("Save")
    want = mine if keep == "Keep mine" else theirs
    dgui.poll("the server to hold %s" % want,
              lambda: cli.customer(cust["code"]).get("region") == want)
    dc.fact_value(app, want)


def test(build, root):
    srv, cli, app, cust = dc.setup(build, root)
    colleague = dc.Cli(build, srv, root + "/chen.jing", "chen.jing")
    dc.open_dossier(app, cust)
    conflict(app, colleague, cust, "同事的区", "我的区", "Keep mine")
    conflict(app, colleague, cust, "同事的新区", "我的新区", "Keep theirs")
    assert cli.customer(cust["code"])["region"] == "同事的新区"


dgui.run(test, "gui_dossier_conflict")
