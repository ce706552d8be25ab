#!/bin/bash
# man.sh - the manual pages dangan(1) and dangand(8): groff and man render
# them without a warning, and they document what the programs say they do:
# dangan.1 and docs/cli.md every command, subcommand and option of `dangan
# ... --help`, dangand.8 every command and option of `dangand --help`.
#
#   man.sh DANGAN DANGAND MAN_DIR CLI_MD
set -u
dangan=$1 # read by cli_help.sh
dangand=$2
man_dir=$3
cli_md=$4
here=$(dirname "$0")

# shellcheck source=tests/packaging/cli_help.sh
. "$here/cli_help.sh"

# The page as text, one paragraph tag or line a line, spaces collapsed.
rendered() {
    MANWIDTH=2000 man --nh --nj -l "$1" 2>/dev/null | sed 's/^ *//; s/  */ /g'
}

for page in "$man_dir/dangan.1" "$man_dir/dangand.8"; do
    [[ -r $page ]] || {
        fail "no $page"
        continue
    }
    warnings=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
    [[ -z $warnings ]] || fail "groff warns about $page: $warnings"
    warnings=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
    [[ -z $warnings ]] || fail "man warns about $page: $warnings"
done

text=$(rendered "$man_dir/dangan.1")
md=$(<"$cli_md")
commands=$(dangan_commands)
[[ $(wc -l <<<"$commands") -ge 16 ]] || fail "dangan --help lists too few commands"
for cmd in $commands; do
    subs=$(dangan_subcommands "$cmd")
    flags=$(dangan_help_flags "$cmd")
    if [[ -z $subs ]]; then
        grep -q -E "^$cmd( |\$)" <<<"$text" || fail "dangan.1 does not describe \"$cmd\""
        [[ $md == *"dangan $cmd"* ]] || fail "docs/cli.md does not describe \"dangan $cmd\""
    fi
    for sub in $subs; do
        [[ $text == *"$cmd $sub"* ]] || fail "dangan.1 does not describe \"$cmd $sub\""
        [[ $md == *"$cmd $sub"* ]] || fail "docs/cli.md does not describe \"$cmd $sub\""
        flags+=$'\n'$(dangan_help_flags "$cmd" "$sub")
    done
    for flag in $flags; do
        [[ $text == *"$flag"* ]] || fail "dangan.1 does not mention $flag of dangan $cmd"
        [[ $md == *"$flag"* ]] || fail "docs/cli.md does not mention $flag of dangan $cmd"
    done
done

text=$(rendered "$man_dir/dangand.8")
usage=$("$dangand" --help)
while read -r cmd; do
    grep -q -E "^$cmd( |\$)" <<<"$text" || fail "dangand.8 has no paragraph on \"$cmd\""
    grep -q -F "dangand $cmd " <<<"$text" || fail "dangand.8's synopsis lacks \"dangand $cmd\""
done < <(awk '/^commands:/ {on = 1; next} on && /^  [a-z]/ {print $1}' <<<"$usage")
while read -r flag; do
    [[ $text == *"$flag"* ]] || fail "dangand.8 does not mention $flag"
done < <(grep -o -E -- '--[a-z][a-z-]*' <<<"$usage" | sort -u)

finish
