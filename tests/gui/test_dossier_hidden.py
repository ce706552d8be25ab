"""A dossier open on a colleague's customer closes, saying why, when a
manager moves that customer into the restricted tier A (the default
restricted tier): from then on li.na may not see it, and the window shows
nothing more of it."""
import os

import pyatspi

import dgui
import dossier_common as dc


def test(build, root):
    srv = dgui.Server(build, root, customers=40)
    dgui.at_end(srv.stop)
    mine = os.path.join(root, "li.na")
    cli = dc.Cli(build, srv, mine, "li.na")
    manager = dc.Cli(build, srv, os.path.join(root, "chen.jing"), "chen.jing")
    # a tier B or C customer of wang.wei's: li.na (sales) sees it, tier A she would not
    theirs = [r["customer"] for r in
              cli.json("customer", "list", "--owner", "wang.wei", "--limit", "50")["records"]
              if r["customer"]["tier"] in ("b", "c")]
    assert theirs, "wang.wei has no tier B or C customer in the demo data"
    cust = theirs[0]
    app = dgui.App(build, mine)
    dgui.at_end(app.quit)
    dc.open_dossier(app, cust)

    manager.run("customer", "edit", cust["code"], "--set", "tier=a")
    app.wait_label("This dossier was closed")
    app.wait_label("no longer visible to you", exact=False)
    # nothing of it is left on the page, and the server agrees she may not see it
    assert not app.exists(pyatspi.ROLE_LABEL, cust["code"])
    p = dc.subprocess.run([cli.cli, "customer", "show", cust["code"]], env=cli.env,
                          capture_output=True, text=True)
    assert p.returncode != 0, p.stdout


dgui.run(test, "gui_dossier_hidden")
