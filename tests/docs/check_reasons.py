#!/usr/bin/python3
"""check_reasons.py - every Status.reason the server can send is in docs/protocol.md.

    check_reasons.py [-v] SERVER_DIR PROTOCOL_MD

Finds the reasons in the server's C sources (every .c and .h below SERVER_DIR):
the string literals passed where a function's parameter is named `reason`
(dg_req_fail, dg_h_deny, reply_and_close, end_with_resync, ...: found from
their declarations, so a new such function is covered without changing this
script; dg_store_* functions excepted: what they get is stored, not sent),
returned by a function whose name has "reason" in it, or assigned to a field
whose name ends in "reason" or to a variable named *_reason. Each must have
a row of its own (first column: `reason`) in a table under a heading of
PROTOCOL_MD that mentions "reason", or under its subheadings; and every such row must name a reason
the sources still hold.
Exit 0 when both hold, 1 listing what is missing, 2 on a usage error; -v
also lists every reason found and where.
"""

import pathlib
import re
import sys

REASON = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
LITERAL = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
MIN_REASONS = 40  # fewer means the extraction broke, not that reasons went away


def strip_comments(text):
    """C comments out, string literals kept."""
    out, i, n = [], 0, len(text)
    while i < n:
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
            out.append(" ")
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text[i] in "\"'":
            q, j = text[i], i + 1
            while j < n and text[j] != q:
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def top_level_literals(expr):
    """String literals of an expression outside any call or parentheses:
    `cond ? "a" : "b"` gives both, `f("a")` none (it is f's argument)."""
    out, depth, i = [], 0, 0
    while i < len(expr):
        ch = expr[i]
        if ch == '"':
            m = LITERAL.match(expr, i)
            if not m:
                break
            if depth == 0:
                out.append(m.group(1))
            i = m.end()
            continue
        depth += ch in "([{"
        depth -= ch in ")]}"
        i += 1
    return out


def split_args(text, start):
    """Arguments of the call whose '(' is at text[start]; None if unbalanced."""
    depth, i, args, cur = 0, start, [], []
    while i < len(text):
        ch = text[i]
        if ch == '"':
            j = i + 1
            while j < len(text) and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            cur.append(text[i:j + 1])
            i = j + 1
            continue
        if ch in "([{":
            depth += 1
            if depth > 1:
                cur.append(ch)
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                args.append("".join(cur).strip())
                return args
            cur.append(ch)
        elif ch == "," and depth == 1:
            args.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
        i += 1
    return None


def reason_params(sources):
    """{function: index of its parameter named `reason`}, from declarations."""
    found = {}
    decl = re.compile(r"\b([A-Za-z_]\w*)\s*\(([^()]*?\bchar\s*\*\s*reason)\s*[,)]")
    for text in sources:
        for m in decl.finditer(text):
            found[m.group(1)] = m.group(2).count(",")
    return found


def function_bodies(text, name_re):
    """Bodies of function definitions whose name matches name_re."""
    for m in re.finditer(r"\b(\w+)\s*\([^;{}()]*(?:\([^()]*\)[^;{}()]*)*\)\s*\{", text):
        if not name_re.search(m.group(1)):
            continue
        depth, i = 0, m.end() - 1
        while i < len(text):
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                depth -= 1
                if depth == 0:
                    yield text[m.end():i]
                    break
            i += 1


def server_reasons(server_dir):
    files = sorted(p for p in pathlib.Path(server_dir).rglob("*") if p.suffix in (".c", ".h"))
    sources = [strip_comments(p.read_text(encoding="utf-8")) for p in files]
    params = reason_params(sources)
    reasons = {}

    def add(lit, where):
        if REASON.match(lit):
            reasons.setdefault(lit, where)

    for path, text in zip(files, sources):
        for fn, k in params.items():
            if fn.startswith("dg_store_"):
                continue  # the store seam: written to the database, never sent
            for m in re.finditer(r"\b%s\s*\(" % re.escape(fn), text):
                args = split_args(text, m.end() - 1)
                if args and k < len(args):
                    for lit in top_level_literals(args[k]):
                        add(lit, "%s: %s()" % (path.name, fn))
        for body in function_bodies(text, re.compile("reason")):
            for m in re.finditer(r"\breturn\s+([^;]*);", body):
                for lit in top_level_literals(m.group(1)):
                    add(lit, "%s: returned" % path.name)
        for m in re.finditer(r"(?:(?:\.|->)\w*reason|\b\w+_reason)\s*=\s*([^;=][^;]*);", text):
            for lit in top_level_literals(m.group(1)):
                add(lit, "%s: assigned" % path.name)
    return reasons, params


def documented(doc_text):
    """The reasons named in the first column of the tables under a heading that
    mentions "reason" (or under one of its subheadings)."""
    in_tables, headings = set(), []  # headings: (level, mentions "reason") down to here
    for line in doc_text.splitlines():
        m = re.match(r"^(#+)\s", line)
        if m:
            level = len(m.group(1))
            headings = [h for h in headings if h[0] < level] + [(level, "reason" in line.lower())]
        elif any(h[1] for h in headings):
            m = re.match(r"^\|\s*`([a-z][a-z0-9_]*)`\s*\|", line)
            if m:
                in_tables.add(m.group(1))
    return in_tables


def main(argv):
    verbose = "-v" in argv
    argv = [a for a in argv if a != "-v"]
    if len(argv) != 3:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    reasons, params = server_reasons(argv[1])
    in_tables = documented(pathlib.Path(argv[2]).read_text(encoding="utf-8"))
    problems = []
    if len(reasons) < MIN_REASONS:
        problems.append("only %d reasons found in %s (functions with a reason parameter: %s): "
                        "the extraction is broken" % (len(reasons), argv[1],
                                                      ", ".join(sorted(params))))
    for r in sorted(set(reasons) - in_tables):
        problems.append("reason `%s` (%s) has no row in the reason tables of %s"
                        % (r, reasons[r], argv[2]))
    for r in sorted(in_tables - set(reasons)):
        problems.append("%s lists `%s`, which the server no longer sends" % (argv[2], r))
    if verbose:
        for r in sorted(reasons):
            print("found %s (%s)" % (r, reasons[r]))
    for p in problems:
        print(p)
    if not problems:
        print("%d reasons, all documented in %s" % (len(reasons), argv[2]))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
