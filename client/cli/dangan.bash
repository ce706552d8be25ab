# dangan.bash - bash completion for dangan(1), installed as
# share/bash-completion/completions/dangan (bash-completion loads it on the
# first `dangan <TAB>`; it needs nothing from bash-completion itself).
#
# Completes commands, subcommands, options, the values of options that take
# one of a fixed set (tiers, roles, channels, sort keys...), FIELD= after
# --set and --unset, files, directories, and servers from known_servers.
# The lists follow client/cli; tests/packaging/completion.sh checks them
# against the CLI's own --help and error messages, so a command, option or
# field added there and not here fails the suite.

_dangan_commands="connect login logout whoami ping passwd customer contact note deal feedback task
field doc user pool lifecycle watch audit server settings import export tiers report today help
version"

# The helpers below set _dangan_list (no subshell for each word typed).

# Subcommands of each command group ("" for the other commands).
_dangan_subs() {
    case $1 in
    customer) _dangan_list="add show edit archive restore list search history reassign merge duplicates" ;;
    contact) _dangan_list="add edit rm restore list" ;;
    note) _dangan_list="add list edit rm" ;;
    deal) _dangan_list="add list edit move rm" ;;
    feedback) _dangan_list="add list edit" ;;
    task) _dangan_list="add list done edit" ;;
    field) _dangan_list="define list" ;;
    doc) _dangan_list="upload list get archive rm" ;;
    user) _dangan_list="add list set-role disable enable reset-password" ;;
    audit) _dangan_list="list export verify head" ;;
    server) _dangan_list="stats" ;;
    settings) _dangan_list="show set" ;;
    pool) _dangan_list="list claim release" ;;
    *) _dangan_list="" ;;
    esac
}

# Options of a command ($1) and subcommand ($2).
_dangan_options() {
    local filters="--tier --status --owner --industry --region --tag --custom --archived"
    local paging="--sort --limit --cursor --all --archived"
    local audit="--user --action --customer --since --until --outcome --limit"
    local edit="--set --unset --version"
    case "$1 $2" in
    "connect "*) _dangan_list="--ca --fingerprint --yes" ;;
    "login "*) _dangan_list="--user --password-stdin" ;;
    "ping "*) _dangan_list="--count" ;;
    "passwd "*) _dangan_list="--password-stdin" ;;
    "watch "*) _dangan_list="--customer --mine --entity --since --once --records" ;;
    "today "*) _dangan_list="--team --owner --limit" ;;
    "customer add") _dangan_list="--name --kind --set --force" ;;
    "customer show") _dangan_list="--recent" ;;
    "customer list") _dangan_list="$filters --sort --limit --cursor --all" ;;
    "customer search") _dangan_list="$filters --limit" ;;
    "customer history") _dangan_list="--limit" ;;
    "customer reassign") _dangan_list="--from --to --keep-tasks" ;;
    "customer duplicates") _dangan_list="--limit --cursor --all" ;;
    "customer edit") _dangan_list="$edit --reason" ;;
    "pool list") _dangan_list="--tier --industry --region --sort --limit --cursor" ;;
    "lifecycle "*) _dangan_list="--owner --limit --reason" ;;
    "contact add") _dangan_list="--name --set" ;;
    "note add") _dangan_list="--channel --summary --at --next-follow-up --set" ;;
    "deal add") _dangan_list="--amount --currency --at --stage --probability --expected-close --reason --set" ;;
    "deal list") _dangan_list="$paging --stage --owner --customer" ;;
    "deal move") _dangan_list="--reason --probability --expected-close --version" ;;
    "tiers "*) _dangan_list="--changes-only --limit --cursor --all --yes --dry-run" ;;
    "feedback add") _dangan_list="--kind --score --text --set" ;;
    "feedback list") _dangan_list="$paging --open" ;;
    "task add") _dangan_list="--due --title --assignee --set" ;;
    "task list") _dangan_list="$paging --mine --due-before --include-done" ;;
    "field define") _dangan_list="--type --choices --label" ;;
    "doc upload") _dangan_list="--kind --title --date --expires --notes" ;;
    "doc list") _dangan_list="--kind --year --archived" ;;
    "doc get") _dangan_list="-o --output" ;;
    "user add") _dangan_list="--role --display-name --password-stdin" ;;
    "audit list") _dangan_list="$audit" ;;
    "audit export") _dangan_list="$audit -o --output" ;;
    "audit verify") _dangan_list="--head" ;;
    "import "*) _dangan_list="--encoding --map --on-duplicate --dry-run --batch --rejects" ;;
    "export "*) _dangan_list="-o --output --customer --sort $filters" ;;
    "report "*) _dangan_list="--from --to --by --owner -o --output" ;;
    *" edit") _dangan_list="$edit" ;;
    *" list") _dangan_list="$paging" ;;
    *) _dangan_list="" ;;
    esac
}

# Sort keys of a command group's list.
_dangan_sort_keys() {
    case $1 in
    customer | pool) _dangan_list="name code created updated tier last_contact" ;;
    contact) _dangan_list="created updated" ;;
    note | deal | feedback) _dangan_list="created updated at" ;;
    task) _dangan_list="created updated due" ;;
    *) _dangan_list="" ;;
    esac
}

# The fields --set and --unset take, by command group.
_dangan_fields() {
    case $1 in
    customer)
        _dangan_list="code kind name short_name industry region address postcode phone fax email website
founded_on registered_capital shareholders bank_name bank_account nature size staff_count
staff_domestic staff_foreign standing main_business side_business sales_history source status
stage tier intention value credit_rating our_advantages our_weaknesses owner tags notes churn_reason"
        ;;
    contact)
        _dangan_list="role name title mobile office_phone personal_phone email im birthday education
hobbies family id_number notes"
        ;;
    note) _dangan_list="contact_id at_ms channel place participants summary content next_follow_up" ;;
    deal) _dangan_list="number at_ms place amount content person_in_charge breach notes stage probability expected_close_on lost_reason" ;;
    feedback) _dangan_list="kind satisfaction text status resolution at_ms" ;;
    task) _dangan_list="title notes due_at_ms assignee done" ;;
    *) _dangan_list="" ;;
    esac
}

# Sets COMPREPLY to the values of option $3 of command $1, subcommand $2,
# that start with $4; returns 1 when the option takes no value.
_dangan_values() {
    local cur=$4 dir keys k
    case $3 in
    --server)
        dir=${DANGAN_CONFIG_DIR:-${XDG_CONFIG_HOME:-$HOME/.config}/dangan}
        [[ -r $dir/known_servers ]] &&
            mapfile -t COMPREPLY < <(compgen -W "$(awk '{print $1}' "$dir/known_servers")" -- "$cur")
        ;;
    --config-dir) mapfile -t COMPREPLY < <(compgen -d -- "$cur") ;;
    --ca | -o | --output | --rejects) mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
    --encoding) mapfile -t COMPREPLY < <(compgen -W "auto utf-8 gb18030 gbk" -- "$cur") ;;
    --on-duplicate) mapfile -t COMPREPLY < <(compgen -W "skip update create" -- "$cur") ;;
    --tier) mapfile -t COMPREPLY < <(compgen -W "a b c" -- "$cur") ;;
    --status) mapfile -t COMPREPLY < <(compgen -W "potential active dormant lost" -- "$cur") ;;
    --kind)
        if [[ $1 == feedback ]]; then
            mapfile -t COMPREPLY < <(compgen -W "complaint suggestion praise survey" -- "$cur")
        elif [[ $1 == doc ]]; then
            mapfile -t COMPREPLY < <(compgen -W "contract invoice quotation correspondence licence other" -- "$cur")
        else
            mapfile -t COMPREPLY < <(compgen -W "company person" -- "$cur")
        fi
        ;;
    --channel) mapfile -t COMPREPLY < <(compgen -W "phone email meeting visit im other" -- "$cur") ;;
    --type) mapfile -t COMPREPLY < <(compgen -W "text number date choice" -- "$cur") ;;
    --role) mapfile -t COMPREPLY < <(compgen -W "admin manager sales viewer auditor" -- "$cur") ;;
    --outcome) mapfile -t COMPREPLY < <(compgen -W "ok denied error" -- "$cur") ;;
    --entity) mapfile -t COMPREPLY < <(compgen -W "customer contact interaction deal feedback task document" -- "$cur") ;;
    --since) [[ $1 == watch ]] && mapfile -t COMPREPLY < <(compgen -W "now" -- "$cur") ;;
    --sort)
        _dangan_sort_keys "$1"
        keys=$_dangan_list
        for k in $_dangan_list; do keys+=" -$k"; done
        mapfile -t COMPREPLY < <(compgen -W "$keys" -- "$cur")
        ;;
    --set | --unset)
        keys=""
        _dangan_fields "$1"
        for k in $_dangan_list; do
            [[ $3 == --set ]] && keys+=" $k=" || keys+=" $k"
        done
        [[ $1 == customer ]] && keys+=" custom."
        mapfile -t COMPREPLY < <(compgen -W "$keys" -- "$cur")
        [[ ${COMPREPLY[0]} == *[=.] ]] && compopt -o nospace 2>/dev/null
        ;;
    *) _dangan_takes_value "$3" || return 1 ;; # free text: nothing to offer
    esac
    return 0
}

# True if option $1 takes a value (the next word).
_dangan_takes_value() {
    case $1 in
    --server | --config-dir | --ca | -o | --output | --tier | --status | --kind | --channel | \
        --type | --role | --outcome | --entity | --since | --sort | --set | --unset | \
        --fingerprint | --user | --count | --customer | --name | --recent | --version | --owner | \
        --industry | --region | --tag | --custom | --limit | --cursor | --from | --to | \
        --summary | --at | --next-follow-up | --amount | --currency | --score | --text | --due | \
        --title | --assignee | --due-before | --choices | --label | --display-name | --action | \
        --until | --head | --encoding | --map | --on-duplicate | --batch | --rejects | --date | --expires | --notes | --year | --reason)
        return 0
        ;;
    esac
    return 1
}

_dangan() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
    local cmd="" sub="" i w n_args=0

    # The command and subcommand typed so far, skipping options and their
    # values ("--name X", "--server=X": bash splits words at "=").
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        if [[ $w == "=" ]]; then
            ((i += 1))
        elif [[ $w == -* ]]; then
            if _dangan_takes_value "$w"; then
                [[ ${COMP_WORDS[i + 1]} == "=" ]] && ((i += 1))
                ((i += 1))
            fi
        elif [[ -z $cmd || $cmd == help ]]; then
            cmd=$w # `help CMD SUB` completes like `CMD SUB`
        elif _dangan_subs "$cmd" && [[ (-z $sub || $sub == help) && -n $_dangan_list ]]; then
            sub=$w
        else
            ((n_args += 1))
        fi
    done
    COMPREPLY=()

    if _dangan_values "$cmd" "$sub" "$prev" "$cur"; then
        return 0
    fi
    if [[ -z $cmd || $cmd == help ]]; then
        if [[ $cur == -* && -z $cmd ]]; then
            mapfile -t COMPREPLY < <(compgen -W "--server --json --utc --config-dir --help --version" -- "$cur")
        else
            mapfile -t COMPREPLY < <(compgen -W "$_dangan_commands" -- "$cur")
        fi
    elif _dangan_subs "$cmd" && [[ -n $_dangan_list && (-z $sub || $sub == help) ]]; then
        [[ $cur == -* ]] && _dangan_list="--help"
        mapfile -t COMPREPLY < <(compgen -W "$_dangan_list" -- "$cur")
    elif [[ $cur == -* ]]; then
        _dangan_options "$cmd" "$sub"
        mapfile -t COMPREPLY < <(compgen -W "$_dangan_list --json --help" -- "$cur")
    elif [[ $cmd == import && $n_args == 0 ]]; then
        mapfile -t COMPREPLY < <(compgen -W "customers" -- "$cur")
    elif [[ $cmd == import && $n_args == 1 ]]; then
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    elif [[ $cmd == export && $n_args == 0 ]]; then
        mapfile -t COMPREPLY < <(compgen -W "customers contacts notes deals feedback tasks" -- "$cur")
    elif [[ $cmd == settings && $sub == set ]]; then
        mapfile -t COMPREPLY < <(compgen -W "time_zone= currency= call.a= call.b= call.c= visit.a=
            visit.b= visit.c= shares= dormant_after_days= lost_after_days= pool.max_claims=
            pool.return_after_days= remind.task_minutes= remind.follow_up_at=
            remind.contract_days= stages=" -- "$cur")
        compopt -o nospace 2>/dev/null
    elif [[ $cmd == report && $n_args == 0 ]]; then
        mapfile -t COMPREPLY < <(compgen -W "summary revenue pipeline activity churn satisfaction" -- "$cur")
    elif [[ $cmd == user && $sub == set-role && $n_args == 1 ]]; then
        mapfile -t COMPREPLY < <(compgen -W "admin manager sales viewer auditor" -- "$cur")
    fi
    return 0
}

complete -F _dangan dangan
