"""Customers: the owner filter offers anyone's, mine and each colleague by
name (the server's Colleagues list); choosing a colleague shows only that
colleague's customers, "Mine" only the user's, "Anyone's" everyone's again."""
import time

import pyatspi

import dgui
import pages

USERS = ("admin", "chen.jing", "li.na", "wang.wei", "zhang.min", "zhao.lei", "liu.yang",
         "sun.li", "zhou.qiang")


def owners_in(table):
    """The user names shown in the table (its Owner column)."""
    names, queue = set(), [table]
    while queue:
        a = queue.pop()
        if a is None:
            continue
        if a.getRole() == pyatspi.ROLE_LABEL and a.name in USERS:
            names.add(a.name)
        queue.extend(a.getChildAtIndex(i) for i in range(a.childCount))
    return names


def choose(app, dropdown, item):
    """Opens the drop-down and picks `item` with the keyboard, as a user
    would: the open list has the focus (Home, Down to the item, Return)."""
    app.click(dgui.search(dropdown, lambda a: a.getRole() == pyatspi.ROLE_PUSH_BUTTON))
    row = app.find(pyatspi.ROLE_LABEL, item)
    while row.getRole() != pyatspi.ROLE_LIST_ITEM:
        row = row.parent
    items = row.parent
    at = [items.getChildAtIndex(k) for k in range(items.childCount)].index(row)
    key = lambda sym: pyatspi.Registry.generateKeyboardEvent(sym, None, pyatspi.KEY_SYM)
    key(0xff50)  # Home
    for _ in range(at):
        time.sleep(0.05)
        key(0xff54)  # Down
    time.sleep(0.05)
    key(0xff0d)  # Return


def test(build, root):
    srv = dgui.Server(build, root, customers=300)
    dgui.at_end(srv.stop)
    cli = pages.Cli(build, root, srv, "li.na")
    cli.login("li.na", srv.passwords["li.na"])
    app = dgui.App(build, cli.config)
    dgui.at_end(app.quit)
    app.wait_label_re(r"\d+ customers( shown; more load as you scroll)?")
    table = app.find(pyatspi.ROLE_TREE_TABLE, "Customers")
    dgui.poll("several owners' customers", lambda: len(owners_in(table)) > 2)
    dd = app.find(pyatspi.ROLE_COMBO_BOX, "Owner filter")

    choose(app, dd, "王伟 (wang.wei)")  # a colleague, by the server's Colleagues list
    dgui.poll("only wang.wei's customers", lambda: owners_in(table) == {"wang.wei"})
    choose(app, dd, "Mine")
    dgui.poll("only li.na's customers", lambda: owners_in(table) == {"li.na"})
    choose(app, dd, "Anyone's")
    dgui.poll("everyone's customers again", lambda: len(owners_in(table)) > 2)
    choose(app, dd, "王伟 (wang.wei)")
    dgui.poll("wang.wei's again", lambda: owners_in(table) == {"wang.wei"})


dgui.run(test, "gui_owner_filter")
