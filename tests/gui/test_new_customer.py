"""Ctrl+N: the New customer dialog checks what was typed with the server's
rules before sending (a bad phone is refused in the dialog), creates the
customer, opens its dossier, and the CLI then finds it."""
import pyatspi

import dgui
import pages

NAME = "图形界面新建测试有限公司"


def keys_ctrl(keycode):
    """Ctrl + a key by X keycode (Control_L is 37)."""
    pyatspi.Registry.generateKeyboardEvent(37, None, pyatspi.KEY_PRESS)
    pyatspi.Registry.generateKeyboardEvent(keycode, None, pyatspi.KEY_PRESSRELEASE)
    pyatspi.Registry.generateKeyboardEvent(37, None, pyatspi.KEY_RELEASE)


def test(build, root):
    srv = dgui.Server(build, root)
    dgui.at_end(srv.stop)
    cli = pages.Cli(build, root, srv, "config")
    cli.login("li.na", srv.passwords["li.na"])

    app = dgui.App(build, cli.config)
    dgui.at_end(app.quit)
    app.wait_label_re(r"[1-9]\d* customers?( shown; more load as you scroll)?")  # the list is in
    dgui.poll("the New customer dialog", lambda: keys_ctrl(57) or dgui.search(
        app.acc, lambda a: a.getRole() == pyatspi.ROLE_PUSH_BUTTON and a.name == "Create"),
        timeout=20)
    app.type("Name", NAME)
    app.type("Phone", "not a phone")
    app.click("Create")
    app.wait_label_re(r"phone: .+")  # refused in the dialog, nothing sent
    app.type("Phone", "13812345678")
    app.type("Region", "广东")
    app.click("Create")
    app.wait_label(NAME)  # the new customer's dossier
    code = app.wait_label_re(r"C-\d{6}").name
    found = cli.run("customer", "search", NAME).stdout
    assert code in found and NAME in found, found


dgui.run(test, "gui_new_customer")
