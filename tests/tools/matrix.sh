#!/usr/bin/env bash
# The version matrix (`make matrix`, not part of `make test`): for each
# ansible-core the collection claims (meta/runtime.yml requires_ansible), with
# Python 3.11, in its own venv under build/matrix/core-<version>/, with the
# amazon.aws and community.aws that galaxy.yml requires (>=10.0.0: those of
# requirements-dev.txt's `ansible` package, in .venv), as ansible-galaxy would
# install them beside this collection on any of these cores:
#   sanity  ansible-test sanity validate-modules, import and ansible-doc, on a
#           copy of the tree (ansible-test's own rule: a real
#           ansible_collections/ tree outside this checkout), one copy per core
#   units   pytest tests/unit, importing amazon.aws from that core's `ansible`
#   smoke   `make demo`'s single-account part on the local AWS: playbooks/demo.yml
#           twice, the second run with changed=0
# Usage: tests/tools/matrix.sh [core ...]   (default: 2.17 2.18 2.19)
#        MATRIX_STEPS="units smoke" tests/tools/matrix.sh 2.18   (some steps only)
# Each step's output is in build/matrix/core-<version>/<step>.log; the summary
# goes to build/matrix/summary.txt. Exits non-zero when any step failed.
set -uo pipefail

REPO="$(cd "$(dirname "$0")/../.." && pwd)"
MATRIX="$REPO/build/matrix"
PYTHON="${PYTHON:-python3}"

# The newest patch release of each core. The `ansible` packages of the older
# cores (10.x: core 2.17, 11.x: 2.18) bundle amazon.aws 8 and 9, older than
# galaxy.yml allows, so they are not used.
declare -A ANSIBLE_CORE=([2.17]=2.17.14 [2.18]=2.18.19 [2.19]=2.19.14)

# What the units and the local AWS need besides Ansible, at the pins of
# requirements-dev.txt so every core is tested against the same libraries.
# Where the `ansible` package of requirements-dev.txt (make setup) put amazon.aws.
aws_collections_site() {
    "$REPO/.venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])'
}

pins() {
    grep -E '^(boto3|botocore|moto\[server\]|pytest|cryptography)==' "$REPO/requirements-dev.txt"
}

setup_core() {
    local core=$1 dir=$2
    local venv="$dir/venv"
    local want
    want="${ANSIBLE_CORE[$core]} $(pins | tr '\n' ' ')"
    if [ ! -f "$venv/.installed" ] || [ "$(cat "$venv/.installed")" != "$want" ]; then
        rm -rf "$venv"
        "$PYTHON" -m venv "$venv" || return 1
        # shellcheck disable=SC2046  # one argument per pin
        "$venv/bin/pip" install --quiet --disable-pip-version-check \
            "ansible-core==${ANSIBLE_CORE[$core]}" $(pins) || return 1
        echo "$want" > "$venv/.installed"
    fi
    local site
    site="$(aws_collections_site)"
    # Like `make collection`: this tree by a link, amazon.aws and community.aws
    # beside it.
    local colls="$dir/collections/ansible_collections"
    mkdir -p "$colls/trailops" "$colls/amazon" "$colls/community"
    ln -sfn "$REPO" "$colls/trailops/cloudtrail"
    ln -sfn "$site/ansible_collections/amazon/aws" "$colls/amazon/aws"
    ln -sfn "$site/ansible_collections/community/aws" "$colls/community/aws"
}

run_sanity() {
    local core=$1 dir=$2
    local venv="$dir/venv"
    local site core_site
    site="$(aws_collections_site)"
    core_site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    local root
    root="/tmp/trailops-ansible-test-$(printf %s "$REPO" | md5sum | cut -c1-10)-core-$core"
    local copy="$root/ansible_collections/trailops/cloudtrail"
    rm -rf "$root"
    mkdir -p "$copy" "$root/ansible_collections/amazon" "$root/ansible_collections/community"
    (cd "$REPO" && git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - | tar -xf - -C "$copy") || return 1
    cp -a "$site/ansible_collections/amazon/aws" "$root/ansible_collections/amazon/aws"
    cp -a "$site/ansible_collections/community/aws" "$root/ansible_collections/community/aws"
    # Each core bootstraps its own pip version in its venvs through a cached
    # get-pip script (docs/development.md, "ansible-test, offline").
    local pip_version
    pip_version="$(sed -n "s/^ *pip='\([0-9.]*\)',\$/\1/p" "$core_site/ansible_test/_internal/python_requirements.py")"
    [ -n "$pip_version" ] || { echo "cannot tell which pip ansible-test $core bootstraps"; return 1; }
    mkdir -p "$HOME/.ansible/test/cache"
    cp "$REPO/tests/tools/get_pip_offline.py" "$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
    (cd "$copy" && PATH="$venv/bin:$PATH" ansible-test sanity --python 3.11 --venv --requirements --color no \
        --test validate-modules --test import --test ansible-doc)
}

run_units() {
    local dir=$1
    (cd "$REPO" && TRAILOPS_TEST_COLLECTIONS="$dir/collections" "$dir/venv/bin/python" -m pytest tests/unit -q -p no:cacheprovider)
}

run_smoke() {
    local dir=$1
    local log="$dir/demo-rerun.log"
    (cd "$REPO" && env ANSIBLE_COLLECTIONS_PATH="$dir/collections" ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false \
        ANSIBLE_PYTHON_INTERPRETER="$dir/venv/bin/python" ANSIBLE_LOCALHOST_WARNING=false \
        ANSIBLE_INVENTORY_UNPARSED_WARNING=false PATH="$dir/venv/bin:$PATH" \
        "$dir/venv/bin/python" -m tests.local_aws run -- bash -euo pipefail -c "
            ansible --version | sed -n 1p
            ansible-playbook playbooks/demo.yml
            echo '=== the same playbook again: nothing changes ==='
            ansible-playbook playbooks/demo.yml | tee '$log'
            grep -Eq 'localhost +: ok=[0-9]+ +changed=0 +unreachable=0 +failed=0' '$log'")
}

main() {
    local cores=("$@")
    [ ${#cores[@]} -gt 0 ] || cores=(2.17 2.18 2.19)
    local summary="$MATRIX/summary.txt" failed=0
    mkdir -p "$MATRIX"
    : > "$summary"
    for core in "${cores[@]}"; do
        [ -n "${ANSIBLE_CORE[$core]:-}" ] || { echo "unknown ansible-core $core (known: ${!ANSIBLE_CORE[*]})"; return 2; }
        local dir="$MATRIX/core-$core"
        mkdir -p "$dir"
        echo "=== ansible-core ${ANSIBLE_CORE[$core]}, Python 3.11 ==="
        if ! setup_core "$core" "$dir" > "$dir/setup.log" 2>&1; then
            echo "core-$core setup FAILED ($dir/setup.log)" | tee -a "$summary"
            failed=1
            continue
        fi
        local step rc
        for step in ${MATRIX_STEPS:-sanity units smoke}; do
            case $step in
                sanity) run_sanity "$core" "$dir" > "$dir/$step.log" 2>&1; rc=$? ;;
                units) run_units "$dir" > "$dir/$step.log" 2>&1; rc=$? ;;
                smoke) run_smoke "$dir" > "$dir/$step.log" 2>&1; rc=$? ;;
            esac
            if [ $rc -eq 0 ]; then
                echo "core-$core $step passed ($(grep -v -e "^[[:space:]]*$" -e "^WARNING" "$dir/$step.log" | tail -1 | tr -s " "))" | tee -a "$summary"
            else
                echo "core-$core $step FAILED, rc=$rc ($dir/$step.log)" | tee -a "$summary"
                failed=1
            fi
        done
    done
    echo "summary: $summary"
    return $failed
}

main "$@"
