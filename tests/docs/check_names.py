#!/usr/bin/python3
"""check_names.py - the names a page of docs/ gives in backticks exist in the code.

    check_names.py SOURCE_DIR DOC_MD...

For each markdown file, outside fenced code blocks:
- every backticked C identifier with an underscore inside it (`dg_conns_accept`,
  `write_run`, `DG_ASSERT_LOOP_THREAD()`; not fragments such as `_len` or `dg_`)
  must occur as a whole word in the code (comments left out) of the .c, .h and
  .proto files below SOURCE_DIR/server, common, client and proto. A page that
  speaks of the tests may also name what tests/ holds (a test, a dgt_ helper),
  and one that speaks of a library may name what the system headers the code
  includes declare (libuv's `close_cb`);
- every backticked C file name (`conn.c`, `store.h`, `fixture.[ch]`) must exist:
  a bare name anywhere in those trees or in tests/ (or, for a system header
  such as `sqlite3.h`, under /usr/include), a path (`server/net/conn.c`) at
  that path below SOURCE_DIR; `X.pb-c.[ch]` stands for the code protoc-c
  generates from proto/X.proto;
- in "`func` (`file.c`" and "`func` in `file.c`", func must be defined or
  declared (function, macro, type, variable, enum constant) in a file of that
  name (of that path, when a path is given), when the code declares it
  somewhere at all (`libdangan` (`client.c`, ...) is not a C name).
Prints each problem as FILE:LINE: ...; exit 0 when there is none, 1 when
there is one, 2 on a usage error.
"""

import glob
import os
import re
import sys

TREES = ("server", "common", "client", "proto")
SYSTEM_INCLUDE = "/usr/include"

SPAN = re.compile(r"`([^`\n]+)`")
IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*[A-Za-z0-9]")
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
FILENAME = re.compile(r"(?:[\w.-]+/)*[\w.-]+\.(?:c|h|\[ch\])")
# "`func` (`file.c`" or "`func` in `file.c`", across a line break too
PLACED = re.compile(r"`([A-Za-z_]\w*)(?:\(\))?`\s+(?:\(|in\s+)`((?:[\w.-]+/)*[\w.-]+\.(?:c|h|\[ch\]))`")


def strip_comments(text):
    """C (and .proto) comments out, string literals kept, line breaks kept."""
    out, i, n = [], 0, len(text)
    while i < n:
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j) or " ")
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text[i] in "\"'":
            q, j = text[i], i + 1
            while j < n and text[j] != q and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def expand(name):
    """X.[ch] stands for X.c and X.h."""
    return [name[:-5] + ".c", name[:-5] + ".h"] if name.endswith(".[ch]") else [name]


def read_code(path):
    """A source file without its comments (C, .proto, CMake)."""
    with open(path, encoding="utf-8", errors="replace") as fh:
        text = fh.read()
    if path.endswith(".cmake") or os.path.basename(path) == "CMakeLists.txt":
        return re.sub(r"#.*", "", text)
    return strip_comments(text)


class Sources:
    def __init__(self, top):
        self.top = top
        self.words = set()       # of the code
        self.test_words = set()  # of tests/
        self.sys_words = set()   # of the system headers the code includes
        self.by_name = {}        # basename -> [relative paths] of the code
        self.test_names = set()  # basenames of tests/
        self.texts = {}          # relative path -> code without comments
        for tree in TREES:
            for root, _, files in os.walk(os.path.join(top, tree)):
                for f in files:
                    if not f.endswith((".c", ".h", ".proto")):
                        continue
                    path = os.path.join(root, f)
                    rel = os.path.relpath(path, top)
                    code = read_code(path)
                    self.texts[rel] = code
                    self.by_name.setdefault(f, []).append(rel)
                    self.words.update(WORD.findall(code))
        for root, _, files in os.walk(os.path.join(top, "tests")):
            for f in files:
                if f.endswith((".c", ".h", ".cmake")):
                    self.test_names.add(f)
                    self.test_words.update(WORD.findall(read_code(os.path.join(root, f))))
        headers = set()
        for code in self.texts.values():
            headers.update(re.findall(r"^[ \t]*#[ \t]*include[ \t]*<([^>]+)>", code, re.M))
        for h in sorted(headers):
            for path in system_header(h):
                self.sys_words.update(WORD.findall(read_code(path)))

    def candidates(self, name):
        """Relative paths of the code files `name` (a bare name or a path) may mean."""
        out = []
        for n in expand(name):
            if "/" in n:
                if n in self.texts:
                    out.append(n)
            else:
                out.extend(self.by_name.get(n, []))
        return out

    def file_exists(self, name):
        for n in expand(name.strip("<>")):
            if "/" in n and os.path.isfile(os.path.join(self.top, n)):
                continue
            if "/" not in n and (n in self.by_name or n in self.test_names):
                continue
            m = re.fullmatch(r"(.*/)?([\w-]+)\.pb-c\.[ch]", n)
            if m and ("proto/%s.proto" % m.group(2)) in self.texts:
                continue  # generated into the build tree from the .proto
            if n.endswith(".h") and system_header(n):
                continue
            return False
        return True

    def knows(self, word):
        return word in self.words or word in self.test_words or word in self.sys_words


def system_header(name):
    """Paths of system header `name` (<uv.h>, <mbedtls/ssl.h>), if any."""
    return [p for p in [os.path.join(SYSTEM_INCLUDE, name)] +
            glob.glob(os.path.join(SYSTEM_INCLUDE, "*", name)) if os.path.isfile(p)]


def declares(code, name):
    """Does `code` define or declare `name`?"""
    n = re.escape(name)
    patterns = (
        r"^[ \t]*#[ \t]*define[ \t]+%s\b" % n,                # macro
        r"^[A-Za-z_][\w \t*]*?\b%s[ \t]*\(" % n,               # function, at file scope
        r"^[A-Za-z_][\w \t*]*?\b%s[ \t]*(?:\[|=|;|,)" % n,     # variable, array
        r"\b(?:struct|union|enum)[ \t]+%s\b" % n,              # tag
        r"^[ \t]*\}[ \t]*%s[ \t]*;" % n,                       # typedef struct {...} name;
        r"^typedef\b[^;]*\b%s[ \t]*;" % n,                     # typedef
        r"^[ \t]+%s[ \t]*(?:=|,|$)" % n,                       # enum constant
        r"\(\*[ \t]*%s[ \t]*\)" % n,                           # function pointer member
    )
    return any(re.search(p, code, re.M) for p in patterns)


def doc_text(path):
    """The page with fenced code blocks blanked out (line numbers kept)."""
    out, in_fence = [], False
    with open(path, encoding="utf-8") as fh:
        for line in fh.read().split("\n"):
            if line.lstrip().startswith("```"):
                in_fence = not in_fence
                out.append("")
            else:
                out.append("" if in_fence else line)
    return "\n".join(out)


def check_doc(src, path):
    text = doc_text(path)
    problems = []

    def line_of(pos):
        return text.count("\n", 0, pos) + 1

    def report(pos, msg):
        problems.append("%s:%d: %s" % (path, line_of(pos), msg))

    for m in SPAN.finditer(text):
        token = m.group(1).strip()
        if token.endswith("()"):
            token = token[:-2]
        if FILENAME.fullmatch(token.strip("<>")):
            if not src.file_exists(token):
                report(m.start(), "`%s`: no such file in %s" % (m.group(1), ", ".join(TREES)))
        elif IDENT.fullmatch(token) and "_" in token:
            if not src.knows(token):
                report(m.start(), "`%s`: not found in the code" % m.group(1))
    for m in PLACED.finditer(text):
        name, where = m.group(1), m.group(2)
        files = src.candidates(where)
        if not files or any(declares(src.texts[f], name) for f in files):
            continue
        if not any(declares(code, name) for code in src.texts.values()):
            continue  # declared nowhere: not a C name (`libdangan` (`client.c`, ...))
        report(m.start(), "`%s` is not defined or declared in `%s` (%s)" %
               (name, where, ", ".join(sorted(files))))
    return problems


def main(argv):
    if len(argv) < 2 or not os.path.isdir(argv[0]):
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    src = Sources(argv[0])
    if not src.texts:
        print("check_names.py: no sources below %s" % argv[0], file=sys.stderr)
        return 2
    problems = []
    for doc in argv[1:]:
        problems.extend(check_doc(src, doc))
    for p in problems:
        print(p)
    if problems:
        print("%d name(s) in the docs do not match the code" % len(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
