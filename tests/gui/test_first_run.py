"""First run from an empty config directory: the server's address, its
fingerprint shown (the one dangand init printed) and trusted, the login of
an administrator the admin has just added, the password change the server
requires of a new account, the main window; then a restart opens straight
into the main window, and the CLI uses the same trust and session (one
config directory for both)."""
import os
import subprocess

import pyatspi

import dgui
import pages


def test(build, root):
    srv = dgui.Server(build, root)
    dgui.at_end(srv.stop)
    config = os.path.join(root, "config")  # does not exist yet
    # a new account must choose its own password at its first login
    first = "a first pass phrase the admin chose"
    pages.admin(build, root, srv).run("user", "add", "zhou.min", "--role", "admin",
                                      "--password-stdin", input=first + "\n")

    app = dgui.App(build, config)
    dgui.at_end(app.quit)
    app.type("Server address", srv.addr)
    app.click("Continue")
    # the fingerprint, shown whole for comparison with the administrator's
    app.wait_label("SHA256:" + srv.fingerprint)
    app.click("Trust")
    app.type("User name", "zhou.min")
    app.type("Password", first)
    app.click("Log in")
    app.entry("New password")
    fresh = "a-new-admin-password-for-the-gui-test"
    app.type("New password", fresh)
    app.type("Repeat the new password", fresh)
    app.click("Change password")
    app.entry("Search customers")
    app.find(pyatspi.ROLE_LIST_ITEM, "Customers")
    app.find(pyatspi.ROLE_LIST_ITEM, "Audit")  # an admin sees Audit and Users
    app.find(pyatspi.ROLE_LIST_ITEM, "Users")
    trusted = open(os.path.join(config, "known_servers")).read()
    assert srv.fingerprint in trusted, trusted
    app.quit()

    # the next start opens straight into the main window
    app = dgui.App(build, config)
    dgui.at_end(app.quit)
    app.entry("Search customers")
    assert not app.exists(pyatspi.ROLE_PUSH_BUTTON, "Log in")

    # and the CLI uses the session the window opened
    env = dict(os.environ, DANGAN_CONFIG_DIR=config)
    who = subprocess.run([os.path.join(build, "dangan"), "whoami"], env=env,
                         capture_output=True, text=True)
    assert who.returncode == 0 and "zhou.min" in who.stdout, (who.stdout, who.stderr)


dgui.run(test, "gui_first_run")
