# cli_help.sh - what the dangan CLI says about itself, read from its --help
# output, for the tests that check documentation and completion against it
# (sourced by man.sh and completion.sh; needs $dangan, the CLI to ask).
# Sourcing it gives the CLI a fresh configuration directory, removed on exit.
# shellcheck shell=bash disable=SC2154

DANGAN_CONFIG_DIR=$(mktemp -d)
export DANGAN_CONFIG_DIR
trap 'rm -rf "$DANGAN_CONFIG_DIR"' EXIT
failures=0

# Reports one failed check (the test goes on, and fails at the end).
fail() {
    echo "${0##*/}: $*" >&2
    failures=$((failures + 1))
}

# Exits 1 if a check failed, else 0 with a line saying so.
finish() {
    if [[ $failures -gt 0 ]]; then
        echo "${0##*/}: $failures failure(s)" >&2
        exit 1
    fi
    echo "${0##*/}: every check passed"
    exit 0
}

# The commands `dangan --help` lists, one a line.
dangan_commands() {
    "$dangan" --help | sed -n '/^commands:/,/^$/p' | awk 'NR > 1 && NF {print $1}'
}

# The subcommands `dangan CMD --help` lists (nothing for a command that has none).
dangan_subcommands() {
    local help
    help=$("$dangan" "$1" --help)
    [[ $help == "usage: dangan $1 <command>"* ]] || return 0
    sed -n '/^commands:/,/^$/p' <<<"$help" | awk 'NR > 1 && NF {print $1}'
}

# The long options `dangan WORDS... --help` documents: those of its usage
# lines and of its option lines ("  --flag ..."), one a line, without the
# global ones (--json, --server, --config-dir) and --help.
dangan_help_flags() {
    "$dangan" "$@" --help | awk '
        NR == 1 { usage = 1 }
        usage && NF == 0 { usage = 0 }
        usage || /^  +--/ {
            line = $0
            while (match(line, /--[a-z][a-z-]*/)) {
                flag = substr(line, RSTART, RLENGTH)
                line = substr(line, RSTART + RLENGTH)
                if (flag !~ /^--(json|server|config-dir|help)$/ && !(flag in seen)) {
                    seen[flag] = 1
                    print flag
                }
            }
        }'
}

# The values listed after "WHAT " in a usage error of `dangan WORDS...`
# ("customer fields: a, b, c (see ...)" → a b c), one a line.
dangan_listed_after() {
    local what=$1
    shift
    "$dangan" "$@" 2>&1 >/dev/null | sed -n "s/.*$what \([a-z_, .A-Z]*\).*/\1/p" |
        tr ',' '\n' | sed 's/^ *//; s/ *$//' | grep -v -e '^$' -e '^custom\.NAME$' | sort -u
}
