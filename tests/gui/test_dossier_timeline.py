"""The dossier's timeline beyond the newest 50 interactions: a customer with
130 more logged calls shows the newest 50, and "Earlier interactions" brings
the older ones a page at a time, in order, until the oldest is shown and the
button goes away."""
import os

import pyatspi

import dgui
import dossier_common as dc

N_NOTES = 130


def shown_notes(app):
    """The test's notes among the labels on the page, in one walk of the tree
    (a row that goes away meanwhile is skipped)."""
    found, queue = set(), [app.acc]
    while queue:
        a = queue.pop()
        try:
            if a is None:
                continue
            name = a.name or ""
            if a.getRole() == pyatspi.ROLE_LABEL and name.endswith("次电话回访"):
                found.add(name)
            queue.extend(a.getChildAtIndex(i) for i in range(a.childCount))
        except Exception:  # gone while walking: the next poll looks again
            continue
    return found


def test(build, root):
    # the notes are logged before the window opens: their change events
    # would otherwise reload the open dossier while it pages
    srv = dgui.Server(build, root, customers=40)
    dgui.at_end(srv.stop)
    mine = os.path.join(root, "li.na")
    cli = dc.Cli(build, srv, mine, "li.na")
    cust = cli.json("customer", "list", "--owner", "me", "--limit", "1")["records"][0]["customer"]
    # oldest first, a minute apart, all older than the demo's own notes
    for i in range(N_NOTES):
        cli.run("note", "add", cust["code"], "--channel", "phone", "--summary",
                "第%03d次电话回访" % i, "--at",
                "2020-01-%02dT08:%02d:00" % (1 + i // 60, i % 60))
    app = dgui.App(build, mine)
    dgui.at_end(app.quit)
    total = cli.json("customer", "show", cust["code"])["dossier"]["interaction_count"]
    assert total >= N_NOTES, total
    oldest, every = "第000次电话回访", {"第%03d次电话回访" % i for i in range(N_NOTES)}
    dc.open_dossier(app, cust)
    app.wait_label("Interactions (%d)" % total)
    more = app.find(pyatspi.ROLE_PUSH_BUTTON, "Earlier interactions", exact=False)
    shown = dgui.poll("the newest 50", lambda: shown_notes(app) or None)
    assert len(shown) == 50 - (total - N_NOTES), (len(shown), total)
    assert oldest not in shown
    clicks = 0
    while oldest not in shown:
        assert clicks <= total // 50 + 1, "not the oldest after %d pages" % clicks
        app.click(more)
        clicks += 1
        before = len(shown)
        shown = dgui.poll("a page more", lambda: (lambda s: s if len(s) > before else None)(
            shown_notes(app)))
    assert shown == every, sorted(every - shown)[:5]
    assert clicks == 2, clicks  # 50 from the Get, then 50 and the last 39
    # nothing left to ask for: the button is gone from the window
    dgui.poll("the button to go", lambda: not dgui.search(app.acc, lambda a: (
        a.getRole() == pyatspi.ROLE_PUSH_BUTTON and
        (a.name or "").startswith("Earlier interactions") and
        a.getState().contains(pyatspi.STATE_VISIBLE))))


dgui.run(test, "gui_dossier_timeline")
