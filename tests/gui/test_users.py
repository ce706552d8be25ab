"""Users: an admin's Users page lists the accounts; adding a user with a
short password shows the server's password policy; with a good one the
user is added and can then log in with the CLI."""
import pyatspi

import dgui
import pages


def test(build, root):
    srv = dgui.Server(build, root)
    dgui.at_end(srv.stop)
    adm = pages.admin(build, root, srv)

    app = dgui.App(build, adm.config)
    dgui.at_end(app.quit)
    pages.sidebar(app, "Users")
    users = app.find(pyatspi.ROLE_LIST, "Users")
    app.find(None, "li.na", exact=False, within=users)
    app.type("New user name", "zhou.qi")
    app.type("Display name", "周琦")
    app.type("Password (empty: generated)", "short")
    app.click("Add user")
    app.wait_label_re(r".*at least 15.*")  # the server's policy, as it said it
    app.type("Password (empty: generated)", pages.FIRST)
    app.click("Add user")
    app.wait_label("Added zhou.qi")
    app.find(None, "zhou.qi  周琦 — sales · enabled", exact=False, within=users)
    cli = pages.Cli(build, root, srv, "zhou")
    cli.login("zhou.qi", pages.FIRST, must_change=True)
    assert "zhou.qi" in cli.run("whoami").stdout


dgui.run(test, "gui_users")
