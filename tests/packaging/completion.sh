#!/bin/bash
# completion.sh - the bash completion of dangan (client/cli/dangan.bash),
# driven as bash drives it (COMP_WORDS, COMP_CWORD, COMPREPLY), against what
# the CLI says about itself: `dangan cust<TAB>` gives customer; every command,
# subcommand and option its --help lists is offered; the fields after --set
# and the keys after --sort are the ones the CLI accepts; and the values of
# the options that take one of a fixed set are offered.
#
#   completion.sh DANGAN COMPLETION_SCRIPT
set -u
dangan=$1
script=$2
here=$(dirname "$0")

# A list, one a line, as one line.
flat() {
    tr '\n' ' ' <<<"$1"
}

# shellcheck source=tests/packaging/cli_help.sh
. "$here/cli_help.sh"
# shellcheck disable=SC1090 # the script under test
. "$script"

[[ $(complete -p dangan) == "complete -F _dangan dangan" ]] ||
    fail "the script does not register _dangan for dangan: $(complete -p dangan 2>&1)"

# Completes `dangan WORDS...` as bash does (the last word is the one being
# completed), leaving what <TAB> offers in COMPREPLY.
complete_words() {
    COMP_WORDS=(dangan "$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE="${COMP_WORDS[*]}"
    COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    _dangan dangan "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
}

# What <TAB> offers after `dangan WORDS...`, sorted, one a line.
offered() {
    complete_words "$@"
    ((${#COMPREPLY[@]} == 0)) || printf '%s\n' "${COMPREPLY[@]}" | sort -u
}

# expect WANT WORDS...: what <TAB> offers after WORDS is exactly WANT (words).
expect() {
    local want got
    # shellcheck disable=SC2086 # WANT is words
    want=$(printf '%s\n' $1 | sort -u)
    shift
    got=$(offered "$@")
    [[ $got == "$want" ]] || fail "dangan $* <TAB>: offered [$(flat "$got")], wanted [$(flat "$want")]"
}

# includes WANT WORDS...: what <TAB> offers after WORDS includes every word of WANT.
includes() {
    local want=$1 got missing="" w
    shift
    complete_words "$@"
    got=" ${COMPREPLY[*]} "
    for w in $want; do
        [[ $got == *" $w "* ]] || missing+=" $w"
    done
    [[ -z $missing ]] || fail "dangan $* <TAB>: does not offer$missing"
}

expect customer cust
expect "connect contact" co
expect "customer" cu
expect "--server" --se

commands=$(dangan_commands)
[[ $(wc -l <<<"$commands") -ge 16 ]] || fail "dangan --help lists too few commands: $commands"
includes "$commands" ""
for cmd in $commands; do
    subs=$(dangan_subcommands "$cmd")
    if [[ -n $subs ]]; then
        expect "$subs" "$cmd" ""
        expect "$subs" help "$cmd" ""
        for sub in $subs; do
            includes "$(dangan_help_flags "$cmd" "$sub")" "$cmd" "$sub" --
        done
    else
        includes "$(dangan_help_flags "$cmd")" "$cmd" --
    fi
done

# --set and --unset offer exactly the fields the CLI sets; --sort the keys it sorts by.
while read -r kind words; do
    # shellcheck disable=SC2086 # words are words
    fields=$(dangan_listed_after "$kind fields:" $kind add $words --set zzzzzzzz=1)
    [[ -n $fields ]] || fail "no fields listed for $kind"
    got=$(offered "$kind" add --set "" | grep -v '^custom\.$' | sed 's/=$//')
    [[ $got == "$fields" ]] ||
        fail "$kind add --set <TAB>: offered [$(flat "$got")], the CLI sets [$(flat "$fields")]"
    got=$(offered "$kind" edit 1 --unset "" | grep -v '^custom\.$')
    [[ $got == "$fields" ]] || fail "$kind edit --unset <TAB>: offered [$(flat "$got")]"
    list_arg=1
    [[ $kind == customer ]] && list_arg=""
    # shellcheck disable=SC2086 # an empty list_arg is no word
    keys=$(dangan_listed_after "sort by" $kind list $list_arg --sort zzzzzzzz | sed 's/ (-KEY reverses)//')
    [[ -n $keys ]] || fail "no sort keys listed for $kind"
    # shellcheck disable=SC2086
    got=$(offered "$kind" list $list_arg --sort "" | grep -v '^-')
    [[ $got == "$keys" ]] ||
        fail "$kind list --sort <TAB>: offered [$(flat "$got")], the CLI sorts by [$(flat "$keys")]"
done <<'KINDS'
customer --name x
contact 1 --name x
note 1 --channel phone --summary x
deal 1 --amount 1
feedback 1 --kind praise --text x
task 1 --due 2026-01-01 --title x
KINDS

# Values of options that take one of a fixed set.
expect "a b c" customer list --tier ""
expect "potential active dormant lost" customer list --status ""
expect "company person" customer add --kind ""
expect "complaint suggestion praise survey" feedback add 1 --kind ""
expect "phone email meeting visit im other" note add 1 --channel ""
expect "admin manager sales viewer auditor" user add li.na --role ""
expect "admin manager sales viewer auditor" user set-role li.na ""
expect "ok denied error" audit list --outcome ""
expect "text number date choice" field define grade --type ""
expect "-name" customer list --sort -na
expect "due" task list --sort du
expect "tier=" customer edit 1 --set tie
expect "add archive" help customer a
expect "customer" help cu
expect "add archive" customer help a
expect "--name" customer add --set tier=a --na
expect "--name" --json customer add --na
printf '127.0.0.1:7443 fingerprint AB\n10.0.0.9:7443 ca /etc/ca.pem\n' >"$DANGAN_CONFIG_DIR/known_servers"
expect "10.0.0.9:7443" --server 10

finish
