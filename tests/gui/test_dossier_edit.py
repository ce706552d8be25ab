"""Editing a customer from its dossier: a field changed in the Edit form is
saved (the dossier shows it, the CLI reads it back); a value the server
would refuse is refused before sending, with the server's words next to the
field."""
import pyatspi

import dgui
import dossier_common as dc


def test(build, root):
    srv, cli, app, cust = dc.setup(build, root)
    dc.open_dossier(app, cust)

    # a wrong phone: refused by the form, in the server's words, nothing sent
    app.click("Edit")
    phone = dgui.text_of(app.entry("Phone"))  # as the form shows it
    app.type("Phone", "call me")
    app.click("Save")
    app.wait_label("not a phone number (3-20 digits, with + - ( ) . / # or ext)")
    assert cli.customer(cust["code"])["version"] == cust["version"]

    app.type("Phone", phone)
    app.type("Region", "图形界面区")
    app.click("Save")
    dc.fact_value(app, "图形界面区")  # the dossier shows the saved value
    dgui.poll("the CLI to read the region back",
                    lambda: cli.customer(cust["code"]).get("region") == "图形界面区")
    after = cli.customer(cust["code"])
    assert after["version"] == cust["version"] + 1, after["version"]
    # the history of changes says who changed what from what to what
    app.wait_label("Region: %s → 图形界面区" % (cust.get("region") or "—"), exact=False)


dgui.run(test, "gui_dossier_edit")
