"""Audit: an auditor's Audit page shows the log newest first (the logins
that made the sessions), a refusal filter narrows it, and Verify chain says
the chain is intact (the server's AuditVerify, off the main thread)."""
import pyatspi

import dgui
import pages


def test(build, root):
    srv = dgui.Server(build, root)
    dgui.at_end(srv.stop)
    adm = pages.admin(build, root, srv)
    adm.run("user", "add", "aud.it", "--role", "auditor", "--password-stdin",
            input=pages.FIRST + "\n")
    cli = pages.Cli(build, root, srv, "auditor")
    cli.login("aud.it", pages.FIRST, must_change=True)
    cli.run("customer", "get", "C-000001", check=False)  # a refusal (auditors see no records)

    app = dgui.App(build, cli.config)
    dgui.at_end(app.quit)
    pages.sidebar(app, "Audit")
    log = app.find(None, "Audit log")
    app.find(None, "session.login", exact=False, within=log)
    app.find(None, "aud.it from 127.0.0.1", exact=False, within=log)
    app.wait_label_re(r"\d+ records shown.*")
    app.click("Verify chain")
    app.wait_label_re(r"Chain intact: \d+ records checked, up to #\d+\.")
    # refusals only: the auditor's attempts at customer records, denied
    app.click("Refusals only", role=None)
    app.find(None, "record.", exact=False, within=log)
    dgui.poll("only refusals listed", lambda: only_refusals(log))


def live_names(log):
    """The names of the list's rows, without those AT-SPI still lists after
    the list was emptied for the new query (defunct ones)."""
    names = []
    for i in range(log.childCount):
        row = log.getChildAtIndex(i)
        try:
            if row is None or row.getState().contains(pyatspi.STATE_DEFUNCT):
                continue
            names.append(row.name or "")
        except Exception:  # gone between the count and the look
            continue
    return names


def only_refusals(log):
    """Every row's outcome is "denied". A row's name is "title — detail —
    outcome", and AT-SPI may add the row's title after it."""
    names = live_names(log)
    return bool(names) and all(" — denied" in n and " — ok" not in n for n in names)


dgui.run(test, "gui_audit")
