"""Offline stand-in for the get-pip.py script that ansible-test downloads.

ansible-test bootstraps pip in each of its virtual environments by running a
get-pip script fetched from the internet; it first looks for a cached copy,
which is where `make` puts this file. We bootstrap pip from the standard
library's ensurepip instead, then install what ansible-test asked for from the
package index the machine is configured with.
"""

import ensurepip
import os
import subprocess
import sys

# get-pip understands these; pip install does not.
GET_PIP_ONLY_OPTIONS = {"--no-setuptools", "--no-wheel"}


def main():
    ensurepip.bootstrap(upgrade=True)
    # ensurepip points pip at /dev/null for its configuration; without this the
    # machine's index configuration would be lost for the install below.
    os.environ.pop("PIP_CONFIG_FILE", None)
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_OPTIONS]
    if args:
        subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)


if __name__ == "__main__":
    main()
