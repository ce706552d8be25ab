"""Language by locale: English by default (the other tests), Chinese
(simplified) when the user's language is zh_CN — the first-run page's
controls are named in Chinese, from po/zh_CN.po."""
import os

import pyatspi

import dgui


def test(build, root):
    os.environ["LANGUAGE"] = "zh_CN"
    app = dgui.App(build, os.path.join(root, "config"))
    dgui.at_end(app.quit)
    app.entry("服务器地址")
    app.find(pyatspi.ROLE_PUSH_BUTTON, "继续")
    app.wait_label("连接服务器")


dgui.run(test, "gui_translation")
